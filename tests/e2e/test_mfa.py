"""Multi-factor sign-in through the gateway: operators always give a code; a tenant's policy
requires it for chosen roles, and a member who has not enrolled enrols from the limited token the
password step gives; switching into such a tenant needs a session signed in with MFA; codes are
throttled and never replayed; recovery codes work once each."""

from __future__ import annotations

from typing import Any

import grpc
import jwt
import pyotp
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from gateway.api.convert import settings_name, tenant_name
from gateway.api.pb import identity_pb2 as pb
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support.api import Api, Session, expect_error, session_of, unique_email
from tests.support.people import OPERATOR_PASSWORD, create_operator, set_password, totp_code

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


def amr(session: Session | pb.SignInResponse) -> list[str]:
    token = session.token if isinstance(session, Session) else session.access_token
    return list(jwt.decode(token, options={"verify_signature": False})["amr"])


def sign_in(api: Api, email: str, password: str, tenant: str = "") -> pb.SignInResponse:
    return api.auth.SignIn(
        pb.SignInRequest(email=email, password=password, tenant=tenant), timeout=30
    )


def verify(api: Api, challenge: str, code: str) -> pb.SignInResponse:
    return api.auth.VerifyMfa(pb.VerifyMfaRequest(challenge=challenge, code=code), timeout=30)


def require_mfa_for(api: Api, team: TenantWorld, roles: list[Any]) -> None:
    api.tenants.UpdateTenantSettings(
        pb.UpdateTenantSettingsRequest(
            settings=pb.TenantSettings(
                name=settings_name(team.tenant_id), mfa_required_roles=roles
            ),
            update_mask=FieldMask(paths=["mfa_required_roles"]),
        ),
        metadata=team.admin.metadata,
    )


def refused_as_bearer(api: Api, token: str) -> Any:
    """A challenge is not an access token: nothing but its own methods accepts it."""
    return expect_error(
        api.auth.GetMe, pb.GetMeRequest(), metadata=(("authorization", f"Bearer {token}"),)
    )


def enrol(api: Api, challenge: str) -> tuple[str, pb.CompleteMfaEnrolmentResponse]:
    setup = api.auth.BeginMfaEnrolment(pb.BeginMfaEnrolmentRequest(challenge=challenge))
    assert setup.otpauth_uri.startswith("otpauth://totp/ecoach:")
    assert f"secret={setup.secret}" in setup.otpauth_uri and "<svg" in setup.qr_svg
    done = api.auth.CompleteMfaEnrolment(
        pb.CompleteMfaEnrolmentRequest(challenge=challenge, code=pyotp.TOTP(setup.secret).now())
    )
    return setup.secret, done


def test_an_operator_always_signs_in_with_a_code_and_a_code_works_once(
    api: Api, deployment: Deployment
) -> None:
    email = create_operator(deployment.config)
    first = sign_in(api, email, OPERATOR_PASSWORD)
    assert first.next_step == pb.VERIFY_MFA and first.challenge.startswith("mc1.")
    assert not first.access_token and not first.refresh_token
    assert refused_as_bearer(api, first.challenge).code == UNAUTHENTICATED

    wrong = expect_error(verify, api, first.challenge, "000000")
    assert (wrong.code, wrong.reason) == (UNAUTHENTICATED, "MFA_CODE_INVALID")
    malformed = expect_error(verify, api, first.challenge, "12ab")
    assert malformed.code == grpc.StatusCode.INVALID_ARGUMENT and malformed.fields == ("code",)

    code = totp_code(deployment.config)
    signed = verify(api, first.challenge, code)
    assert signed.next_step == pb.SIGNED_IN and {"pwd", "mfa", "otp"} <= set(amr(signed))
    operator = session_of(signed)
    assert api.tenants.ListTenants(pb.ListTenantsRequest(), metadata=operator.metadata)

    # The challenge is spent; the same code, even inside its 30 seconds, is refused.
    spent = expect_error(verify, api, first.challenge, code)
    assert spent.reason == "CHALLENGE_EXPIRED"
    again = sign_in(api, email, OPERATOR_PASSWORD)
    replayed = expect_error(verify, api, again.challenge, code)
    assert (replayed.code, replayed.reason) == (UNAUTHENTICATED, "MFA_CODE_REUSED")
    # The refresh keeps the factor in the session's tokens.
    renewed = api.auth.Refresh(pb.RefreshRequest(refresh_token=signed.refresh_token))
    assert "mfa" in amr(renewed)


