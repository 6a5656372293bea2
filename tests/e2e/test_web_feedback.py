"""360 feedback in a real browser (issue 22, step 4), on the shared deployment whose assessment
mails a real SMTP server: the coach has assigned the values questionnaire (a ranking, Likert
items and free text; through the API, the assign form is test_web_assessment.py's); the coachee
answers it, then, on its page, invites 2 peers and 3 direct reports (a bad address and too many
people are refused beside the form, and nothing is sent). Each rater opens the mailed link
(twice: the form both times), answers in the browser (one in French); a link used already shows
the no-longer-valid page and changes nothing. The coachee and the coach see the direct reports as
a group, with their written answers; the 2 peers are merged into "others", itself too small to
be shown, so they are counted as hidden and their words appear nowhere. Another coach and HR get
the not-found page for the questionnaire pages that show the feedback and for the invite form,
and nothing changes."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page

from ecoach_dev.deployment import Deployment
from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import assessment_pb2_grpc
from gateway.api.pb import identity_pb2 as ipb
from tests.e2e.conftest import make_tenant
from tests.e2e.test_web_assessment import assigned, signed_in
from tests.support import scheduling as sch
from tests.support import world_fixtures
from tests.support.api import Api, Session, unique_email
from tests.support.browser import browsing
from tests.support.smtp import SmtpServer, link_token
from tests.support.spaces import add_person
from tests.support.web import email_of, journey_checks, open_space, status_of

api = world_fixtures.api
operator = world_fixtures.operator
s = world_fixtures.s

RANKING = (
    "autonomy",
    "security",
    "recognition",
    "relationships",
    "learning",
    "contribution",
    "achievement",
    "creativity",
)
LIKERT = ("lived_first", "lived_choices", "lived_conflict", "lived_say")


# The worker's deployment that mails its SMTP server, shared (tests/e2e/conftest.py).
world = world_fixtures.shared


@pytest.fixture(scope="module")
def origin(world: Deployment) -> str:
    return f"http://{world.web_address}"


def fill_values(page: Page, agreement: int, story: str) -> None:
    """The values questionnaire: the ranking in its order, each Likert item, the free text."""
    for rank, key in enumerate(RANKING, start=1):
        page.fill(f"#item-ranking-{key}", str(rank))
    for item in LIKERT:
        page.check(f"#item-{item}-{agreement}")
    page.fill("#item-value_story", story)


def invite(page: Page, addresses: list[str], group: str) -> None:
    page.fill("#rater_emails", "\n".join(addresses))
    page.select_option("#rater_group", group)
    with page.expect_navigation():
        page.click("#invite-raters")


def counts(page: Page) -> tuple[str, str, str]:
    return (
        page.inner_text("#raters-invited"),
        page.inner_text("#raters-answered"),
        page.inner_text("#raters-expired"),
    )


def rater_counts(api: Api, assignment_id: str, who: Session) -> apb.RaterCounts:
    stub = assessment_pb2_grpc.AssessmentServiceStub(api.channel)
    return stub.GetFeedback(
        apb.GetFeedbackRequest(assignment_id=assignment_id), metadata=who.metadata
    ).raters


def test_a_360_in_the_browser_with_two_peers_merged_and_three_direct_reports_shown(
    world: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
    smtp: SmtpServer,
) -> None:
    team = make_tenant(world, api, operator)
    space = open_space(s, team, team.coachee_member)
    coach_email, coachee_email = email_of(api, team.coach), email_of(api, team.coachee)
    coach_space = f"{origin}/coach/spaces/{space.space_id}"

    # Assigned through the API: the space page's assign form is test_web_assessment.py's.
    assignment_id = assigned(api, team, space, "values")

    answer_url = f"{origin}/spaces/{space.space_id}/questionnaires/{assignment_id}"
    results_url = f"{coach_space}/questionnaires/{assignment_id}"
    invite_path = f"/spaces/{space.space_id}/questionnaires/{assignment_id}/raters"
    peers = [unique_email("peer") for _ in range(2)]
    reports = [unique_email("report") for _ in range(3)]

    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, coachee_email)
        page.goto(answer_url)
        fill_values(page, 4, "The day I said no to a deadline")
        page.click("#submit-answers")
        assert "submitted" in page.inner_text("#done")
        assert counts(page) == ("0", "0", "0")
        assert page.locator("#no-feedback").count() == 1

        # Refused: a bad address (named beside the field, what was typed kept), too many people.
        invite(page, [peers[0], "not-an-address"], "peer")
        assert "not-an-address" in page.inner_text("#rater_emails-error")
        assert page.get_attribute("#rater_emails", "aria-invalid") == "true"
        assert page.input_value("#rater_emails") == f"{peers[0]}\nnot-an-address"
        assert page.input_value("#rater_group") == "peer"
        invite(page, [unique_email("crowd") for _ in range(31)], "other")
        assert "30" in page.inner_text("#rater_emails-error")
        invite(page, peers, "")  # no relationship chosen
        assert page.inner_text("#rater_group-error")
        assert page.input_value("#rater_emails") == "\n".join(peers)
        assert counts(page) == ("0", "0", "0")

        invite(page, peers, "peer")
        assert "invitations are on their way" in page.inner_text("#done")
        assert counts(page) == ("2", "0", "0")
        invite(page, reports, "direct_report")
        assert counts(page) == ("5", "0", "0")
        # Past the 30 an assessment may ask: said on the form, nothing sent.
        invite(page, [unique_email("crowd") for _ in range(26)], "other")
        assert "30" in page.inner_text("#error")
        assert counts(page) == ("5", "0", "0")
        assert elsewhere == []

    links = {}
    for address in peers + reports:
        [mail] = smtp.inbox.wait_for(address, containing="/feedback/")
        links[address] = f"{origin}/feedback/{link_token(mail, 'feedback')}"

    raters = [(a, f"peer {i} thinks you listen", 2) for i, a in enumerate(peers)] + [
        (a, f"report {i} values your trust", 5) for i, a in enumerate(reports)
    ]
    for n, (address, story, agreement) in enumerate(raters):
        french = n == len(raters) - 1
        with browsing(browser, origin, locale="fr-FR" if french else "en-GB") as (
            context,
            page,
            elsewhere,
        ):
            # Opened twice: the questionnaire both times (a GET never uses the link up). The
            # reopening and the other tab are checked on the first rater and the French one.
            checked = n in (0, len(raters) - 1)
            for _ in range(2 if checked else 1):
                assert status_of(page, links[address]) == 200
                assert page.locator("#send-answers").count() == 1
            assert page.inner_text("h1") == ("Valeurs" if french else "Values")
            if french:
                assert page.inner_text("#send-answers") == "Envoyer mes réponses"
            if n == 1:
                journey_checks(page, "feedback-rater-form", elsewhere)
            stale = context.new_page() if checked else None  # the same link in another tab
            if stale is not None:
                stale.goto(links[address])
            if n == 0:  # an answer missing: shown beside its item, the rest kept
                for rank, key in enumerate(RANKING, start=1):
                    page.fill(f"#item-ranking-{key}", str(rank))
                for item in LIKERT[1:]:
                    page.check(f"#item-{item}-{agreement}")
                page.fill("#item-value_story", story)
                page.click("#send-answers")
                assert page.inner_text("#item-lived_first-error")
                assert page.get_attribute("#question-lived_first fieldset", "aria-invalid")
                assert page.input_value("#item-value_story") == story
                assert page.input_value("#item-ranking-security") == "2"
                assert page.is_checked(f"#item-lived_say-{agreement}")
            fill_values(page, agreement, story)
            page.click("#send-answers")
            assert page.locator("#done").count() == 1, page.content()
            if n == len(raters) - 2:
                journey_checks(page, "feedback-rater-thanks", elsewhere)
            # The link used: a new visit gets the not-found page, and so do the other tab's
            # answers, sent later.
            assert status_of(page, links[address]) == 404
            if stale is not None:
                fill_values(stale, 1, "a second opinion")
                stale.click("#send-answers")
                gone = "Ce lien n'est plus valable" if french else "This link is no longer valid"
                assert stale.inner_text("h1") == gone
                assert stale.locator("#send-answers").count() == 0
            assert page.locator("#send-answers").count() == 0
            assert story not in page.content()
            assert elsewhere == []
    assert rater_counts(api, assignment_id, team.coachee).answered == 5

    for email, url in ((coachee_email, answer_url), (coach_email, results_url)):
        with browsing(browser, origin) as (_, page, elsewhere):
            signed_in(page, origin, email)
            page.goto(url)
            assert counts(page) == ("0", "5", "0")
            heads = page.locator("#feedback-results thead th").all_inner_texts()
            assert heads[0] == "Dimension"
            assert heads[1] == "Self-assessment"
            assert heads[2].startswith("Direct reports") and "3 answers" in heads[2]
            assert len(heads) == 3  # the peers: merged into others, itself under 3
            assert page.locator("#feedback-group-others").count() == 0
            assert "2 answers are not shown" in page.inner_text("#feedback-hidden")
            written = page.inner_text("#feedback-comments-direct_report")
            assert all(f"report {i} values your trust" in written for i in range(3))
            assert "a second opinion" not in page.content()
            html = page.content()
            assert "peer 0" not in html and "peer 1" not in html
            assert not any(a in html for a in peers + reports)  # no address, no name
            if email == coachee_email:
                journey_checks(page, "feedback-coachee-results", elsewhere)
            else:
                assert page.locator("#invite-form").count() == 0  # the coach invites no one
                assert elsewhere == []

    # Another coach and HR: the not-found page for the pages and the invite form.
    _member, other_coach = add_person(world, api, team, ipb.COACH, "another-coach")
    for email in (email_of(api, other_coach), email_of(api, team.admin)):
        with browsing(browser, origin) as (context, page, _elsewhere):
            signed_in(page, origin, email)
            for url in (answer_url, results_url):
                assert status_of(page, url) == 404, (email, url)
                assert "Values" not in page.content() and "trust" not in page.content()
            token = json.loads(page.get_attribute("body", "hx-headers") or "{}")["X-CSRF-Token"]
            posted = context.request.post(
                f"{origin}{invite_path}",
                form={
                    "csrf_token": token,
                    "rater_emails": unique_email("intruder"),
                    "rater_group": "peer",
                },
                max_redirects=0,
            )
            assert posted.status == 404, email
    after = rater_counts(api, assignment_id, team.coachee)
    assert (after.invited, after.answered, after.expired) == (0, 5, 0)
