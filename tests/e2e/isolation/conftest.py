"""The isolation suite's cast, rows and checks, shared by its modules (rules 5, 6).

The suite is data. Every `ecoach.v1` method either has rows in the CASES of the module of the
service whose .proto declares it (test_isolation_identity.py, test_isolation_spaces.py,
test_isolation_scheduling.py), each an attempt by one caller on a victim's ids with the refusal
rule 6 prescribes and a read-back showing nothing changed, or an entry in that module's EXEMPT
saying why it carries no ids to attack. test_isolation_lists.py gathers every module's lists and
keeps them honest: a new method in neither list, a row expecting anything but NOT_FOUND or
PERMISSION_DENIED, a row in another service's module, or a public method missing from the
kernel's registry fails the suite. A new method adds rows to its service's module.

Cast: acme is the victim, globex the attacker; within acme, a coach and a coachee try what only
an admin, or only the member themselves, may do. The world is built once per test session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name, settings_name, space_name, tenant_name
from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import assessment_pb2_grpc, content_pb2_grpc, spaces_pb2_grpc
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import scheduling_pb2 as schpb
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.scheduling import policy_name, request_name, session_name, video_settings_name
from gateway.api.spaces import goal_name, note_name
from tests.e2e.conftest import PASSWORD, TenantWorld
from tests.support import scheduling as sch
from tests.support.api import Api, Session, error_details, unique_email, unique_slug
from tests.support.isolation import (
    all_members,
    all_tenants,
    as_dict,
    ecoach_v1_methods,
    invoke,
    member_state,
    tenant_state,
    with_ghost_ids,
)
from tests.support.people import set_password
from tests.support.waiting import wait_for

NOT_FOUND = grpc.StatusCode.NOT_FOUND
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
REFUSALS = frozenset({NOT_FOUND, PERMISSION_DENIED})


# ---------------------------------------------------------------- the cast


@dataclass(repr=False)
class World:
    """Everyone the cases pick from, and the victim's objects they aim at."""

    api: Api
    operator: Session
    acme: TenantWorld  # the victim
    globex: TenantWorld  # the attacker
    globex_admin_personal: Session  # globex's admin signed in without a tenant
    globex_coach_email: str
    leaver: Session  # an acme coachee who signed in, then was deactivated
    leaver_member: str
    fallen_admin: Session  # an acme admin who signed in, then was deactivated
    fallen_admin_member: str
    invitee_member: str  # acme's pending membership of a person who already had an account
    acme_space_id: str  # acme's coach and coachee's active space
    acme_other_coach: Session  # a coach of acme who is not in that space
    acme_goal_id: str  # a goal of that space
    acme_notes: dict[str, str]  # that space's notes by kind: shared, coach_private, journal
    acme_session_id: str  # a session booked in that space, ten days ahead
    acme_asked_session_id: str  # one ~30 h ahead, that the coachee asked to move (late: a request)
    acme_request_id: str  # that pending reschedule request
    acme_session_note_id: str  # a shared note of the coach's about the first session
    other_coach_space: str  # the name of acme_other_coach's own space (another coachee's)
    other_coach_note_id: str  # a shared note of theirs in it
    globex_space: str  # the name of a space of globex's coach and coachee
    globex_note_id: str  # a shared note of globex's coach in it
    operator_member: str  # the operator's own address, added to acme as a coachee
    acme_assignment_id: str  # the wheel of life, assigned in that space and submitted once
    acme_instrument_id: str  # a private instrument of acme's coach
    acme_resource_id: str  # a private resource of acme's coach
    acme_tenant_resource_id: str  # a resource of acme's library (by its admin)
    acme_recommendation_id: str  # acme's coach's private resource, recommended in that space
    acme_module_assignment_id: str  # a shipped module assigned in that space, its first lesson done
    acme_tool_id: str  # a note template in that space's toolbox, locked until the coach opens it

    @property
    def victim_ids(self) -> tuple[str, ...]:
        """Every id of the victim's that a request may carry (a new victim object adds its own)."""
        return (
            self.acme.tenant_id,
            self.acme.admin_member,
            self.acme.coach_member,
            self.acme.coachee_member,
            self.leaver_member,
            self.fallen_admin_member,
            self.invitee_member,
            self.acme_space_id,
            self.acme_goal_id,
            *self.acme_notes.values(),
            self.acme_session_id,
            self.acme_asked_session_id,
            self.acme_request_id,
            self.acme_session_note_id,
            self.acme_assignment_id,
            self.acme_instrument_id,
            self.acme_resource_id,
            self.acme_tenant_resource_id,
            self.acme_recommendation_id,
            self.acme_module_assignment_id,
            self.acme_tool_id,
        )


