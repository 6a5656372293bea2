"""Sessions through the gateway: refresh tokens that rotate, reuse that ends the session,
signing out here or everywhere, switching tenant without signing in again, and what a
deactivation, a suspension, a role change or a password reset does to a session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as pb
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support.api import Api, Session, expect_error, session_of, unique_email
from tests.support.clock import clock_moved
from tests.support.mailbox import mailed_link
from tests.support.people import set_password

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED


def refresh(api: Api, token: str) -> Session:
    return session_of(api.auth.Refresh(pb.RefreshRequest(refresh_token=token), timeout=10))


def switch(api: Api, token: str, tenant: str) -> Session:
    reply = api.auth.SwitchTenant(
        pb.SwitchTenantRequest(refresh_token=token, tenant=tenant), timeout=10
    )
    return session_of(reply)


def me(api: Api, who: Session) -> pb.GetMeResponse:
    return api.auth.GetMe(pb.GetMeRequest(), metadata=who.metadata, timeout=10)


@contextmanager
def later(deployment: Deployment, seconds: int = 30) -> Iterator[None]:
    """Moves every process's clock on (by default past the 10 s reuse grace), then back."""
    with clock_moved(deployment.config.test_clock_path, seconds):
        yield


def test_sign_in_gives_a_refresh_token_that_rotates_at_every_use(
    api: Api, acme: TenantWorld
) -> None:
    reply = api.auth.SignIn(
        pb.SignInRequest(
            email=session_email(api, acme.coach), password=PASSWORD, tenant=acme.tenant_id
        ),
        timeout=10,
    )
    assert reply.refresh_token.startswith("rt1.")
    assert reply.refresh_expire_time.seconds > reply.expire_time.seconds
    first = refresh(api, reply.refresh_token)
    second = refresh(api, first.refresh_token)
    assert len({reply.refresh_token, first.refresh_token, second.refresh_token}) == 3
    assert first.token != reply.access_token
    # The new access token is a full one: same person, same tenant, same roles.
    found = me(api, second)
    assert (found.person.person_id, found.tenant.tenant_id) == (
        acme.coach.person_id,
        acme.tenant_id,
    )
    assert list(found.membership.roles) == [pb.COACH]


def test_two_tabs_refreshing_with_one_token_at_once_both_carry_on(
    api: Api, acme: TenantWorld, deployment: Deployment
) -> None:
    session = fresh_session(api, deployment, acme)
    tab_one = refresh(api, session.refresh_token)
    tab_two = refresh(api, session.refresh_token)  # within the grace: not a theft
    assert me(api, refresh(api, tab_one.refresh_token)).person.person_id == session.person_id
    assert me(api, refresh(api, tab_two.refresh_token)).person.person_id == session.person_id


def test_reusing_a_spent_refresh_token_ends_the_whole_session(
    api: Api, acme: TenantWorld, deployment: Deployment
) -> None:
    session = fresh_session(api, deployment, acme)
    victim = refresh(api, session.refresh_token)
    with later(deployment):
        stolen = expect_error(refresh, api, session.refresh_token)
        # The legitimate holder's newer token is dead too: both sign in again.
        ended = expect_error(refresh, api, victim.refresh_token)
    assert (stolen.code, stolen.reason) == (UNAUTHENTICATED, "REFRESH_TOKEN_REUSED")
    assert stolen.localized  # said in the caller's language
    assert (ended.code, ended.reason) == (UNAUTHENTICATED, "SESSION_ENDED")
    # Another session of the same person is untouched.
    other = fresh_session(api, deployment, acme, email=session_email(api, session))
    assert refresh(api, other.refresh_token).person_id == session.person_id


def test_signing_out_ends_this_session_only(
    api: Api, acme: TenantWorld, deployment: Deployment
) -> None:
    email = new_coachee(api, deployment, acme)
    laptop = signed_in(api, email, acme.tenant_id)
    phone = signed_in(api, email, acme.tenant_id)
    spent = refresh(api, laptop.refresh_token)
    api.auth.SignOut(pb.SignOutRequest(refresh_token=spent.refresh_token), timeout=10)

    for token in (laptop.refresh_token, spent.refresh_token):
        assert expect_error(refresh, api, token).reason == "SESSION_ENDED"
    assert refresh(api, phone.refresh_token).person_id == phone.person_id
    # Signing out again, or with a token that means nothing, is not an error.
    api.auth.SignOut(pb.SignOutRequest(refresh_token=spent.refresh_token), timeout=10)
    api.auth.SignOut(pb.SignOutRequest(refresh_token="rt1.nothing.here"), timeout=10)


