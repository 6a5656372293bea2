"""The account's sensitive changes in a real browser (Debian's chromium driven by Playwright):
changing the password, the email address, and setting up an authenticator of one's own accord,
each with proof of the person (ADR 0012), errors shown beside the field, in French and English.

Every journey keeps screenshots at desktop and phone widths, runs the accessibility audit and
checks that no request left the web app's origin."""

from __future__ import annotations

from google.protobuf.field_mask_pb2 import FieldMask
from playwright.sync_api import Browser, Page

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as ipb
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.support.api import Api, Session, expect_error
from tests.support.browser import (
    browsing,
    screenshots,
    serious_violations,
)
from tests.support.mailbox import mailed_link, mails_to
from tests.support.people import totp_code
from tests.support.smtp import body
from tests.support.waiting import wait_for

NEW_PASSWORD = "Quiet-Meadow-Lantern-62"


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)


def signed_in_page(page: Page, origin: str, email: str) -> None:
    page.goto(f"{origin}/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#content button[type=submit]")
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))


def checks(page: Page, name: str, elsewhere: list[str]) -> None:
    screenshots(page, name)
    assert serious_violations(page) == []
    assert elsewhere == []


def test_a_person_changes_their_password_and_their_other_devices_are_signed_out(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    email = email_of(api, team.coachee)
    other_device = team.coachee  # signed in through the API before the browser
    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in_page(page, origin, email)
        page.click("#change-password")
        page.wait_for_url(f"{origin}/account/password")
        assert page.inner_text("h1") == "Change your password"
        page.fill("#current_password", "not my password at all")
        page.fill("#new_password", NEW_PASSWORD)
        with page.expect_response(f"{origin}/account/password") as answer:
            page.click("#content button[type=submit]")
        assert answer.value.status == 400
        # The problem is shown beside the field it is about.
        assert page.inner_text("#current_password-error") == "This is not your current password."
        assert page.get_attribute("#current_password", "aria-invalid") == "true"
        checks(page, "account-password-refused", elsewhere)
        assert api.sign_in(email, PASSWORD, team.tenant_id).person_id  # nothing changed

        page.fill("#current_password", PASSWORD)
        page.fill("#new_password", NEW_PASSWORD)
        page.click("#content button[type=submit]")
        assert "this one stays signed in" in page.inner_text("#done")
        checks(page, "account-password-changed", elsewhere)
        # This browser's session goes on; the other device's is over.
        page.goto(f"{origin}/my-space")
        assert page.url == f"{origin}/my-space"
        ended = expect_error(
            api.auth.Refresh, ipb.RefreshRequest(refresh_token=other_device.refresh_token)
        )
        assert ended.reason == "SESSION_ENDED"
    assert api.sign_in(email, NEW_PASSWORD, team.tenant_id).person_id == team.coachee.person_id


def test_a_person_asks_for_a_new_email_address_in_french(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    email = email_of(api, team.coach)
    new_email = f"moved-{team.coach.person_id}@example.test"
    api.auth.UpdateMyProfile(
        ipb.UpdateMyProfileRequest(locale="fr", update_mask=FieldMask(paths=["locale"])),
        metadata=team.coach.metadata,
    )
    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in_page(page, origin, email)  # the person's language: French
        page.goto(f"{origin}/account/email")
        assert page.inner_text("h1") == "Changer votre adresse e-mail"
        page.fill("#new_email", new_email)
        page.fill("#current_password", "wrong password here")
        page.click("#content button[type=submit]")
        assert page.inner_text("#current_password-error") == (
            "Ce n'est pas votre mot de passe actuel."
        )
        assert page.input_value("#new_email") == new_email  # kept for the next try
        checks(page, "account-email-refused-fr", elsewhere)
        page.fill("#current_password", PASSWORD)
        page.click("#content button[type=submit]")
        assert new_email in page.inner_text("#done")
        checks(page, "account-email-sent-fr", elsewhere)
    mail_folder = deployment.var_dir / "mail"
    assert mailed_link(mail_folder, new_email, "confirm-email")
    notice = wait_for(
        lambda: [m for m in mails_to(mail_folder, email) if new_email in body(m)],
        30,
        "the notice to the current address",
    )
    assert len(notice) == 1
    assert notice[0]["Subject"] == "Un changement de votre adresse e-mail ecoach a été demandé"


def test_a_person_sets_up_an_authenticator_of_their_own_accord(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    email = email_of(api, team.coachee)
    with browsing(browser, origin) as (context, page, elsewhere):
        signed_in_page(page, origin, email)
        page.click("#set-up-authenticator")
        page.wait_for_url(f"{origin}/account/authenticator")
        page.fill("#current_password", "not it")
        page.click("#content button[type=submit]")
        assert page.inner_text("#current_password-error") == "This is not your current password."
        page.fill("#current_password", PASSWORD)
        page.click("#content button[type=submit]")
        secret = page.inner_text("#secret")
        checks(page, "account-authenticator-qr", elsewhere)
        page.fill("#code", "12ab")
        page.click("#content button[type=submit]")
        assert page.is_visible("#error")
        secret = page.inner_text("#secret")  # a new secret each time the page is shown
        page.fill("#code", totp_code(deployment.config, secret))
        page.click("#content button[type=submit]")
        assert len(page.query_selector_all("#recovery-codes li")) == 10
        checks(page, "account-authenticator-codes", elsewhere)
        page.click("#continue")
        page.wait_for_url(f"{origin}/my-space")  # the same session goes on
        forged = context.request.post(
            f"{origin}/account/password",
            form={"csrf_token": "forged", "current_password": PASSWORD, "new_password": "x" * 20},
            max_redirects=0,
        )
        assert forged.status == 400
    first = api.auth.SignIn(
        ipb.SignInRequest(email=email, password=PASSWORD, tenant=team.tenant_id), timeout=30
    )
    assert first.next_step == ipb.VERIFY_MFA  # from now on, signing in asks for a code


def test_account_pages_need_a_signed_in_person(browser: Browser, origin: str) -> None:
    with browsing(browser, origin) as (_, page, _elsewhere):
        for path in ("/account/password", "/account/email", "/account/authenticator"):
            page.goto(f"{origin}{path}")
            assert page.url == f"{origin}/sign-in", path
