"""Invitations end to end: the emailed link followed by a new person and by an existing account,
re-sent, revoked and expired; through the gateway, mail received by a real SMTP server."""

from __future__ import annotations

import grpc
import pytest

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as pb
from tests.support import world_fixtures
from tests.support.api import Api, Session, expect_error, unique_email, unique_slug
from tests.support.clock import move_test_clock
from tests.support.people import set_password, sign_in_operator
from tests.support.smtp import SmtpServer, link_token

# The module deployment's clients (tests/support/world_fixtures.py).
api = world_fixtures.api
operator = world_fixtures.operator

INVITE = "/invite/"
PASSWORD = "Blue-Kettle-Morning-82"


# The worker's deployment that mails its SMTP server, shared (tests/e2e/conftest.py).
world = world_fixtures.shared


@pytest.fixture(scope="module")
def tenant(api: Api, operator: Session) -> tuple[str, str]:
    slug = unique_slug("inv")
    created = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name=f"Maison {slug}", slug=slug),
        metadata=operator.metadata,
    )
    return str(created.tenant_id), str(created.display_name)


def invite(api: Api, operator: Session, tenant_id: str, email: str, **profile: str) -> str:
    added = api.members.AddMember(
        pb.AddMemberRequest(
            parent=tenant_name(tenant_id), email=email, roles=[pb.COACHEE], **profile
        ),
        metadata=operator.metadata,
        timeout=10,
    )
    return str(added.member_id)


def accept(api: Api, token: str, password: str) -> pb.AcceptInvitationResponse:
    return api.auth.AcceptInvitation(
        pb.AcceptInvitationRequest(token=token, password=password), timeout=15
    )


def member(api: Api, operator: Session, tenant_id: str, member_id: str) -> pb.Member:
    return api.members.GetMember(
        pb.GetMemberRequest(name=member_name(tenant_id, member_id)), metadata=operator.metadata
    )


def test_a_new_person_accepts_by_choosing_a_password(
    api: Api, operator: Session, tenant: tuple[str, str], smtp: SmtpServer
) -> None:
    tenant_id, tenant_display = tenant
    email = unique_email("newbie")
    member_id = invite(api, operator, tenant_id, email, display_name="Nina Simone", locale="fr")
    pending = member(api, operator, tenant_id, member_id)
    assert pending.status == pb.PENDING
    assert (pending.email, pending.display_name, pending.person_id) == (email, "", "")
    [mail] = smtp.inbox.wait_for(email, containing=INVITE)
    assert mail["Subject"] == f"{tenant_display} vous invite sur ecoach"  # her language
    token = link_token(mail, "invite")
    weak = expect_error(accept, api, token, "nina simone 1234")
    assert (weak.code, weak.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("password",))
    answer = accept(api, token, PASSWORD)
    assert (answer.tenant_id, answer.email, answer.new_account) == (tenant_id, email, True)
    assert answer.member == member_name(tenant_id, member_id)
    session = api.sign_in(email, PASSWORD, tenant_id)
    assert session.tenant_id == tenant_id
    accepted = member(api, operator, tenant_id, member_id)
    assert (accepted.status, accepted.display_name) == (pb.ACTIVE, "Nina Simone")
    again = expect_error(accept, api, token, PASSWORD)
    assert again.reason == "LINK_USED"


def test_an_existing_account_accepts_with_its_password_which_never_changes(
    world: Deployment, api: Api, operator: Session, tenant: tuple[str, str], smtp: SmtpServer
) -> None:
    tenant_id, name = tenant
    other = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name="Elsewhere", slug=unique_slug("else")),
        metadata=operator.metadata,
    )
    email = unique_email("veteran")
    invite(api, operator, other.tenant_id, email)
    set_password(world.config, email, PASSWORD)  # has an account, active elsewhere
    member_id = invite(api, operator, tenant_id, email, display_name="Ignored: not new")
    # This tenant's mail: Elsewhere's may never be sent (accepted at once, before the relay).
    [mail] = smtp.inbox.wait_for(email, containing=f"{name} invites you")
    token = link_token(mail, "invite")
    wrong = expect_error(accept, api, token, "Somebody-Elses-Password-1")
    assert (wrong.code, wrong.reason) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS")
    assert member(api, operator, tenant_id, member_id).status == pb.PENDING  # nothing changed
    answer = accept(api, token, PASSWORD)
    assert answer.new_account is False
    assert api.sign_in(email, PASSWORD, tenant_id).tenant_id == tenant_id  # same password


