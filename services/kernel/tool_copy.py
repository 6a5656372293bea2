"""Which tools of a space's toolbox hold a target, as a service that keeps a copy of them from
spaces' `spaces.tool_*` events knows it (the kernel's `runtime/tool_copies.py` keeps the copy;
this is the plain value and its rules). Plain Python: domain code imports it.

A tool names its target in the service that serves it (an assessment assignment, a content
recommendation, a module assignment). That service refuses the target to the space's coachee
while a tool of the target's own space holds it locked; the coach and co-coach are never gated
(they prepare and manage what the coachee will get). docs/adr/0019-toolbox-gates.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from .errors import FailedPrecondition
from .space_copy import Relation

# The states of services.contracts.spaces.ToolState, as the copy keeps them.
LOCKED = "locked"
UNLOCKED = "unlocked"
REMOVED = "removed"

T = TypeVar("T")


@dataclass(frozen=True)
class ToolCopy:
    """A tool's newest state the service has heard of, and the envelope sequence it came with
    (sequences count per tool: spaces numbers each tool's events)."""

    tool_id: str
    space_id: str
    tenant_id: str
    kind: str
    target_id: str | None
    state: str
    done: bool
    sequence: int
    updated_at: datetime


def supersedes(incoming: ToolCopy, held: ToolCopy | None) -> bool:
    """Whether `incoming` replaces the copy held: a newer sequence of the tool only (an event
    arriving late, or again, changes nothing)."""
    return held is None or incoming.sequence > held.sequence


def locked(tools: Iterable[ToolCopy], space_id: str) -> bool:
    """Whether the target, of `space_id`, is closed to the coachee by the tools naming it. Only
    tools of that very space count (a coach cannot gate another space's content, whatever id
    they name). A target in no toolbox is open, as before toolboxes; one that a tool holds
    locked is closed; one whose every tool was removed stays closed (the coach took it out of
    the coachee's space: removing never hands over what was locked); an unlocked tool opens it
    (a tool added again for the target, after a removal, reopens it once unlocked)."""
    states = {t.state for t in tools if t.space_id == space_id}
    return bool(states) and (LOCKED in states or UNLOCKED not in states)


def tool_locked() -> FailedPrecondition:
    return FailedPrecondition("This tool is not unlocked yet.", reason="TOOL_LOCKED")


def require_unlocked(tools: Iterable[ToolCopy], space_id: str, relation: Relation) -> None:
    """FAILED_PRECONDITION (TOOL_LOCKED) for the coachee of a target a tool holds locked; the
    space's coaches pass."""
    if relation == Relation.COACHEE and locked(tools, space_id):
        raise tool_locked()


def visible(
    items: Iterable[T],
    relation: Relation,
    space_id: str,
    tools_by_target: Mapping[str, Iterable[ToolCopy]],
    target_of: Callable[[T], str],
) -> list[T]:
    """A listing of one space's targets as `relation` sees it: the coachee's without those a
    tool holds locked; the coaches' whole."""
    if relation != Relation.COACHEE:
        return list(items)
    return [i for i in items if not locked(tools_by_target.get(target_of(i), ()), space_id)]
