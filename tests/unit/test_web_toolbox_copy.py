"""The plan of a toolbox copied from another space (gateway/web/toolbox_copy.py, ADR 0018 web
addendum): live tools in a dependency-respecting order, each targeted tool's target looked up,
sessions-held and by-hand conditions kept, dates and waits on tools not copied replaced by
"by hand", the old order kept to be restored."""

from __future__ import annotations

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