def test_wrong_codes_kill_the_challenge_and_are_throttled(api: Api, deployment: Deployment) -> None:
    email = create_operator(deployment.config)
    first = sign_in(api, email, OPERATOR_PASSWORD)
    reasons = [expect_error(verify, api, first.challenge, f"{n:06d}").reason for n in range(5)]
    assert reasons == ["MFA_CODE_INVALID"] * 5
    dead = expect_error(verify, api, first.challenge, totp_code(deployment.config))
    assert dead.reason == "CHALLENGE_EXPIRED"
    # A new challenge, but the person's code counter goes on: the next wrong code waits.
    second = sign_in(api, email, OPERATOR_PASSWORD)
    expect_error(verify, api, second.challenge, "999999")
    throttled = expect_error(verify, api, second.challenge, totp_code(deployment.config))
    assert (throttled.code, throttled.reason) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "SIGN_IN_THROTTLED",
    )
    assert int(throttled.metadata["retry_after_seconds"]) >= 1  # type: ignore[index]


@pytest.fixture
def strict(deployment: Deployment, api: Api, operator: Session) -> TenantWorld:
    """A tenant whose coaches must use MFA (its admin and coachee need not)."""
    team = make_tenant(deployment, api, operator)
    require_mfa_for(api, team, [pb.COACH])
    return team


def test_a_member_the_policy_obliges_enrols_from_the_limited_token(
    api: Api, strict: TenantWorld
) -> None:
    coach = api.auth.GetMe(pb.GetMeRequest(), metadata=strict.coach.metadata).person
    first = sign_in(api, coach.email, PASSWORD, strict.tenant_id)
    assert first.next_step == pb.ENROL_MFA and not first.access_token
    # The limited token reaches the enrolment methods only.
    assert refused_as_bearer(api, first.challenge).code == UNAUTHENTICATED
    assert expect_error(verify, api, first.challenge, "123456").reason == "CHALLENGE_INVALID"
    not_started = expect_error(
        api.auth.CompleteMfaEnrolment,
        pb.CompleteMfaEnrolmentRequest(challenge=first.challenge, code="123456"),
    )
    assert not_started.reason == "MFA_NOT_STARTED"

    _, done = enrol(api, first.challenge)
    assert len(done.recovery_codes) == 10 and len(set(done.recovery_codes)) == 10
    assert done.sign_in.next_step == pb.SIGNED_IN and done.sign_in.tenant_id == strict.tenant_id
    assert "mfa" in amr(done.sign_in)
    assert api.auth.GetMe(pb.GetMeRequest(), metadata=session_of(done.sign_in).metadata)

    # From now on every sign-in asks for a code; a recovery code works once.
    later = sign_in(api, coach.email, PASSWORD, strict.tenant_id)
    assert later.next_step == pb.VERIFY_MFA
    recovered = verify(api, later.challenge, done.recovery_codes[0].upper())
    assert {"mfa", "rec"} <= set(amr(recovered))
    once_more = sign_in(api, coach.email, PASSWORD, strict.tenant_id)
    reused = expect_error(verify, api, once_more.challenge, done.recovery_codes[0])
    assert reused.reason == "MFA_CODE_INVALID"
    assert verify(api, once_more.challenge, done.recovery_codes[1]).access_token

    # Enrolled already: no second authenticator over the first.
    again = expect_error(
        api.auth.StartMfaEnrolment,
        pb.StartMfaEnrolmentRequest(current_password=PASSWORD),
        metadata=session_of(recovered).metadata,
    )
    assert (again.code, again.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "MFA_ALREADY_ENROLLED",
    )


