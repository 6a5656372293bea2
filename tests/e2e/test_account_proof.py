"""Sensitive account changes need proof of the person, not just a token (issue 19, item 2):
adding a factor, changing the password, the email or the calendar address take the current
password, and a code when the person has an authenticator; a self-started enrolment keeps the
session; an email change tells the old address and, like a password change, ends the other
sessions; operators reset someone's authenticator. Through the gRPC gateway, with a shared deployment
whose identity mails a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from services.identity.domain.mfa import DRIFT_STEPS, STEP_SECONDS, current_code
from services.kernel.clock import clock_for
from tests.support import world_fixtures
from tests.support.api import (
    Api,
    ErrorDetails,
    Session,
    error_details,
    expect_error,
    unique_email,
    unique_slug,
)
from tests.support.people import set_password, totp_code
from tests.support.smtp import SmtpServer, body, link_token
from tests.support.waiting import wait_for

api = world_fixtures.api
operator = world_fixtures.operator

PASSWORD = "a long enough password 31"
NEW_PASSWORD = "Lighthouse-Orchard-8842"
INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED


# The worker's deployment that mails its SMTP server, shared (tests/e2e/conftest.py).
world = world_fixtures.shared


@pytest.fixture(scope="module")
def tenant(api: Api, operator: Session) -> str:
    slug = unique_slug("proof")
    created = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name=f"Proof {slug}", slug=slug),
        metadata=operator.metadata,
    )
    return str(created.tenant_id)


def member(
    world: Deployment,
    api: Api,
    operator: Session,
    tenant: str,
    role: pb.Role.ValueType = pb.COACHEE,
    locale: str = "en",
) -> tuple[str, Session]:
    email = unique_email("proof")
    api.members.AddMember(
        pb.AddMemberRequest(parent=f"tenants/{tenant}", email=email, roles=[role], locale=locale),
        metadata=operator.metadata,
    )
    set_password(world.config, email, PASSWORD)
    return email, api.sign_in(email, PASSWORD, tenant)


def first_step(api: Api, email: str, password: str, tenant: str = "") -> int:
    """What signing in with the password leads to (SIGNED_IN, VERIFY_MFA, ENROL_MFA)."""
    reply = api.auth.SignIn(
        pb.SignInRequest(email=email, password=password, tenant=tenant), timeout=30
    )
    return int(reply.next_step)


def wrong_code(world: Deployment, secret: str) -> str:
    """Six digits that are none of the codes accepted now (current step and its neighbours)."""
    now = clock_for(world.config.env, world.config.test_clock_path).now()
    near = {
        current_code(secret, now + timedelta(seconds=STEP_SECONDS * d))
        for d in range(-DRIFT_STEPS - 1, DRIFT_STEPS + 2)
    }
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)


def enrol_self(world: Deployment, api: Api, who: Session) -> tuple[str, list[str]]:
    """`who` enrols an authenticator of their own accord: (its secret, the recovery codes)."""
    started = api.auth.StartMfaEnrolment(
        pb.StartMfaEnrolmentRequest(current_password=PASSWORD), metadata=who.metadata, timeout=30
    )
    setup = api.auth.BeginMfaEnrolment(pb.BeginMfaEnrolmentRequest(challenge=started.challenge))
    done = api.auth.CompleteMfaEnrolment(
        pb.CompleteMfaEnrolmentRequest(
            challenge=started.challenge, code=totp_code(world.config, setup.secret)
        )
    )
    assert not done.HasField("sign_in"), "a self-started enrolment mints no session"
    return setup.secret, list(done.recovery_codes)


def refused_token(api: Api, who: Session) -> ErrorDetails:
    """Waits until the gateway refuses `who`'s access token (the revocation's broadcast)."""

    def refused() -> ErrorDetails | None:
        try:
            api.auth.GetMe(pb.GetMeRequest(), metadata=who.metadata, timeout=10)
        except grpc.RpcError as exc:
            return error_details(exc)
        return None

    found: ErrorDetails = wait_for(refused, 10, "the access token to be refused")
    return found


# ---------------------------------------------------------------- proof of the person


def test_a_token_without_the_password_cannot_add_a_factor_or_move_where_links_go(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email, thief = member(world, api, operator, tenant)
    elsewhere, calendar = unique_email("thief"), unique_email("thief-agenda")
    attempts = {
        "StartMfaEnrolment": lambda pw: api.auth.StartMfaEnrolment(
            pb.StartMfaEnrolmentRequest(current_password=pw), metadata=thief.metadata
        ),
        "RequestEmailChange": lambda pw: api.auth.RequestEmailChange(
            pb.RequestEmailChangeRequest(new_email=elsewhere, current_password=pw),
            metadata=thief.metadata,
        ),
        "RequestCalendarEmail": lambda pw: api.auth.RequestCalendarEmail(
            pb.RequestCalendarEmailRequest(calendar_email=calendar, current_password=pw),
            metadata=thief.metadata,
        ),
        "ChangePassword": lambda pw: api.auth.ChangePassword(
            pb.ChangePasswordRequest(current_password=pw, new_password=NEW_PASSWORD),
            metadata=thief.metadata,
        ),
    }
    for name, attempt in attempts.items():
        for given in ("", "a guess at the password"):
            refused = expect_error(attempt, given)
            assert (refused.code, refused.fields) == (INVALID, ("current_password",)), name
    # Nothing changed: the password still signs in, and the only mail the new addresses get
    # is the one asked for with the password, after the refusals.
    assert api.sign_in(email, PASSWORD, tenant).person_id == thief.person_id
    attempts["RequestEmailChange"](PASSWORD)
    attempts["RequestCalendarEmail"](PASSWORD)
    smtp.inbox.wait_for(elsewhere, containing="/confirm-email/")
    smtp.inbox.wait_for(calendar, containing="/confirm-calendar-email/")
    assert len(smtp.inbox.to(elsewhere)) == 1 and len(smtp.inbox.to(calendar)) == 1
    assert attempts["StartMfaEnrolment"](PASSWORD).challenge.startswith("mc1.")


def test_an_enrolled_person_also_gives_a_code_and_a_wrong_one_is_refused(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email, me = member(world, api, operator, tenant)
    secret, recovery = enrol_self(world, api, me)

    def change(code: str, new: str = NEW_PASSWORD) -> None:
        api.auth.ChangePassword(
            pb.ChangePasswordRequest(current_password=PASSWORD, new_password=new, mfa_code=code),
            metadata=me.metadata,
            timeout=30,
        )

    missing = expect_error(change, "")
    assert (missing.code, missing.fields) == (INVALID, ("mfa_code",))
    wrong = expect_error(change, wrong_code(world, secret))
    assert (wrong.code, wrong.fields) == (INVALID, ("mfa_code",))
    malformed = expect_error(change, "12ab")
    assert malformed.fields == ("mfa_code",)
    moved = unique_email("moved")
    no_code = expect_error(
        api.auth.RequestEmailChange,
        pb.RequestEmailChangeRequest(new_email=moved, current_password=PASSWORD),
        metadata=me.metadata,
    )
    assert no_code.fields == ("mfa_code",)
    assert first_step(api, email, PASSWORD) == pb.VERIFY_MFA  # unchanged so far

    change(recovery[0])  # a recovery code is proof too, and is spent
    assert first_step(api, email, NEW_PASSWORD) == pb.VERIFY_MFA
    spent = expect_error(change, recovery[0], PASSWORD + " again")
    assert spent.fields == ("current_password",)  # the password changed: the old one is wrong
    # The session the enrolment and the change were made in is still the person's only one.
    ended = api.auth.SignOutEverywhere(pb.SignOutEverywhereRequest(), metadata=me.metadata)
    assert ended.sessions_ended == 1


def test_wrong_codes_given_as_proof_are_throttled_like_sign_in_codes(
    world: Deployment, api: Api, operator: Session, tenant: str
) -> None:
    _, me = member(world, api, operator, tenant)
    secret, _ = enrol_self(world, api, me)
    bad = wrong_code(world, secret)
    request = pb.RequestCalendarEmailRequest(
        calendar_email=unique_email("agenda"), current_password=PASSWORD, mfa_code=bad
    )
    refusals = []
    for _ in range(12):  # past the free ones, each wrong code doubles the wait
        refused = expect_error(api.auth.RequestCalendarEmail, request, metadata=me.metadata)
        refusals.append(refused)
        if refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            break
    assert all(r.fields == ("mfa_code",) for r in refusals[:6])
    assert refusals[-1].reason == "SIGN_IN_THROTTLED"
    assert int(refusals[-1].metadata["retry_after_seconds"]) >= 1  # type: ignore[index]


def test_a_self_started_enrolment_keeps_the_session_and_the_forced_one_starts_one(
    world: Deployment, api: Api, operator: Session, tenant: str
) -> None:
    email, me = member(world, api, operator, tenant)
    enrol_self(world, api, me)
    # The session goes on and is the person's only one (none was minted beside it).
    assert api.auth.GetMe(pb.GetMeRequest(), metadata=me.metadata).person.person_id
    ended = api.auth.SignOutEverywhere(pb.SignOutEverywhereRequest(), metadata=me.metadata)
    assert ended.sessions_ended == 1
    # Whereas the enrolment a sign-in demands ends in a new session (test_mfa.py); from now
    # on, signing in asks for a code.
    assert first_step(api, email, PASSWORD, tenant) == pb.VERIFY_MFA


# ---------------------------------------------------------------- email change


def test_an_email_change_tells_the_old_address_and_ends_the_other_sessions(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email, asking = member(world, api, operator, tenant, locale="fr")
    other = api.sign_in(email, PASSWORD, tenant)
    new_email = unique_email("moved")
    api.auth.RequestEmailChange(
        pb.RequestEmailChangeRequest(new_email=new_email, current_password=PASSWORD),
        metadata=asking.metadata,
        timeout=30,
    )
    [notice] = smtp.inbox.wait_for(email, containing=new_email)
    assert notice["Subject"] == "Un changement de votre adresse e-mail ecoach a été demandé"
    assert "/confirm-email/" not in body(notice)  # the link goes to the new address only
    [mail] = smtp.inbox.wait_for(new_email, containing="/confirm-email/")
    api.auth.ConfirmEmailChange(
        pb.ConfirmEmailChangeRequest(token=link_token(mail, "confirm-email")), timeout=10
    )
    refused = refused_token(api, other)
    assert refused.reason == "TOKEN_REVOKED", refused  # the message tells which check refused
    ended = expect_error(api.auth.Refresh, pb.RefreshRequest(refresh_token=other.refresh_token))
    assert ended.reason == "SESSION_ENDED"
    # The session that asked goes on.
    me = api.auth.GetMe(pb.GetMeRequest(), metadata=asking.metadata, timeout=10).person
    assert me.email == new_email
    assert api.auth.Refresh(pb.RefreshRequest(refresh_token=asking.refresh_token)).access_token


def test_a_password_change_voids_a_pending_email_change(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email, me = member(world, api, operator, tenant)
    thief_address = unique_email("thief")
    api.auth.RequestEmailChange(
        pb.RequestEmailChangeRequest(new_email=thief_address, current_password=PASSWORD),
        metadata=me.metadata,
        timeout=30,
    )
    [mail] = smtp.inbox.wait_for(thief_address, containing="/confirm-email/")
    api.auth.ChangePassword(
        pb.ChangePasswordRequest(current_password=PASSWORD, new_password=NEW_PASSWORD),
        metadata=me.metadata,
        timeout=30,
    )
    void = expect_error(
        api.auth.ConfirmEmailChange,
        pb.ConfirmEmailChangeRequest(token=link_token(mail, "confirm-email")),
    )
    assert void.reason == "LINK_REVOKED"
    assert api.sign_in(email, NEW_PASSWORD).person_id == me.person_id


# ---------------------------------------------------------------- operators reset MFA


def test_an_operator_resets_someones_authenticator_and_no_one_else_may(
    world: Deployment, api: Api, operator: Session, tenant: str
) -> None:
    email, person = member(world, api, operator, tenant)
    enrol_self(world, api, person)
    _, admin = member(world, api, operator, tenant, role=pb.TENANT_ADMIN)
    _, coach = member(world, api, operator, tenant, role=pb.COACH)

    def reset(who: Session, **target: str) -> pb.ResetPersonMfaResponse:
        return api.recovery.ResetPersonMfa(
            pb.ResetPersonMfaRequest(**target), metadata=who.metadata, timeout=10
        )

    for caller in (person, admin, coach):
        refused = expect_error(reset, caller, person_id=person.person_id)
        assert (refused.code, refused.reason) == (DENIED, "OPERATOR_ONLY")
    own = expect_error(reset, operator, person_id=operator.person_id)
    assert (own.code, own.reason) == (DENIED, "OWN_ACCOUNT")
    unknown = expect_error(reset, operator, person_id="per_00000000")
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "PERSON_NOT_FOUND")
    both = expect_error(reset, operator, person_id=person.person_id, email=email)
    assert both.code == INVALID
    assert first_step(api, email, PASSWORD, tenant) == pb.VERIFY_MFA  # still enrolled

    done = reset(operator, email=email.upper())
    assert done.person_id == person.person_id and done.sessions_ended >= 1
    refused = refused_token(api, person)
    assert refused.reason == "TOKEN_REVOKED", refused  # the message tells which check refused
    again = expect_error(reset, operator, person_id=person.person_id)
    assert again.reason == "MFA_NOT_ENROLLED"
    events = api.audit.ListSecurityEvents(
        pb.ListSecurityEventsRequest(page_size=200), metadata=operator.metadata
    ).events
    [audited] = [e for e in events if e.action == "mfa.reset" and e.subject == person.person_id]
    assert audited.actor_id == operator.person_id

    # The next sign-in enrols a new authenticator (the coachee's tenant requires no MFA).
    first = api.auth.SignIn(pb.SignInRequest(email=email, password=PASSWORD, tenant=tenant))
    assert first.next_step == pb.ENROL_MFA and not first.access_token
    setup = api.auth.BeginMfaEnrolment(pb.BeginMfaEnrolmentRequest(challenge=first.challenge))
    enrolled = api.auth.CompleteMfaEnrolment(
        pb.CompleteMfaEnrolmentRequest(
            challenge=first.challenge, code=totp_code(world.config, setup.secret)
        )
    )
    assert enrolled.sign_in.access_token and enrolled.sign_in.tenant_id == tenant
