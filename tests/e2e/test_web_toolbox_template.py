"""A toolbox started from another space's in a real browser (issue 24's templates, ADR 0018
web addendum): a coach's first space holds a module opening after 1 session held, a note
template opened by hand and a questionnaire opening once the module is done; on the toolbox
page of a second space, of another coachee, the coach copies it: the three tools come in the
same order with their rules (the questionnaire waits for the new module tool), their targets
made anew in the second space, and its coachee sees them locked with why. Another coach cannot
copy from the first space (404, nothing made)."""

from __future__ import annotations

from dataclasses import replace

import grpc
from playwright.sync_api import Browser

from ecoach_dev.deployment import Deployment
from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import assessment_pb2_grpc, content_pb2_grpc, spaces_pb2_grpc
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.spaces import add_person
from tests.support.waiting import wait_for
from tests.support.web import (
    email_of,
    journey_checks,
    module_assigned,
    open_space,
    post_status,
    signed_in,
)

TEMPLATE = "What went well this week?"


def known(api: Api, coach: Session, space: spb.Space) -> None:
    """Assessment and content have learnt of the space (from its events)."""
    assessment = assessment_pb2_grpc.AssessmentServiceStub(api.channel)
    content = content_pb2_grpc.ContentServiceStub(api.channel)

    def listed() -> bool:
        try:
            assessment.ListAssignments(
                apb.ListAssignmentsRequest(parent=space.name), metadata=coach.metadata
            )
            content.ListModuleAssignments(
                cpb.ListModuleAssignmentsRequest(parent=space.name), metadata=coach.metadata
            )
        except grpc.RpcError:
            return False
        return True

    wait_for(listed, 60, "assessment's and content's copy of the space")