@pytest.fixture(scope="session")
def world(
    deployment: Deployment, api: Api, operator: Session, acme: TenantWorld, globex: TenantWorld
) -> World:
    """Adds to acme two deactivated members, still holding the tokens they had, and a pending
    one, so that reactivating and accepting have something to steal; a space with goals, notes
    and sessions (one with a pending reschedule request) for everyone else to aim at; and a space
    of the attackers' own (globex's, and acme's other coach's) to smuggle the victim's ids into."""
    acme_parent = tenant_name(acme.tenant_id)

    def deactivated(label: str, role: int) -> tuple[Session, str]:
        email = unique_email(label)
        added = api.members.AddMember(
            pb.AddMemberRequest(parent=acme_parent, email=email, roles=[role], display_name=label),
            metadata=acme.admin.metadata,
        )
        set_password(deployment.config, email, PASSWORD)
        session = api.sign_in(email, PASSWORD, acme.tenant_id)
        api.members.DeactivateMember(
            pb.DeactivateMemberRequest(name=added.name), metadata=acme.admin.metadata
        )
        return session, added.member_id

    leaver, leaver_member = deactivated("leaver", pb.COACHEE)
    fallen_admin, fallen_admin_member = deactivated("fallen-admin", pb.TENANT_ADMIN)

    invitee_email = unique_email("invitee")
    api.members.AddMember(  # the person now exists, so acme's invitation stays pending
        pb.AddMemberRequest(
            parent=tenant_name(globex.tenant_id),
            email=invitee_email,
            roles=[pb.COACH],
            display_name="Invitee",
        ),
        metadata=globex.admin.metadata,
    )
    invitee = api.members.AddMember(
        pb.AddMemberRequest(parent=acme_parent, email=invitee_email, roles=[pb.COACH]),
        metadata=acme.admin.metadata,
    )

    other_coach_email = unique_email("other-coach")
    other_coach_member = api.members.AddMember(
        pb.AddMemberRequest(parent=acme_parent, email=other_coach_email, roles=[pb.COACH]),
        metadata=acme.admin.metadata,
    ).member_id
    set_password(deployment.config, other_coach_email, PASSWORD)
    other_coach = api.sign_in(other_coach_email, PASSWORD, acme.tenant_id)
    other_coachee_member = api.members.AddMember(
        pb.AddMemberRequest(
            parent=acme_parent, email=unique_email("other-coachee"), roles=[pb.COACHEE]
        ),
        metadata=acme.admin.metadata,
    ).member_id
    spaces = spaces_pb2_grpc.SpaceServiceStub(api.channel)
    space = spaces.CreateSpace(
        spb.CreateSpaceRequest(
            parent=acme_parent,
            set_up=spb.SpaceSetUp(
                coachee_member_id=acme.coachee_member,
                coach_member_id=acme.coach_member,
                cadence=spb.WEEKLY,
                sessions_planned=8,
                start_date="2027-02-01",
            ),
            content=spb.SpaceContent(project="the victim's project"),
        ),
        metadata=acme.coach.metadata,
    )
    spaces.ActivateSpace(spb.SpaceMoveRequest(name=space.name), metadata=acme.coach.metadata)
    note_stub = spaces_pb2_grpc.NoteServiceStub(api.channel)
    notes = {}
    for kind, author in (
        (spb.SHARED, acme.coach),
        (spb.COACH_PRIVATE, acme.coach),
        (spb.JOURNAL, acme.coachee),
    ):
        written = note_stub.CreateNote(
            spb.CreateNoteRequest(
                parent=space.name, note=spb.Note(kind=kind, body=f"the victim's {kind}")
            ),
            metadata=author.metadata,
        )
        notes[spb.NoteKind.Name(kind).lower()] = written.note_id
    goal = spaces_pb2_grpc.GoalServiceStub(api.channel).CreateGoal(
        spb.CreateGoalRequest(parent=space.name, goal=spb.Goal(title="the victim's goal")),
        metadata=acme.coach.metadata,
    )
    tool = spaces_pb2_grpc.ToolboxServiceStub(api.channel).AddTool(
        spb.AddToolRequest(
            parent=space.name,
            tool=spb.Tool(
                kind=spb.TOOL_NOTE_TEMPLATE,
                label="the victim's template",
                template="the victim's questions",
                rule=spb.ToolRule(by_hand=True),
            ),
        ),
        metadata=acme.coach.metadata,
    )

    # The schedule: the coach bookable around the clock; a session ten days ahead; one ~30 h
    # ahead that the coachee moves by two hours, which the default policy (free over 48 h,
    # cancel only under 24 h) turns into a request to the coach.
    s = sch.stubs(api.channel)
    sch.set_availability(s, acme.coach, sch.around_the_clock())
    sch.wait_known(s, space.name, acme.coach)
    booked = sch.book(s, space.name, acme.coachee, sch.hour_from_now(24 * 10))
    soon = sch.book(s, space.name, acme.coachee, sch.hour_from_now(30))
    asked = s.sessions.RescheduleSession(
        schpb.RescheduleSessionRequest(
            name=soon.name, start_time=sch.ts(sch.dt(soon.start_time) + timedelta(hours=2))
        ),
        metadata=acme.coachee.metadata,
    )
    assert asked.outcome == schpb.REQUESTED, asked

    def about_the_session() -> str | None:
        """A shared note about the booked session, once spaces has learnt of it: linking works
        for the space's own coach, so the attackers' refusals are not a matter of timing."""
        try:
            return str(
                note_stub.CreateNote(
                    spb.CreateNoteRequest(
                        parent=space.name,
                        note=spb.Note(kind=spb.SHARED, body="about it", session=booked.name),
                    ),
                    metadata=acme.coach.metadata,
                ).note_id
            )
        except grpc.RpcError as exc:
            if error_details(exc).reason == "SESSION_NOT_FOUND":
                return None
            raise

    session_note = wait_for(about_the_session, 20, "spaces to learn of the victim's session")

    def own_space(
        team: TenantWorld, coach: Session, coach_member: str, coachee_member: str
    ) -> tuple[str, str]:
        """An attacker's own space, and a shared note of theirs in it."""
        made = spaces.CreateSpace(
            spb.CreateSpaceRequest(
                parent=tenant_name(team.tenant_id),
                set_up=spb.SpaceSetUp(
                    coachee_member_id=coachee_member,
                    coach_member_id=coach_member,
                    cadence=spb.WEEKLY,
                    sessions_planned=4,
                    start_date="2027-02-01",
                ),
            ),
            metadata=coach.metadata,
        )
        spaces.ActivateSpace(spb.SpaceMoveRequest(name=made.name), metadata=coach.metadata)
        note = note_stub.CreateNote(
            spb.CreateNoteRequest(
                parent=made.name, note=spb.Note(kind=spb.SHARED, body="the attacker's own")
            ),
            metadata=coach.metadata,
        )
        return str(made.name), str(note.note_id)

    other_space, other_note = own_space(acme, other_coach, other_coach_member, other_coachee_member)
    globex_space, globex_note = own_space(
        globex, globex.coach, globex.coach_member, globex.coachee_member
    )

    operator_me = api.auth.GetMe(pb.GetMeRequest(), metadata=operator.metadata)
    operator_member = api.members.AddMember(
        pb.AddMemberRequest(parent=acme_parent, email=operator_me.person.email, roles=[pb.COACHEE]),
        metadata=operator.metadata,
    ).member_id
    assignment_id, instrument_id = assessment_of(api, acme, space.name)
    resource_id, tenant_resource_id, recommendation_id = content_of(api, acme, space.name)
    module_assignment_id = module_of(api, acme, space.name)
    globex_admin_me = api.auth.GetMe(pb.GetMeRequest(), metadata=globex.admin.metadata)
    globex_coach_me = api.auth.GetMe(pb.GetMeRequest(), metadata=globex.coach.metadata)
    return World(
        api=api,
        operator=operator,
        acme=acme,
        globex=globex,
        globex_admin_personal=api.sign_in(globex_admin_me.person.email, PASSWORD),
        globex_coach_email=globex_coach_me.person.email,
        leaver=leaver,
        leaver_member=leaver_member,
        fallen_admin=fallen_admin,
        fallen_admin_member=fallen_admin_member,
        invitee_member=invitee.member_id,
        acme_space_id=space.space_id,
        acme_goal_id=goal.goal_id,
        acme_notes=notes,
        acme_other_coach=other_coach,
        acme_session_id=booked.session_id,
        acme_asked_session_id=soon.session_id,
        acme_request_id=asked.request.request_id,
        acme_session_note_id=session_note,
        other_coach_space=other_space,
        other_coach_note_id=other_note,
        globex_space=globex_space,
        globex_note_id=globex_note,
        operator_member=operator_member,
        acme_assignment_id=assignment_id,
        acme_instrument_id=instrument_id,
        acme_resource_id=resource_id,
        acme_tenant_resource_id=tenant_resource_id,
        acme_recommendation_id=recommendation_id,
        acme_module_assignment_id=module_assignment_id,
        acme_tool_id=tool.tool_id,
    )


