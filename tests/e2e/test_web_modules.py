"""E-learning modules in a real browser (issue 23): an operator imports a module's folder on the
page (a malformed copy first: its line-numbered problems are listed and nothing is imported;
the same files chosen one by one again: nothing changes); the coach assigns it to an active
space; the coachee opens it from their space, reads the first lesson (its Markdown rendered),
saves a reflection into their journal and finds it there, completes a lesson, sees the video
block load nothing until they ask for it; a day later (the test clock) the module resumes where
they left, find the quiz asking them to ask their coach (then linked, once the coach assigns
that questionnaire in the space), complete the rest and read the completion; the coach sees
the progress. Another coach and HR get the not-found page for the module pages and forms, and nothing changes; in a
paused space the coachee reads a module they started again, without its forms."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path

from playwright.sync_api import Browser, Page

from ecoach_dev.deployment import Deployment
from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import assessment_pb2_grpc, content_pb2_grpc
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.clock import move_test_clock
from tests.support.people import (
    OPERATOR_PASSWORD,
    create_operator,
    sign_in_operator,
    totp_code,
)
from tests.support.spaces import add_person
from tests.support.waiting import wait_for
from tests.support.web import (
    email_of,
    journey_checks,
    module_assigned,
    open_space,
    sign_in,
    signed_in,
    status_of,
)

SHIPPED = Path(__file__).resolve().parents[2] / "services" / "content" / "modules"
ONE_DAY = 24 * 3600


def stub(api: Api) -> content_pb2_grpc.ContentServiceStub:
    return content_pb2_grpc.ContentServiceStub(api.channel)


def module_copy(tmp: Path, slug: str, *, broken: bool = False) -> Path:
    """The shipped giving-feedback module under a slug of this run (`broken`: its video's
    address made plain http, which the format refuses)."""
    folder = tmp / f"{slug}{'-broken' if broken else ''}" / slug
    shutil.copytree(SHIPPED / "giving-feedback", folder)
    card = folder / "module.md"
    card.write_text(card.read_text().replace("slug: giving-feedback", f"slug: {slug}"))
    if broken:
        lesson = folder / "lessons" / "02-deliver.en.md"
        lesson.write_text(lesson.read_text().replace("url: https://", "url: http://"))
    return folder


def import_folder(page: Page, folder: Path) -> None:
    page.set_input_files("#folder", str(folder))
    with page.expect_navigation():
        page.click("#import")


def operator_signed_in(page: Page, origin: str, deployment: Deployment) -> None:
    sign_in(page, origin, create_operator(deployment.config), OPERATOR_PASSWORD)
    page.wait_for_url(f"{origin}/sign-in/code")
    page.fill("#code", totp_code(deployment.config))
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/desk")


def test_a_module_imported_assigned_taken_over_two_days_and_followed(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
    tmp_path: Path,
) -> None:
    team = make_tenant(deployment, api, operator)
    space = open_space(s, team, team.coachee_member)
    slug = f"feedback-{secrets.token_hex(4)}"
    good, broken = module_copy(tmp_path, slug), module_copy(tmp_path, slug, broken=True)

    with browsing(browser, origin) as (_, page, elsewhere):
        operator_signed_in(page, origin, deployment)
        page.click("#nav-operator-modules")
        page.wait_for_url(f"{origin}/operator/modules")
        import_folder(page, broken)
        problems = page.locator("#import-problems li").all_inner_texts()
        assert any(re.match(r"^lessons/02-deliver\.en\.md:\d+ url", p) for p in problems), problems
        assert page.locator(f"#catalogue-{slug}").count() == 0  # nothing imported
        import_folder(page, good)
        assert "imported" in page.inner_text("#done")
        assert page.inner_text("#imported") == f"Module {slug}, version 1"
        assert page.inner_text(f"#catalogue-{slug} .version") == "1"
        journey_checks(page, "modules-operator", elsewhere)
        # The same files chosen one by one (names without folders): the same version.
        page.set_input_files("#files", sorted(str(p) for p in good.rglob("*.md")))
        with page.expect_navigation():
            page.click("#import")
        assert "nothing changed" in page.inner_text("#done")
        assert elsewhere == []

    coach_email = email_of(api, team.coach)
    coach_space = f"{origin}/coach/spaces/{space.space_id}"
    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, coach_email)

        def assign() -> bool:
            """Tried until the content service knows the space (from the spaces' events)."""
            page.goto(coach_space)
            page.select_option("#module-slug", slug)
            with page.expect_navigation():
                page.click("#assign-module")
            if page.locator("#done").count():
                return True
            time.sleep(0.5)
            return False

        wait_for(assign, 60, "content's copy of the active space")
        assert "module is assigned" in page.inner_text("#done")
        row = page.locator("#module-list tbody tr")
        assert row.count() == 1
        assert "Giving feedback that helps" in row.inner_text()
        assert row.locator(".status").inner_text() == "Not started"
        assert page.locator(f"#module-slug option[value='{slug}']").count() == 0  # once
        journey_checks(page, "modules-coach", elsewhere)

    coachee_email = email_of(api, team.coachee)
    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, coachee_email)
        page.goto(f"{origin}/spaces/{space.space_id}")
        page.click("#module-list a")
        module_url = page.url
        assert page.get_attribute("#lesson", "data-lesson") == "prepare"
        assert page.inner_text("#lesson-title") == "Prepare what you will say"
        assert page.locator("#lesson .markdown strong").count() >= 1  # Markdown, rendered
        page.click("#lesson button[id^=save-reflection-]")  # nothing written: refused
        assert page.locator("#lesson .field-error").count() == 1
        answer = f"I will tell Léa about Tuesday's meeting {secrets.token_hex(3)}"
        page.fill("#lesson textarea", answer)
        records = content_pb2_grpc.ContentServiceStub(api.channel)

        def pending(who: Session = operator) -> int:
            got = records.GetLrsSettings(cpb.GetLrsSettingsRequest(), metadata=who.metadata)
            return int(got.pending)

        before = pending()
        with page.expect_navigation():
            page.click("#lesson button[id^=save-reflection-]")
        assert "journal" in page.inner_text("#done")
        # ...and its learning record (xAPI `answered`: that they answered, not what) is kept.
        assert pending() == before + 1
        page.click("#complete-lesson")
        assert "Lesson completed" in page.inner_text("#done")
        assert page.get_attribute("#lesson", "data-lesson") == "deliver"
        # The video block: neither its address nor a frame of it before the coachee asks.
        assert "ted.com" not in page.content()
        assert page.locator("iframe").count() == 0
        journey_checks(page, "modules-coachee-lesson", elsewhere)
        page.click("#lesson button[id^=show-video-]")
        link = page.locator("#lesson a[id^=video-link-]")
        assert (link.get_attribute("href") or "").startswith("https://www.ted.com/")
        assert link.get_attribute("rel") == "noopener noreferrer nofollow"
        assert elsewhere == []  # shown, not followed
        page.goto(f"{origin}/spaces/{space.space_id}/notes")
        assert answer in page.inner_text("main")
        assert "Think of a piece of feedback" in page.inner_text("main")  # the prompt quoted
        assert elsewhere == []

    clock: Path = deployment.config.test_clock_path
    try:
        move_test_clock(clock, ONE_DAY)
        with browsing(browser, origin) as (_, page, elsewhere):
            signed_in(page, origin, coachee_email)
            page.goto(f"{origin}/spaces/{space.space_id}")
            assert page.inner_text("#module-list .lessons-done") == "1 of 3"
            page.click("#module-list a")
            assert page.url == module_url
            assert page.get_attribute("#lesson", "data-lesson") == "deliver"  # where they left
            page.click("#complete-lesson")
            assert page.get_attribute("#lesson", "data-lesson") == "follow-up"
            quiz = page.inner_text("#lesson [id^=quiz-]")
            assert "Ask your coach" in quiz and "leadership-styles" in quiz
            # Once the coach assigns that questionnaire in the space, the quiz links to it.
            with browsing(browser, origin) as (_, coach_page, _elsewhere):
                signed_in(coach_page, origin, coach_email)
                coach_page.goto(coach_space)
                coach_page.select_option("#instrument_id", "leadership-styles")
                with coach_page.expect_navigation():
                    coach_page.click("#assign")
                assert "questionnaire is assigned" in coach_page.inner_text("#done")
            page.reload()
            href = page.get_attribute("#lesson a[id^=quiz-]", "href") or ""
            assert href.startswith(f"/spaces/{space.space_id}/questionnaires/asg_"), href
            # The coachee answers it (through the API here: the questionnaire's page has its
            # own browser test); completing the lesson then records the quiz as answered.
            # A day later the morning's tokens have expired: signed in again.
            coachee = api.sign_in(coachee_email, PASSWORD, team.tenant_id)
            answer_questionnaire(api, coachee, href.rsplit("/", 1)[1])
            now_operator = sign_in_operator(api, deployment.config)
            before = pending(now_operator)
            page.click("#complete-lesson")
            # The quiz answered, the last lesson experienced, the module completed.
            assert pending(now_operator) == before + 3
            assert "completed this module" in page.inner_text("#done")
            assert page.locator("#completion-card").count() == 1
            assert page.locator("#module-completed").count() == 1
            assert page.locator("#lesson-list .lesson-done").count() == 3
            journey_checks(page, "modules-coachee-completed", elsewhere)
            page.goto(f"{module_url}?lang=fr")
            assert page.inner_text("#lesson-title") == page.inner_text(
                "#lesson-list [aria-current=page]"
            )
            assert page.inner_text("#lessons-heading") == "Leçons"
        with browsing(browser, origin) as (_, page, elsewhere):
            signed_in(page, origin, coach_email)
            page.goto(coach_space)
            row = page.locator("#module-list tbody tr")
            assert row.locator(".status").inner_text().startswith("Completed")
            assert row.locator(".lessons-done").inner_text() == "3 of 3"
            assert elsewhere == []
    finally:
        move_test_clock(clock, 0)


