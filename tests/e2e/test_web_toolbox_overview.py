"""The coachee's overview (`/my-space`) shows each space's toolbox at a glance (issue 24): the
coach adds the video room, open at once, and a note template they open by hand; the coachee's
overview links the open one as their space page does and says one tool is still to come, with
its reason, in their language."""

from __future__ import annotations

from playwright.sync_api import Browser

from ecoach_dev.deployment import Deployment
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.pb import spaces_pb2_grpc
from tests.e2e.conftest import make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.web import email_of, journey_checks, open_space, signed_in


def test_the_overview_shows_the_tools_newly_open_and_how_many_are_to_come(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    space = open_space(s, team, team.coachee_member, project="Lead with ease")
    tools = spaces_pb2_grpc.ToolboxServiceStub(api.channel)
    room = tools.AddTool(
        spb.AddToolRequest(
            parent=space.name, tool=spb.Tool(kind=spb.TOOL_VIDEO_ROOM, label="Our video room")
        ),
        metadata=team.coach.metadata,
    )
    assert room.state == spb.TOOL_UNLOCKED  # no condition: open at once
    later = tools.AddTool(
        spb.AddToolRequest(
            parent=space.name,
            tool=spb.Tool(
                kind=spb.TOOL_NOTE_TEMPLATE,
                label="My week in review",
                template="What went well?",
                rule=spb.ToolRule(by_hand=True),
            ),
        ),
        metadata=team.coach.metadata,
    )
    assert later.state == spb.TOOL_LOCKED

    with browsing(browser, origin) as (_, mine, elsewhere):
        signed_in(mine, origin, email_of(api, team.coachee))
        mine.goto(f"{origin}/my-space?lang=en")
        card = mine.locator(f"section[aria-labelledby='space-{space.space_id}']")
        link = card.locator(f"#new-tool-{room.tool_id} a")
        assert link.inner_text() == "Our video room"
        assert link.get_attribute("href") == f"/spaces/{space.space_id}/sessions"
        assert card.locator(f"#new-tool-{later.tool_id}").count() == 0
        assert "My week in review" not in card.inner_text()  # a tool to come is not named
        assert card.locator(f"#to-come-{space.space_id}").inner_text() == (
            "1 tool still to come · next: when your coach opens it"
        )
        journey_checks(mine, "toolbox-overview", elsewhere)
        mine.goto(f"{origin}/my-space?lang=fr")
        assert card.locator(f"#to-come-{space.space_id}").inner_text() == (
            "1 outil encore à venir · prochain : quand votre coach l'ouvrira"
        )
        with mine.expect_navigation():
            link.click()
        assert mine.url.endswith(f"/spaces/{space.space_id}/sessions")
        assert elsewhere == []