def test_a_coach_starts_a_toolbox_from_another_space_and_another_coach_cannot(
    deployment: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    browser: Browser,
    origin: str,
) -> None:
    team = make_tenant(deployment, api, operator)
    first = open_space(s, team, team.coachee_member)
    second_member, second_coachee = add_person(deployment, api, team, ipb.COACHEE, "Second")
    second = open_space(s, team, second_member)
    module = module_assigned(api, team.coach, first, "giving-feedback")
    assessment = assessment_pb2_grpc.AssessmentServiceStub(api.channel)

    def assign() -> apb.Assignment | None:
        try:
            return assessment.AssignInstrument(
                apb.AssignInstrumentRequest(parent=first.name, instrument_id="wheel-of-life"),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    wheel = wait_for(assign, 60, "assessment's copy of the first space")
    tools = spaces_pb2_grpc.ToolboxServiceStub(api.channel)

    def add(tool: spb.Tool) -> spb.Tool:
        added: spb.Tool = tools.AddTool(
            spb.AddToolRequest(parent=first.name, tool=tool), metadata=team.coach.metadata
        )
        return added

    module_tool = add(
        spb.Tool(
            kind=spb.TOOL_MODULE,
            target_id=module.assignment_id,
            label="Giving feedback",
            rule=spb.ToolRule(after_sessions_held=1),
        )
    )
    add(
        spb.Tool(
            kind=spb.TOOL_NOTE_TEMPLATE,
            label="My week",
            template=TEMPLATE,
            rule=spb.ToolRule(by_hand=True),
        )
    )
    add(
        spb.Tool(
            kind=spb.TOOL_ASSESSMENT,
            target_id=wheel.assignment_id,
            label="Wheel of life",
            rule=spb.ToolRule(after_tool=module_tool.name),
        )
    )
    known(api, team.coach, second)
    toolbox_url = f"{origin}/coach/spaces/{second.space_id}/toolbox"

    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, email_of(api, team.coach))
        page.goto(toolbox_url)
        assert page.locator("#no-tool").count() == 1
        page.select_option("#from_space", first.space_id)
        with page.expect_navigation():
            page.click("#copy-tools")
        assert page.locator("#copied li").all_inner_texts() == [
            "Giving feedback",
            "My week",
            "Wheel of life",
        ]
        assert page.locator("#not-copied").count() == 0
        copied = page.locator("#tool-list li.tool")
        assert copied.locator(".tool-label").all_inner_texts() == [
            "Giving feedback",
            "My week",
            "Wheel of life",
        ]
        assert copied.locator(".tool-rule").all_inner_texts() == [
            "Opens: after 1 session held",
            "Opens: when a coach opens it",
            "Opens: once “Giving feedback” is done",
        ]
        journey_checks(page, "toolbox-copied", elsewhere)
        # The copy answered with a redirect: reloading shows the same report and copies
        # nothing again; the address carries ids, never the tools' labels.
        assert page.url.startswith(toolbox_url + "?") and "feedback" not in page.url.lower()
        page.reload()
        assert page.locator("#copied li").all_inner_texts() == [
            "Giving feedback",
            "My week",
            "Wheel of life",
        ]
        assert page.locator("#tool-list li.tool").count() == 3

    # The new tools are the second space's, with targets of their own, waiting for the new
    # module tool.
    new = tools.ListTools(
        spb.ListToolsRequest(parent=second.name), metadata=team.coach.metadata
    ).tools
    assert new[2].rule.after_tool == new[0].name
    assert new[0].name.startswith(second.name + "/")
    content = content_pb2_grpc.ContentServiceStub(api.channel)
    modules = content.ListModuleAssignments(
        cpb.ListModuleAssignmentsRequest(parent=second.name), metadata=team.coach.metadata
    ).assignments
    assert [m.assignment_id for m in modules] == [new[0].target_id]
    assert new[0].target_id != module.assignment_id
    wheels = assessment.ListAssignments(
        apb.ListAssignmentsRequest(parent=second.name), metadata=team.coach.metadata
    ).assignments
    assert [(a.assignment_id, a.instrument_id) for a in wheels] == [
        (new[2].target_id, "wheel-of-life")
    ]

    with browsing(browser, origin) as (_, mine, elsewhere):
        signed_in(mine, origin, email_of(api, second_coachee))
        mine.goto(f"{origin}/spaces/{second.space_id}")
        assert mine.locator("#tool-list li.tool .tool-reason").all_inner_texts() == [
            "after your 1st session",
            "when your coach opens it",
            "once “Giving feedback” is done",
        ]
        assert elsewhere == []

    # Another coach, in their own space's toolbox, is refused the first space: nothing made.
    other_member, other_coach = add_person(deployment, api, team, ipb.COACH, "Othercoach")
    theirs = open_space(
        s, replace(team, coach=other_coach, coach_member=other_member), second_member
    )
    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, email_of(api, other_coach))
        page.goto(f"{origin}/coach/spaces/{theirs.space_id}/toolbox")
        assert page.locator(f"#from_space option[value='{first.space_id}']").count() == 0
        copy_url = f"{origin}/coach/spaces/{theirs.space_id}/toolbox/copy"
        assert post_status(page, copy_url, from_space=first.space_id) == 404
        # Nor into the first space from their own.
        first_copy = f"{origin}/coach/spaces/{first.space_id}/toolbox/copy"
        assert post_status(page, first_copy, from_space=theirs.space_id) == 404
        # Nor may a copy report's address name the first space to read its tools' labels.
        old_ids = [
            t.tool_id
            for t in tools.ListTools(
                spb.ListToolsRequest(parent=first.name), metadata=team.coach.metadata
            ).tools
        ]
        skipped = ",".join(f"gone.{i}" for i in old_ids)
        report_url = (
            f"{origin}/coach/spaces/{theirs.space_id}/toolbox"
            f"?copied_from={first.space_id}&skipped={skipped}"
        )
        answer = page.goto(report_url)
        assert answer is not None and answer.status == 404
        assert "Giving feedback" not in page.inner_text("body")
        assert elsewhere == []
    assert not tools.ListTools(
        spb.ListToolsRequest(parent=theirs.name), metadata=other_coach.metadata
    ).tools
    assert (
        len(
            tools.ListTools(
                spb.ListToolsRequest(parent=first.name), metadata=team.coach.metadata
            ).tools
        )
        == 3
    )