def answer_questionnaire(api: Api, coachee: Session, assignment_id: str) -> None:
    """Submits the questionnaire with the first answer every item allows."""
    stub = assessment_pb2_grpc.AssessmentServiceStub(api.channel)
    got = stub.GetAssignment(
        apb.GetAssignmentRequest(assignment_id=assignment_id), metadata=coachee.metadata
    )
    document = json.loads(
        stub.GetInstrument(
            apb.GetInstrumentRequest(
                instrument_id=got.instrument_id, version=got.version, assignment_id=assignment_id
            ),
            metadata=coachee.metadata,
        ).document_json
    )
    answers = {}
    for item in document["items"]:
        keys = [o["key"] for o in item.get("options", [])]
        kind = item["kind"]
        if kind in ("likert", "numeric_scale"):
            answers[item["id"]] = apb.Answer(number=item["min"])
        elif kind == "single_choice":
            answers[item["id"]] = apb.Answer(text=keys[0])
        elif kind in ("multiple_choice", "ranking"):
            chosen = keys if kind == "ranking" else keys[:1]
            answers[item["id"]] = apb.Answer(choices=apb.Choices(keys=chosen))
        else:
            answers[item["id"]] = apb.Answer(text="A first answer.")
    stub.SubmitAttempt(
        apb.AnswersRequest(assignment_id=assignment_id, answers=answers),
        metadata=coachee.metadata,
    )