def test_sign_out_everywhere_ends_every_session_of_the_caller_and_no_one_elses(
    api: Api, acme: TenantWorld, deployment: Deployment
) -> None:
    email = new_coachee(api, deployment, acme)
    sessions = [signed_in(api, email, acme.tenant_id) for _ in range(2)]
    personal = signed_in(api, email, "")
    bystander = fresh_session(api, deployment, acme)

    ended = api.auth.SignOutEverywhere(
        pb.SignOutEverywhereRequest(), metadata=sessions[0].metadata, timeout=10
    )
    assert ended.sessions_ended == 3
    for session in [*sessions, personal]:
        assert expect_error(refresh, api, session.refresh_token).reason == "SESSION_ENDED"
    assert refresh(api, bystander.refresh_token).person_id == bystander.person_id


def test_switching_tenant_needs_no_password_and_only_reaches_ones_own_tenants(
    api: Api, acme: TenantWorld, globex: TenantWorld, deployment: Deployment, operator: Session
) -> None:
    email = new_coachee(api, deployment, acme)
    api.members.AddMember(
        pb.AddMemberRequest(parent=tenant_name(globex.tenant_id), email=email, roles=[pb.COACH]),
        metadata=operator.metadata,
        timeout=10,
    )
    person = signed_in(api, email, "")
    accept = api.members.AcceptMembership(
        pb.AcceptMembershipRequest(parent=tenant_name(globex.tenant_id)),
        metadata=person.metadata,
        timeout=10,
    )
    assert accept.status == pb.ACTIVE

    in_acme = switch(api, person.refresh_token, acme.tenant_id)
    assert me(api, in_acme).tenant.tenant_id == acme.tenant_id
    in_globex = switch(api, in_acme.refresh_token, globex.slug)  # a slug works too
    found = me(api, in_globex)
    assert (found.tenant.tenant_id, list(found.membership.roles)) == (globex.tenant_id, [pb.COACH])
    # A plain refresh stays where the session now is.
    assert refresh(api, in_globex.refresh_token).tenant_id == globex.tenant_id

    # A tenant one is not a member of: refused, and the session lives on where it was.
    stranger = make_tenant(deployment, api, operator)
    last = refresh(api, in_globex.refresh_token)
    refused = expect_error(switch, api, last.refresh_token, stranger.tenant_id)
    assert (refused.code, refused.reason) == (PERMISSION_DENIED, "NOT_A_MEMBER")
    assert refresh(api, last.refresh_token).tenant_id == globex.tenant_id
    missing = expect_error(switch, api, last.refresh_token, "")
    assert (missing.code, missing.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("tenant",))


def test_deactivating_a_member_ends_their_sessions_there(
    api: Api, deployment: Deployment, operator: Session
) -> None:
    world = make_tenant(deployment, api, operator)
    session = refresh(api, world.coachee.refresh_token)
    api.members.DeactivateMember(
        pb.DeactivateMemberRequest(name=member_name(world.tenant_id, world.coachee_member)),
        metadata=world.admin.metadata,
        timeout=10,
    )
    refused = expect_error(refresh, api, session.refresh_token)
    assert (refused.code, refused.reason) == (UNAUTHENTICATED, "SESSION_ENDED")
    api.members.ReactivateMember(
        pb.ReactivateMemberRequest(name=member_name(world.tenant_id, world.coachee_member)),
        metadata=world.admin.metadata,
        timeout=10,
    )
    # Reactivation does not bring the ended session back.
    assert expect_error(refresh, api, session.refresh_token).reason == "SESSION_ENDED"


def test_a_suspended_tenants_members_cannot_refresh(
    api: Api, deployment: Deployment, operator: Session
) -> None:
    world = make_tenant(deployment, api, operator)
    api.tenants.SuspendTenant(
        pb.SuspendTenantRequest(name=tenant_name(world.tenant_id)),
        metadata=operator.metadata,
        timeout=10,
    )
    refused = expect_error(refresh, api, world.coach.refresh_token)
    assert (refused.code, refused.reason) == (PERMISSION_DENIED, "TENANT_SUSPENDED")