WHEEL_ANSWERS = {
    "health": 7,
    "work": 5,
    "money": 6,
    "relationships": 8,
    "family": 9,
    "friends": 4,
    "growth": 6,
    "leisure": 3,
}


def assessment_of(api: Api, acme: TenantWorld, space: str) -> tuple[str, str]:
    """The wheel of life assigned in acme's space (once assessment's copy of the space has
    arrived) and submitted by its coachee; a private instrument of acme's coach."""
    stub = assessment_pb2_grpc.AssessmentServiceStub(api.channel)

    def assign() -> Any:
        try:
            return stub.AssignInstrument(
                apb.AssignInstrumentRequest(parent=space, instrument_id="wheel-of-life"),
                metadata=acme.coach.metadata,
            )
        except grpc.RpcError:
            return None

    assigned = wait_for(assign, 15, "assessment's copy of acme's space")
    answers = {k: apb.Answer(number=v) for k, v in WHEEL_ANSWERS.items()}
    stub.SubmitAttempt(
        apb.AnswersRequest(assignment_id=assigned.assignment_id, answers=answers),
        metadata=acme.coachee.metadata,
    )
    wheel = stub.GetInstrument(
        apb.GetInstrumentRequest(instrument_id="wheel-of-life"), metadata=acme.coach.metadata
    )
    document = json.loads(wheel.document_json)
    document["slug"] = "acme-coach-wheel"
    mine = stub.CreateInstrument(
        apb.CreateInstrumentRequest(document_json=json.dumps(document)),
        metadata=acme.coach.metadata,
    )
    return str(assigned.assignment_id), str(mine.instrument_id)


