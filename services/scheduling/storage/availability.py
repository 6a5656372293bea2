"""Coaches' weekly hours, exceptions and booking rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from ..domain.availability import Availability, Exception_, Hours
from .tables import availability


class Availabilities:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, coach_person_id: str) -> Availability | None:
        row = self.connection.execute(
            select(availability).where(availability.c.coach_person_id == coach_person_id)
        ).first()
        if row is None:
            return None
        return Availability(
            coach_person_id=row.coach_person_id,
            time_zone=row.time_zone,
            weekly=[Hours(**h) for h in row.weekly],
            exceptions=[
                Exception_(datetime.fromisoformat(e["on"]).date(), e["kind"], e["start"], e["end"])
                for e in row.exceptions
            ],
            session_minutes=list(row.session_minutes),
            buffer_minutes=row.buffer_minutes,
            min_notice_minutes=row.min_notice_minutes,
            horizon_days=row.horizon_days,
            updated_at=row.updated_at,
        )

    def save(self, a: Availability) -> None:
        values = {
            "time_zone": a.time_zone,
            "weekly": [{"weekday": h.weekday, "start": h.start, "end": h.end} for h in a.weekly],
            "exceptions": [
                {"on": e.on.isoformat(), "kind": e.kind, "start": e.start, "end": e.end}
                for e in a.exceptions
            ],
            "session_minutes": a.session_minutes,
            "buffer_minutes": a.buffer_minutes,
            "min_notice_minutes": a.min_notice_minutes,
            "horizon_days": a.horizon_days,
            "updated_at": a.updated_at,
        }
        done = self.connection.execute(
            update(availability)
            .where(availability.c.coach_person_id == a.coach_person_id)
            .values(**values)
        )
        if done.rowcount == 0:
            self.connection.execute(
                insert(availability).values(coach_person_id=a.coach_person_id, **values)
            )

    def delete(self, person_id: str) -> None:
        self.connection.execute(
            delete(availability).where(availability.c.coach_person_id == person_id)
        )
