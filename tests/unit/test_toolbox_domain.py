"""The toolbox's rules and aggregate (services/spaces/domain/toolbox.py), without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.kernel.errors import FailedPrecondition, InvalidArgument, NotFound
from services.spaces.domain.toolbox import (
    AFTER_SESSIONS_HELD,
    AFTER_TOOL_DONE,
    BY_HAND,
    LOCKED,
    LOCKED_BY_COACH,
    ON_DATE,
    REMOVED,
    UNLOCKED,
    Facts,
    Reason,
    Rule,
    Tool,
    Toolbox,
)

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def tool(
    kind: str = "module", rule: Rule = Rule(), target: str | None = "mas_1", **kw: Any
) -> Tool:
    at = kw.pop("unlocks_at", None)
    return Tool.create(
        "spc_1",
        "ten_1",
        kind,
        target if kind in ("assessment", "resource", "module") else None,
        kw.pop("label", "Values"),
        kw.pop("template", ""),
        rule,
        at,
        0,
        NOW,
    )


def test_an_empty_rule_unlocks_at_once() -> None:
    box = Toolbox("spc_1")
    t = box.add(tool())
    assert [x.id for x in box.evaluate(Facts(NOW))] == [t.id]
    assert t.state == UNLOCKED and t.unlocked_at == NOW


def test_after_sessions_held_waits_for_the_count() -> None:
    box = Toolbox("spc_1")
    t = box.add(tool(rule=Rule(after_sessions_held=2)))
    assert box.evaluate(Facts(NOW, sessions_held=1)) == []
    assert t.reasons(Facts(NOW, sessions_held=1)) == [Reason(AFTER_SESSIONS_HELD, sessions_held=2)]
    assert box.evaluate(Facts(NOW, sessions_held=2)) == [t]


def test_an_unlocked_tool_stays_unlocked_when_attendance_is_corrected() -> None:
    box = Toolbox("spc_1")
    t = box.add(tool(rule=Rule(after_sessions_held=1)))
    box.evaluate(Facts(NOW, sessions_held=1))
    assert box.evaluate(Facts(NOW, sessions_held=0)) == []
    assert t.state == UNLOCKED and t.reasons(Facts(NOW)) == []


def test_on_date_unlocks_at_the_instant_set_with_the_rule() -> None:
    at = datetime(2026, 3, 12, tzinfo=UTC) - timedelta(hours=1)  # 00:00 in Paris
    box = Toolbox("spc_1")
    t = box.add(tool(rule=Rule(on_date=date(2026, 3, 12)), unlocks_at=at))
    assert t.reasons(Facts(NOW)) == [Reason(ON_DATE, on_date=date(2026, 3, 12))]
    assert box.evaluate(Facts(at - timedelta(seconds=1))) == []
    assert box.evaluate(Facts(at)) == [t]


def test_conditions_combine_with_and() -> None:
    at = NOW + timedelta(days=1)
    box = Toolbox("spc_1")
    t = box.add(tool(rule=Rule(on_date=date(2026, 3, 2), after_sessions_held=1), unlocks_at=at))
    assert box.evaluate(Facts(at, sessions_held=0)) == []
    assert box.evaluate(Facts(NOW, sessions_held=1)) == []
    assert [r.kind for r in t.reasons(Facts(NOW))] == [ON_DATE, AFTER_SESSIONS_HELD]
    assert box.evaluate(Facts(at, sessions_held=1)) == [t]


def test_by_hand_opens_only_by_an_explicit_unlock() -> None:
    box = Toolbox("spc_1")
    t = box.add(tool(rule=Rule(by_hand=True)))
    assert box.evaluate(Facts(NOW, sessions_held=50)) == []
    assert t.reasons(Facts(NOW)) == [Reason(BY_HAND)]
    assert t.unlock(NOW) is True and t.state == UNLOCKED
    assert t.unlock(NOW) is False


def test_after_tool_done() -> None:
    box = Toolbox("spc_1")
    first = box.add(tool(target="asg_1", kind="assessment"))
    then = box.add(tool(rule=Rule(after_tool_id=first.id)))
    box.evaluate(Facts(NOW))
    assert then.state == LOCKED
    assert then.reasons(Facts(NOW)) == [Reason(AFTER_TOOL_DONE, tool_id=first.id)]
    assert first.mark_done(NOW) is True and first.mark_done(NOW) is False
    assert box.evaluate(Facts(NOW)) == [then]


def test_rules_refuse_cycles_self_and_strangers() -> None:
    box = Toolbox("spc_1")
    a = box.add(tool(target="mas_a"))
    b = box.add(tool(target="mas_b", rule=Rule(after_tool_id=a.id)))
    with pytest.raises(InvalidArgument, match=r"rule\.after_tool_id"):
        box.change_rule(a, Rule(after_tool_id=b.id))
    with pytest.raises(InvalidArgument, match=r"rule\.after_tool_id"):
        box.change_rule(a, Rule(after_tool_id=a.id))
    with pytest.raises(InvalidArgument, match=r"rule\.after_tool_id"):
        box.add(tool(target="mas_c", rule=Rule(after_tool_id="tol_elsewhere")))


def test_a_tool_locked_by_the_coach_ignores_its_rule_until_unlocked() -> None:
    box = Toolbox("spc_1")
    t = box.add(tool())
    box.evaluate(Facts(NOW))
    assert t.lock(NOW) is True
    assert box.evaluate(Facts(NOW, sessions_held=9)) == []
    assert t.reasons(Facts(NOW)) == [Reason(LOCKED_BY_COACH)]
    t.unlock(NOW)
    assert t.state == UNLOCKED and not t.locked_by_coach


def test_locking_a_locked_tool_only_stops_its_rule() -> None:
    t = tool(rule=Rule(after_sessions_held=3))
    assert t.lock(NOW) is False and t.locked_by_coach


def test_move_and_remove_keep_positions_dense() -> None:
    box = Toolbox("spc_1")
    a, b, c = (box.add(tool(target=f"mas_{x}")) for x in "abc")
    assert [t.position for t in (a, b, c)] == [0, 1, 2]
    box.move(c, 0, NOW)
    assert [t.id for t in box.live] == [c.id, a.id, b.id]
    box.move(c, 99, NOW)
    assert [t.id for t in box.live] == [a.id, b.id, c.id]
    box.remove(a, NOW)
    assert a.state == REMOVED and [(t.id, t.position) for t in box.live] == [(b.id, 0), (c.id, 1)]
    with pytest.raises(NotFound):
        box.get(a.id)
    with pytest.raises(NotFound):
        a.unlock(NOW)


def test_a_tool_waited_for_cannot_be_removed() -> None:
    box = Toolbox("spc_1")
    a = box.add(tool(target="mas_a"))
    box.add(tool(target="mas_b", rule=Rule(after_tool_id=a.id)))
    with pytest.raises(FailedPrecondition):
        box.remove(a, NOW)


def test_one_tool_per_target() -> None:
    box = Toolbox("spc_1")
    box.add(tool(target="mas_a"))
    with pytest.raises(FailedPrecondition):
        box.add(tool(target="mas_a"))


@pytest.mark.parametrize(
    ("kind", "target", "template", "field"),
    [
        ("module", None, "", "target_id"),
        ("video_room", None, "x", "template"),
        ("note_template", None, " ", "template"),
        ("quiz", None, "", "kind"),
    ],
)
def test_bad_tools_name_the_field(kind: str, target: str | None, template: str, field: str) -> None:
    with pytest.raises(InvalidArgument, match=field):
        Tool.create("spc_1", "ten_1", kind, target, "L", template, Rule(), None, 0, NOW)


def test_label_and_rule_limits() -> None:
    with pytest.raises(InvalidArgument, match="label"):
        tool(label=" ")
    with pytest.raises(InvalidArgument, match="label"):
        tool(label="x" * 201)
    with pytest.raises(InvalidArgument, match="after_sessions_held"):
        tool(rule=Rule(after_sessions_held=0))


def test_a_note_template_keeps_its_text() -> None:
    t = tool(kind="note_template", template="What went well?")
    assert t.target_id is None and t.template == "What went well?"
    t.change(NOW, template="What next?")
    assert t.template == "What next?"
