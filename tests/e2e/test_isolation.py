"""The isolation suite: no one reaches another tenant's or another person's data (rules 5, 6).

It is data. Every `ecoach.v1` method either has rows in CASES, each an attempt by one caller on
a victim's ids with the refusal rule 6 prescribes and a read-back showing nothing changed, or an
entry in EXEMPT saying why it carries no ids to attack. Meta-tests keep the lists honest: a new
method in neither list, a row expecting anything but NOT_FOUND or PERMISSION_DENIED, or a public
method missing from the kernel's registry fails the suite. A new method adds rows here.

Cast: acme is the victim, globex the attacker; within acme, a coach and a coachee try what only
an admin, or only the member themselves, may do.
"""

from __future__ import annotations

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
from gateway.api.auth import PUBLIC_GRPC_METHODS
from gateway.api.convert import member_name, settings_name, space_name, tenant_name
from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import scheduling_pb2 as schpb
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.pb import spaces_pb2_grpc
from gateway.api.rpc_client import RpcClient
from gateway.api.scheduling import policy_name, request_name, session_name, video_settings_name
from gateway.api.spaces import goal_name, note_name
from services.kernel.errors import DomainError
from services.kernel.public_methods import PUBLIC_METHODS
from tests.e2e.conftest import PASSWORD, TenantWorld
from tests.support import scheduling as sch
from tests.support.api import Api, Session, error_details, unique_email, unique_slug
from tests.support.isolation import (
    PACKAGE,
    all_members,
    all_tenants,
    as_dict,
    ecoach_v1_methods,
    invoke,
    member_state,
    own_memberships,
    public_rpc_methods,
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
        )


@pytest.fixture(scope="module")
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
    )


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