def test_resending_kills_the_old_link_and_revoking_kills_the_new_one(
    api: Api, operator: Session, tenant: tuple[str, str], smtp: SmtpServer
) -> None:
    tenant_id, _ = tenant
    email = unique_email("resend")
    member_id = invite(api, operator, tenant_id, email)
    first = link_token(smtp.inbox.wait_for(email, containing=INVITE)[0], "invite")
    name = member_name(tenant_id, member_id)
    api.members.ResendInvitation(pb.ResendInvitationRequest(name=name), metadata=operator.metadata)
    second = link_token(smtp.inbox.wait_for(email, 2, containing=INVITE)[1], "invite")
    assert first != second
    assert expect_error(accept, api, first, PASSWORD).reason == "LINK_REVOKED"
    api.members.DeactivateMember(
        pb.DeactivateMemberRequest(name=name), metadata=operator.metadata
    )  # revokes the invitation
    assert expect_error(accept, api, second, PASSWORD).reason == "LINK_REVOKED"
    not_pending = expect_error(
        api.members.ResendInvitation,
        pb.ResendInvitationRequest(name=name),
        metadata=operator.metadata,
    )
    assert not_pending.reason == "NOT_PENDING"


def test_an_expired_invitation_is_refused_and_a_resent_one_works(
    world: Deployment, api: Api, operator: Session, tenant: tuple[str, str], smtp: SmtpServer
) -> None:
    tenant_id, _ = tenant
    email = unique_email("late")
    member_id = invite(api, operator, tenant_id, email)
    token = link_token(smtp.inbox.wait_for(email, containing=INVITE)[0], "invite")
    move_test_clock(world.config.test_clock_path, 15 * 86400)  # the default lifetime is 14 days
    try:
        expired = expect_error(accept, api, token, PASSWORD)
        assert expired.reason == "LINK_EXPIRED"
        later = sign_in_operator(api, world.config)  # 15 days on
        api.members.ResendInvitation(
            pb.ResendInvitationRequest(name=member_name(tenant_id, member_id)),
            metadata=later.metadata,
        )
        fresh = link_token(smtp.inbox.wait_for(email, 2, containing=INVITE)[1], "invite")
        assert accept(api, fresh, PASSWORD).new_account
    finally:
        move_test_clock(world.config.test_clock_path, 0)


def test_a_link_that_is_no_invitation_is_refused(api: Api) -> None:
    unknown = expect_error(accept, api, "B" * 43, PASSWORD)
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "LINK_INVALID")


def new_tenant(api: Api, operator: Session, label: str) -> str:
    created = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name=label, slug=unique_slug("cap")),
        metadata=operator.metadata,
    )
    return str(created.tenant_id)


def pending_emails(api: Api, who: Session, tenant_id: str) -> set[str]:
    listed = api.members.ListMembers(
        pb.ListMembersRequest(parent=tenant_name(tenant_id)), metadata=who.metadata
    )
    return {m.email for m in listed.members if m.status == pb.PENDING}


