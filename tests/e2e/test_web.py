"""The web gateway's pages in a real browser (Debian's chromium driven by Playwright): the
links people receive by email, followed as they would follow them."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from playwright.sync_api import Browser, Page

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as pb
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support.api import Api, Session, expect_error, unique_email
from tests.support.mailbox import mailed_link
from tests.support.people import set_password

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STRONG = "Quiet-Harbour-Lantern-58"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def world(deployment: Deployment, api: Api, operator: Session) -> TenantWorld:
    return make_tenant(deployment, api, operator)


def mailbox(deployment: Deployment) -> object:
    return deployment.var_dir / "mail"


def invite(api: Api, world: TenantWorld, **profile: str) -> str:
    email = unique_email("web")
    api.members.AddMember(
        pb.AddMemberRequest(
            parent=tenant_name(world.tenant_id), email=email, roles=[pb.COACHEE], **profile
        ),
        metadata=world.admin.metadata,
    )
    return email


def fill_passwords(page: Page, first: str, second: str | None = None) -> None:
    page.fill("#password", first)
    page.fill("#password_again", second if second is not None else first)
    page.click("button[type=submit]")


def test_a_new_person_accepts_an_invitation_in_the_browser(
    deployment: Deployment, api: Api, world: TenantWorld, page: Page
) -> None:
    email = invite(api, world, display_name="Web Newcomer")
    link = mailed_link(deployment.var_dir / "mail", email, "invite")
    response = page.goto(link)
    assert response is not None and response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in response.headers["cache-control"]
    assert page.inner_text("h1") == "Join your organisation on ecoach"
    page.goto(link)  # opening the link again (as a mail scanner would) uses nothing up
    fill_passwords(page, STRONG, "a different one entirely")
    assert "differ" in page.inner_text("#error")
    fill_passwords(page, "web newcomer 2026")  # contains the name
    assert "must not contain your name" in page.inner_text("#error")
    fill_passwords(page, STRONG)
    assert email in page.inner_text("#done")
    assert api.sign_in(email, STRONG, world.tenant_id).tenant_id == world.tenant_id
    page.goto(link)
    fill_passwords(page, STRONG)
    assert "already been used" in page.inner_text("#error")


def test_the_pages_speak_french_to_a_french_browser(
    deployment: Deployment, api: Api, world: TenantWorld, browser: Browser
) -> None:
    email = invite(api, world)
    link = mailed_link(deployment.var_dir / "mail", email, "invite")
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(link)
        assert page.inner_text("h1") == "Rejoignez votre organisation sur ecoach"
        assert page.get_attribute("html", "lang") == "fr"
        fill_passwords(page, "court")
        assert page.is_visible("#error")
    finally:
        context.close()


def test_a_password_is_reset_from_the_emailed_link(
    deployment: Deployment, api: Api, world: TenantWorld, page: Page
) -> None:
    email = invite(api, world)
    set_password(deployment.config, email, PASSWORD)
    api.auth.RequestPasswordReset(pb.RequestPasswordResetRequest(email=email))
    link = mailed_link(deployment.var_dir / "mail", email, "reset-password")
    page.goto(link)
    assert page.inner_text("h1") == "Choose a new password"
    fill_passwords(page, STRONG)
    assert "password has been changed" in page.inner_text("#done")
    assert api.sign_in(email, STRONG).person_id
    failed = expect_error(api.auth.SignIn, pb.SignInRequest(email=email, password=PASSWORD))
    assert failed.code == grpc.StatusCode.UNAUTHENTICATED


def test_a_new_email_address_is_confirmed_with_one_click(
    deployment: Deployment, api: Api, world: TenantWorld, page: Page
) -> None:
    email = invite(api, world)
    set_password(deployment.config, email, PASSWORD)
    me = api.sign_in(email, PASSWORD)
    new_email = unique_email("web-moved")
    api.auth.RequestEmailChange(
        pb.RequestEmailChangeRequest(new_email=new_email, current_password=PASSWORD),
        metadata=me.metadata,
    )
    link = mailed_link(deployment.var_dir / "mail", new_email, "confirm-email")
    page.goto(link)
    assert api.sign_in(email, PASSWORD).person_id  # a GET changes nothing
    page.click("button[type=submit]")
    assert "email address has been changed" in page.inner_text("#done")
    assert api.sign_in(new_email, PASSWORD).person_id == me.person_id


def test_a_calendar_address_is_confirmed_with_one_click(
    deployment: Deployment, api: Api, world: TenantWorld, page: Page
) -> None:
    email = invite(api, world)
    set_password(deployment.config, email, PASSWORD)
    me = api.sign_in(email, PASSWORD)
    calendar = unique_email("web-calendar")
    api.auth.RequestCalendarEmail(
        pb.RequestCalendarEmailRequest(calendar_email=calendar, current_password=PASSWORD),
        metadata=me.metadata,
    )
    link = mailed_link(deployment.var_dir / "mail", calendar, "confirm-calendar-email")
    page.goto(link)
    assert page.inner_text("h1") == "Confirm the address for your calendar"
    assert my_calendar_email(api, me) == ""  # a GET changes nothing
    page.click("button[type=submit]")
    assert "now go to this address" in page.inner_text("#done")
    assert my_calendar_email(api, me) == calendar
    assert api.sign_in(email, PASSWORD).person_id == me.person_id  # the account is unchanged


def my_calendar_email(api: Api, me: Session) -> str:
    return str(api.auth.GetMe(pb.GetMeRequest(), metadata=me.metadata).person.calendar_email)


def test_a_malformed_link_is_not_found(deployment: Deployment, page: Page) -> None:
    response = page.goto(f"http://{deployment.web_address}/invite/not%20a%20token")
    assert response is not None and response.status == 404
    assert page.inner_text("h1") == "This page does not exist."
