"""The space's toolbox in a real browser (issue 24, ADR 0018): from the space's page the coach
opens its toolbox, adds the space's module to open after 1 session held (a note template with
no name first: refused, each problem beside its field) and a note template they open by hand;
the coachee sees both locked, each with why in their language; the coach opens the note
template, locks the module (its rule stops) and moves the template first; the coachee then
opens it, a new note started from its text, saves it, and sees the module waiting for their
coach. HR and
the coachee find no coach's toolbox page (404)."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from ecoach_dev.deployment import Deployment
from tests.e2e.conftest import make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.web import (
    email_of,
    journey_checks,
    module_assigned,
    open_space,
    signed_in,
    status_of,
)

TEMPLATE = "What went well this week?\n\nWhat will I try next?"


def add_tool(page: Page) -> None:
    with page.expect_navigation():
        page.click("#add-tool")


def test_a_coach_fills_the_toolbox_and_the_coachee_sees_it_open_as_the_coach_says(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    space = open_space(s, team, team.coachee_member)
    module = module_assigned(api, team.coach, space, "giving-feedback")
    toolbox_url = f"{origin}/coach/spaces/{space.space_id}/toolbox"

    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, email_of(api, team.coach))
        page.goto(f"{origin}/coach/spaces/{space.space_id}")
        page.click("#to-toolbox")
        page.wait_for_url(toolbox_url)
        assert page.locator("#no-tool").count() == 1
        page.select_option("#what", f"module:{module.assignment_id}")
        page.fill("#label", "Giving feedback")
        page.fill("#after_sessions_held", "1")
        add_tool(page)
        assert "in the toolbox" in page.inner_text("#done")
        first = page.locator("#tool-list li.tool")
        assert first.count() == 1
        assert first.locator(".tool-state").inner_text() == "Locked"
        assert first.locator(".tool-rule").inner_text() == "Opens: after 1 session held"
        # The module is in the toolbox: it is no longer offered.
        assert page.locator(f"#what option[value='module:{module.assignment_id}']").count() == 0

        # A note template with neither a name nor a text: each problem beside its field.
        page.select_option("#what", "note_template")
        add_tool(page)
        assert page.locator("#label-error").inner_text() == "Write the name the coachee will see."
        assert page.locator("#template-error").count() == 1
        assert page.get_attribute("#label", "aria-invalid") == "true"
        page.fill("#label", "My week in review")
        page.fill("#template", TEMPLATE)
        page.check("#by_hand")
        add_tool(page)
        tools = page.locator("#tool-list li.tool")
        assert tools.count() == 2
        module_id = (tools.nth(0).get_attribute("id") or "").removeprefix("tool-")
        note = tools.nth(1)
        note_id = (note.get_attribute("id") or "").removeprefix("tool-")
        assert note.locator(".tool-rule").inner_text() == "Opens: when a coach opens it"
        assert page.locator(f"#up-{note_id}").count() == 1  # the last one moves up only
        assert page.locator(f"#down-{note_id}").count() == 0
        journey_checks(page, "toolbox-coach", elsewhere)

        with browsing(browser, origin) as (_, mine, mine_elsewhere):
            signed_in(mine, origin, email_of(api, team.coachee))
            mine.goto(f"{origin}/spaces/{space.space_id}")
            listed = mine.locator("#tool-list li.tool")
            assert listed.count() == 2
            assert listed.nth(0).locator(".tool-reason").inner_text() == "after your 1st session"
            assert listed.nth(1).locator(".tool-reason").inner_text() == "when your coach opens it"
            assert mine.locator("#tool-list a[id^=open-tool-]").count() == 0
            assert "after 1 session held" not in mine.inner_text("main")  # no rule, only why
            mine.goto(f"{origin}/spaces/{space.space_id}?lang=fr")
            assert mine.inner_text("#tool-list li.tool >> nth=0 >> .tool-reason") == (
                "après votre 1re séance"
            )
            journey_checks(mine, "toolbox-coachee-locked", mine_elsewhere)
            assert status_of(mine, toolbox_url) == 404  # the coach's page does not exist

            with page.expect_navigation():
                page.click(f"#unlock-{note_id}")
            assert "is open" in page.inner_text("#done")
            assert page.inner_text(f"#tool-{note_id} .tool-state") == "Open"
            # The module locked by the coach: its rule stops; the note template goes first.
            with page.expect_navigation():
                page.click(f"#lock-{module_id}")
            assert page.inner_text(f"#tool-{module_id} .tool-state") == "Locked by a coach"
            with page.expect_navigation():
                page.click(f"#up-{note_id}")
            assert page.get_attribute("#tool-list li.tool >> nth=0", "id") == f"tool-{note_id}"

            mine.goto(f"{origin}/spaces/{space.space_id}?lang=en")
            mine.click(f"#open-tool-{note_id}")
            assert mine.input_value("#body") == TEMPLATE
            with mine.expect_navigation():
                mine.click("#save")
            assert "What will I try next?" in mine.inner_text("main")
            mine.goto(f"{origin}/spaces/{space.space_id}")
            assert mine.get_attribute("#tool-list li.tool >> nth=0", "id") == f"tool-{note_id}"
            assert mine.inner_text(f"#tool-{module_id} .tool-reason") == "when your coach opens it"
            assert mine_elsewhere == []

    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, email_of(api, team.admin))
        assert status_of(page, toolbox_url) == 404
        assert elsewhere == []
