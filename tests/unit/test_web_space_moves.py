"""The web pages offer a space's lifecycle moves as the spaces service decides them: the same
moves, from the same statuses, to the same status, for the same relations
(gateway/web/space_moves.py said again from services/spaces/domain/model.py)."""

from __future__ import annotations

import pytest

from gateway.api.pb import spaces_pb2 as spb
from gateway.web.space_moves import MOVES, moves_for
from services.spaces.domain import model

STATUSES = {
    model.DRAFT: spb.SPACE_DRAFT,
    model.ACTIVE: spb.SPACE_ACTIVE,
    model.PAUSED: spb.SPACE_PAUSED,
    model.COMPLETED: spb.SPACE_COMPLETED,
    model.ARCHIVED: spb.SPACE_ARCHIVED,
}
RELATIONS = {
    model.Relation.COACHEE: spb.AS_COACHEE,
    model.Relation.COACH: spb.AS_COACH,
    model.Relation.CO_COACH: spb.AS_CO_COACH,
    model.Relation.TENANT_ADMIN: spb.AS_TENANT_ADMIN,
}


def test_the_pages_know_the_services_moves() -> None:
    assert set(MOVES) == set(model.MOVES)
    for name, (starts, ends, allowed) in model.MOVES.items():
        move = MOVES[name]
        assert sorted(move.starts) == sorted(STATUSES[s] for s in starts), name
        assert move.ends == STATUSES[ends], name
        assert move.by == {RELATIONS[r] for r in allowed}, name


@pytest.mark.parametrize(
    ("status", "relation", "offered"),
    [
        (spb.SPACE_DRAFT, spb.AS_COACH, ["activate", "archive"]),
        (spb.SPACE_ACTIVE, spb.AS_CO_COACH, ["pause", "complete"]),
        (spb.SPACE_PAUSED, spb.AS_COACHEE, ["resume"]),
        (spb.SPACE_ACTIVE, spb.AS_TENANT_ADMIN, []),
        (spb.SPACE_COMPLETED, spb.AS_TENANT_ADMIN, ["archive"]),
        (spb.SPACE_ARCHIVED, spb.AS_COACH, []),
    ],
)
def test_a_page_offers_only_the_moves_the_status_and_relation_allow(
    status: int, relation: int, offered: list[str]
) -> None:
    space = spb.Space(status=status, relation=relation)  # type: ignore[arg-type]
    assert [m.name for m in moves_for(space)] == offered


def test_only_moves_that_cannot_be_undone_ask_first() -> None:
    assert {m.name for m in MOVES.values() if m.confirm} == {"complete", "archive"}
