"""The resource library and recommendations in a real browser (issue 23): an operator adds a
resource to the global library, a tenant admin one to the organisation's, a coach one of their
own (a bad address first: the problem shows beside the field, what was typed stays); the coach
searches (a word's start, accents ignored: "ecoute" finds "Écoute"; a level filter) and
recommends a resource into an active space with a note; the coachee reads it with the note and
the link (opened apart, no referrer), marks it read and helpful; the coach sees the marks.
Another coach and HR get the not-found page for the space's pages and forms and for the coach's
own resource, and nothing changes; the coach deletes it, and the coachee keeps what they were
recommended."""

from __future__ import annotations

import json
import secrets
import time

import grpc
from playwright.sync_api import Browser, Page

from ecoach_dev.deployment import Deployment
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import content_pb2_grpc
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.people import OPERATOR_PASSWORD, create_operator, totp_code
from tests.support.spaces import add_person
from tests.support.waiting import wait_for
from tests.support.web import email_of, journey_checks, open_space, sign_in, status_of


def stub(api: Api) -> content_pb2_grpc.ContentServiceStub:
    return content_pb2_grpc.ContentServiceStub(api.channel)


def signed_in(page: Page, origin: str, email: str) -> None:
    sign_in(page, origin, email)
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))


def add_resource(page: Page, **fields: str) -> None:
    """The library page's add form filled and sent (`kind` and `language` chosen)."""
    page.select_option("#kind", fields.pop("kind", "article"))
    page.select_option("#language", fields.pop("language", "fr"))
    for name, value in fields.items():
        page.fill(f"#{name}", value)
    with page.expect_navigation():
        page.click("#add")


def titles(page: Page) -> list[str]:
    """The results' titles, without the words for screen readers that the link opens a tab."""
    shown = page.locator("#results .resource-title").all_inner_texts()
    return [t.replace("(opens in a new tab)", "").strip() for t in shown]


