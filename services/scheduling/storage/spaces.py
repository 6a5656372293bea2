"""The copies of spaces scheduling keeps from spaces' events (who is in each, its status)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..domain.model import ERASED_PERSON, SpaceCopy
from .tables import spaces


class Spaces:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, tenant_id: str, space_id: str, *, for_update: bool = False) -> SpaceCopy | None:
        query = select(spaces).where(spaces.c.space_id == space_id, spaces.c.tenant_id == tenant_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return _space(row) if row else None

    def of_person(self, tenant_id: str, person_id: str) -> list[SpaceCopy]:
        rows = self.connection.execute(
            select(spaces).where(
                spaces.c.tenant_id == tenant_id,
                or_(
                    spaces.c.coachee_person_id == person_id,
                    spaces.c.coach_person_id == person_id,
                    spaces.c.co_coach_person_id == person_id,
                ),
            )
        )
        return [_space(r) for r in rows]

    def apply(self, copy: SpaceCopy) -> SpaceCopy | None:
        """Keep the newest state; the state replaced (None if new), or `copy` itself if the
        stored one is newer (the event is stale).

        Two events of one new space may arrive at once (space_created and space_activated
        handled by two workers): the insert skips a row another transaction inserted (waiting
        for it to commit), so the loser then locks that row and keeps whichever is newer. A
        `SELECT ... FOR UPDATE` first would lock nothing while the row does not exist."""
        values = {
            "tenant_id": copy.tenant_id,
            "status": copy.status,
            "coachee_person_id": copy.coachee_person_id,
            "coach_person_id": copy.coach_person_id,
            "co_coach_person_id": copy.co_coach_person_id,
            "cadence": copy.cadence,
            "sessions_planned": copy.sessions_planned,
            "updated_at": copy.updated_at,
        }
        inserted = self.connection.execute(
            pg_insert(spaces)
            .values(space_id=copy.space_id, **values)
            .on_conflict_do_nothing(index_elements=[spaces.c.space_id])
            .returning(spaces.c.space_id)
        ).first()
        if inserted is not None:
            return None
        row = self.connection.execute(
            select(spaces).where(spaces.c.space_id == copy.space_id).with_for_update()
        ).one()
        if row.updated_at > copy.updated_at:
            return copy
        self.connection.execute(
            update(spaces).where(spaces.c.space_id == copy.space_id).values(**values)
        )
        return _space(row)

    def anonymise(self, person_id: str) -> None:
        for column in ("coachee_person_id", "coach_person_id", "co_coach_person_id"):
            self.connection.execute(
                update(spaces).where(spaces.c[column] == person_id).values({column: ERASED_PERSON})
            )


def _space(r: Any) -> SpaceCopy:
    return SpaceCopy(
        space_id=r.space_id,
        tenant_id=r.tenant_id,
        status=r.status,
        coachee_person_id=r.coachee_person_id,
        coach_person_id=r.coach_person_id,
        co_coach_person_id=r.co_coach_person_id,
        cadence=r.cadence,
        sessions_planned=r.sessions_planned,
        updated_at=r.updated_at,
    )