def test_a_role_change_shows_in_the_next_refreshed_token(
    api: Api, deployment: Deployment, operator: Session
) -> None:
    world = make_tenant(deployment, api, operator)
    api.members.UpdateMember(
        pb.UpdateMemberRequest(
            member=pb.Member(
                name=member_name(world.tenant_id, world.coach_member),
                roles=[pb.COACH, pb.TENANT_ADMIN],
            ),
            update_mask=FieldMask(paths=["roles"]),
        ),
        metadata=world.admin.metadata,
        timeout=10,
    )
    renewed = refresh(api, world.coach.refresh_token)
    assert set(me(api, renewed).membership.roles) == {pb.COACH, pb.TENANT_ADMIN}


def test_a_password_reset_ends_every_session(
    api: Api, acme: TenantWorld, deployment: Deployment
) -> None:
    email = new_coachee(api, deployment, acme)
    session = signed_in(api, email, acme.tenant_id)
    api.auth.RequestPasswordReset(pb.RequestPasswordResetRequest(email=email), timeout=10)
    link = mailed_link(deployment.var_dir / "mail", email, "reset-password")
    api.auth.ResetPassword(
        pb.ResetPasswordRequest(token=link.rsplit("/", 1)[1], new_password="a brand new one 2026"),
        timeout=10,
    )
    assert expect_error(refresh, api, session.refresh_token).reason == "SESSION_ENDED"


def test_malformed_unknown_or_forged_refresh_tokens_are_refused(
    api: Api, acme: TenantWorld, deployment: Deployment
) -> None:
    empty = expect_error(refresh, api, "")
    assert (empty.code, empty.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("refresh_token",))
    real = fresh_session(api, deployment, acme)
    prefix, row_id, secret = real.refresh_token.split(".")
    forged = f"{prefix}.{row_id}.{secret[:-2]}xx"
    for token in ("not a token", "rt1.rt_unknown.secret", forged):
        refused = expect_error(refresh, api, token)
        assert (refused.code, refused.reason) == (UNAUTHENTICATED, "REFRESH_TOKEN_INVALID")
    # A forged secret for a real row spends nothing: the real token still works.
    assert refresh(api, real.refresh_token).person_id == real.person_id


# ---------------------------------------------------------------- helpers


def signed_in(api: Api, email: str, tenant: str) -> Session:
    return api.sign_in(email, PASSWORD, tenant)


def new_coachee(api: Api, deployment: Deployment, world: TenantWorld) -> str:
    email = unique_email("sessions")
    api.members.AddMember(
        pb.AddMemberRequest(parent=tenant_name(world.tenant_id), email=email, roles=[pb.COACHEE]),
        metadata=world.admin.metadata,
        timeout=10,
    )
    set_password(deployment.config, email, PASSWORD)
    return email


def fresh_session(
    api: Api, deployment: Deployment, world: TenantWorld, email: str | None = None
) -> Session:
    return signed_in(api, email or new_coachee(api, deployment, world), world.tenant_id)


def session_email(api: Api, session: Session) -> str:
    return me(api, session).person.email


def test_a_person_reads_their_own_sign_ins_and_failed_attempts_newest_first(
    api: Api, acme: TenantWorld, deployment: Deployment
) -> None:
    email = new_coachee(api, deployment, acme)
    other = new_coachee(api, deployment, acme)
    assert expect_error(api.sign_in, email, "a wrong password 99", acme.tenant_id).reason == (
        "INVALID_CREDENTIALS"
    )
    personal = signed_in(api, email, "")
    session = signed_in(api, email, acme.tenant_id)
    signed_in(api, other, acme.tenant_id)

    def history(page_size: int = 0, token: str = "") -> pb.ListMySignInsResponse:
        return api.auth.ListMySignIns(
            pb.ListMySignInsRequest(page_size=page_size, page_token=token),
            metadata=session.metadata,
            timeout=10,
        )

    records = history().sign_ins
    assert [(r.outcome, r.tenant_id) for r in records] == [
        ("succeeded", acme.tenant_id),
        ("succeeded", ""),
        ("failed", acme.tenant_id),
    ]
    assert all(r.source == "127.0.0.1" for r in records)  # the other person's is not there
    first = history(page_size=2)
    rest = history(page_size=2, token=first.next_page_token)
    assert [r.time for r in [*first.sign_ins, *rest.sign_ins]] == [r.time for r in records]
    assert rest.next_page_token == ""
    assert personal.person_id == session.person_id
    bad = expect_error(history, 0, "not-a-token")
    assert (bad.code, bad.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("page_token",))