def content_of(api: Api, acme: TenantWorld, space: str) -> tuple[str, str, str]:
    """A private resource of acme's coach, recommended into acme's space (once content's copy
    of the space has arrived), and a resource of acme's tenant library."""
    stub = content_pb2_grpc.ContentServiceStub(api.channel)
    mine = stub.CreateResource(
        cpb.CreateResourceRequest(
            scope=cpb.PRIVATE,
            kind=cpb.ARTICLE,
            title="Acme coach's reading",
            url="https://example.org/acme-coach",
            language="en",
            tags=["feedback"],
        ),
        metadata=acme.coach.metadata,
    )
    tenants = stub.CreateResource(
        cpb.CreateResourceRequest(
            scope=cpb.TENANT,
            kind=cpb.BOOK,
            title="Acme's house book",
            url="https://example.org/acme-book",
            language="fr",
        ),
        metadata=acme.admin.metadata,
    )

    def recommend() -> Any:
        try:
            return stub.RecommendResource(
                cpb.RecommendResourceRequest(
                    parent=space, resource_id=mine.resource_id, note="Read this before Monday."
                ),
                metadata=acme.coach.metadata,
            )
        except grpc.RpcError:
            return None

    recommended = wait_for(recommend, 15, "content's copy of acme's space")
    return mine.resource_id, tenants.resource_id, recommended.recommendation_id


def module_of(api: Api, acme: TenantWorld, space: str) -> str:
    """A shipped module assigned in acme's space (content's copy of it has arrived: see
    content_of), whose coachee has completed the first lesson."""
    stub = content_pb2_grpc.ContentServiceStub(api.channel)
    assigned = stub.AssignModule(
        cpb.AssignModuleRequest(parent=space, slug="giving-feedback"), metadata=acme.coach.metadata
    )
    stub.CompleteLesson(
        cpb.CompleteLessonRequest(assignment_id=assigned.assignment_id, lesson="prepare"),
        metadata=acme.coachee.metadata,
    )
    return str(assigned.assignment_id)


# ---------------------------------------------------------------- the rows


@dataclass(frozen=True, kw_only=True, repr=False)
class Case:
    """`caller` sends `request`, built on the victim's ids, to `method`; the call must end in
    `code` (with ErrorInfo `reason`), and `read_back` must see the same before and after."""

    method: str  # "ecoach.v1.Service/Method"
    label: str  # short, kebab-case: who does what
    caller: Callable[[World], Session]
    request: Callable[[World], Message]
    code: grpc.StatusCode
    reason: str
    read_back: Callable[[World], Any]

    @property
    def id(self) -> str:
        return f"{self.method.removeprefix('ecoach.v1.')}:{self.label}"

    def __repr__(self) -> str:
        return f"Case({self.id})"


# Who: pickers of a caller.
def globex_admin(w: World) -> Session:
    return w.globex.admin


def globex_coachee(w: World) -> Session:
    return w.globex.coachee


def globex_admin_personal(w: World) -> Session:
    return w.globex_admin_personal


def acme_admin(w: World) -> Session:
    return w.acme.admin


def acme_coach(w: World) -> Session:
    return w.acme.coach


def acme_coachee(w: World) -> Session:
    return w.acme.coachee


# Whose: pickers of a victim's member id.
def admin_id(w: World) -> str:
    return w.acme.admin_member


def coach_id(w: World) -> str:
    return w.acme.coach_member


def coachee_id(w: World) -> str:
    return w.acme.coachee_member


def leaver_id(w: World) -> str:
    return w.leaver_member


def fallen_admin_id(w: World) -> str:
    return w.fallen_admin_member


