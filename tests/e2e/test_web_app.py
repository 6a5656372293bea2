"""The web app in a real browser (Debian's chromium driven by Playwright), from sign-in: a
coachee reaching their space, a code or a new authenticator when asked, the choice of tenant,
signing out here and everywhere, forms without their CSRF token, someone else's space.

Every journey keeps screenshots at desktop and phone widths (var/artefacts/screenshots/), runs
the accessibility audit (no serious or critical axe-core violation) and checks that no request
left the web app's origin."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from playwright.sync_api import Browser

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.pb import spaces_pb2_grpc as spb_grpc
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.e2e.test_mfa import require_mfa_for
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import (
    browsing,
)
from tests.support.clock import clock_moved
from tests.support.people import OPERATOR_PASSWORD, create_operator, totp_code
from tests.support.spaces import add_person
from tests.support.waiting import wait_for
from tests.support.web import email_of, journey_checks, open_space, sign_in

BROWSER_ADDRESS = "198.51.100.7"  # what the proxy in front of the web app says the browser is


def test_a_coachee_signs_in_and_reads_their_space_in_their_time_zone(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    sch.set_time_zone(api, team.coachee, "Asia/Tokyo")
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = open_space(
        s,
        team,
        team.coachee_member,
        bookable=True,
        project="Lead the Lyon team",
        objectives="Delegate more <b>and</b> listen",
    )
    spb_grpc.GoalServiceStub(api.channel).CreateGoal(
        spb.CreateGoalRequest(
            parent=space.name, goal=spb.Goal(title="Speak up in meetings", progress=40)
        ),
        metadata=team.coachee.metadata,
    )
    start = sch.hour_from_now(30)
    sch.book(s, space.name, team.coachee, start, minutes=60)

    email = email_of(api, team.coachee)
    headers = {"X-Forwarded-For": BROWSER_ADDRESS}
    with browsing(browser, origin, extra_http_headers=headers) as (_, page, elsewhere):
        sign_in(page, origin, email)
        page.wait_for_url(f"{origin}/my-space")
        assert page.inner_text("h1") == "My space"
        body = page.inner_text("main")
        assert "Lead the Lyon team" in body
        assert "Delegate more <b>and</b> listen" in body  # text, never markup
        assert "Speak up in meetings" in body
        tokyo = start.astimezone(ZoneInfo("Asia/Tokyo"))
        assert tokyo.strftime("%H:%M") in body and "Japan" in body
        journey_checks(page, "coachee-my-space", elsewhere)

        page.click(f"a[href='/spaces/{space.space_id}']")
        page.wait_for_url(f"{origin}/spaces/{space.space_id}")
        assert "Speak up in meetings" in page.inner_text("main")
        journey_checks(page, "coachee-space", elsewhere)

        page.goto(f"{origin}/my-space?lang=fr")
        assert page.inner_text("h1") == "Mon espace"
        assert page.get_attribute("html", "lang") == "fr"

    # The gateway saw the browser's address (forwarded by the web app), not the web process's.
    history = api.auth.ListMySignIns(ipb.ListMySignInsRequest(), metadata=team.coachee.metadata)
    assert history.sign_ins[0].source == BROWSER_ADDRESS


def test_someone_elses_space_is_not_found(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    other_member, other = add_person(deployment, api, team, ipb.COACHEE, "other-coachee")
    theirs = open_space(s, team, other_member, project="Not yours")
    mine = open_space(s, team, team.coachee_member, project="Mine")
    for who in (team.coachee, team.coach, team.admin):  # their coach only coaches it
        with browsing(browser, origin) as (_, page, elsewhere):
            sign_in(page, origin, email_of(api, who))
            page.wait_for_url(lambda url: not url.endswith("/sign-in"))
            response = page.goto(f"{origin}/spaces/{theirs.space_id}")
            assert response is not None and response.status == 404
            assert "Not yours" not in page.content()
            assert page.goto(f"{origin}/spaces/not%20an%20id").status == 404  # type: ignore[union-attr]
            assert elsewhere == []
    with browsing(browser, origin) as (_, page, _elsewhere):
        sign_in(page, origin, email_of(api, other))
        page.wait_for_url(f"{origin}/my-space")
        assert page.goto(f"{origin}/spaces/{mine.space_id}").status == 404  # type: ignore[union-attr]
        assert page.goto(f"{origin}/spaces/{theirs.space_id}").status == 200  # type: ignore[union-attr]


def test_a_person_in_two_tenants_chooses_where_to_go(
    deployment: Deployment,
    api: Api,
    operator: Session,
    browser: Browser,
    origin: str,
) -> None:
    first = make_tenant(deployment, api, operator)
    second = make_tenant(deployment, api, operator)
    email = email_of(api, first.coach)
    api.members.AddMember(
        ipb.AddMemberRequest(parent=tenant_name(second.tenant_id), email=email, roles=[ipb.COACH]),
        metadata=second.admin.metadata,
    )
    personal = api.sign_in(email, PASSWORD)
    api.members.AcceptMembership(
        ipb.AcceptMembershipRequest(parent=tenant_name(second.tenant_id)),
        metadata=personal.metadata,
    )
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email)
        page.wait_for_url(f"{origin}/tenants")
        journey_checks(page, "tenant-choice", elsewhere)
        page.click(f"button:has-text('Tenant {second.slug}')")
        page.wait_for_url(f"{origin}/desk")
        assert f"Tenant {second.slug}" in page.inner_text("#who")
        assert "Coach" in page.inner_text("main")
        journey_checks(page, "coach-desk", elsewhere)


def test_an_operator_signs_in_with_their_authenticators_code(
    deployment: Deployment, browser: Browser, origin: str
) -> None:
    email = create_operator(deployment.config)
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email, OPERATOR_PASSWORD)
        page.wait_for_url(f"{origin}/sign-in/code")
        page.fill("#code", "000000" if totp_code(deployment.config) != "000000" else "111111")
        page.click("button[type=submit]")
        assert page.is_visible("#error")
        journey_checks(page, "operator-code", elsewhere)
        page.fill("#code", totp_code(deployment.config))
        page.click("button[type=submit]")
        page.wait_for_url(f"{origin}/desk")
        assert "Platform operator" in page.inner_text("main")


def test_a_tenants_policy_makes_a_coach_set_up_an_authenticator_at_sign_in(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    require_mfa_for(api, team, [ipb.COACH])
    email = email_of(api, team.coach)
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email)
        # The personal session may not enter this tenant: sign in to it again.
        page.wait_for_url(f"{origin}/sign-in")
        assert "second factor" in page.inner_text("#notice")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{origin}/sign-in/authenticator")
        assert page.locator(".qr svg").count() == 1
        journey_checks(page, "enrol-authenticator", elsewhere)
        secret = page.inner_text("#secret")
        page.fill("#code", totp_code(deployment.config, secret))
        page.click("button[type=submit]")
        codes = page.locator("#recovery-codes li").all_inner_texts()
        assert len(codes) == 10
        page.click("#continue")
        page.wait_for_url(f"{origin}/desk")
        assert f"Tenant {team.slug}" in page.inner_text("#who")

        # From now on the code is asked, straight after the password, for this tenant too.
        page.click("#sign-out")
        page.wait_for_url(f"{origin}/sign-in")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{origin}/sign-in/code")
        page.fill("#code", codes[0])
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: not url.endswith("/sign-in/code"))
        page.goto(f"{origin}/")
        assert f"Tenant {team.slug}" in page.inner_text("#who")


def test_signing_out_here_and_everywhere(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    email = email_of(api, team.coachee)
    with (
        browsing(browser, origin) as (_, here, _e1),
        browsing(browser, origin) as (_, there, _e2),
        browsing(browser, origin) as (_, phone, _e3),
    ):
        for page in (here, there, phone):
            sign_in(page, origin, email)
            page.wait_for_url(f"{origin}/my-space")
        here.click("#sign-out")
        here.wait_for_url(f"{origin}/sign-in")
        here.goto(f"{origin}/my-space")
        assert here.url == f"{origin}/sign-in"
        there.goto(f"{origin}/my-space")
        assert there.url == f"{origin}/my-space"  # the other devices stay signed in

        there.click("#sign-out-everywhere")
        assert "signed out on every device" in there.inner_text("#done")

        def phone_signed_out() -> bool:
            phone.goto(f"{origin}/my-space")
            return phone.url == f"{origin}/sign-in"

        wait_for(phone_signed_out, 15, "the phone's session to end")


def test_an_expired_access_token_is_refreshed_without_the_person_noticing(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    with browsing(browser, origin) as (context, page, _elsewhere):
        sign_in(page, origin, email_of(api, team.coachee))
        page.wait_for_url(f"{origin}/my-space")
        before = [c["value"] for c in context.cookies() if c["name"] == "ecoach_session"]
        with clock_moved(deployment.config.test_clock_path, 11 * 60):  # past the access token
            page.goto(f"{origin}/my-space")
            assert page.url == f"{origin}/my-space" and page.inner_text("h1") == "My space"
        after = [c["value"] for c in context.cookies() if c["name"] == "ecoach_session"]
        assert after != before  # new tokens in the cookie


def test_a_form_without_its_csrf_token_is_refused(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    email = email_of(api, team.coachee)
    with browsing(browser, origin) as (context, page, _elsewhere):
        sign_in(page, origin, email)
        page.wait_for_url(f"{origin}/my-space")
        forged = context.request.post(
            f"{origin}/sign-out-everywhere", form={"csrf_token": "forged"}, max_redirects=0
        )
        assert forged.status == 400
        bare = context.request.post(f"{origin}/sign-out", form={}, max_redirects=0)
        assert bare.status == 400
        page.goto(f"{origin}/my-space")
        assert page.url == f"{origin}/my-space"  # still signed in: nothing was done
        # Another site's form posting the person's credentials in is refused too.
        with browsing(browser, origin) as (_, stranger, _e):
            answer = stranger.request.post(
                f"{origin}/sign-in", form={"email": email, "password": PASSWORD}, max_redirects=0
            )
            assert answer.status == 400


def test_the_public_url_and_the_invitation_lead_to_sign_in(
    deployment: Deployment, browser: Browser, origin: str
) -> None:
    with browsing(browser, origin) as (_, page, elsewhere):
        response = page.goto(f"{origin}/")
        assert response is not None and response.status == 200 and page.url.endswith("/sign-in")
        assert page.inner_text("h1") == "Sign in"
        journey_checks(page, "sign-in", elsewhere)
        page.goto(f"{origin}/invite/some-token-0123456789")
        page.click("#to-sign-in")
        page.wait_for_url(f"{origin}/sign-in")