def test_resources_at_three_levels_searched_recommended_read_and_marked(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    space = open_space(s, team, team.coachee_member)
    word = f"zq{secrets.token_hex(4)}"  # this run's resources only, whatever else is global
    coach_space = f"{origin}/coach/spaces/{space.space_id}"

    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, create_operator(deployment.config), OPERATOR_PASSWORD)
        page.wait_for_url(f"{origin}/sign-in/code")
        page.fill("#code", totp_code(deployment.config))
        page.click("button[type=submit]")
        page.wait_for_url(f"{origin}/desk")
        page.click("#nav-operator-library")
        page.wait_for_url(f"{origin}/operator/library")
        add_resource(
            page,
            title=f"Écoute active {word}",
            url="https://ecoach.test/ecoute-active",
            author="Carl Rogers",
            minutes="12",
            tags="écoute, relation",
            why="Pour écouter sans juger.",
        )
        assert page.url == f"{origin}/operator/library?done=added#done"
        assert "added" in page.inner_text("#done")
        journey_checks(page, "library-operator", elsewhere)

    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, email_of(api, team.admin))
        page.click("#nav-hr-library")
        page.wait_for_url(f"{origin}/hr/library")
        add_resource(
            page,
            kind="book",
            language="en",
            title=f"Feedback that works {word}",
            url="https://ecoach.test/feedback",
        )
        assert f"Feedback that works {word}" in titles(page)
        page.fill("#q", f"ecoute {word}")  # the global one, read-only here
        with page.expect_navigation():
            page.click("#search-button")
        assert titles(page) == [f"Écoute active {word}"]
        assert page.locator("#results a[id^=edit-]").count() == 0
        assert page.locator("#results .read-only").count() == 1
        assert elsewhere == []

    coach_email = email_of(api, team.coach)
    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, coach_email)
        page.click("#nav-library")
        page.wait_for_url(f"{origin}/coach/library")
        add_resource(page, kind="podcast", title=f"Mon podcast {word}", url="pas une adresse")
        assert page.get_attribute("#url", "aria-invalid") == "true"
        assert "http" in page.inner_text("#url-error")
        assert page.input_value("#title") == f"Mon podcast {word}"  # what was typed stays
        page.fill("#url", "https://ecoach.test/podcast")
        with page.expect_navigation():
            page.click("#add")
        assert "added" in page.inner_text("#done")

        page.goto(f"{origin}/coach/library?q=ecoute+{word}")  # a word's start, no accent
        assert titles(page) == [f"Écoute active {word}"]
        link = page.locator("#results .resource-title a")
        assert link.get_attribute("rel") == "noopener noreferrer nofollow"
        assert link.get_attribute("target") == "_blank"
        assert "Carl Rogers" in page.inner_text("#results") and "12 min" in page.inner_text(
            "#results"
        )
        page.goto(f"{origin}/coach/library?q={word[:5]}")  # the start of the word
        assert len(titles(page)) == 3
        page.select_option("#filter-level", "private")
        with page.expect_navigation():
            page.click("#search-button")
        assert titles(page) == [f"Mon podcast {word}"]
        assert page.locator("#results a[id^=edit-]").count() == 1  # the coach's own only
        journey_checks(page, "library-coach", elsewhere)
        page.click("#results a[id^=edit-]")
        page.fill("#minutes", "20000")
        with page.expect_navigation():
            page.click("#save")
        assert page.get_attribute("#minutes", "aria-invalid") == "true"
        assert page.inner_text("#minutes-error")
        page.fill("#minutes", "25")
        page.fill("#why", "À écouter en marchant.")
        with page.expect_navigation():
            page.click("#save")
        assert "saved" in page.inner_text("#done")
        assert "25 min" in page.inner_text("#results")

        def recommend() -> bool:
            """Tried until the content service knows the space (from the spaces' events)."""
            page.goto(f"{coach_space}?find=ecoute+{word}")
            page.select_option("#resource_id", label=f"Écoute active {word} (Article, Carl Rogers)")
            page.fill("#recommend-note", "Lis ceci avant notre séance.")
            with page.expect_navigation():
                page.click("#recommend")
            if page.locator("#done").count():
                return True
            time.sleep(0.5)
            return False

        wait_for(recommend, 60, "content's copy of the active space")
        assert "recommended" in page.inner_text("#done")
        listed = page.locator("#recommendation-list li")
        assert listed.count() == 1
        assert "Lis ceci avant notre séance." in listed.inner_text()
        assert "Not read yet" in listed.inner_text()
        assert elsewhere == []

    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, email_of(api, team.coachee))
        page.goto(f"{origin}/spaces/{space.space_id}")
        item = page.locator("#recommendation-list li")
        assert item.count() == 1
        assert "Lis ceci avant notre séance." in item.inner_text()
        link = item.locator(".resource-title a")
        assert link.get_attribute("href") == "https://ecoach.test/ecoute-active"
        assert link.get_attribute("rel") == "noopener noreferrer nofollow"
        assert link.get_attribute("target") == "_blank"
        recommendation_id = (item.get_attribute("id") or "").removeprefix("recommendation-")
        page.click(f"#read-{recommendation_id}")
        assert "saved" in page.inner_text("#done")
        assert page.inner_text(".read-status") == "Read"
        page.click(f"#useful-{recommendation_id}")
        assert page.inner_text(".useful-status") == "Helpful"
        assert page.inner_text(".read-status") == "Read"
        journey_checks(page, "recommendation-coachee", elsewhere)

    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, coach_email)
        page.goto(coach_space)
        assert page.inner_text("#recommendation-list .read-status") == "Read"
        assert page.inner_text("#recommendation-list .useful-status") == "Helpful"
        journey_checks(page, "recommendation-coach", elsewhere)