CASES: list[Case] = [
    # ------------------------------------------------------------ invitations
    Case(
        method=f"{MEMBERS}/ResendInvitation",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.ResendInvitationRequest, in_acme(invitee_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(invitee_id),
    ),
    Case(
        method=f"{MEMBERS}/ResendInvitation",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=named(pb.ResendInvitationRequest, under_globex(invitee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(invitee_id),
    ),
    Case(
        method=f"{MEMBERS}/ResendInvitation",
        label="coach",
        caller=acme_coach,
        request=named(pb.ResendInvitationRequest, in_acme(invitee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(invitee_id),
    ),
    # ------------------------------------------------------------ import
    Case(
        method=f"{MEMBERS}/ImportMembers",
        label="other-tenant-admin",
        caller=globex_admin,
        request=roster,
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_members,
    ),
    Case(
        method=f"{MEMBERS}/ImportMembers",
        label="coach",
        caller=acme_coach,
        request=roster,
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_members,
    ),
    # ------------------------------------------------------------ tenant settings
    Case(
        method=f"{TENANTS}/GetTenantSettings",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.GetTenantSettingsRequest, settings_of_acme),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_settings,
    ),
    Case(
        method=f"{TENANTS}/GetTenantSettings",
        label="coach",
        caller=acme_coach,
        request=named(pb.GetTenantSettingsRequest, settings_of_acme),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_settings,
    ),
    Case(
        method=f"{TENANTS}/UpdateTenantSettings",
        label="other-tenant-admin",
        caller=globex_admin,
        request=acme_settings_change(["default_locale"]),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_settings,
    ),
    Case(
        method=f"{TENANTS}/UpdateTenantSettings",
        label="coachee",
        caller=acme_coachee,
        request=acme_settings_change(["default_locale"]),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_settings,
    ),
    Case(
        method=f"{TENANTS}/UpdateTenantSettings",
        label="tenant-admin-sets-seats",
        caller=acme_admin,
        request=acme_settings_change(["seats"]),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_settings,
    ),
    Case(
        method=f"{TENANTS}/SuspendTenant",
        label="tenant-admin",
        caller=acme_admin,
        request=named(pb.SuspendTenantRequest, acme_name),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_tenant,
    ),
    Case(
        method=f"{TENANTS}/SuspendTenant",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.SuspendTenantRequest, acme_name),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_tenant,
    ),
    Case(
        method=f"{TENANTS}/ReinstateTenant",
        label="tenant-admin",
        caller=acme_admin,
        request=named(pb.ReinstateTenantRequest, acme_name),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_tenant,
    ),
    # ------------------------------------------------------------ tenants
    Case(
        method=f"{TENANTS}/GetTenant",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.GetTenantRequest, acme_name),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_tenant,
    ),
    Case(
        method=f"{TENANTS}/GetTenant",
        label="other-tenant-coachee",
        caller=globex_coachee,
        request=named(pb.GetTenantRequest, acme_name),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_tenant,
    ),
    Case(
        method=f"{TENANTS}/GetTenant",
        label="other-tenant-admin-personal-token",
        caller=globex_admin_personal,
        request=named(pb.GetTenantRequest, acme_name),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_tenant,
    ),
    Case(
        method=f"{TENANTS}/CreateTenant",
        label="tenant-admin",
        caller=acme_admin,
        request=rogue_tenant,
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=tenants,
    ),
    Case(
        method=f"{TENANTS}/CreateTenant",
        label="tenant-admin-personal-token",
        caller=globex_admin_personal,
        request=rogue_tenant,
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=tenants,
    ),
    Case(
        method=f"{TENANTS}/ListTenants",
        label="tenant-admin",
        caller=acme_admin,
        request=lambda w: pb.ListTenantsRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=tenants,
    ),
    Case(
        method=f"{TENANTS}/ListTenants",
        label="tenant-admin-personal-token",
        caller=globex_admin_personal,
        request=lambda w: pb.ListTenantsRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=tenants,
    ),
    # ------------------------------------------------------------ adding members
    Case(
        method=f"{MEMBERS}/AddMember",
        label="other-tenant-admin-adds-an-admin",
        caller=globex_admin,
        request=newcomer(pb.TENANT_ADMIN),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_members,
    ),
    Case(
        method=f"{MEMBERS}/AddMember",
        label="other-tenant-admin-plants-own-coach",
        caller=globex_admin,
        request=lambda w: pb.AddMemberRequest(
            parent=acme_name(w), email=w.globex_coach_email, roles=[pb.TENANT_ADMIN]
        ),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=lambda w: (acme_members(w), own_memberships(w.api, w.globex.coach)),
    ),
    Case(
        method=f"{MEMBERS}/AddMember",
        label="own-tenant-coach",
        caller=acme_coach,
        request=newcomer(pb.COACHEE),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_members,
    ),
    Case(
        method=f"{MEMBERS}/AddMember",
        label="own-tenant-coachee",
        caller=acme_coachee,
        request=newcomer(pb.COACH),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_members,
    ),
    # ------------------------------------------------------------ reading members
    Case(
        method=f"{MEMBERS}/GetMember",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.GetMemberRequest, in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/GetMember",
        label="same-tenant-coach-of-someone-else",
        caller=acme_other_coach,
        request=named(pb.GetMemberRequest, in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/GetMember",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=named(pb.GetMemberRequest, under_globex(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/GetMember",
        label="coachee-reads-a-coach",
        caller=acme_coachee,
        request=named(pb.GetMemberRequest, in_acme(coach_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coach_id),
    ),
    Case(
        method=f"{MEMBERS}/GetMember",
        label="coach-reads-the-admin",
        caller=acme_coach,
        request=named(pb.GetMemberRequest, in_acme(admin_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(admin_id),
    ),
    Case(
        method=f"{MEMBERS}/ListMembers",
        label="other-tenant-admin",
        caller=globex_admin,
        request=parent(pb.ListMembersRequest),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_members,
    ),
    Case(
        method=f"{MEMBERS}/ListMembers",
        label="own-tenant-coach",
        caller=acme_coach,
        request=parent(pb.ListMembersRequest),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_members,
    ),
    Case(
        method=f"{MEMBERS}/ListMembers",
        label="own-tenant-coachee",
        caller=acme_coachee,
        request=parent(pb.ListMembersRequest),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_members,
    ),
    # ------------------------------------------------------------ changing roles
    Case(
        method=f"{MEMBERS}/UpdateMember",
        label="other-tenant-admin",
        caller=globex_admin,
        request=promote(in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/UpdateMember",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=promote(under_globex(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/UpdateMember",
        label="coachee-promotes-self",
        caller=acme_coachee,
        request=promote(in_acme(coachee_id)),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/UpdateMember",
        label="coach-promotes-a-coachee",
        caller=acme_coach,
        request=promote(in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(  # HR giving itself the coach role, to appoint itself to a space next
        method=f"{MEMBERS}/UpdateMember",
        label="admin-makes-self-coach",
        caller=acme_admin,
        request=lambda w: pb.UpdateMemberRequest(
            member=pb.Member(
                name=member_name(w.acme.tenant_id, w.acme.admin_member),
                roles=[pb.TENANT_ADMIN, pb.COACH],
            ),
            update_mask=FieldMask(paths=["roles"]),
        ),
        code=PERMISSION_DENIED,
        reason="SELF_ROLE_CHANGE",
        read_back=acme_member(admin_id),
    ),
    Case(  # an operator who added their own address to the tenant, coaching next
        method=f"{MEMBERS}/UpdateMember",
        label="operator-makes-own-membership-coach",
        caller=lambda w: w.operator,
        request=lambda w: pb.UpdateMemberRequest(
            member=pb.Member(
                name=member_name(w.acme.tenant_id, w.operator_member), roles=[pb.COACH]
            ),
            update_mask=FieldMask(paths=["roles"]),
        ),
        code=PERMISSION_DENIED,
        reason="SELF_ROLE_CHANGE",
        read_back=acme_member(lambda w: w.operator_member),
    ),
    # ------------------------------------------------------------ deactivating
    Case(
        method=f"{MEMBERS}/DeactivateMember",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.DeactivateMemberRequest, in_acme(admin_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(admin_id),
    ),
    Case(
        method=f"{MEMBERS}/DeactivateMember",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=named(pb.DeactivateMemberRequest, under_globex(admin_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(admin_id),
    ),
    Case(
        method=f"{MEMBERS}/DeactivateMember",
        label="coach-on-another-member",
        caller=acme_coach,
        request=named(pb.DeactivateMemberRequest, in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/DeactivateMember",
        label="coach-on-self",
        caller=acme_coach,
        request=named(pb.DeactivateMemberRequest, in_acme(coach_id)),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_member(coach_id),
    ),
    Case(
        method=f"{MEMBERS}/DeactivateMember",
        label="admin-on-self",
        caller=acme_admin,
        request=named(pb.DeactivateMemberRequest, in_acme(admin_id)),
        code=PERMISSION_DENIED,
        reason="SELF_DEACTIVATION",
        read_back=acme_member(admin_id),
    ),
    # ------------------------------------------------------------ reactivating
    Case(
        method=f"{MEMBERS}/ReactivateMember",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.ReactivateMemberRequest, in_acme(leaver_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(leaver_id),
    ),
    Case(
        method=f"{MEMBERS}/ReactivateMember",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=named(pb.ReactivateMemberRequest, under_globex(leaver_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(leaver_id),
    ),
    Case(
        method=f"{MEMBERS}/ReactivateMember",
        label="coach-on-another-member",
        caller=acme_coach,
        request=named(pb.ReactivateMemberRequest, in_acme(leaver_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(leaver_id),
    ),
    Case(
        method=f"{MEMBERS}/ReactivateMember",
        label="deactivated-coachee-on-self",
        caller=lambda w: w.leaver,
        request=named(pb.ReactivateMemberRequest, in_acme(leaver_id)),
        code=UNAUTHENTICATED,  # the deactivation revoked their tokens everywhere
        reason="TOKEN_REVOKED",
        read_back=acme_member(leaver_id),
    ),
    Case(
        # Deactivation must end an admin's powers at once, not when their token expires.
        method=f"{MEMBERS}/ReactivateMember",
        label="deactivated-admin-on-self",
        caller=lambda w: w.fallen_admin,
        request=named(pb.ReactivateMemberRequest, in_acme(fallen_admin_id)),
        code=UNAUTHENTICATED,
        reason="TOKEN_REVOKED",
        read_back=acme_member(fallen_admin_id),
    ),
    # ------------------------------------------------------------ audit
    Case(
        method=f"{AUDIT}/ListTenantAuditEvents",
        label="other-tenant-admin",
        caller=globex_admin,
        request=parent(pb.ListTenantAuditEventsRequest),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_audit,
    ),
    Case(
        method=f"{AUDIT}/ListTenantAuditEvents",
        label="other-tenant-admin-personal-token",
        caller=globex_admin_personal,
        request=parent(pb.ListTenantAuditEventsRequest),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_audit,
    ),
    Case(
        method=f"{AUDIT}/ListTenantAuditEvents",
        label="own-tenant-coach",
        caller=acme_coach,
        request=parent(pb.ListTenantAuditEventsRequest),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_audit,
    ),
    Case(
        method=f"{AUDIT}/ListSecurityEvents",
        label="tenant-admin",
        caller=acme_admin,
        request=lambda w: pb.ListSecurityEventsRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_audit,
    ),
    Case(
        method=f"{AUDIT}/ListSecurityEvents",
        label="personal-token",
        caller=globex_admin_personal,
        request=lambda w: pb.ListSecurityEventsRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_audit,
    ),
    # ------------------------------------------------------------ signing keys (operators only)
    Case(
        method=f"{KEYS}/ListSigningKeys",
        label="tenant-admin",
        caller=acme_admin,
        request=lambda w: pb.ListSigningKeysRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    Case(
        method=f"{KEYS}/ListSigningKeys",
        label="personal-token",
        caller=globex_admin_personal,
        request=lambda w: pb.ListSigningKeysRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    Case(
        method=f"{KEYS}/RotateSigningKey",
        label="tenant-admin",
        caller=acme_admin,
        request=lambda w: pb.RotateSigningKeyRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    Case(
        method=f"{KEYS}/RotateSigningKey",
        label="personal-token",
        caller=globex_admin_personal,
        request=lambda w: pb.RotateSigningKeyRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    Case(
        method=f"{KEYS}/RetireSigningKey",
        label="tenant-admin",
        caller=acme_admin,
        request=lambda w: pb.RetireSigningKeyRequest(kid=signing_kid(w)),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    Case(
        method=f"{KEYS}/RetireSigningKey",
        label="personal-token",
        caller=globex_admin_personal,
        request=lambda w: pb.RetireSigningKeyRequest(kid=signing_kid(w)),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    # ------------------------------------------------------------ erasure (operators only)
    *(
        Case(
            method=f"{PRIVACY}/ErasePerson",
            label=label,
            caller=caller,
            request=erase_acme_coachee,
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=acme_member(lambda w: w.acme.coachee_member),
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("other-tenant-admin", globex_admin),
            ("personal-token", globex_admin_personal),
        )
    ),
    *(
        Case(
            method=f"{PRIVACY}/{method}",
            label="tenant-admin",
            caller=acme_admin,
            request=request,
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=erasures,
        )
        for method, request in (
            ("GetErasure", lambda w: pb.GetErasureRequest(erasure_id="era_00")),
            ("ListErasures", lambda w: pb.ListErasuresRequest()),
            ("ReplayErasures", lambda w: pb.ReplayErasuresRequest(since_time=Timestamp(seconds=1))),
        )
    ),
    # ------------------------------------------------------------ MFA reset (operators only)
    *(
        Case(
            method=f"{RECOVERY}/ResetPersonMfa",
            label=label,
            caller=caller,
            request=lambda w: pb.ResetPersonMfaRequest(person_id=w.acme.coachee.person_id),
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=acme_member(lambda w: w.acme.coachee_member),
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("other-tenant-admin", globex_admin),
            ("personal-token", globex_admin_personal),
        )
    ),
    # ------------------------------------------------------------ spaces (relationship, not role)
    *(
        Case(
            method=f"{SPACES}/GetSpace",
            label=label,
            caller=caller,
            request=named(spb.GetSpaceRequest, name),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_space,
        )
        for label, caller, name, reason in (
            ("other-tenant-admin", globex_admin, the_space, "TENANT_NOT_FOUND"),
            ("smuggled-under-own-tenant", globex_admin, the_space_under_globex, "SPACE_NOT_FOUND"),
            ("same-tenant-other-coach", acme_other_coach, the_space, "SPACE_NOT_FOUND"),
            ("personal-token", globex_admin_personal, the_space, "TENANT_NOT_FOUND"),
        )
    ),
    *(  # the coaches' names: the space's coachee, coach and co-coach only (identity answers)
        Case(
            method=f"{SPACES}/GetSpaceCoaches",
            label=label,
            caller=caller,
            request=named(spb.GetSpaceCoachesRequest, name),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_space,
        )
        for label, caller, name, reason in (
            ("other-tenant-admin", globex_admin, the_space, "TENANT_NOT_FOUND"),
            (
                "smuggled-under-own-tenant",
                globex_coachee,
                the_space_under_globex,
                "SPACE_NOT_FOUND",
            ),
            ("same-tenant-other-coach", acme_other_coach, the_space, "SPACE_NOT_FOUND"),
            ("victims-own-hr", acme_admin, the_space, "SPACE_NOT_FOUND"),
            ("operator", lambda w: w.operator, the_space, "SPACE_NOT_FOUND"),
            ("personal-token", globex_admin_personal, the_space, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{SPACES}/RotateTenantKey",
            label=label,
            caller=caller,
            request=parent(spb.RotateTenantKeyRequest),
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=acme_space,
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("other-tenant-admin", globex_admin),
        )
    ),
    Case(
        method=f"{SPACES}/ImportSpaces",
        label="other-tenant-admin",
        caller=globex_admin,
        request=lambda w: spb.ImportSpacesRequest(
            parent=acme_name(w),
            csv=b"coachee_email,coach_email,cadence,sessions,start_date\n"
            b"a@example.test,b@example.test,weekly,3,2027-01-04\n",
        ),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_spaces,
    ),
    Case(
        method=f"{SPACES}/ListSpaces",
        label="other-tenant-admin",
        caller=globex_admin,
        request=parent(spb.ListSpacesRequest),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_spaces,
    ),
    Case(
        method=f"{SPACES}/CreateSpace",
        label="other-tenant-admin-in-victim-tenant",
        caller=globex_admin,
        request=lambda w: spb.CreateSpaceRequest(parent=acme_name(w), set_up=victim_set_up(w)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_spaces,
    ),
    Case(
        method=f"{SPACES}/CreateSpace",
        label="victim-members-smuggled-into-own-tenant",
        caller=globex_admin,
        request=lambda w: spb.CreateSpaceRequest(
            parent=tenant_name(w.globex.tenant_id), set_up=victim_set_up(w)
        ),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_spaces,
    ),
    *(
        Case(
            method=f"{SPACES}/UpdateSpaceSetUp",
            label=label,
            caller=caller,
            request=lambda w: spb.UpdateSpaceSetUpRequest(
                name=the_space(w), set_up=victim_set_up(w)
            ),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_space,
        )
        for label, caller, reason in (
            ("other-tenant-admin", globex_admin, "TENANT_NOT_FOUND"),
            ("same-tenant-other-coach", acme_other_coach, "SPACE_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{SPACES}/UpdateSpaceContent",
            label=label,
            caller=caller,
            request=lambda w: spb.UpdateSpaceContentRequest(
                name=the_space(w),
                content=spb.SpaceContent(project="overwritten"),
                update_mask=FieldMask(paths=["project"]),
            ),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_space,
        )
        for label, caller, reason in (
            ("victims-own-hr", acme_admin, "SPACE_NOT_FOUND"),
            ("same-tenant-other-coach", acme_other_coach, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{SPACES}/{method}",
            label=label,
            caller=caller,
            request=named(spb.SpaceMoveRequest, the_space),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_space,
        )
        for method in (
            "ActivateSpace",
            "PauseSpace",
            "ResumeSpace",
            "CompleteSpace",
            "ArchiveSpace",
        )
        for label, caller, reason in (
            ("same-tenant-other-coach", acme_other_coach, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{SPACES}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=code,
            reason=reason,
            read_back=acme_space,
        )
        for method, request in (
            (
                "ChangeCoach",
                lambda w: spb.ChangeCoachRequest(
                    name=the_space(w), coach_member_id=w.acme.coach_member
                ),
            ),
            (
                "ChangeCoCoach",
                lambda w: spb.ChangeCoCoachRequest(
                    name=the_space(w), co_coach_member_id=w.acme.coach_member
                ),
            ),
        )
        for label, caller, code, reason in (
            ("victims-coachee", acme_coachee, PERMISSION_DENIED, "COACH_CHANGE_FORBIDDEN"),
            ("same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    *(  # a proposed coach change, and the earlier content, are the coachee's alone to answer
        Case(
            method=f"{SPACES}/{method}",
            label=label,
            caller=caller,
            request=named(request, the_space),
            code=code,
            reason=reason,
            read_back=acme_space,
        )
        for method, request in (
            ("GetPendingCoachChange", spb.GetPendingCoachChangeRequest),
            ("AcceptCoachChange", spb.AcceptCoachChangeRequest),
            ("DeclineCoachChange", spb.DeclineCoachChangeRequest),
            ("ShareEarlierContent", spb.ShareEarlierContentRequest),
        )
        for label, caller, code, reason in (
            ("victims-coach", acme_coach, PERMISSION_DENIED, "COACHEE_ONLY"),
            ("victims-own-hr", acme_admin, PERMISSION_DENIED, "COACHEE_ONLY"),
            ("same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"ecoach.v1.DashboardService/{method}",
            label="other-tenant-coach",
            caller=lambda w: w.globex.coach,
            request=parent(request),
            code=NOT_FOUND,
            reason="TENANT_NOT_FOUND",
            read_back=acme_space,
        )
        for method, request in (
            ("GetCoacheeDashboard", spb.GetCoacheeDashboardRequest),
            ("GetCoachDashboard", spb.GetCoachDashboardRequest),
        )
    ),
    # ------------------------------------------------------------ goals (participants only)
    *(
        Case(
            method=f"{GOALS}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=code,
            reason=reason,
            read_back=acme_goals,
        )
        for method, request in (
            (
                "CreateGoal",
                lambda w: spb.CreateGoalRequest(parent=the_space(w), goal=spb.Goal(title="x")),
            ),
            ("GetGoal", named(spb.GetGoalRequest, the_goal)),
            ("ListGoals", parent(spb.ListGoalsRequest, the_space)),
            (
                "UpdateGoal",
                lambda w: spb.UpdateGoalRequest(
                    goal=spb.Goal(name=the_goal(w), progress=100),
                    update_mask=FieldMask(paths=["progress"]),
                ),
            ),
            ("ArchiveGoal", named(spb.ArchiveGoalRequest, the_goal)),
            ("ListGoalChanges", parent(spb.ListGoalChangesRequest, the_goal)),
        )
        for label, caller, code, reason in (
            ("victims-own-hr", acme_admin, PERMISSION_DENIED, "CONTENT_FORBIDDEN"),
            ("same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    # ------------------------------------------------------------ notes (by kind and author)
    *(
        Case(
            method=f"{NOTES}/{method}",
            label=f"{label}-{kind}",
            caller=caller,
            request=request(kind),
            code=code,
            reason=reason,
            read_back=acme_notes,
        )
        for method, request in (
            ("GetNote", lambda kind: named(spb.GetNoteRequest, the_note(kind))),
            (
                "UpdateNote",
                lambda kind: (
                    lambda w: spb.UpdateNoteRequest(
                        note=spb.Note(name=the_note(kind)(w), body="overwritten"),
                        update_mask=FieldMask(paths=["body"]),
                    )
                ),
            ),
            ("DeleteNote", lambda kind: named(spb.DeleteNoteRequest, the_note(kind))),
            (
                "ListNoteRevisions",
                lambda kind: parent(spb.ListNoteRevisionsRequest, the_note(kind)),
            ),
        )
        for kind, label, caller, code, reason in (
            (
                "coach_private",
                "coachee-reads-coach-private",
                acme_coachee,
                NOT_FOUND,
                "NOTE_NOT_FOUND",
            ),
            ("journal", "coach-reads-journal", acme_coach, NOT_FOUND, "NOTE_NOT_FOUND"),
            ("shared", "victims-own-hr", acme_admin, PERMISSION_DENIED, "CONTENT_FORBIDDEN"),
            ("shared", "same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("shared", "other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{NOTES}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=code,
            reason=reason,
            read_back=acme_notes,
        )
        for method, request in (
            (
                "CreateNote",
                lambda w: spb.CreateNoteRequest(
                    parent=the_space(w), note=spb.Note(kind=spb.SHARED, body="intruder")
                ),
            ),
            ("ListNotes", parent(spb.ListNotesRequest, the_space)),
            ("ListNoteReads", parent(spb.ListNoteReadsRequest, the_space)),
        )
        for label, caller, code, reason in (
            ("victims-own-hr", acme_admin, PERMISSION_DENIED, "CONTENT_FORBIDDEN"),
            ("same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{NOTES}/ListRefusedNoteReads",
            label=label,
            caller=caller,
            request=lambda w: spb.ListRefusedNoteReadsRequest(),
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=acme_notes,
        )
        for label, caller in (("tenant-admin", acme_admin), ("coach", acme_coach))
    ),
    # ------------------------------------------------------------ notes about a session
    *(
        Case(
            method=f"{NOTES}/{method}",
            label=label,
            caller=caller,
            request=request(space, note, session),
            code=NOT_FOUND,
            reason="SESSION_NOT_FOUND",
            read_back=own_notes(space, caller),
        )
        for method, request in (
            (
                "CreateNote",
                lambda space, note, session: (
                    lambda w: spb.CreateNoteRequest(
                        parent=space(w),
                        note=spb.Note(
                            kind=spb.SHARED, body="about your session", session=session(w)
                        ),
                    )
                ),
            ),
            (
                "UpdateNote",
                lambda space, note, session: (
                    lambda w: spb.UpdateNoteRequest(
                        note=spb.Note(name=note(w), session=session(w)),
                        update_mask=FieldMask(paths=["session"]),
                    )
                ),
            ),
        )
        for label, caller, space, note, session in SESSION_LINKERS
    ),
    # ------------------------------------------------------------ availability and slots
    *(
        Case(
            method=f"{AVAILABILITY}/ListBookableSlots",
            label=label,
            caller=caller,
            request=next_weeks_slots(space),
            code=code,
            reason=reason,
            read_back=acme_slots_and_schedule,
        )
        for label, caller, space, code, reason in SPACE_INTRUDERS
    ),
    # ------------------------------------------------------------ sessions (participants only)
    *(
        Case(
            method=f"{SESSIONS}/{method}",
            label=label,
            caller=caller,
            request=request(space),
            code=code,
            reason=reason,
            read_back=acme_schedule,
        )
        for method, request in (
            (
                "BookSession",
                lambda space: (
                    lambda w: schpb.BookSessionRequest(parent=space(w), start_time=days_ahead(20))
                ),
            ),
            (
                "BookSeries",
                lambda space: (
                    lambda w: schpb.BookSeriesRequest(
                        parent=space(w),
                        start_time=days_ahead(21),
                        frequency=schpb.FREQUENCY_WEEKLY,
                        count=2,
                    )
                ),
            ),
            (
                "ListSessions",
                lambda space: lambda w: schpb.ListSessionsRequest(parent=space(w)),
            ),
        )
        for label, caller, space, code, reason in SPACE_INTRUDERS
    ),
    *(
        Case(
            method=f"{SESSIONS}/{method}",
            label=label,
            caller=caller,
            request=request(session),
            code=code,
            reason=reason,
            read_back=acme_schedule,
        )
        for method, request in (
            ("GetSession", lambda session: named(schpb.GetSessionRequest, session)),
            ("GetSessionRoom", lambda session: named(schpb.GetSessionRoomRequest, session)),
            (
                "BookNextSession",
                lambda session: named(schpb.BookNextSessionRequest, session),
            ),
            (
                "RescheduleSession",
                lambda session: (
                    lambda w: schpb.RescheduleSessionRequest(
                        name=session(w), start_time=days_ahead(22)
                    )
                ),
            ),
            (
                "CancelSession",
                lambda session: (
                    lambda w: schpb.CancelSessionRequest(name=session(w), reason=schpb.REASON_OTHER)
                ),
            ),
            (
                "MarkAttendance",
                lambda session: (
                    lambda w: schpb.MarkAttendanceRequest(
                        name=session(w), attendance=schpb.ATTENDANCE_NO_SHOW_COACH
                    )
                ),
            ),
        )
        for label, caller, session, code, reason in SESSION_INTRUDERS
    ),
    Case(
        # The coachee sees the session, but only a coach records who turned up.
        method=f"{SESSIONS}/MarkAttendance",
        label="victims-coachee",
        caller=acme_coachee,
        request=lambda w: schpb.MarkAttendanceRequest(
            name=the_session(w), attendance=schpb.ATTENDANCE_NO_SHOW_COACH
        ),
        code=PERMISSION_DENIED,
        reason="COACH_ONLY",
        read_back=acme_schedule,
    ),
    # ------------------------------------------------------------ reschedule requests
    *(
        Case(
            method=f"{REQUESTS}/ListRescheduleRequests",
            label=label,
            caller=caller,
            request=parent(schpb.ListRescheduleRequestsRequest),
            code=code,
            reason=reason,
            read_back=acme_schedule,
        )
        for label, caller, code, reason in (
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("other-tenant-coach", globex_coach, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("personal-token", globex_admin_personal, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("deactivated-coachee", leaver, UNAUTHENTICATED, "TOKEN_REVOKED"),
        )
    ),
    *(
        Case(
            method=f"{REQUESTS}/{method}",
            label=label,
            caller=caller,
            request=named(request, name),
            code=code,
            reason=reason,
            read_back=acme_schedule,
        )
        for method, request in (
            ("ApproveRescheduleRequest", schpb.ApproveRescheduleRequestRequest),
            ("DeclineRescheduleRequest", schpb.DeclineRescheduleRequestRequest),
        )
        for label, caller, name, code, reason in REQUEST_INTRUDERS
    ),
    # ------------------------------------------------------------ the tenant's policy
    *(
        Case(
            method=f"{POLICIES}/GetSchedulingPolicy",
            label=label,
            caller=caller,
            request=named(schpb.GetSchedulingPolicyRequest, the_policy),
            code=code,
            reason=reason,
            read_back=acme_policy,
        )
        for label, caller, code, reason in (
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("other-tenant-coachee", globex_coachee, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("personal-token", globex_admin_personal, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("deactivated-coachee", leaver, UNAUTHENTICATED, "TOKEN_REVOKED"),
        )
    ),
    *(
        Case(
            method=f"{POLICIES}/UpdateSchedulingPolicy",
            label=label,
            caller=caller,
            request=rogue_policy,
            code=code,
            reason=reason,
            read_back=acme_policy,
        )
        for label, caller, code, reason in (
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("personal-token", globex_admin_personal, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("own-tenant-coach", acme_coach, PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
            ("own-tenant-coachee", acme_coachee, PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
            ("deactivated-admin", fallen_admin, UNAUTHENTICATED, "TOKEN_REVOKED"),
        )
    ),
    # ------------------------------------------------------------ the tenant's video provider
    *(
        Case(
            method=f"{VIDEO}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=code,
            reason=reason,
            read_back=acme_video,
        )
        for method, request in (
            ("GetVideoSettings", named(schpb.GetVideoSettingsRequest, the_video_settings)),
            ("UpdateVideoSettings", rogue_video),
        )
        for label, caller, code, reason in (
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("personal-token", globex_admin_personal, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("own-tenant-coach", acme_coach, PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
            ("own-tenant-coachee", acme_coachee, PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
            ("deactivated-admin", fallen_admin, UNAUTHENTICATED, "TOKEN_REVOKED"),
        )
    ),
    # ------------------------------------------------------------ switching tenant
    Case(
        method=f"{AUTH}/SwitchTenant",
        label="non-member-switches-into-victim",
        caller=globex_admin_personal,
        request=lambda w: pb.SwitchTenantRequest(
            refresh_token=w.globex_admin_personal.refresh_token, tenant=w.acme.tenant_id
        ),
        code=PERMISSION_DENIED,
        reason="NOT_A_MEMBER",
        read_back=lambda w: (acme_members(w), own_memberships(w.api, w.globex_admin_personal)),
    ),
    Case(
        method=f"{AUTH}/SwitchTenant",
        label="deactivated-member-switches-back-in",
        caller=lambda w: w.leaver,
        request=lambda w: pb.SwitchTenantRequest(
            refresh_token=w.leaver.refresh_token, tenant=w.acme.tenant_id
        ),
        code=UNAUTHENTICATED,  # the deactivation ended their sessions in acme
        reason="SESSION_ENDED",
        read_back=acme_members,
    ),
    # ------------------------------------------------------------ accepting
    Case(
        method=f"{MEMBERS}/AcceptMembership",
        label="non-member-takes-another-persons-invitation",
        caller=globex_admin,
        request=parent(pb.AcceptMembershipRequest),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=lambda w: (acme_members(w), own_memberships(w.api, w.globex.admin)),
    ),
    Case(
        method=f"{MEMBERS}/AcceptMembership",
        label="non-member-personal-token",
        caller=globex_admin_personal,
        request=parent(pb.AcceptMembershipRequest),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=lambda w: (acme_members(w), own_memberships(w.api, w.globex_admin_personal)),
    ),
]

# Methods that carry no id of another tenant or person, each with the reason.
EXEMPT: dict[str, str] = {
    "ecoach.v1.AuthService/SignIn": (
        "public: authenticates by email and password and names at most a tenant to enter, "
        "which it refuses (NOT_A_MEMBER) only to someone who knows the password"
    ),
    "ecoach.v1.AuthService/Refresh": (
        "public: the only id is the refresh token's secret; forged, spent, ended or expired "
        "tokens are refused and it re-reads the membership (tests/e2e/test_sessions.py)"
    ),
    "ecoach.v1.AuthService/SignOut": (
        "public: ends only the session whose refresh token's secret it is given"
    ),
    "ecoach.v1.AuthService/SignOutEverywhere": "no ids: ends the caller's own sessions",
    "ecoach.v1.AuthService/ExportMyData": (
        "no ids: exports only the caller's own data (tests/e2e/test_personal_data.py)"
    ),
    "ecoach.v1.AuthService/VerifyMfa": (
        "public: the only id is the sign-in challenge's secret, given to whoever knew the "
        "password; unknown, spent or another purpose's challenges are refused (test_mfa.py)"
    ),
    "ecoach.v1.AuthService/StartMfaEnrolment": (
        "no ids: a challenge for the caller's own person, with their password "
        "(tests/e2e/test_account_proof.py)"
    ),
    "ecoach.v1.AuthService/BeginMfaEnrolment": (
        "public: the only id is an enrolment challenge's secret (tests/e2e/test_mfa.py)"
    ),
    "ecoach.v1.AuthService/CompleteMfaEnrolment": (
        "public: the only id is an enrolment challenge's secret (tests/e2e/test_mfa.py)"
    ),
    "ecoach.v1.AuthService/EraseMyData": (
        "no ids: erases only the caller's own data, confirmed by their password "
        "(tests/e2e/test_erasure.py)"
    ),
    "ecoach.v1.AuthService/GetErasureStatus": (
        "public: the only id is the erasure receipt's secret, given once to the erased person "
        "(tests/e2e/test_erasure.py)"
    ),
    "ecoach.v1.AuthService/ListMySignIns": (
        "no ids: the caller's own sign-in history only (tests/e2e/test_sessions.py)"
    ),
    "ecoach.v1.AuthService/GetMe": "no ids: reads the caller's own person, membership and tenant",
    "ecoach.v1.AuthService/RequestPasswordReset": (
        "public: takes an email, answers the same whether or not it has an account, and mails "
        "only that account's own address (tests/e2e/test_passwords.py)"
    ),
    "ecoach.v1.AuthService/ResetPassword": (
        "public: the only id is the link's secret; unknown, used, replaced or expired links are "
        "refused (tests/e2e/test_passwords.py)"
    ),
    "ecoach.v1.AuthService/UpdateMyProfile": "no ids: edits the caller's own person",
    "ecoach.v1.AuthService/RequestEmailChange": (
        "no ids: the caller's own person; the link goes to the address given"
    ),
    "ecoach.v1.AuthService/AcceptInvitation": (
        "public: the only id is the invitation link's secret, mailed to the invited address; an "
        "existing account must also give its password (tests/e2e/test_invitations.py)"
    ),
    "ecoach.v1.AuthService/ConfirmEmailChange": (
        "public: the only id is the link's secret, mailed to the new account or calendar "
        "address (tests/e2e/test_passwords.py)"
    ),
    "ecoach.v1.AuthService/RequestCalendarEmail": (
        "no ids: the caller's own person; the link goes to the address given "
        "(tests/e2e/test_passwords.py)"
    ),
    "ecoach.v1.AuthService/ClearCalendarEmail": "no ids: the caller's own person",
    "ecoach.v1.AuthService/ChangePassword": (
        "no ids: changes the caller's own password, and only with the current one"
    ),
    "ecoach.v1.MemberService/ListMyMemberships": (
        "no ids: lists only the caller's own memberships (a named cross-tenant read, rule 5)"
    ),
    f"{AVAILABILITY}/GetMyAvailability": (
        "no ids: reads the caller's own availability "
        "(test_availability_is_ones_own_and_only_a_coach_sets_it)"
    ),
    f"{AVAILABILITY}/UpdateMyAvailability": (
        "no ids: replaces the caller's own availability, and only a coach's "
        "(test_availability_is_ones_own_and_only_a_coach_sets_it)"
    ),
    "ecoach.v1.CalendarService/GetMyCalendarSettings": (
        "no ids: reads the caller's own reminders (test_calendar_settings_are_ones_own)"
    ),
    "ecoach.v1.CalendarService/CreateCalendarFeed": (
        "no ids: makes the caller's own feed (tests/e2e/test_calendar_feed.py)"
    ),
    "ecoach.v1.CalendarService/DeleteCalendarFeed": (
        "no ids: revokes the caller's own feed (tests/e2e/test_calendar_feed.py)"
    ),
    "ecoach.v1.CalendarFeedService/GetCalendarFeed": (
        "public: the only id is the feed URL's secret (256 bits, kept hashed); unknown, "
        "replaced and revoked ones are NOT_FOUND (tests/e2e/test_calendar_feed.py)"
    ),
    "ecoach.v1.CalendarService/UpdateMyCalendarSettings": (
        "no ids: replaces the caller's own reminders (test_calendar_settings_are_ones_own)"
    ),
    f"{SESSIONS}/ListMySessions": (
        "no ids but a time range: the caller's own sessions in every tenant, a named "
        "cross-tenant read (rule 5; test_my_sessions_and_requests_are_only_my_own)"
    ),
}


# ---------------------------------------------------------------- the cases


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_a_caller_cannot_reach_what_is_not_theirs(world: World, case: Case) -> None:
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


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES if c.code == NOT_FOUND])
def test_a_hidden_object_is_refused_exactly_like_one_that_does_not_exist(
    world: World, case: Case
) -> None:
    method = ecoach_v1_methods()[case.method]
    caller = case.caller(world)
    request = case.request(world)
    # What the caller may know is no secret to them (their own tenant; the space they take part
    # in, whose notes they may still not all read): only the victim's other ids become ghosts.
    known = {caller.tenant_id}
    if caller.person_id in (world.acme.coach.person_id, world.acme.coachee.person_id):
        known.add(world.acme_space_id)
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


# ---------------------------------------------------------------- one's own, and only one's own


def test_availability_is_ones_own_and_only_a_coach_sets_it(world: World) -> None:
    """GetMyAvailability and UpdateMyAvailability take no ids: each reads or replaces the
    caller's own hours, and only a coach has any."""
    s = sch.stubs(world.api.channel)
    before = acme_availability(world)
    assert before["coach_person_id"] == world.acme.coach.person_id and before["weekly"]

    for label, who in (
        ("the victim's coachee", world.acme.coachee),
        ("the victim's admin", world.acme.admin),
        ("the other tenant's admin", world.globex.admin),
    ):
        try:
            sch.set_availability(s, who, sch.around_the_clock())
        except grpc.RpcError as exc:
            refused = error_details(exc)
            assert (refused.code, refused.reason) == (PERMISSION_DENIED, "COACH_ONLY"), label
        else:
            raise AssertionError(f"{label} set an availability without being a coach")
        own = as_dict(
            s.availability.GetMyAvailability(
                schpb.GetMyAvailabilityRequest(), metadata=who.metadata
            )
        )
        assert own["coach_person_id"] == who.person_id, label
        assert not own.get("weekly") and "update_time" not in own, label

    # Another tenant's coach replaces their own hours, not the victim's.
    theirs = sch.set_availability(s, world.globex.coach, sch.around_the_clock(minutes=(30,)))
    assert theirs.coach_person_id == world.globex.coach.person_id
    assert acme_availability(world) == before


def test_calendar_settings_are_ones_own(world: World) -> None:
    """Get/UpdateMyCalendarSettings take no ids: one person's choice never reaches another's."""
    s = sch.stubs(world.api.channel)

    def mine(who: Session) -> Any:
        return as_dict(
            s.calendar.GetMyCalendarSettings(
                schpb.GetMyCalendarSettingsRequest(), metadata=who.metadata
            )
        )

    before = mine(world.acme.coachee)
    for who in (world.globex.admin, world.acme.admin, world.acme.coach):
        s.calendar.UpdateMyCalendarSettings(
            schpb.UpdateMyCalendarSettingsRequest(
                settings=schpb.CalendarSettings(reminders_off=True)
            ),
            metadata=who.metadata,
        )
        assert mine(who)["reminders_off"] is True
    assert mine(world.acme.coachee) == before


def test_my_sessions_and_requests_are_only_my_own(world: World) -> None:
    """ListMySessions (no ids, every tenant) answers each caller their own sessions only; the
    lists of requests and the coach's dashboard hold only the caller's own spaces'."""
    s = sch.stubs(world.api.channel)
    now = datetime.now(UTC)
    window = schpb.ListMySessionsRequest(
        start_time=sch.ts(now), end_time=sch.ts(now + timedelta(days=366))
    )
    victim_sessions = {world.acme_session_id, world.acme_asked_session_id}

    def mine(who: Session) -> list[schpb.Session]:
        return list(s.sessions.ListMySessions(window, metadata=who.metadata).sessions)

    for who in (world.acme.coach, world.acme.coachee):  # the control: the victims see theirs
        listed = mine(who)
        assert victim_sessions <= {x.session_id for x in listed}
        assert all(who.person_id in (x.coachee_person_id, x.coach_person_id) for x in listed)
    for label, who in (
        ("the victim's admin", world.acme.admin),
        ("the victim's other coach", world.acme_other_coach),
        ("the other tenant's admin", world.globex.admin),
        ("the other tenant's coach", world.globex.coach),
        ("the other tenant's coachee", world.globex.coachee),
        ("a personal token", world.globex_admin_personal),
    ):
        listed = mine(who)
        assert not victim_sessions & {x.session_id for x in listed}, label
        assert all(
            who.person_id in (x.coachee_person_id, x.coach_person_id, x.co_coach_person_id)
            for x in listed
        ), label

    def requests(who: Session) -> set[str]:
        listed = s.requests.ListRescheduleRequests(
            schpb.ListRescheduleRequestsRequest(parent=acme_name(world), page_size=100),
            metadata=who.metadata,
        )
        return {r.request_id for r in listed.requests}

    assert world.acme_request_id in requests(world.acme.coach)
    for label, who in (
        ("the victim's admin", world.acme.admin),
        ("the victim's other coach", world.acme_other_coach),
    ):
        assert world.acme_request_id not in requests(who), label

    board = s.dashboards.GetCoachDashboard(
        spb.GetCoachDashboardRequest(parent=acme_name(world)),
        metadata=world.acme_other_coach.metadata,
    )
    assert world.acme_request_id not in {r.request_id for r in board.reschedule_requests}
    shown = {x.session_id for x in board.to_mark} | {
        x.session_id for entry in board.coachees for x in entry.next_sessions
    }
    assert not victim_sessions & shown


# ---------------------------------------------------------------- the lists stay honest


def test_a_persons_token_is_refused_by_the_methods_that_serve_services_only(
    deployment: Deployment, world: World
) -> None:
    """Issue 19, item 3: identity's service-only methods answer without authorising a person
    (contact details of anyone, members of any tenant). A person who reaches the broker with
    their own token, an operator's, a tenant admin's or another tenant's coach's, is refused
    there before the handler runs."""
    acme = world.acme
    victim = acme.coachee.person_id
    calls = {
        "contact_details": {"person_ids": [victim]},
        "resolve_members": {"tenant_id": acme.tenant_id, "member_ids": [acme.coachee_member]},
        "resolve_member_emails": {
            "tenant_id": acme.tenant_id,
            "emails": [world.globex_coach_email],
        },
        "list_access_revocations": {"since": datetime.now(UTC).isoformat()},
    }
    callers = {
        "operator": world.operator,
        "acme admin": acme.admin,
        "acme coachee (asking about themself)": acme.coachee,
        "globex coach": world.globex.coach,
    }
    with RpcClient(deployment.amqp_uri, name="isolation-services-only") as rpc:
        # the same token is good where people are served: the refusal is the method's
        assert rpc.call(
            "identity", "get_my_person", {}, timeout=10, context={"authorization": acme.admin.token}
        )
        for method, payload in calls.items():
            for label, who in callers.items():
                with pytest.raises(DomainError) as refused:
                    rpc.call(
                        "identity",
                        method,
                        payload,
                        timeout=10,
                        context={"authorization": who.token},
                    )
                assert (str(refused.value.code), refused.value.reason) == (
                    "PERMISSION_DENIED",
                    "SERVICES_ONLY",
                ), f"{method} as {label}"


def test_every_ecoach_v1_method_has_cases_or_an_exemption() -> None:
    covered = {c.method for c in CASES} | set(EXEMPT)
    missing = sorted(set(ecoach_v1_methods()) - covered)
    assert not missing, f"add isolation cases (or an exemption with a reason) for {missing}"


def test_cases_and_exemptions_name_only_existing_methods() -> None:
    known = set(ecoach_v1_methods())
    stale = sorted(({c.method for c in CASES} | set(EXEMPT)) - known)
    assert not stale, f"no such ecoach.v1 method: {stale}"


def test_a_method_with_cases_is_not_also_exempt() -> None:
    both = sorted({c.method for c in CASES} & set(EXEMPT))
    assert not both, f"both tested and exempt: {both}"


def test_every_exemption_gives_a_reason() -> None:
    assert all(reason.strip() for reason in EXEMPT.values())


def test_no_case_expects_success_or_anything_but_a_rule_6_refusal() -> None:
    # Or, for a caller whose access was withdrawn (deactivated), the revocation's refusal.
    withdrawn = {(UNAUTHENTICATED, "TOKEN_REVOKED"), (UNAUTHENTICATED, "SESSION_ENDED")}
    wrong = [
        f"{c.id} expects {c.code.name}"
        for c in CASES
        if c.code not in REFUSALS and (c.code, c.reason) not in withdrawn
    ]
    assert not wrong, f"a case expects NOT_FOUND or PERMISSION_DENIED, never success: {wrong}"


def test_cases_have_unique_ids_and_an_error_reason() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert all(c.reason for c in CASES)


@pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")  # imported, not patched
def test_every_public_rpc_method_is_in_the_kernel_registry_and_back() -> None:
    declared = public_rpc_methods()
    unregistered = sorted(declared - set(PUBLIC_METHODS))
    assert not unregistered, f"declared public but missing from PUBLIC_METHODS: {unregistered}"
    phantom = sorted(set(PUBLIC_METHODS) - declared)
    assert not phantom, f"in PUBLIC_METHODS but not a public RPC method: {phantom}"
    assert all(reason.strip() for reason in PUBLIC_METHODS.values())


def test_every_public_grpc_method_of_ecoach_v1_is_exempt_with_a_reason_or_has_cases() -> None:
    # A public method that names another tenant's ids (SwitchTenant) has cases instead.
    public = {m.removeprefix("/") for m in PUBLIC_GRPC_METHODS if m.startswith(f"/{PACKAGE}.")}
    assert public <= set(ecoach_v1_methods()), sorted(public - set(ecoach_v1_methods()))
    missing = sorted(public - set(EXEMPT) - {c.method for c in CASES})
    assert not missing, f"public gRPC methods need cases or an exemption with a reason: {missing}"


def test_the_gateway_serves_no_ecoach_v1_method_the_suite_does_not_know(
    deployment: Deployment,
) -> None:
    from grpc_requests import Client

    client = Client.get_by_endpoint(deployment.address)
    served = {
        f"{name}/{method.name}"
        for name in client.service_names
        if name.startswith(f"{PACKAGE}.")
        for method in client.get_service_descriptor(name).methods
    }
    assert served, "reflection lists no ecoach.v1 service"
    assert served <= set(ecoach_v1_methods()), sorted(served - set(ecoach_v1_methods()))
