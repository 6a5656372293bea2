"""The coach's roster: the spaces they coach, most recently active first."""

from __future__ import annotations

from datetime import datetime

from services.contracts import spaces as c
from services.kernel.caller import Caller, member_of
from services.kernel.crypto import MasterKey

from ..domain.model import (
    Relation,
)
from ..storage.unit import Db
from .views import space_view


def get_coach_roster(
    db: Db, master: MasterKey, caller: Caller, request: c.ListSpacesRequest
) -> c.CoachRoster:
    """The caller's coachees in this tenant: each space they coach, its status and last
    activity, most recent first (no content), with its new shared notes and its toolbox's
    counts."""
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        repo = uow.spaces.unlocked(master)
        rows = repo.roster(request.tenant_id, who.person_id)
        entries = []
        since: dict[str, datetime | None] = {}
        for row, last in rows:
            space = repo.from_row(row)
            relation = space.visible_relation(who.person_id, False)
            view = space_view(space, Relation.TENANT_ADMIN).model_copy(
                update={"relation": relation.value}
            )
            entries.append(c.RosterEntry(space=view, last_activity_at=last))
            # New since the last visit, among the notes the coach may read (Note.readable_by).
            marks = [t for t in (row.visited_at, space.earlier_hidden_from(relation)) if t]
            since[space.id] = max(marks) if marks else None
        new = uow.visits.new_shared_notes(who.person_id, since)
        counts = uow.tools.counts(list(since))  # one grouped query, not one per space
    return c.CoachRoster(
        entries=[
            e.model_copy(
                update={
                    "new_shared_notes": new.get(e.space.space_id, 0),
                    "tools_open": counts.get(e.space.space_id, (0, 0))[0],
                    "tools_total": counts.get(e.space.space_id, (0, 0))[1],
                }
            )
            for e in entries
        ]
    )
