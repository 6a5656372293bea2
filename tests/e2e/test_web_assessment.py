"""A space's questionnaires in a real browser (issue 22): the coach assigns the wheel of life from
the space page; the coachee saves a draft, submits and reads their results; the coach reads
them too and allows a retake; three months later (the test clock) the coachee answers again
and both see the trend with two points. A submit with an answer missing shows the problem
beside its question and keeps the other answers (in French); another coach and HR get the
not-found page for the assignment's pages and forms, and nothing changes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from playwright.sync_api import Browser, Page

from ecoach_dev.deployment import Deployment
from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import assessment_pb2_grpc
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.clock import move_test_clock
from tests.support.spaces import add_person
from tests.support.waiting import wait_for
from tests.support.web import email_of, journey_checks, open_space, sign_in, status_of

WHEEL = {
    "health": 4,
    "work": 5,
    "money": 6,
    "relationships": 8,
    "family": 9,
    "friends": 4,
    "growth": 6,
    "leisure": 3,
}
THREE_MONTHS = 91 * 86400


def stub(api: Api) -> assessment_pb2_grpc.AssessmentServiceStub:
    return assessment_pb2_grpc.AssessmentServiceStub(api.channel)


def assign_when_known(assign: Callable[[], Any]) -> Any:
    """`assign` tried until it works: assessment learns of the space and its activation from
    the spaces' events, a moment after the API answered."""
    return wait_for(assign, 60, "assessment's copy of the active space")


def assigned(api: Api, team: TenantWorld, space: spb.Space, instrument_id: str) -> str:
    """The id of `instrument_id` assigned by the coach through the API (the page's assign form
    is proven by the wheel's journey below)."""

    def assign() -> apb.Assignment | None:
        try:
            return stub(api).AssignInstrument(
                apb.AssignInstrumentRequest(parent=space.name, instrument_id=instrument_id),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    return str(assign_when_known(assign).assignment_id)


def assigned_wheel(api: Api, s: sch.Stubs, team: TenantWorld) -> tuple[spb.Space, str]:
    space = open_space(s, team, team.coachee_member)
    return space, assigned(api, team, space, "wheel-of-life")


def signed_in(page: Page, origin: str, email: str) -> None:
    sign_in(page, origin, email)
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))


def fill_wheel(page: Page, values: dict[str, int]) -> None:
    for item, value in values.items():
        page.fill(f"#item-{item}", str(value))


def test_a_wheel_of_life_assigned_answered_twice_three_months_apart_with_its_trend(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    space = open_space(s, team, team.coachee_member)
    coach_email, coachee_email = email_of(api, team.coach), email_of(api, team.coachee)
    coach_space = f"{origin}/coach/spaces/{space.space_id}"

    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, coach_email)

        def assign() -> bool:
            page.goto(coach_space)
            page.select_option("#instrument_id", "wheel-of-life")
            with page.expect_navigation():  # the space page again: assigned, or refused
                page.click("#assign")
            if page.locator("#done").count():
                return True
            time.sleep(0.5)
            return False

        assign_when_known(assign)
        assert "assigned" in page.inner_text("#done")
        row = page.locator("#questionnaire-list tbody tr")
        assert row.count() == 1
        assert "Wheel of life" in row.inner_text() and "To answer" in row.inner_text()
        assignment_id = (row.get_attribute("id") or "").removeprefix("assignment-")
        assert assignment_id.startswith("asg_")
        assert elsewhere == []

    answer_url = f"{origin}/spaces/{space.space_id}/questionnaires/{assignment_id}"
    results_url = f"{coach_space}/questionnaires/{assignment_id}"
    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, coachee_email)
        page.goto(f"{origin}/spaces/{space.space_id}")
        page.click(f"#assignment-{assignment_id} a")
        assert page.url == answer_url
        assert page.inner_text("h1") == "Wheel of life"
        page.fill("#item-health", "4")
        page.click("#save-draft")
        assert "draft is saved" in page.inner_text("#done")
        page.goto(answer_url)  # the draft is kept
        assert page.input_value("#item-health") == "4"
        assert page.inner_text("#assignment-status") == "Draft saved"
        fill_wheel(page, WHEEL)
        page.click("#submit-answers")
        assert "submitted" in page.inner_text("#done")
        assert page.locator("#answers").count() == 0  # nothing left to answer
        assert page.locator("#latest-results li").count() >= len(WHEEL)
        assert page.inner_text("#result-health .score").isdigit()
        journey_checks(page, "assessment-coachee-results", elsewhere)

    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, coach_email)
        page.goto(results_url)
        assert page.locator("#latest-results li").count() >= len(WHEEL)
        assert "9" in page.inner_text("#attempt-1")  # the coachee's answers
        page.goto(coach_space)
        page.click(f"#retake-{assignment_id}")
        assert "once more" in page.inner_text("#done")
        assert "Retake allowed" in page.inner_text(f"#assignment-{assignment_id}")
        assert elsewhere == []

    clock: Path = deployment.config.test_clock_path
    try:
        move_test_clock(clock, THREE_MONTHS)
        with browsing(browser, origin) as (_, page, elsewhere):
            signed_in(page, origin, coachee_email)
            page.goto(answer_url)
            fill_wheel(page, dict(WHEEL, health=8))
            page.click("#submit-answers")
            assert "submitted" in page.inner_text("#done")
            assert page.locator("#trend-health svg circle").count() == 2
            assert page.locator("#trend-table thead th").count() == 4  # dimension, 2, change
            assert elsewhere == []
        with browsing(browser, origin) as (_, page, elsewhere):
            signed_in(page, origin, coach_email)
            page.goto(results_url)
            assert page.locator("#trend-health svg circle").count() == 2
            health = page.locator("#trend-table tbody tr").first.inner_text()
            assert "+" in health  # health went from 4 to 8
            # The latest results (from the assignment's score values and band texts), and
            # the latest attempt's answers; an earlier attempt's answers one link away.
            assert page.locator("#latest-results li").count() >= len(WHEEL)
            assert page.inner_text("#result-health .band").strip()
            assert page.locator("#attempt-2").count() == 1
            assert page.locator("#attempt-1").count() == 0
            journey_checks(page, "assessment-coach-trend", elsewhere)
            page.click("#attempt-links a")
            assert page.locator("#attempt-1").count() == 1
            assert page.locator("#attempt-2").count() == 0
            assert page.locator("#latest-results li").count() >= len(WHEEL)  # still the latest
            assert elsewhere == []
    finally:
        move_test_clock(clock, 0)