# How: requests on the victim's ids.
def acme_name(w: World) -> str:
    return tenant_name(w.acme.tenant_id)


def in_acme(member: Callable[[World], str]) -> Callable[[World], str]:
    """The victim member's name, under the victim's tenant."""
    return lambda w: member_name(w.acme.tenant_id, member(w))


def under_globex(member: Callable[[World], str]) -> Callable[[World], str]:
    """The victim member's id smuggled under the attacker's own tenant, which they may read."""
    return lambda w: member_name(w.globex.tenant_id, member(w))


def named(
    request: Callable[..., Message], name: Callable[[World], str]
) -> Callable[[World], Message]:
    return lambda w: request(name=name(w))


def parent(
    request: Callable[..., Message], tenant: Callable[[World], str] = acme_name
) -> Callable[[World], Message]:
    return lambda w: request(parent=tenant(w))


def promote(name: Callable[[World], str]) -> Callable[[World], Message]:
    return lambda w: pb.UpdateMemberRequest(
        member=pb.Member(name=name(w), roles=[pb.TENANT_ADMIN]),
        update_mask=FieldMask(paths=["roles"]),
    )


def cohort(name: Callable[[World], str]) -> Callable[[World], Message]:
    return lambda w: pb.SetMemberAttributesRequest(
        name=name(w), department="Sales", site="Lyon", programme="Leaders"
    )


def rogue_tenant(w: World) -> Message:
    return pb.CreateTenantRequest(display_name="Rogue", slug=unique_slug("rogue"))


def newcomer(role: int) -> Callable[[World], Message]:
    return lambda w: pb.AddMemberRequest(
        parent=acme_name(w), email=unique_email("newcomer"), roles=[role], display_name="Newcomer"
    )


# Read-backs: the victim's state as the victim (or the operator) sees it.
def acme_tenant(w: World) -> Any:
    return tenant_state(w.api, w.acme.admin, w.acme.tenant_id)


def acme_members(w: World) -> Any:
    return all_members(w.api, w.acme.admin, w.acme.tenant_id)


def acme_member(member: Callable[[World], str]) -> Callable[[World], Any]:
    return lambda w: member_state(w.api, w.acme.admin, w.acme.tenant_id, member(w))


def tenants(w: World) -> Any:
    return all_tenants(w.api, w.operator)


def acme_settings(w: World) -> Any:
    return as_dict(
        w.api.tenants.GetTenantSettings(
            pb.GetTenantSettingsRequest(name=settings_name(w.acme.tenant_id)),
            metadata=w.acme.admin.metadata,
        )
    )


def settings_of_acme(w: World) -> str:
    return settings_name(w.acme.tenant_id)


def acme_settings_change(paths: list[str]) -> Callable[[World], Message]:
    return lambda w: pb.UpdateTenantSettingsRequest(
        settings=pb.TenantSettings(
            name=settings_name(w.acme.tenant_id), seats=1, default_locale="fr"
        ),
        update_mask=FieldMask(paths=paths),
    )


TENANTS = "ecoach.v1.TenantService"
MEMBERS = "ecoach.v1.MemberService"
AUTH = "ecoach.v1.AuthService"
KEYS = "ecoach.v1.KeyService"
AUDIT = "ecoach.v1.AuditService"
PRIVACY = "ecoach.v1.PrivacyService"
RECOVERY = "ecoach.v1.AccountRecoveryService"
SPACES = "ecoach.v1.SpaceService"
GOALS = "ecoach.v1.GoalService"
NOTES = "ecoach.v1.NoteService"
TOOLBOX = "ecoach.v1.ToolboxService"


def acme_audit(w: World) -> Any:
    listed = w.api.audit.ListTenantAuditEvents(
        pb.ListTenantAuditEventsRequest(parent=f"tenants/{w.acme.tenant_id}", page_size=200),
        metadata=w.acme.admin.metadata,
    )
    return [as_dict(e) for e in listed.events]


def signing_keys(w: World) -> Any:
    listed = w.api.keys.ListSigningKeys(pb.ListSigningKeysRequest(), metadata=w.operator.metadata)
    return [as_dict(k) for k in listed.keys]


def acme_space(w: World) -> Any:
    """The victim space as its coach sees it."""
    spaces = spaces_pb2_grpc.SpaceServiceStub(w.api.channel)
    found = spaces.GetSpace(
        spb.GetSpaceRequest(name=space_name(w.acme.tenant_id, w.acme_space_id)),
        metadata=w.acme.coach.metadata,
    )
    return as_dict(found)


def acme_spaces(w: World) -> Any:
    listed = spaces_pb2_grpc.SpaceServiceStub(w.api.channel).ListSpaces(
        spb.ListSpacesRequest(parent=acme_name(w), page_size=1000), metadata=w.acme.admin.metadata
    )
    return [as_dict(s) for s in listed.spaces]


