"""The tool-copy pattern (services/kernel/tool_copy.py, runtime/tool_copies.py): a copy of each
tool kept by sequence, a target closed to the coachee only by a locked tool of its own space,
and every tool event of the contract handled in each service that serves toolbox targets."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest

from services.contracts import spaces as sc
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.runtime.tool_copies import ToolCopies, tool_copy_of
from services.kernel.runtime.topology import subscriptions_of
from services.kernel.space_copy import Relation
from services.kernel.tool_copy import (
    LOCKED,
    REMOVED,
    UNLOCKED,
    ToolCopy,
    locked,
    require_unlocked,
    supersedes,
    visible,
)
from tests.support.toolbox import tool_event
from tests.unit.fakes.tool_copies import FakeToolCopies

pytestmark = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")  # imported only

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)
SPACE, OTHER_SPACE = "spc_1", "spc_2"


def tool(state: str = LOCKED, sequence: int = 1, space_id: str = SPACE, **kw: object) -> ToolCopy:
    values: dict[str, object] = {
        "tool_id": "tol_1",
        "space_id": space_id,
        "tenant_id": "tnt_1",
        "kind": "assessment",
        "target_id": "asg_1",
        "state": state,
        "done": False,
        "sequence": sequence,
        "updated_at": AT,
        **kw,
    }
    return ToolCopy(**values)  # type: ignore[arg-type]


def test_only_a_newer_sequence_replaces_the_copy_held() -> None:
    assert supersedes(tool(sequence=1), None)
    assert supersedes(tool(sequence=3), tool(sequence=2))
    assert not supersedes(tool(sequence=2), tool(sequence=3))  # late
    assert not supersedes(tool(sequence=3), tool(sequence=3))  # again


def test_a_target_is_closed_by_a_locked_or_removed_tool_of_its_own_space() -> None:
    assert not locked([], SPACE)  # in no toolbox: open, as before toolboxes
    assert locked([tool(LOCKED)], SPACE)
    assert not locked([tool(UNLOCKED)], SPACE)
    assert locked([tool(REMOVED)], SPACE)  # removed: taken out of the coachee's space
    assert not locked([tool(REMOVED), tool(UNLOCKED, tool_id="tol_3")], SPACE)  # added again
    assert not locked([tool(LOCKED, space_id=OTHER_SPACE)], SPACE)  # another space's coach
    # Two tools holding one target: any locked one of the space closes it.
    assert locked([tool(UNLOCKED), tool(LOCKED, tool_id="tol_2")], SPACE)


def test_the_coachee_is_refused_a_locked_target_and_the_coaches_never_are() -> None:
    with pytest.raises(DomainError) as caught:
        require_unlocked([tool(LOCKED)], SPACE, Relation.COACHEE)
    assert (caught.value.code, caught.value.reason) == (
        ErrorCode.FAILED_PRECONDITION,
        "TOOL_LOCKED",
    )
    require_unlocked([tool(LOCKED)], SPACE, Relation.COACH)
    require_unlocked([tool(UNLOCKED)], SPACE, Relation.COACHEE)
    require_unlocked([tool(LOCKED, space_id=OTHER_SPACE)], SPACE, Relation.COACHEE)


def test_a_listing_leaves_locked_targets_out_for_the_coachee_only() -> None:
    items = ["asg_1", "asg_2", "asg_3"]
    tools = {
        "asg_1": [tool(LOCKED)],
        "asg_2": [tool(UNLOCKED, target_id="asg_2")],
        "asg_3": [tool(LOCKED, space_id=OTHER_SPACE, target_id="asg_3")],
    }
    assert visible(items, Relation.COACHEE, SPACE, tools, str) == ["asg_2", "asg_3"]
    assert visible(items, Relation.COACH, SPACE, tools, str) == items


class State:
    def __init__(self) -> None:
        self.tools: dict[str, ToolCopy] = {}


def test_the_copy_is_applied_by_the_envelope_s_sequence() -> None:
    store = FakeToolCopies(State())
    base = {"tool_id": "tol_1", "space_id": SPACE, "tenant_id": "tnt_1", "kind": "module"}
    added = tool_event(sc.ToolAdded, **base, target_id="mas_1", state=LOCKED, sequence=1)
    unlocked = tool_event(sc.ToolUnlocked, **base, target_id="mas_1", state=UNLOCKED, sequence=2)
    assert store.apply(tool_copy_of(*unlocked))
    assert not store.apply(tool_copy_of(*added))  # arrived late: the newer state stays
    kept = store.get("tol_1")
    assert kept is not None and (kept.state, kept.sequence, kept.kind) == (UNLOCKED, 2, "module")
    assert store.of_targets("module", ["mas_1", "mas_2"]) == {"mas_1": [kept]}
    assert store.of_target("assessment", "mas_1") == []


TOOL_TYPES = {m.TYPE for m in sc.TOOL_EVENTS}


def test_every_tool_event_of_the_contract_has_its_declared_handler() -> None:
    for model in sc.TOOL_EVENTS:
        name = "on_" + model.TYPE.replace(".", "_")
        entrypoints = getattr(getattr(ToolCopies, name, None), "nameko_entrypoints", ())
        assert [e.event_type for e in entrypoints] == [model.TYPE], f"ToolCopies.{name}"


@pytest.mark.parametrize("module", ["services.assessment.service", "services.content.service"])
def test_a_service_serving_toolbox_targets_subscribes_to_every_tool_event(module: str) -> None:
    cls = next(
        v
        for v in vars(importlib.import_module(module)).values()
        if isinstance(v, type) and issubclass(v, ToolCopies) and v is not ToolCopies
    )
    assert "record_tool" in vars(cls), "a ToolCopies service writes its own record_tool"
    assert TOOL_TYPES <= {s.event_type for s in subscriptions_of(cls)}
