"""Assessment follows the space's toolbox (handlers/tools.py, ADR 0019) on in-memory
repositories: an assignment a locked tool holds is refused to the coachee (TOOL_LOCKED) for
reading, answering, submitting, its trend and its 360, and left out of the coachee's list; the
coach still sees and manages it; unlocked opens it, removed closes it again; a late event changes nothing; a
tool of another space, or of another kind, gates nothing; a tool heard of before its target
gates it from the start."""

from __future__ import annotations

from typing import Any

import pytest

from services.assessment.handlers import assignments, raters, tools
from services.contracts import assessment as c
from services.contracts import spaces as sc
from tests.support.toolbox import heard
from tests.unit.test_assessment_handlers import (
    COACH,
    COACHEE,
    MASTER,
    SPACE,
    TENANT,
    WHEEL,
    answer,
    assign,
    refused,
)
from tests.unit.test_assessment_handlers import clock as clock  # the fixtures
from tests.unit.test_assessment_handlers import db as db

pytestmark = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")


def hear(
    db: Any, model: type[sc.ToolEvent], target_id: str, state: str, sequence: int, **more: str
) -> None:
    """The tool event as assessment's handler applies it (a tool of the space, an assessment,
    unless `more` says otherwise)."""
    fields = {"tool_id": "tol_1", "space_id": SPACE, "kind": "assessment", **more}
    heard(
        db,
        tools.record_tool,
        model,
        tenant_id=TENANT,
        target_id=target_id,
        state=state,
        sequence=sequence,
        **fields,
    )


def listed(db: Any, who: Any) -> set[str]:
    request = c.ListAssignmentsRequest(space_id=SPACE)
    found = assignments.list_assignments(db, MASTER, who, request).assignments
    return {a.assignment_id for a in found}


def ref(assignment_id: str) -> c.AssignmentRef:
    return c.AssignmentRef(assignment_id=assignment_id)


def test_a_locked_tool_s_assignment_is_refused_to_the_coachee_and_shown_to_the_coach(
    db: Any,
) -> None:
    gated, free = assign(db).assignment_id, assign(db, instrument_id="values").assignment_id
    hear(db, sc.ToolAdded, gated, "locked", 1)

    for call, request in (
        (assignments.get_assignment, ref(gated)),
        (assignments.get_trend, ref(gated)),
        (raters.get_feedback, ref(gated)),
        (assignments.get_attempt, c.AttemptRef(assignment_id=gated, number=1)),
    ):
        error = refused("TOOL_LOCKED", call, db, MASTER, COACHEE, request)
        assert error.code == "FAILED_PRECONDITION"
    refused("TOOL_LOCKED", answer, db, gated, {"health": 7}, submit=False)
    refused("TOOL_LOCKED", answer, db, gated, WHEEL, submit=True)
    assert listed(db, COACHEE) == {free}

    # The coach is never gated: reads, lists and manages it.
    assert assignments.get_assignment(db, MASTER, COACH, ref(gated)).assignment_id == gated
    assert listed(db, COACH) == {gated, free}
    refused("RETAKE_NOT_NEEDED", assignments.allow_retake, db, MASTER, COACH, ref(gated))

    hear(db, sc.ToolUnlocked, gated, "unlocked", 2)
    assert assignments.get_assignment(db, MASTER, COACHEE, ref(gated)).assignment_id == gated
    assert answer(db, gated, WHEEL, submit=True).status == "submitted"
    assert listed(db, COACHEE) == {gated, free}


def test_the_newest_sequence_wins_whatever_the_order_of_arrival(db: Any) -> None:
    gated = assign(db).assignment_id
    hear(db, sc.ToolLocked, gated, "locked", 3)
    hear(db, sc.ToolUnlocked, gated, "unlocked", 2)  # older: changes nothing
    refused("TOOL_LOCKED", assignments.get_assignment, db, MASTER, COACHEE, ref(gated))
    hear(db, sc.ToolUnlocked, gated, "unlocked", 4)
    assert assignments.get_assignment(db, MASTER, COACHEE, ref(gated)).assignment_id == gated
    hear(db, sc.ToolLocked, gated, "locked", 4)  # the same sequence again: changes nothing
    assert listed(db, COACHEE) == {gated}


def test_a_removed_tool_keeps_its_target_from_the_coachee_until_a_tool_unlocks_it(db: Any) -> None:
    gated = assign(db).assignment_id
    hear(db, sc.ToolAdded, gated, "unlocked", 1)
    hear(db, sc.ToolRemoved, gated, "removed", 2)
    refused("TOOL_LOCKED", assignments.get_assignment, db, MASTER, COACHEE, ref(gated))
    assert listed(db, COACHEE) == set()
    assert assignments.get_assignment(db, MASTER, COACH, ref(gated)).assignment_id == gated
    hear(db, sc.ToolAdded, gated, "unlocked", 1, tool_id="tol_again")  # added again, unlocked
    assert listed(db, COACHEE) == {gated}


def test_another_space_s_tool_or_another_kind_gates_nothing(db: Any) -> None:
    target = assign(db).assignment_id
    hear(db, sc.ToolAdded, target, "locked", 1, space_id="spc_elsewhere")
    hear(db, sc.ToolAdded, target, "locked", 1, kind="module", tool_id="tol_2")
    assert assignments.get_assignment(db, MASTER, COACHEE, ref(target)).assignment_id == target
    assert listed(db, COACHEE) == {target}


def test_a_tool_heard_of_before_its_assignment_exists_gates_it_once_created(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hear(db, sc.ToolAdded, "asg_f00d", "locked", 1)  # spaces knew the id first
    monkeypatch.setattr(assignments, "new_id", lambda prefix: "asg_f00d")
    assert assign(db).assignment_id == "asg_f00d"
    refused("TOOL_LOCKED", assignments.get_assignment, db, MASTER, COACHEE, ref("asg_f00d"))
    assert listed(db, COACHEE) == set()