def the_goal(w: World) -> str:
    return goal_name(w.acme.tenant_id, w.acme_space_id, w.acme_goal_id)


def acme_goals(w: World) -> Any:
    """The victim space's goals and each one's history, as its coach sees them."""
    stub = spaces_pb2_grpc.GoalServiceStub(w.api.channel)
    who = w.acme.coach.metadata
    listed = stub.ListGoals(spb.ListGoalsRequest(parent=the_space(w)), metadata=who).goals
    history = stub.ListGoalChanges(spb.ListGoalChangesRequest(parent=the_goal(w)), metadata=who)
    return [as_dict(g) for g in listed], [as_dict(h) for h in history.changes]


def the_note(kind: str) -> Callable[[World], str]:
    return lambda w: note_name(w.acme.tenant_id, w.acme_space_id, w.acme_notes[kind])


def acme_notes(w: World) -> Any:
    """The victim space's notes, each as its own reader sees it (bodies and revisions); reading
    them here is not part of the attack, so the access log is not compared."""
    stub = spaces_pb2_grpc.NoteServiceStub(w.api.channel)
    readers = {"shared": w.acme.coach, "coach_private": w.acme.coach, "journal": w.acme.coachee}
    found = {}
    for kind, reader in readers.items():
        name = the_note(kind)(w)
        revisions = stub.ListNoteRevisions(
            spb.ListNoteRevisionsRequest(parent=name), metadata=reader.metadata
        ).revisions
        note = stub.GetNote(spb.GetNoteRequest(name=name), metadata=reader.metadata)
        found[kind] = (as_dict(note), [as_dict(r) for r in revisions])
    return found


def the_space(w: World) -> str:
    return space_name(w.acme.tenant_id, w.acme_space_id)


def the_tool(w: World) -> str:
    return f"{the_space(w)}/tools/{w.acme_tool_id}"


def acme_tools(w: World) -> Any:
    """The victim space's toolbox as its coach sees it."""
    listed = spaces_pb2_grpc.ToolboxServiceStub(w.api.channel).ListTools(
        spb.ListToolsRequest(parent=the_space(w)), metadata=w.acme.coach.metadata
    )
    return as_dict(listed)


def the_space_under_globex(w: World) -> str:
    return space_name(w.globex.tenant_id, w.acme_space_id)


def acme_other_coach(w: World) -> Session:
    return w.acme_other_coach


def victim_set_up(w: World) -> spb.SpaceSetUp:
    return spb.SpaceSetUp(
        coachee_member_id=w.acme.coachee_member,
        coach_member_id=w.acme.coach_member,
        cadence=spb.MONTHLY,
        sessions_planned=2,
        start_date="2027-03-01",
    )


def erasures(w: World) -> Any:
    listed = w.api.privacy.ListErasures(pb.ListErasuresRequest(), metadata=w.operator.metadata)
    return [as_dict(e) for e in listed.erasures]


def erase_acme_coachee(w: World) -> Message:
    return pb.ErasePersonRequest(person_id=w.acme.coachee.person_id)


def signing_kid(w: World) -> str:
    return next(k["kid"] for k in signing_keys(w) if k["state"] == "SIGNING")


def invitee_id(w: World) -> str:
    return w.invitee_member


def roster(w: World) -> Message:
    return pb.ImportMembersRequest(
        parent=acme_name(w), csv=f"email,role\n{unique_email('smuggled')},tenant_admin\n".encode()
    )


# ---------------------------------------------------------------- scheduling's pickers

AVAILABILITY = "ecoach.v1.AvailabilityService"
SESSIONS = "ecoach.v1.SessionService"
REQUESTS = "ecoach.v1.RescheduleRequestService"
POLICIES = "ecoach.v1.SchedulingPolicyService"
VIDEO = "ecoach.v1.VideoSettingsService"


def globex_coach(w: World) -> Session:
    return w.globex.coach


def leaver(w: World) -> Session:
    return w.leaver


def fallen_admin(w: World) -> Session:
    return w.fallen_admin


def the_session(w: World) -> str:
    return session_name(w.acme.tenant_id, w.acme_session_id)


def the_session_under_globex(w: World) -> str:
    return session_name(w.globex.tenant_id, w.acme_session_id)


def the_request(w: World) -> str:
    return request_name(w.acme.tenant_id, w.acme_request_id)


def the_request_under_globex(w: World) -> str:
    return request_name(w.globex.tenant_id, w.acme_request_id)


def the_policy(w: World) -> str:
    return policy_name(w.acme.tenant_id)


def the_video_settings(w: World) -> str:
    return video_settings_name(w.acme.tenant_id)