def test_a_refused_submit_shows_the_missing_answer_and_keeps_the_others(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    space, assignment_id = assigned_wheel(api, s, team)
    api.auth.UpdateMyProfile(  # a coachee whose language is French
        ipb.UpdateMyProfileRequest(locale="fr", update_mask=FieldMask(paths=["locale"])),
        metadata=team.coachee.metadata,
    )
    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, email_of(api, team.coachee))
        page.goto(f"{origin}/spaces/{space.space_id}/questionnaires/{assignment_id}")
        assert page.inner_text("h1") == "Roue de la vie"
        assert page.inner_text("#save-draft") == "Enregistrer le brouillon"
        fill_wheel(page, {k: v for k, v in WHEEL.items() if k != "leisure"})
        page.click("#submit-answers")
        assert page.inner_text("#item-leisure-error")
        assert page.get_attribute("#item-leisure", "aria-invalid") == "true"
        assert page.input_value("#item-family") == "9" and page.input_value("#item-leisure") == ""
        assert page.locator("#latest-results").count() == 0
        assert elsewhere == []
    kept = stub(api).GetAssignment(
        apb.GetAssignmentRequest(assignment_id=assignment_id), metadata=team.coachee.metadata
    )
    assert kept.status != apb.SUBMITTED


def test_another_coach_and_hr_get_the_not_found_page_for_the_assignment(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    space, assignment_id = assigned_wheel(api, s, team)
    _member, other_coach = add_person(deployment, api, team, ipb.COACH, "another-coach")
    paths = [
        f"/coach/spaces/{space.space_id}/questionnaires/{assignment_id}",
        f"/spaces/{space.space_id}/questionnaires/{assignment_id}",
    ]
    posts = [
        f"/coach/spaces/{space.space_id}/questionnaires",
        f"/coach/spaces/{space.space_id}/questionnaires/{assignment_id}/retake",
        f"/spaces/{space.space_id}/questionnaires/{assignment_id}",
    ]
    for email in (email_of(api, other_coach), email_of(api, team.admin)):
        with browsing(browser, origin) as (context, page, _elsewhere):
            signed_in(page, origin, email)
            for path in paths:
                assert status_of(page, f"{origin}{path}") == 404, (email, path)
                assert "Wheel of life" not in page.content()
            token = json.loads(page.get_attribute("body", "hx-headers") or "{}")["X-CSRF-Token"]
            for path in posts:
                posted = context.request.post(
                    f"{origin}{path}",
                    form={"csrf_token": token, "instrument_id": "values", "item-health": "5"},
                    max_redirects=0,
                )
                assert posted.status == 404, (email, path)
    unchanged = stub(api).ListAssignments(
        apb.ListAssignmentsRequest(parent=space.name), metadata=team.coach.metadata
    )
    assert [a.status for a in unchanged.assignments] == [apb.ASSIGNED]