def test_a_session_without_mfa_no_longer_refreshes_into_a_tenant_that_requires_it(
    api: Api, strict: TenantWorld
) -> None:
    # The coach's session began before the policy: its next refresh is refused.
    refused = expect_error(
        api.auth.Refresh, pb.RefreshRequest(refresh_token=strict.coach.refresh_token)
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "MFA_REQUIRED")
    # Roles the policy does not name are not affected.
    coachee = api.auth.Refresh(pb.RefreshRequest(refresh_token=strict.coachee.refresh_token))
    assert coachee.access_token and amr(coachee) == ["pwd"]


def test_switching_into_a_tenant_that_requires_mfa_needs_a_session_with_it(
    api: Api, deployment: Deployment, operator: Session, acme: TenantWorld, strict: TenantWorld
) -> None:
    email = unique_email("two-tenants")
    api.members.AddMember(
        pb.AddMemberRequest(parent=tenant_name(acme.tenant_id), email=email, roles=[pb.COACH]),
        metadata=operator.metadata,
    )
    set_password(deployment.config, email, PASSWORD)
    api.members.AddMember(
        pb.AddMemberRequest(parent=tenant_name(strict.tenant_id), email=email, roles=[pb.COACH]),
        metadata=operator.metadata,
    )
    in_acme = session_of(sign_in(api, email, PASSWORD, acme.tenant_id))
    api.members.AcceptMembership(
        pb.AcceptMembershipRequest(parent=tenant_name(strict.tenant_id)),
        metadata=in_acme.metadata,
    )
    switch = pb.SwitchTenantRequest(refresh_token=in_acme.refresh_token, tenant=strict.tenant_id)
    refused = expect_error(api.auth.SwitchTenant, switch)
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "MFA_REQUIRED")
    assert api.auth.Refresh(pb.RefreshRequest(refresh_token=in_acme.refresh_token)).access_token

    # Enrolled of their own accord while in acme (no new session), then signed in with a code,
    # the new session switches in.
    fresh = session_of(sign_in(api, email, PASSWORD, acme.tenant_id))
    started = api.auth.StartMfaEnrolment(
        pb.StartMfaEnrolmentRequest(current_password=PASSWORD), metadata=fresh.metadata
    )
    _, done = enrol(api, started.challenge)
    assert not done.HasField("sign_in")
    again = sign_in(api, email, PASSWORD, acme.tenant_id)
    with_code = verify(api, again.challenge, done.recovery_codes[0])
    assert with_code.tenant_id == acme.tenant_id and "mfa" in amr(with_code)
    switched = api.auth.SwitchTenant(
        pb.SwitchTenantRequest(refresh_token=with_code.refresh_token, tenant=strict.slug)
    )
    assert switched.tenant_id == strict.tenant_id and "mfa" in amr(switched)
    # Signing in to acme now asks for the code too: an enrolled person always gives it.
    assert sign_in(api, email, PASSWORD, acme.tenant_id).next_step == pb.VERIFY_MFA


def test_bad_challenges_are_refused(api: Api) -> None:
    for challenge in ("mc1.mch_00.nope", "not-a-challenge", "rt1.rt_00.x"):
        assert expect_error(verify, api, challenge, "123456").reason == "CHALLENGE_INVALID"
        begun = expect_error(
            api.auth.BeginMfaEnrolment, pb.BeginMfaEnrolmentRequest(challenge=challenge)
        )
        assert begun.reason == "CHALLENGE_INVALID"
    empty = expect_error(verify, api, "", "123456")
    assert empty.code == grpc.StatusCode.INVALID_ARGUMENT and "challenge" in empty.fields