def acme_video(w: World) -> Any:
    return as_dict(
        sch.stubs(w.api.channel).video.GetVideoSettings(
            schpb.GetVideoSettingsRequest(name=the_video_settings(w)),
            metadata=w.acme.admin.metadata,
        )
    )


def rogue_video(w: World) -> Message:
    return schpb.UpdateVideoSettingsRequest(
        settings=schpb.VideoSettings(
            name=the_video_settings(w),
            provider=schpb.VIDEO_PROVIDER_JITSI,
            server_url="https://meet.rogue.example",
            app_id="rogue",
            app_secret="r" * 40,
        )
    )


def days_ahead(days: int) -> Timestamp:
    """A whole hour `days` from now: free in the victim coach's around-the-clock hours, so the
    attempt would succeed for someone entitled to it."""
    return sch.ts(sch.hour_from_now(24 * days))


def acme_schedule(w: World) -> Any:
    """The victim space's sessions, and its reschedule requests in every status, as its coach
    sees them."""
    s = sch.stubs(w.api.channel)
    sessions = [as_dict(x) for x in sch.space_sessions(s, the_space(w), w.acme.coach)]
    requests = {
        schpb.RescheduleRequestStatus.Name(status): [
            as_dict(r)
            for r in s.requests.ListRescheduleRequests(
                schpb.ListRescheduleRequestsRequest(
                    parent=acme_name(w), status=status, page_size=100
                ),
                metadata=w.acme.coach.metadata,
            ).requests
        ]
        for status in (
            schpb.REQUEST_PENDING,
            schpb.REQUEST_APPROVED,
            schpb.REQUEST_DECLINED,
            schpb.REQUEST_EXPIRED,
        )
    }
    return sessions, requests


def acme_availability(w: World) -> Any:
    """The victim coach's bookable hours, as they read them."""
    return as_dict(
        sch.stubs(w.api.channel).availability.GetMyAvailability(
            schpb.GetMyAvailabilityRequest(), metadata=w.acme.coach.metadata
        )
    )


def acme_slots_and_schedule(w: World) -> Any:
    return acme_availability(w), acme_schedule(w)


def next_weeks_slots(space: Callable[[World], str]) -> Callable[[World], Message]:
    """The space's slots over the coming week, in UTC (some, for the space's participants)."""
    today = datetime.now(UTC).date()
    return lambda w: schpb.ListBookableSlotsRequest(
        parent=space(w),
        start_date=(today + timedelta(days=1)).isoformat(),
        end_date=(today + timedelta(days=8)).isoformat(),
        time_zone="UTC",
    )


def acme_policy(w: World) -> Any:
    return as_dict(
        sch.stubs(w.api.channel).policies.GetSchedulingPolicy(
            schpb.GetSchedulingPolicyRequest(name=the_policy(w)), metadata=w.acme.admin.metadata
        )
    )


def rogue_policy(w: World) -> Message:
    return schpb.UpdateSchedulingPolicyRequest(
        policy=schpb.SchedulingPolicy(
            name=the_policy(w), free_hours=1, request_hours=0, late_cancel_uses_session=False
        )
    )


def own_notes(space: Callable[[World], str], author: Callable[[World], Session]) -> Any:
    """An attacker's own space's notes as they list them: no note written, none relinked."""

    def read(w: World) -> Any:
        listed = spaces_pb2_grpc.NoteServiceStub(w.api.channel).ListNotes(
            spb.ListNotesRequest(parent=space(w), page_size=100), metadata=author(w).metadata
        )
        return [as_dict(n) for n in listed.notes]

    return read


def globex_space(w: World) -> str:
    return w.globex_space


def other_coach_space(w: World) -> str:
    return w.other_coach_space


def globex_note(w: World) -> str:
    return f"{w.globex_space}/notes/{w.globex_note_id}"


def other_coach_note(w: World) -> str:
    return f"{w.other_coach_space}/notes/{w.other_coach_note_id}"


# Who links a note of their own space to the victim's session, and how it is named.
SESSION_LINKERS = (
    (
        "other-tenant-coach-links-victim-session",
        globex_coach,
        globex_space,
        globex_note,
        the_session,
    ),
    (
        "other-tenant-coach-links-victim-session-under-own-tenant",
        globex_coach,
        globex_space,
        globex_note,
        the_session_under_globex,
    ),
    (
        "same-tenant-other-coach-links-victim-session",
        acme_other_coach,
        other_coach_space,
        other_coach_note,
        the_session,
    ),
)

