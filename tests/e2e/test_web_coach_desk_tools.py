"""The coach's desk (`/desk`) shows each coachee's toolbox as a count (issue 24, ADR 0018):
nothing while the toolbox is empty, then "1 of 2 open" once the coach adds an open tool and one
they open by hand, linked to the space's toolbox, in the coach's language; GetCoachDashboard
carries the same counts, and the tenant admin's (HR's) reads none of them."""

from __future__ import annotations

from playwright.sync_api import Browser

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.pb import spaces_pb2_grpc
from tests.e2e.conftest import make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.web import email_of, journey_checks, open_space, signed_in


def test_the_desk_counts_the_tools_open_and_links_the_toolbox(
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

    def desk_entry(who: Session) -> list[tuple[int, int]]:
        board = s.dashboards.GetCoachDashboard(
            spb.GetCoachDashboardRequest(parent=tenant_name(team.tenant_id)),
            metadata=who.metadata,
        )
        return [
            (e.tools_open, e.tools_total)
            for e in board.coachees
            if e.space.space_id == space.space_id
        ]

    assert desk_entry(team.coach) == [(0, 0)]
    with browsing(browser, origin) as (_, desk, elsewhere):
        signed_in(desk, origin, email_of(api, team.coach))
        desk.goto(f"{origin}/desk?lang=en")
        entry = desk.locator(f"#entry-{space.space_id}")
        assert entry.locator(".status").count() == 1  # the entry is there
        assert entry.locator(f"#tools-{space.space_id}").count() == 0  # empty: nothing

        for rule in (spb.ToolRule(), spb.ToolRule(by_hand=True)):
            tools.AddTool(
                spb.AddToolRequest(
                    parent=space.name,
                    tool=spb.Tool(
                        kind=spb.TOOL_NOTE_TEMPLATE, label="Week", template="How?", rule=rule
                    ),
                ),
                metadata=team.coach.metadata,
            )
        assert desk_entry(team.coach) == [(1, 2)]
        assert desk_entry(team.admin) == []  # HR's desk lists no coachee's toolbox

        desk.goto(f"{origin}/desk?lang=en")
        link = entry.locator(f"#tools-{space.space_id}")
        assert link.inner_text() == "1 of 2 open"
        assert link.get_attribute("href") == f"/coach/spaces/{space.space_id}/toolbox"
        journey_checks(desk, "coach-desk-tools", elsewhere)
        desk.goto(f"{origin}/desk?lang=fr")
        assert link.inner_text() == "ouverts : 1 sur 2"
        with desk.expect_navigation():
            link.click()
        assert desk.url.endswith(f"/coach/spaces/{space.space_id}/toolbox")
        assert elsewhere == []
