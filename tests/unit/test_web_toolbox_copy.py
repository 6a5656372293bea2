"""The plan of a toolbox copied from another space (gateway/web/toolbox_copy.py, ADR 0018 web
addendum): live tools in a dependency-respecting order, each targeted tool's target looked up,
sessions-held and by-hand conditions kept, dates and waits on tools not copied replaced by
"by hand", the old order kept to be restored."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import spaces_pb2 as spb
from gateway.web import toolbox_copy as tc

SPACE = "tenants/ten_1/spaces/spc_1"


def tool(n: int, kind: int = spb.TOOL_NOTE_TEMPLATE, target: str = "", **rule: object) -> spb.Tool:
    return spb.Tool(
        name=f"{SPACE}/tools/tol_{n}",
        tool_id=f"tol_{n}",
        kind=kind,  # type: ignore[arg-type]
        target_id=target,
        label=f"Tool {n}",
        template="Text" if kind == spb.TOOL_NOTE_TEMPLATE else "",
        position=n,
        state=spb.TOOL_LOCKED,
        rule=spb.ToolRule(**rule),  # type: ignore[arg-type]
    )


def name(n: int) -> str:
    return f"{SPACE}/tools/tol_{n}"


def test_the_three_kinds_in_order_with_their_rules() -> None:
    module = tool(0, spb.TOOL_MODULE, "mas_1", after_sessions_held=1)
    note = tool(1, by_hand=True)
    quiz = tool(2, spb.TOOL_ASSESSMENT, "asg_1", after_tool=name(0))
    targets = {"mas_1": tc.Target("giving-feedback"), "asg_1": tc.Target("ins_1", 3)}
    plan = tc.plan_copy([quiz, note, module], targets)
    assert [s.old.tool_id for s in plan.steps] == ["tol_0", "tol_1", "tol_2"]
    assert plan.order == [name(0), name(1), name(2)]
    assert plan.skipped == []
    first, second, third = plan.steps
    assert (first.target, first.rule) == (
        tc.Target("giving-feedback"),
        spb.ToolRule(after_sessions_held=1),
    )
    assert (second.target, second.rule) == (None, spb.ToolRule(by_hand=True))
    assert (third.target, third.after, third.rule) == (
        tc.Target("ins_1", 3),
        name(0),
        spb.ToolRule(),
    )


def test_a_tool_waiting_for_a_later_one_is_added_after_it_and_the_old_order_kept() -> None:
    waits = tool(0, after_tool=name(1))
    waited = tool(1, spb.TOOL_VIDEO_ROOM)
    plan = tc.plan_copy([waits, waited], {})
    assert [s.old.tool_id for s in plan.steps] == ["tol_1", "tol_0"]
    assert plan.order == [name(0), name(1)]
    assert plan.steps[1].after == name(1)


def test_a_date_is_dropped_and_the_tool_waits_for_the_coach() -> None:
    plan = tc.plan_copy([tool(0, on_date="2026-03-12", after_sessions_held=2)], {})
    (step,) = plan.steps
    assert step.date_dropped == "2026-03-12"
    assert step.rule == spb.ToolRule(after_sessions_held=2, by_hand=True)


def test_a_gone_target_is_skipped_and_what_waited_for_it_waits_for_the_coach() -> None:
    resource = tool(0, spb.TOOL_RESOURCE, "rec_1")
    after = tool(1, after_tool=name(0))
    plan = tc.plan_copy([resource, after], {})
    assert plan.skipped == [(resource, tc.GONE)]
    (step,) = plan.steps
    assert (step.after, step.rule.by_hand) == ("", True)
    assert plan.order == [name(1)]


def test_removed_tools_are_left_out_and_waits_on_them_become_by_hand() -> None:
    removed = tool(0)
    removed.state = spb.TOOL_REMOVED
    plan = tc.plan_copy([removed, tool(1, after_tool=name(0))], {})
    assert [s.old.tool_id for s in plan.steps] == ["tol_1"]
    assert plan.steps[0].rule == spb.ToolRule(by_hand=True)
    assert plan.skipped == []


def test_a_cycle_is_broken_by_hand_rather_than_looping() -> None:
    plan = tc.plan_copy([tool(0, after_tool=name(1)), tool(1, after_tool=name(0))], {})
    assert [s.old.tool_id for s in plan.steps] == ["tol_0", "tol_1"]
    assert (plan.steps[0].after, plan.steps[0].rule.by_hand) == ("", True)
    assert plan.steps[1].after == name(0)


def test_the_old_tools_are_not_changed() -> None:
    old = tool(0, on_date="2026-03-12")
    tc.plan_copy([old], {})
    assert old.rule == spb.ToolRule(on_date="2026-03-12")


# ------------------------------------------------------------------ carried out, on fakes

NEW = "tenants/ten_1/spaces/spc_2"


class Missing(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.NOT_FOUND


class Fake:
    """The gateway as `copy_toolbox` calls it: methods are their names, tools kept per space."""

    def __init__(self, old: list[spb.Tool]) -> None:
        self.tools: dict[str, list[spb.Tool]] = {SPACE: old, NEW: []}
        self.made: list[tuple[str, str]] = []

    class Box:
        AddTool, MoveTool = "AddTool", "MoveTool"

    class Assessment:
        AssignInstrument = "AssignInstrument"

    class Content:
        RecommendResource, AssignModule = "RecommendResource", "AssignModule"

    toolbox, assessment, content = Box(), Assessment(), Content()

    def listed(self, space: str) -> spb.ListToolsResponse:
        return spb.ListToolsResponse(tools=self.tools[space])

    def authed(self, _clients: object, method: str, request: Any) -> Any:
        if method == "AddTool":
            tools = self.tools[request.parent]
            n = len(tools)
            tool = spb.Tool()
            tool.CopyFrom(request.tool)
            tool.name, tool.tool_id = f"{request.parent}/tools/new_{n}", f"new_{n}"
            tools.append(tool)
            return tool
        if method == "MoveTool":
            tools = self.tools[NEW]
            moved = next(t for t in tools if t.name == request.name)
            tools.remove(moved)
            tools.insert(request.position, moved)
            return None
        if method == "RecommendResource":
            raise Missing()
        key = getattr(request, "instrument_id", "") or getattr(request, "slug", "")
        self.made.append((method, key))
        if method == "AssignInstrument":
            return apb.Assignment(assignment_id=f"asg_new_{key}")
        return cpb.ModuleAssignment(assignment_id=f"mas_new_{key}")


def test_a_copy_maps_the_waits_skips_the_gone_and_keeps_the_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quiz = tool(0, spb.TOOL_ASSESSMENT, "asg_1", after_tool=name(2))
    reading = tool(1, spb.TOOL_RESOURCE, "rec_1")
    module = tool(2, spb.TOOL_MODULE, "mas_1", on_date="2026-03-12")
    fake = Fake([quiz, reading, module])
    targets = {
        "asg_1": tc.Target("ins_1", 2),
        "rec_1": tc.Target("res_1"),
        "mas_1": tc.Target("giving-feedback"),
    }
    monkeypatch.setattr(tc.tw, "tools_of", fake.listed)
    monkeypatch.setattr(tc, "targets_of", lambda space: targets)
    monkeypatch.setattr(tc, "existing_targets", lambda space, taken: {})
    monkeypatch.setattr(tc, "clients", lambda: fake)
    monkeypatch.setattr(tc, "authed", fake.authed)
    report = tc.copy_toolbox(spb.Space(name=SPACE), spb.Space(name=NEW))
    assert fake.made == [("AssignModule", "giving-feedback"), ("AssignInstrument", "ins_1")]
    assert report.copied == ["Tool 2", "Tool 0"]
    assert report.skipped == [("Tool 1", tc.GONE)]
    assert report.by_hand == ["Tool 2"]
    # The report crosses the redirect as ids only, and reads back the same labels from the
    # two toolboxes; an id that is not one, or a tool no longer there, is left out.
    query = tc.report_from_query
    args = tc.report_query("spc_1", report)
    assert "Tool" not in "".join(args.values())
    new_tools, old_tools = fake.tools[NEW], [quiz, reading, module]
    again = query(args, new_tools, old_tools, lambda i: i.startswith(("tol_", "new_")))
    assert (again.copied, again.by_hand, again.skipped) == (
        report.copied,
        report.by_hand,
        report.skipped,
    )
    tampered = dict(args, copied="new_9,../x," + args["copied"], skipped="lost.tol_1,gone.tol_7")
    partial = query(tampered, new_tools, old_tools, lambda i: i.startswith(("tol_", "new_")))
    assert (partial.copied, partial.skipped) == (report.copied, [])
    new_quiz, new_module = fake.tools[NEW]  # the old order back
    assert (new_quiz.target_id, new_quiz.rule) == (
        "asg_new_ins_1",
        spb.ToolRule(after_tool=new_module.name),
    )
    assert (new_module.target_id, new_module.rule) == (
        "mas_new_giving-feedback",
        spb.ToolRule(by_hand=True),
    )