def recommended(api: Api, team: TenantWorld, space: spb.Space) -> tuple[str, str]:
    """A coach's own resource recommended into the space through the API: (resource id,
    recommendation id)."""
    resource = stub(api).CreateResource(
        cpb.CreateResourceRequest(
            scope=cpb.PRIVATE,
            kind=cpb.ARTICLE,
            title="Secret reading",
            url="https://ecoach.test/secret",
            language="en",
        ),
        metadata=team.coach.metadata,
    )

    def recommend() -> cpb.Recommendation | None:
        try:
            return stub(api).RecommendResource(
                cpb.RecommendResourceRequest(
                    parent=space.name, resource_id=resource.resource_id, note="Only for you"
                ),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    made = wait_for(recommend, 60, "content's copy of the active space")
    return resource.resource_id, made.recommendation_id


def test_others_find_nothing_and_a_deleted_resource_stays_with_the_coachee(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    space = open_space(s, team, team.coachee_member)
    resource_id, recommendation_id = recommended(api, team, space)
    _member, other_coach = add_person(deployment, api, team, ipb.COACH, "another-coach")
    paths = [
        f"/coach/spaces/{space.space_id}",
        f"/spaces/{space.space_id}",
        f"/coach/library/{resource_id}",
    ]
    posts = [
        f"/coach/spaces/{space.space_id}/recommendations",
        f"/spaces/{space.space_id}/recommendations/{recommendation_id}",
        f"/coach/library/{resource_id}",
        f"/coach/library/{resource_id}/delete",
    ]
    form = {
        "resource_id": resource_id,
        "note": "not mine",
        "mark": "useful",
        "kind": "article",
        "title": "Taken over",
        "url": "https://ecoach.test/taken",
        "language": "en",
    }
    for email in (email_of(api, other_coach), email_of(api, team.admin)):
        with browsing(browser, origin) as (context, page, _elsewhere):
            signed_in(page, origin, email)
            for path in paths:
                assert status_of(page, f"{origin}{path}") == 404, (email, path)
                assert "Secret reading" not in page.content()
                assert "Only for you" not in page.content()
            token = json.loads(page.get_attribute("body", "hx-headers") or "{}")["X-CSRF-Token"]
            for path in posts:
                posted = context.request.post(
                    f"{origin}{path}", form={"csrf_token": token, **form}, max_redirects=0
                )
                assert posted.status == 404, (email, path)
    with browsing(browser, origin) as (_, page, _elsewhere):  # HR's own view of the space
        signed_in(page, origin, email_of(api, team.admin))
        assert status_of(page, f"{origin}/hr/spaces/{space.space_id}") == 200
        assert "Secret reading" not in page.content() and "Only for you" not in page.content()
        assert status_of(page, f"{origin}/hr/library") == 200
        assert "Secret reading" not in page.content()  # a coach's own stays theirs
    unchanged = stub(api).ListRecommendations(
        cpb.ListRecommendationsRequest(parent=space.name), metadata=team.coach.metadata
    )
    assert [(r.status, r.HasField("useful")) for r in unchanged.recommendations] == [
        (cpb.NEW, False)
    ]
    kept = stub(api).GetResource(
        cpb.GetResourceRequest(resource_id=resource_id), metadata=team.coach.metadata
    )
    assert kept.title == "Secret reading"

    with browsing(browser, origin) as (_, page, elsewhere):  # its coach deletes it
        signed_in(page, origin, email_of(api, team.coach))
        page.goto(f"{origin}/coach/library/{resource_id}")
        journey_checks(page, "library-coach-edit", elsewhere)
        with page.expect_navigation():
            page.click("#delete")
        assert "deleted" in page.inner_text("#done")
        assert status_of(page, f"{origin}/coach/library/{resource_id}") == 404
    with browsing(browser, origin) as (_, page, _elsewhere):  # the coachee keeps the copy
        signed_in(page, origin, email_of(api, team.coachee))
        page.goto(f"{origin}/spaces/{space.space_id}")
        assert "Secret reading" in page.inner_text("#recommendation-list")
        assert "Only for you" in page.inner_text("#recommendation-list")
        page.goto(f"{origin}/spaces/{space.space_id}?lang=fr")  # and in French
        assert page.inner_text("#recommendations") == "Ressources qui vous sont recommandées"
        assert page.inner_text(f"#read-{recommendation_id}") == "Marquer comme lu"
