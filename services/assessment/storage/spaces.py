"""The copies of spaces assessment keeps from spaces' events (who is in each, its status)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..domain.assignments import SpaceCopy
from .tables import spaces

ERASED_PERSON = "erased"


class Spaces:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, space_id: str) -> SpaceCopy | None:
        row = self.connection.execute(select(spaces).where(spaces.c.space_id == space_id)).first()
        return _space(row) if row else None

    def apply(self, copy: SpaceCopy) -> None:
        """Keep the newest state (an older event arriving late changes nothing). The insert
        skips a row another transaction inserted, then the row is locked and compared."""
        values = {
            "tenant_id": copy.tenant_id,
            "status": copy.status,
            "coachee_person_id": copy.coachee_person_id,
            "coach_person_id": copy.coach_person_id,
            "co_coach_person_id": copy.co_coach_person_id,
            "updated_at": copy.updated_at,
        }
        inserted = self.connection.execute(
            pg_insert(spaces)
            .values(space_id=copy.space_id, **values)
            .on_conflict_do_nothing(index_elements=[spaces.c.space_id])
            .returning(spaces.c.space_id)
        ).first()
        if inserted is not None:
            return
        row = self.connection.execute(
            select(spaces).where(spaces.c.space_id == copy.space_id).with_for_update()
        ).one()
        if row.updated_at > copy.updated_at:
            return
        self.connection.execute(
            update(spaces).where(spaces.c.space_id == copy.space_id).values(**values)
        )

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
        updated_at=r.updated_at,
    )
