"""Passwords end to end: reset by an emailed link (received by a real SMTP server and followed),
change, and the policy; through the gRPC gateway as a client would.

A shared deployment, whose identity sends mail to an aiosmtpd server on localhost.
"""

from __future__ import annotations

import grpc
import pytest

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from services.identity.adapters.passwords import common_passwords
from tests.support import world_fixtures
from tests.support.api import Api, Session, expect_error, unique_email, unique_slug
from tests.support.clock import move_test_clock
from tests.support.people import set_password
from tests.support.smtp import SmtpServer, link_token

# The module deployment's clients (tests/support/world_fixtures.py).
api = world_fixtures.api
operator = world_fixtures.operator

OLD = "an old but long password 1"
NEW = "Sunflower-Harbour-4711"
RESET = "/reset-password/"
CONFIRM = "/confirm-email/"


# The worker's deployment that mails its SMTP server, shared (tests/e2e/conftest.py).
world = world_fixtures.shared


@pytest.fixture(scope="module")
def tenant(api: Api, operator: Session) -> str:
    slug = unique_slug("pwd")
    created = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name=f"Passwords {slug}", slug=slug),
        metadata=operator.metadata,
    )
    return str(created.tenant_id)


def new_member(
    world: Deployment, api: Api, operator: Session, tenant: str, locale: str = "en"
) -> str:
    email = unique_email("pwd")
    api.members.AddMember(
        pb.AddMemberRequest(
            parent=f"tenants/{tenant}",
            email=email,
            roles=[pb.COACHEE],
            display_name="Marguerite Duras",
            locale=locale,
        ),
        metadata=operator.metadata,
    )
    set_password(world.config, email, OLD)
    return email


def request_reset(api: Api, email: str) -> None:
    api.auth.RequestPasswordReset(pb.RequestPasswordResetRequest(email=email), timeout=10)