def test_one_organisation_sends_one_address_at_most_five_invitation_mails_a_day(
    world: Deployment, api: Api, operator: Session, smtp: SmtpServer
) -> None:
    """Issue 19, item 6: re-sending, re-adding and importing must not make ecoach a way to flood
    someone's inbox. The memberships are recorded all the same; another organisation's
    invitations are its own business (its count is not this one's)."""
    first, second = (new_tenant(api, operator, f"Cap {n}") for n in "AB")
    email = unique_email("flooded")
    member_id = invite(api, operator, first, email)
    smtp.inbox.wait_for(email, containing=INVITE)
    resend(api, operator, first, member_id, (smtp, email, 5))

    resent = expect_error(
        api.members.ResendInvitation,
        pb.ResendInvitationRequest(name=member_name(first, member_id)),
        metadata=operator.metadata,
    )
    assert (resent.code, resent.reason) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "TOO_MANY_INVITATIONS",
    )
    assert resent.metadata is not None
    assert 0 < int(resent.metadata["retry_after_seconds"]) <= 24 * 3600
    assert "organisation" in resent.message and resent.localized

    # another organisation's first invitation goes out, and says nothing of the first's
    invite(api, operator, second, email)
    smtp.inbox.wait_for(email, 6, containing=INVITE)

    # importing the address again is no way round: it is already invited, nothing is mailed
    fresh = unique_email("fresh")
    report = import_csv(api, operator, first, f"email,role\n{email},coachee\n{fresh},coachee\n")
    assert (report.added, report.already_invited, report.rejected) == (1, 1, 0)
    smtp.inbox.wait_for(fresh, containing=INVITE)
    assert len(smtp.inbox.to(email, containing=INVITE)) == 6

    # a day later the first organisation can send it again, and it works
    move_test_clock(world.config.test_clock_path, 86400 + 60)
    try:
        later = sign_in_operator(api, world.config)
        resend(api, later, first, member_id, (smtp, email, 7))
        seventh = smtp.inbox.wait_for(email, 7, containing=INVITE)[6]
        assert accept(api, link_token(seventh, "invite"), PASSWORD).new_account
    finally:
        move_test_clock(world.config.test_clock_path, 0)


def test_all_organisations_together_mail_one_address_at_most_twenty_invitations_a_day(
    api: Api, operator: Session, smtp: SmtpServer
) -> None:
    """The backstop against several admins flooding one inbox says nothing to any of them."""
    email = unique_email("backstop")
    for n in range(4):
        tenant = new_tenant(api, operator, f"Backstop {n}")
        member_id = invite(api, operator, tenant, email)
        smtp.inbox.wait_for(email, 5 * n + 1, containing=INVITE)
        resend(api, operator, tenant, member_id, (smtp, email, 5 * n + 5))
    fifth, sixth = (new_tenant(api, operator, f"Backstop {n}") for n in (5, 6))
    invite(api, operator, fifth, email)  # no error: recorded, pending, silently unmailed
    assert email in pending_emails(api, operator, fifth)
    fresh = unique_email("fresh")
    report = import_csv(api, operator, sixth, f"email,role\n{email},coachee\n{fresh},coachee\n")
    assert (report.added, report.rejected, list(report.rows)) == (2, 0, [])  # nothing told
    smtp.inbox.wait_for(fresh, containing=INVITE)  # mailed after the held ones would have been
    assert len(smtp.inbox.to(email, containing=INVITE)) == 20


def resend(
    api: Api, who: Session, tenant_id: str, member_id: str, mailed: tuple[SmtpServer, str, int]
) -> None:
    """Re-sends until the address has had `mailed[2]` invitation mails, waiting for each (a
    link superseded before its mail goes out is, rightly, never mailed)."""
    smtp, email, upto = mailed
    while len(smtp.inbox.to(email, containing=INVITE)) < upto:
        count = len(smtp.inbox.to(email, containing=INVITE))
        api.members.ResendInvitation(
            pb.ResendInvitationRequest(name=member_name(tenant_id, member_id)),
            metadata=who.metadata,
        )
        smtp.inbox.wait_for(email, count + 1, containing=INVITE)


def import_csv(api: Api, who: Session, tenant_id: str, csv: str) -> pb.ImportMembersResponse:
    return api.members.ImportMembers(
        pb.ImportMembersRequest(parent=tenant_name(tenant_id), csv=csv.encode()),
        metadata=who.metadata,
        timeout=30,
    )
