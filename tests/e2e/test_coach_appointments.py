"""Nobody makes themselves a coach (issue 19), through the gateway: HR cannot give itself the
coach role; a tenant admin or an operator named coach or co-coach is only proposed, and takes
the seat once the coachee accepts; spaces are never opened with such a coach; and the coachee
is told, neutrally and in their language, of every proposal and every change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as pb
from gateway.api.pb import spaces_pb2_grpc as pb_grpc
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.support.api import Api, Session, expect_error, session_of
from tests.support.mailbox import mails_to
from tests.support.people import sign_in_operator
from tests.support.spaces import add_person, create, get, move, set_up
from tests.support.waiting import wait_for

NOT_FOUND = grpc.StatusCode.NOT_FOUND
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT
PROPOSED_EN = "A change in your ecoach coaching awaits your agreement"
CHANGED_EN = "A change in your ecoach coaching"
CHANGED_FR = "Un changement dans votre accompagnement ecoach"


@pytest.fixture(scope="module")
def spaces(deployment: Deployment) -> Iterator[Any]:
    channel = deployment.channel()
    yield pb_grpc.SpaceServiceStub(channel)
    channel.close()


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)


def mails(deployment: Deployment, address: str, subject: str, count: int = 1) -> list[Any]:
    """The mails to `address` whose subject is exactly `subject`, once there are `count`."""

    def found() -> list[Any] | None:
        hits = [
            m
            for m in mails_to(deployment.config.mail_path, address)
            if str(m["Subject"]) == subject
        ]
        return hits if len(hits) >= count else None

    return list(wait_for(found, 30, f"{count} mail(s) '{subject}' to {address}"))


def body(mail: Any) -> str:
    return str(mail.get_body(("plain",)).get_content())


def pending(spaces: Any, name: str, who: Session) -> pb.PendingCoachChange:
    return spaces.GetPendingCoachChange(
        pb.GetPendingCoachChangeRequest(name=name), metadata=who.metadata
    )


def test_hr_cannot_make_itself_coach_and_its_appointment_waits_for_the_coachee(
    deployment: Deployment, api: Api, operator: Session, spaces: Any
) -> None:
    team = make_tenant(deployment, api, operator)
    space = create(spaces, team, team.coach, project="the coachee's own project")
    space = move(spaces, "Activate", space.name, team.coach)
    admin_email, coachee_email = email_of(api, team.admin), email_of(api, team.coachee)
    own = ipb.UpdateMemberRequest(
        member=ipb.Member(
            name=member_name(team.tenant_id, team.admin_member),
            roles=[ipb.TENANT_ADMIN, ipb.COACH],
        ),
        update_mask=FieldMask(paths=["roles"]),
    )
    refused = expect_error(api.members.UpdateMember, own, metadata=team.admin.metadata)
    assert (refused.code, refused.reason) == (PERMISSION_DENIED, "SELF_ROLE_CHANGE")
    assert refused.localized
    # Someone else (here the operator) gives HR the coach role: HR still coaches only if the
    # coachee agrees.
    api.members.UpdateMember(own, metadata=operator.metadata)
    admin = api.sign_in(admin_email, PASSWORD, team.tenant_id)  # the new roles' token
    proposal = pb.ChangeCoachRequest(name=space.name, coach_member_id=team.admin_member)
    proposed = spaces.ChangeCoach(proposal, metadata=admin.metadata)
    assert proposed.set_up.coach_member_id == team.coach_member  # nothing changed yet
    assert proposed.pending_coach_change.seat == pb.SEAT_COACH
    assert proposed.pending_coach_change.proposed_member_id == team.admin_member
    assert proposed.pending_coach_change.proposer_person_id == admin.person_id
    assert not proposed.HasField("content")
    assert get(spaces, space.name, admin).relation == pb.AS_TENANT_ADMIN
    [told] = mails(deployment, coachee_email, PROPOSED_EN)
    assert "project" not in body(told) and space.space_id not in body(told)
    for stranger in (team.coach, admin):
        no = expect_error(pending, spaces, space.name, stranger)
        assert (no.code, no.reason) == (PERMISSION_DENIED, "COACHEE_ONLY")
    seen = pending(spaces, space.name, team.coachee)
    assert (seen.proposed_member_id, seen.seat) == (team.admin_member, pb.SEAT_COACH)

    declined = spaces.DeclineCoachChange(
        pb.DeclineCoachChangeRequest(name=space.name), metadata=team.coachee.metadata
    )
    assert not declined.HasField("pending_coach_change")
    assert declined.set_up.coach_member_id == team.coach_member
    gone = expect_error(pending, spaces, space.name, team.coachee)
    assert (gone.code, gone.reason) == (NOT_FOUND, "NO_PENDING_COACH_CHANGE")
    assert get(spaces, space.name, admin).relation == pb.AS_TENANT_ADMIN

    spaces.ChangeCoach(proposal, metadata=admin.metadata)
    mails(deployment, coachee_email, PROPOSED_EN, 2)
    accepted = spaces.AcceptCoachChange(
        pb.AcceptCoachChangeRequest(name=space.name), metadata=team.coachee.metadata
    )
    assert accepted.set_up.coach_member_id == team.admin_member
    assert not accepted.HasField("pending_coach_change")
    now = get(spaces, space.name, admin)
    assert now.relation == pb.AS_COACH and now.earlier_content_hidden  # the earlier words: not yet
    assert not now.HasField("content")
    assert expect_error(get, spaces, space.name, team.coach).code == NOT_FOUND  # the previous
    [changed] = mails(deployment, coachee_email, CHANGED_EN)
    assert "project" not in body(changed) and space.space_id not in body(changed)


def test_an_operator_who_adds_their_own_address_coaches_only_with_the_coachees_agreement(
    deployment: Deployment, api: Api, operator: Session, spaces: Any
) -> None:
    team = make_tenant(deployment, api, operator)
    space = move(spaces, "Activate", create(spaces, team, team.coach).name, team.coach)
    operator_email = email_of(api, operator)
    added = api.members.AddMember(
        ipb.AddMemberRequest(
            parent=tenant_name(team.tenant_id), email=operator_email, roles=[ipb.COACH]
        ),
        metadata=operator.metadata,
    )
    # Never a space opened with them as coach or co-coach: one by one, from a CSV, or edited.
    for field, given in (
        ("coach_member_id", set_up(team, coach_member_id=added.member_id)),
        ("co_coach_member_id", set_up(team, co_coach_member_id=added.member_id)),
    ):
        refused = expect_error(
            spaces.CreateSpace,
            pb.CreateSpaceRequest(parent=tenant_name(team.tenant_id), set_up=given),
            metadata=team.admin.metadata,
        )
        assert refused.code == INVALID_ARGUMENT
        assert [f for f in refused.fields if f.endswith(field)], refused.fields
    csv = (
        "coachee_email,coach_email,cadence,sessions,start_date\n"
        f"{email_of(api, team.coachee)},{operator_email},weekly,4,2027-01-04\n"
    ).encode()
    imported = spaces.ImportSpaces(
        pb.ImportSpacesRequest(parent=tenant_name(team.tenant_id), csv=csv),
        metadata=team.admin.metadata,
    )
    assert not imported.created and [r.line for r in imported.rejected] == [2]
    assert "coachee's agreement" in imported.rejected[0].reason

    # The space's own coach proposes the operator as co-coach: a proposal only.
    proposed = spaces.ChangeCoCoach(
        pb.ChangeCoCoachRequest(name=space.name, co_coach_member_id=added.member_id),
        metadata=team.coach.metadata,
    )
    assert proposed.set_up.co_coach_member_id == ""
    assert proposed.pending_coach_change.seat == pb.SEAT_CO_COACH
    # A later change of that seat by someone who needs no agreement replaces the proposal.
    co_member, co_coach = add_person(deployment, api, team, ipb.COACH, "plain-co-coach")
    replaced = spaces.ChangeCoCoach(
        pb.ChangeCoCoachRequest(name=space.name, co_coach_member_id=co_member),
        metadata=team.coach.metadata,
    )
    assert replaced.set_up.co_coach_member_id == co_member
    assert not replaced.HasField("pending_coach_change")
    assert get(spaces, space.name, co_coach).relation == pb.AS_CO_COACH


def test_an_operator_who_makes_themselves_hr_of_a_tenant_cannot_appoint_themselves_coach(
    deployment: Deployment, api: Api, operator: Session, spaces: Any
) -> None:
    """The whole path: an operator adds their own address as admin and coach, accepts, switches
    into the tenant, and names themselves coach; the coachee must still agree, the operator
    cannot give themselves more roles, and a draft cannot be given them at all."""
    team = make_tenant(deployment, api, operator)
    space = move(spaces, "Activate", create(spaces, team, team.coach).name, team.coach)
    draft = create(spaces, team, team.coach)
    rogue = sign_in_operator(api, deployment.config)  # their own MFA code, not the fixture's
    rogue_email = email_of(api, rogue)
    added = api.members.AddMember(
        ipb.AddMemberRequest(
            parent=tenant_name(team.tenant_id),
            email=rogue_email,
            roles=[ipb.TENANT_ADMIN, ipb.COACH],
        ),
        metadata=rogue.metadata,
    )
    api.members.AcceptMembership(
        ipb.AcceptMembershipRequest(parent=tenant_name(team.tenant_id)), metadata=rogue.metadata
    )
    inside = session_of(
        api.auth.SwitchTenant(
            ipb.SwitchTenantRequest(refresh_token=rogue.refresh_token, tenant=team.tenant_id)
        )
    )
    more = expect_error(
        api.members.UpdateMember,
        ipb.UpdateMemberRequest(
            member=ipb.Member(
                name=member_name(team.tenant_id, added.member_id),
                roles=[ipb.TENANT_ADMIN, ipb.COACH, ipb.COACHEE],
            ),
            update_mask=FieldMask(paths=["roles"]),
        ),
        metadata=inside.metadata,
    )
    assert (more.code, more.reason) == (PERMISSION_DENIED, "SELF_ROLE_CHANGE")
    proposed = spaces.ChangeCoach(
        pb.ChangeCoachRequest(name=space.name, coach_member_id=added.member_id),
        metadata=inside.metadata,
    )
    assert proposed.set_up.coach_member_id == team.coach_member
    assert proposed.pending_coach_change.proposed_person_id == rogue.person_id
    assert get(spaces, space.name, inside).relation == pb.AS_TENANT_ADMIN
    assert pending(spaces, space.name, team.coachee).proposed_member_id == added.member_id
    on_draft = expect_error(
        spaces.ChangeCoach,
        pb.ChangeCoachRequest(name=draft.name, coach_member_id=added.member_id),
        metadata=inside.metadata,
    )
    assert on_draft.code == INVALID_ARGUMENT and "coach_member_id" in str(on_draft.fields)
    assert get(spaces, draft.name, inside).set_up.coach_member_id == team.coach_member


def test_the_coachee_is_told_of_every_coach_change_in_their_language_and_nothing_more(
    deployment: Deployment, api: Api, operator: Session, spaces: Any
) -> None:
    team = make_tenant(deployment, api, operator)
    api.auth.UpdateMyProfile(
        ipb.UpdateMyProfileRequest(locale="fr", update_mask=FieldMask(paths=["locale"])),
        metadata=team.coachee.metadata,
    )
    space = create(spaces, team, team.coach, project="a secret topic")
    coachee_email = email_of(api, team.coachee)
    first_member, _ = add_person(deployment, api, team, ipb.COACH, "first-co-coach")
    spaces.ChangeCoCoach(  # on the draft, which the coachee does not see (unit-tested: no mail)
        pb.ChangeCoCoachRequest(name=space.name, co_coach_member_id=first_member),
        metadata=team.coach.metadata,
    )
    space = move(spaces, "Activate", space.name, team.coach)
    co_member, _ = add_person(deployment, api, team, ipb.COACH, "co-coach")
    spaces.ChangeCoCoach(  # replaced
        pb.ChangeCoCoachRequest(name=space.name, co_coach_member_id=co_member),
        metadata=team.coach.metadata,
    )
    mails(deployment, coachee_email, CHANGED_FR)
    next_member, _ = add_person(deployment, api, team, ipb.COACH, "next-coach")
    spaces.ChangeCoach(  # the coach replaced
        pb.ChangeCoachRequest(name=space.name, coach_member_id=next_member),
        metadata=team.admin.metadata,
    )
    mails(deployment, coachee_email, CHANGED_FR, 2)
    spaces.ChangeCoCoach(  # removed
        pb.ChangeCoCoachRequest(name=space.name), metadata=team.admin.metadata
    )
    told = mails(deployment, coachee_email, CHANGED_FR, 3)  # in French: their language
    for mail in told:
        text = body(mail)
        assert "secret" not in text and space.space_id not in text and "next-coach" not in text
        assert mail["Content-Language"] == "fr"