def later_reset_mailed(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    """The positive signal that identity's mail handler is past what was asked before: a reset
    asked after it, for someone else, has been mailed."""
    marker = new_member(world, api, operator, tenant)
    request_reset(api, marker)
    smtp.inbox.wait_for(marker, containing=RESET)


def reset(api: Api, token: str, password: str) -> None:
    api.auth.ResetPassword(pb.ResetPasswordRequest(token=token, new_password=password), timeout=10)


def test_a_forgotten_password_is_reset_by_the_emailed_link_once(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email = new_member(world, api, operator, tenant)
    request_reset(api, email)
    [mail] = smtp.inbox.wait_for(email, containing=RESET)
    assert mail["Subject"] == "Reset your ecoach password"
    assert f"http://{world.web_address}/reset-password/" in mail.get_body().get_content()  # type: ignore[union-attr]
    token = link_token(mail, "reset-password")
    reset(api, token, NEW)
    assert api.sign_in(email, NEW).person_id
    failed = expect_error(api.auth.SignIn, pb.SignInRequest(email=email, password=OLD))
    assert failed.code == grpc.StatusCode.UNAUTHENTICATED
    again = expect_error(reset, api, token, "Another-Long-Passphrase-99")
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "LINK_USED")
    assert api.sign_in(email, NEW).person_id  # unchanged by the refused attempt


def test_an_unknown_email_gets_the_same_answer_and_no_mail(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email = unique_email("nobody")
    request_reset(api, email)  # no error: the same answer as for an account
    later_reset_mailed(world, api, operator, tenant, smtp)
    assert smtp.inbox.to(email, RESET) == []


def test_a_new_request_replaces_the_previous_link(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email = new_member(world, api, operator, tenant)
    request_reset(api, email)
    first = link_token(smtp.inbox.wait_for(email, 1, containing=RESET)[0], "reset-password")
    request_reset(api, email)
    second = link_token(smtp.inbox.wait_for(email, 2, containing=RESET)[1], "reset-password")
    assert first != second
    replaced = expect_error(reset, api, first, NEW)
    assert replaced.reason == "LINK_REVOKED"
    reset(api, second, NEW)
    assert api.sign_in(email, NEW).person_id


def test_weak_passwords_are_refused_and_the_link_still_works(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email = new_member(world, api, operator, tenant)
    request_reset(api, email)
    token = link_token(smtp.inbox.wait_for(email, containing=RESET)[0], "reset-password")
    common = next(p for p in sorted(common_passwords()) if len(p) >= 12)
    local = email.split("@")[0]
    for weak in ("short-pass", common, f"xx-{local}-xx", "I am marguerite, 2026!"):
        error = expect_error(reset, api, token, weak)
        assert error.code == grpc.StatusCode.INVALID_ARGUMENT, weak
        assert error.fields == ("new_password",), weak
    reset(api, token, NEW)  # nothing was written by the refusals
    assert api.sign_in(email, NEW).person_id


def test_an_unknown_or_expired_link_is_refused(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    unknown = expect_error(reset, api, "A" * 43, NEW)
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "LINK_INVALID")
    email = new_member(world, api, operator, tenant)
    request_reset(api, email)
    token = link_token(smtp.inbox.wait_for(email, containing=RESET)[0], "reset-password")
    move_test_clock(world.config.test_clock_path, 2 * 3600)
    try:
        expired = expect_error(reset, api, token, NEW)
    finally:
        move_test_clock(world.config.test_clock_path, 0)
    assert expired.reason == "LINK_EXPIRED"
    assert api.sign_in(email, OLD).person_id


def test_the_mail_speaks_the_persons_language(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email = new_member(world, api, operator, tenant, locale="fr")
    request_reset(api, email)
    [mail] = smtp.inbox.wait_for(email, containing=RESET)
    assert mail["Subject"] == "Réinitialisez votre mot de passe ecoach"
    assert "Bonjour Marguerite Duras" in mail.get_body().get_content()  # type: ignore[union-attr]


def test_a_person_changes_their_password_with_the_current_one(
    world: Deployment, api: Api, operator: Session, tenant: str
) -> None:
    email = new_member(world, api, operator, tenant)
    me = api.sign_in(email, OLD)

    def change(current: str, new: str) -> None:
        api.auth.ChangePassword(
            pb.ChangePasswordRequest(current_password=current, new_password=new),
            metadata=me.metadata,
            timeout=10,
        )

    wrong = expect_error(change, "not my password at all", NEW)
    assert (wrong.code, wrong.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("current_password",))
    same = expect_error(change, OLD, OLD)
    assert same.fields == ("new_password",)
    change(OLD, NEW)
    assert api.sign_in(email, NEW).person_id
    anonymous = expect_error(
        api.auth.ChangePassword, pb.ChangePasswordRequest(current_password=NEW, new_password=OLD)
    )
    assert anonymous.code == grpc.StatusCode.UNAUTHENTICATED


# ---------------------------------------------------------------- profile and email


def test_a_person_edits_their_profile_field_by_field(
    world: Deployment, api: Api, operator: Session, tenant: str
) -> None:
    email = new_member(world, api, operator, tenant)
    me = api.sign_in(email, OLD)

    def update(paths: list[str], **fields: str) -> pb.Person:
        from google.protobuf.field_mask_pb2 import FieldMask

        return api.auth.UpdateMyProfile(
            pb.UpdateMyProfileRequest(update_mask=FieldMask(paths=paths), **fields),
            metadata=me.metadata,
            timeout=10,
        )

    person = update(["display_name", "time_zone"], display_name="M. D.", time_zone="Asia/Tokyo")
    assert (person.display_name, person.time_zone, person.locale) == ("M. D.", "Asia/Tokyo", "en")
    person = update(["locale"], locale="fr", display_name="ignored: not in the mask")
    assert (person.display_name, person.locale) == ("M. D.", "fr")
    bad = expect_error(update, ["locale", "time_zone"], locale="de", time_zone="Mars/Olympus")
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.fields in (("locale",), ("time_zone",))
    unknown = expect_error(update, ["email"], display_name="x")
    assert unknown.fields == ("update_mask",)
    after = api.auth.GetMe(pb.GetMeRequest(), metadata=me.metadata, timeout=10).person
    assert (after.display_name, after.locale, after.time_zone) == ("M. D.", "fr", "Asia/Tokyo")


def test_an_email_change_is_confirmed_from_the_new_address(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email = new_member(world, api, operator, tenant)
    me = api.sign_in(email, OLD)
    new_email = unique_email("moved")

    def request(address: str) -> None:
        api.auth.RequestEmailChange(
            pb.RequestEmailChangeRequest(new_email=address, current_password=OLD),
            metadata=me.metadata,
            timeout=10,
        )

    def confirm(token: str) -> None:
        api.auth.ConfirmEmailChange(pb.ConfirmEmailChangeRequest(token=token), timeout=10)

    same = expect_error(request, email.upper())
    assert same.fields == ("new_email",)
    request(new_email)
    [mail] = smtp.inbox.wait_for(
        new_email, containing=CONFIRM
    )  # to the new address, not the old one
    assert smtp.inbox.to(email, CONFIRM) == []
    assert mail["Subject"] == "Confirm your new ecoach email address"
    token = link_token(mail, "confirm-email")
    assert api.sign_in(email, OLD).person_id  # nothing changed yet
    confirm(token)
    assert api.sign_in(new_email, OLD).person_id == me.person_id
    old = expect_error(api.auth.SignIn, pb.SignInRequest(email=email, password=OLD))
    assert old.code == grpc.StatusCode.UNAUTHENTICATED
    used = expect_error(confirm, token)
    assert used.reason == "LINK_USED"
    wrong_kind = expect_error(reset, api, token, NEW)  # a confirm link is no reset link
    assert wrong_kind.reason == "LINK_INVALID"


def test_an_address_taken_meanwhile_is_refused_at_confirmation(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    first = new_member(world, api, operator, tenant)
    second = new_member(world, api, operator, tenant)
    me = api.sign_in(first, OLD)
    api.auth.RequestEmailChange(
        pb.RequestEmailChangeRequest(new_email=second, current_password=OLD),
        metadata=me.metadata,
        timeout=10,
    )
    token = link_token(smtp.inbox.wait_for(second, containing=CONFIRM)[0], "confirm-email")
    taken = expect_error(
        api.auth.ConfirmEmailChange, pb.ConfirmEmailChangeRequest(token=token), timeout=10
    )
    assert (taken.code, taken.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "EMAIL_TAKEN")
    assert api.sign_in(first, OLD).person_id == me.person_id


CALENDAR = "/confirm-calendar-email/"


def test_a_calendar_address_is_confirmed_from_that_address_and_cleared(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email = new_member(world, api, operator, tenant, locale="fr")
    me = api.sign_in(email, OLD)
    first, second = unique_email("agenda-a"), unique_email("agenda-b")

    def request(address: str) -> None:
        api.auth.RequestCalendarEmail(
            pb.RequestCalendarEmailRequest(calendar_email=address, current_password=OLD),
            metadata=me.metadata,
            timeout=10,
        )

    def confirm(token: str) -> pb.ConfirmEmailChangeResponse:
        return api.auth.ConfirmEmailChange(pb.ConfirmEmailChangeRequest(token=token), timeout=10)

    def mine() -> str:
        got = api.auth.GetMe(pb.GetMeRequest(), metadata=me.metadata, timeout=10)
        return str(got.person.calendar_email)

    for bad in (email.upper(), "not an address", ""):
        refused = expect_error(request, bad)
        assert (refused.code, refused.fields) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            ("calendar_email",),
        )
    request(first)
    [to_first] = smtp.inbox.wait_for(first, containing=CALENDAR)
    request(second)  # replaces the first link
    [mail] = smtp.inbox.wait_for(second, containing=CALENDAR)
    assert mail["Subject"] == "Confirmez l'adresse de votre agenda ecoach"  # her language
    assert smtp.inbox.to(email, CALENDAR) == []
    assert mine() == ""  # nothing changes until the address answers
    replaced = expect_error(confirm, link_token(to_first, "confirm-calendar-email"))
    assert replaced.reason == "LINK_REVOKED"
    token = link_token(mail, "confirm-calendar-email")
    assert expect_error(reset, api, token, NEW).reason == "LINK_INVALID"  # no reset link
    assert confirm(token).confirmed == pb.CONFIRMED_ADDRESS_CALENDAR
    assert mine() == second
    assert expect_error(confirm, token).reason == "LINK_USED"
    # Only calendar mail goes there: the account still signs in with its own address alone.
    assert api.sign_in(email, OLD).person_id == me.person_id
    stranger = expect_error(api.auth.SignIn, pb.SignInRequest(email=second, password=OLD))
    assert stranger.code == grpc.StatusCode.UNAUTHENTICATED
    again = expect_error(request, second.upper())
    assert again.fields == ("calendar_email",)

    request(first)
    [_, pending] = smtp.inbox.wait_for(first, containing=CALENDAR, count=2)
    cleared = api.auth.ClearCalendarEmail(
        pb.ClearCalendarEmailRequest(), metadata=me.metadata, timeout=10
    )
    assert (cleared.calendar_email, cleared.email) == ("", email)
    assert mine() == ""
    voided = expect_error(confirm, link_token(pending, "confirm-calendar-email"))
    assert voided.reason == "LINK_REVOKED"  # a pending link dies with the choice
    assert mine() == ""


def test_an_account_moved_to_its_calendar_address_keeps_one_address(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email = new_member(world, api, operator, tenant)
    me = api.sign_in(email, OLD)
    calendar = unique_email("agenda-then-account")
    api.auth.RequestCalendarEmail(
        pb.RequestCalendarEmailRequest(calendar_email=calendar, current_password=OLD),
        metadata=me.metadata,
        timeout=10,
    )
    [mail] = smtp.inbox.wait_for(calendar, containing=CALENDAR)
    api.auth.ConfirmEmailChange(
        pb.ConfirmEmailChangeRequest(token=link_token(mail, "confirm-calendar-email")), timeout=10
    )
    api.auth.RequestEmailChange(
        pb.RequestEmailChangeRequest(new_email=calendar, current_password=OLD),
        metadata=me.metadata,
        timeout=10,
    )
    [moved] = smtp.inbox.wait_for(calendar, containing=CONFIRM)
    answer = api.auth.ConfirmEmailChange(
        pb.ConfirmEmailChangeRequest(token=link_token(moved, "confirm-email")), timeout=10
    )
    assert answer.confirmed == pb.CONFIRMED_ADDRESS_ACCOUNT
    me = api.sign_in(calendar, OLD)
    person = api.auth.GetMe(pb.GetMeRequest(), metadata=me.metadata, timeout=10).person
    assert (person.email, person.calendar_email) == (calendar, "")


def test_confirmation_mails_are_limited_per_person_and_hour(
    world: Deployment, api: Api, operator: Session, tenant: str, smtp: SmtpServer
) -> None:
    email = new_member(world, api, operator, tenant)
    me = api.sign_in(email, OLD)

    def ask(who: Session) -> None:
        api.auth.RequestCalendarEmail(
            pb.RequestCalendarEmailRequest(
                calendar_email=unique_email("flood"), current_password=OLD
            ),
            metadata=who.metadata,
            timeout=10,
        )

    for n in range(1, 6):
        request_reset(api, email)
        smtp.inbox.wait_for(email, count=n, containing=RESET)  # each mailed before the next
        ask(me)
    flooded = expect_error(ask, me)
    assert (flooded.code, flooded.reason) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "TOO_MANY_LINKS",
    )
    assert flooded.metadata is not None
    assert 0 < int(flooded.metadata["retry_after_seconds"]) <= 3600
    request_reset(api, email)  # the same answer as ever (it tells nothing about the account)
    later_reset_mailed(world, api, operator, tenant, smtp)
    assert len(smtp.inbox.to(email, RESET)) == 5  # but no sixth mail
    move_test_clock(world.config.test_clock_path, 3601)
    try:
        ask(api.sign_in(email, OLD))  # an hour later: allowed again
        request_reset(api, email)
        smtp.inbox.wait_for(email, count=6, containing=RESET)
    finally:
        move_test_clock(world.config.test_clock_path, 0)