def test_another_coach_and_hr_find_nothing_and_change_nothing(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    space = open_space(s, team, team.coachee_member)
    assignment = module_assigned(api, team.coach, space, "managing-priorities")
    _member, other_coach = add_person(deployment, api, team, ipb.COACH, "another-coach")
    module = f"/spaces/{space.space_id}/modules/{assignment.assignment_id}"
    gets = [module, "/operator/modules"]
    posts = [
        f"/coach/spaces/{space.space_id}/modules",
        f"{module}/complete",
        f"{module}/journal",
        f"{module}/heartbeat",
        "/operator/modules",
    ]
    form = {"slug": "giving-feedback", "lesson": "where-time-goes", "block": "0", "answer": "x"}
    for email in (email_of(api, other_coach), email_of(api, team.admin)):
        with browsing(browser, origin) as (context, page, _elsewhere):
            signed_in(page, origin, email)
            for path in gets:
                assert status_of(page, f"{origin}{path}") == 404, (email, path)
                assert "Managing" not in page.content()
            token = json.loads(page.get_attribute("body", "hx-headers") or "{}")["X-CSRF-Token"]
            for path in posts:
                posted = context.request.post(
                    f"{origin}{path}", form={"csrf_token": token, **form}, max_redirects=0
                )
                assert posted.status == 404, (email, path)
    listed = stub(api).ListModuleAssignments(
        cpb.ListModuleAssignmentsRequest(parent=space.name), metadata=team.coach.metadata
    )
    assert [(a.slug, a.progress.status) for a in listed.assignments] == [
        ("managing-priorities", cpb.PROGRESS_NOT_STARTED)
    ]
    journal = s.notes.ListNotes(
        spb.ListNotesRequest(parent=space.name, kinds=[spb.JOURNAL]),
        metadata=team.coachee.metadata,
    )
    assert list(journal.notes) == []
    with browsing(browser, origin) as (_, page, _elsewhere):  # the coachee's own page works
        signed_in(page, origin, email_of(api, team.coachee))
        assert status_of(page, f"{origin}{module}") == 200
        assert page.get_attribute("#lesson", "data-lesson") == "where-time-goes"
        assert page.locator("#complete-lesson").count() == 1
        token = page.get_attribute("input[name=csrf_token]", "value") or ""
        beat = page.request.post(
            f"{origin}{module}/heartbeat", form={"csrf_token": token, "lesson": "where-time-goes"}
        )
        assert beat.status == 204
        # Paused, the space records nothing: the module started reads again, without forms.
        s.spaces.PauseSpace(spb.SpaceMoveRequest(name=space.name), metadata=team.coach.metadata)

        def read_only() -> bool:
            page.goto(f"{origin}{module}")
            return page.locator("#closed").count() == 1

        wait_for(read_only, 60, "content's copy of the paused space")
        assert page.get_attribute("#lesson", "data-lesson") == "where-time-goes"
        assert page.locator("#complete-lesson").count() == 0
        assert page.locator("#lesson textarea").count() == 0
        page.goto(f"{origin}{module}?lesson=protect-your-time")  # another lesson, read again
        assert page.get_attribute("#lesson", "data-lesson") == "protect-your-time"
