"""Calendar messages sent: one row per calendar object, person and version, claimed before the
mail goes (so the many events of one change send it once) and released if sending fails."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert

from .tables import calendar_sent


class CalendarClaims:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def claim(self, uid: str, person_id: str, version: str, now: datetime) -> bool:
        """True if this message was not claimed yet (and now is)."""
        done = self.connection.execute(
            pg_insert(calendar_sent)
            .values(uid=uid, person_id=person_id, version=version, sent_at=now)
            .on_conflict_do_nothing()
            .returning(calendar_sent.c.uid)
        ).first()
        return done is not None

    def release(self, uid: str, person_id: str, version: str) -> None:
        self.connection.execute(
            delete(calendar_sent).where(
                calendar_sent.c.uid == uid,
                calendar_sent.c.person_id == person_id,
                calendar_sent.c.version == version,
            )
        )

    def forget(self, person_id: str) -> None:
        """An erased person's record of the invitations sent to them."""
        self.connection.execute(delete(calendar_sent).where(calendar_sent.c.person_id == person_id))
