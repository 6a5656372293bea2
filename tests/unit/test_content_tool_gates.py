"""Content follows the space's toolbox (handlers/tools.py, ADR 0019) on in-memory repositories:
a recommendation (tool kind resource) or a module assignment (kind module) a locked tool holds
is refused to the coachee (TOOL_LOCKED) and left out of the coachee's lists; the coach still sees
it; unlocked opens it and removed closes it again; a late event changes nothing; a tool of another space, or of
another kind, gates nothing."""

from __future__ import annotations

from typing import Any

import pytest

from services.content.handlers import modules, recommendations, tools
from services.contracts import content as c
from services.contracts import spaces as sc
from tests.support.toolbox import heard
from tests.unit.test_content_handlers import MASTER, add, recommend
from tests.unit.test_content_module_handlers import (
    COACH,
    COACHEE,
    DEPLOYMENT,
    SPACE,
    TENANT,
    assign,
    imported,
    lesson,
    refused,
)
from tests.unit.test_content_module_handlers import clock as clock  # the fixtures
from tests.unit.test_content_module_handlers import db as db

pytestmark = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")


def hear(
    db: Any,
    model: type[sc.ToolEvent],
    kind: str,
    target_id: str,
    state: str,
    sequence: int,
    **more: str,
) -> None:
    """The tool event as content's handler applies it (a tool of the space unless `more` says
    otherwise)."""
    place = {"tool_id": "tol_1", "space_id": SPACE, **more}
    heard(
        db,
        tools.record_tool,
        model,
        tenant_id=TENANT,
        kind=kind,
        target_id=target_id,
        state=state,
        sequence=sequence,
        **place,
    )


def modules_of(db: Any, who: Any) -> set[str]:
    request = c.ListModuleAssignmentsRequest(space_id=SPACE)
    return {a.assignment_id for a in modules.list_module_assignments(db, who, request).assignments}


def recommendations_of(db: Any, who: Any) -> set[str]:
    request = c.ListRecommendationsRequest(space_id=SPACE)
    found = recommendations.list_recommendations(db, MASTER, who, request).recommendations
    return {r.recommendation_id for r in found}


def mark(recommendation_id: str) -> c.MarkRecommendationRequest:
    return c.MarkRecommendationRequest(recommendation_id=recommendation_id, read=True)


def test_a_locked_module_is_refused_to_the_coachee_and_shown_to_the_coach(db: Any) -> None:
    imported(db)
    made = assign(db)
    gated = made.assignment_id
    hear(db, sc.ToolAdded, "module", gated, "locked", 1)
    ref = c.ModuleAssignmentRef(assignment_id=gated)

    error = refused("TOOL_LOCKED", modules.open_lesson, db, COACHEE, lesson(made))
    assert error.code == "FAILED_PRECONDITION"
    refused(
        "TOOL_LOCKED", modules.complete_lesson, db, DEPLOYMENT, COACHEE, lesson(made, "prepare")
    )
    refused("TOOL_LOCKED", modules.get_module_progress, db, COACHEE, ref)
    block = c.BlockAnsweredRequest(
        assignment_id=gated, lesson="prepare", block=0, kind="reflection"
    )
    refused("TOOL_LOCKED", modules.record_block_answered, db, DEPLOYMENT, COACHEE, block)
    assert modules_of(db, COACHEE) == set()
    assert db.events == []  # nothing started

    assert modules.get_module_progress(db, COACH, ref).status == "not_started"
    assert modules_of(db, COACH) == {gated}

    hear(db, sc.ToolUnlocked, "module", gated, "unlocked", 2)
    assert modules.open_lesson(db, COACHEE, lesson(made)).status == "started"
    assert modules_of(db, COACHEE) == {gated}

    hear(db, sc.ToolUnlocked, "module", gated, "unlocked", 1)  # late: changes nothing
    hear(db, sc.ToolLocked, "module", gated, "locked", 3)  # the coach locks it again
    refused("TOOL_LOCKED", modules.open_lesson, db, COACHEE, lesson(made))
    hear(db, sc.ToolRemoved, "module", gated, "removed", 4)  # taken out: stays closed
    refused("TOOL_LOCKED", modules.open_lesson, db, COACHEE, lesson(made))


def test_a_locked_recommendation_is_refused_to_the_coachee_and_shown_to_the_coach(
    db: Any,
) -> None:
    read = add(db, COACH, "private", "A read")
    gated = recommend(db, COACH, read).recommendation_id
    free = recommend(db, COACH, read).recommendation_id
    hear(db, sc.ToolAdded, "resource", gated, "locked", 1)

    refused("TOOL_LOCKED", recommendations.mark_recommendation, db, MASTER, COACHEE, mark(gated))
    assert recommendations_of(db, COACHEE) == {free}
    assert recommendations_of(db, COACH) == {gated, free}
    recommendations.mark_recommendation(db, MASTER, COACHEE, mark(free))

    hear(db, sc.ToolUnlocked, "resource", gated, "unlocked", 2)
    marked = recommendations.mark_recommendation(db, MASTER, COACHEE, mark(gated))
    assert marked.status == "read"
    assert recommendations_of(db, COACHEE) == {gated, free}


def test_another_space_s_tool_or_another_kind_gates_nothing(db: Any) -> None:
    imported(db)
    made = assign(db)
    hear(db, sc.ToolAdded, "module", made.assignment_id, "locked", 1, space_id="spc_elsewhere")
    hear(db, sc.ToolAdded, "resource", made.assignment_id, "locked", 1, tool_id="tol_2")
    hear(db, sc.ToolAdded, "assessment", made.assignment_id, "locked", 1, tool_id="tol_3")
    assert modules.open_lesson(db, COACHEE, lesson(made)).status == "started"
    assert modules_of(db, COACHEE) == {made.assignment_id}
    assert db.state.tools.keys() == {"tol_1", "tol_2"}  # assessment's tools are not kept here