# Who aims at the victim space (by its name), and the refusal each must get.
SPACE_INTRUDERS = (
    ("other-tenant-admin", globex_admin, the_space, NOT_FOUND, "TENANT_NOT_FOUND"),
    ("other-tenant-coachee", globex_coachee, the_space, NOT_FOUND, "TENANT_NOT_FOUND"),
    (
        "other-tenant-coach-under-own-tenant",
        globex_coach,
        the_space_under_globex,
        NOT_FOUND,
        "SPACE_NOT_FOUND",
    ),
    ("victims-own-hr", acme_admin, the_space, NOT_FOUND, "SPACE_NOT_FOUND"),
    ("same-tenant-other-coach", acme_other_coach, the_space, NOT_FOUND, "SPACE_NOT_FOUND"),
    ("deactivated-coachee", leaver, the_space, UNAUTHENTICATED, "TOKEN_REVOKED"),
)

# Who aims at the victim's session (by its name).
SESSION_INTRUDERS = (
    ("other-tenant-admin", globex_admin, the_session, NOT_FOUND, "TENANT_NOT_FOUND"),
    ("personal-token", globex_admin_personal, the_session, NOT_FOUND, "TENANT_NOT_FOUND"),
    (
        "other-tenant-coach-under-own-tenant",
        globex_coach,
        the_session_under_globex,
        NOT_FOUND,
        "SESSION_NOT_FOUND",
    ),
    ("victims-own-hr", acme_admin, the_session, NOT_FOUND, "SESSION_NOT_FOUND"),
    ("same-tenant-other-coach", acme_other_coach, the_session, NOT_FOUND, "SESSION_NOT_FOUND"),
    ("deactivated-coachee", leaver, the_session, UNAUTHENTICATED, "TOKEN_REVOKED"),
)

# Who aims at the victim's pending reschedule request (by its name).
REQUEST_INTRUDERS = (
    ("other-tenant-admin", globex_admin, the_request, NOT_FOUND, "TENANT_NOT_FOUND"),
    (
        "other-tenant-coach-under-own-tenant",
        globex_coach,
        the_request_under_globex,
        NOT_FOUND,
        "REQUEST_NOT_FOUND",
    ),
    ("victims-own-hr", acme_admin, the_request, NOT_FOUND, "REQUEST_NOT_FOUND"),
    ("same-tenant-other-coach", acme_other_coach, the_request, NOT_FOUND, "REQUEST_NOT_FOUND"),
    # The coachee sees their own request, but only the coach answers it.
    (
        "victims-coachee-answers-own-request",
        acme_coachee,
        the_request,
        PERMISSION_DENIED,
        "COACH_ONLY",
    ),
    ("deactivated-coachee", leaver, the_request, UNAUTHENTICATED, "TOKEN_REVOKED"),
)


# ---------------------------------------------------------------- the checks every row gets


def hidden_cases(cases: list[Case]) -> list[Case]:
    """The rows whose refusal hides the object: their answer must match a missing one's."""
    return [c for c in cases if c.code == NOT_FOUND]


def case_params(cases: list[Case]) -> list[Any]:
    return [pytest.param(c, id=c.id) for c in cases]


def assert_cannot_reach(world: World, case: Case) -> None:
    """The row's call ends in its refusal, and the victim's state reads the same after."""
    method = ecoach_v1_methods()[case.method]
    caller = case.caller(world)
    request = case.request(world)
    before = case.read_back(world)

    outcome = invoke(world.api.channel, method, request, caller)

    after = case.read_back(world)
    if outcome.code == grpc.StatusCode.OK:
        ended = f"{case.id} succeeded and answered {outcome.response[:500]}"
    else:
        ended = f"{case.id} ended {outcome.code.name} {outcome.reason}: {outcome.message}"
    assert after == before, f"{ended}; the victim's state changed"
    assert (outcome.code, outcome.reason) == (case.code, case.reason), (
        f"{ended}; rule 6 wants {case.code.name} {case.reason}"
    )


def assert_hidden_like_missing(world: World, case: Case) -> None:
    """The row's call answers exactly as the same call on ids that name nothing."""
    method = ecoach_v1_methods()[case.method]
    caller = case.caller(world)
    request = case.request(world)
    # What the caller may know is no secret to them (their own tenant; the space they take part
    # in, whose notes they may still not all read, and its questionnaire): only the victim's
    # other ids become ghosts.
    known = {caller.tenant_id}
    if caller.person_id in (world.acme.coach.person_id, world.acme.coachee.person_id):
        known |= {
            world.acme_space_id,
            world.acme_assignment_id,
            world.acme_recommendation_id,
            world.acme_module_assignment_id,
        }
    hidden_ids = [i for i in world.victim_ids if i not in known]
    ghost = with_ghost_ids(request, hidden_ids)
    assert ghost != request, f"{case.id}: the request carries none of World.victim_ids"

    hidden = invoke(world.api.channel, method, request, caller)
    missing = invoke(world.api.channel, method, ghost, caller)

    assert (hidden.code, hidden.reason, hidden.message) == (
        missing.code,
        missing.reason,
        missing.message,
    ), f"{case.id}: the answer tells a hidden object from a missing one"
