"""Each person's reminder choices and the claims of reminders sent (one per session, person
and offset: the sweep of any instance sends each at most once)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..domain.model import Session
from ..domain.reminders import CalendarChoice
from .sessions import session_of
from .tables import reminder_settings, reminders_sent, sessions


class Reminders:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def choices(self, person_ids: set[str]) -> dict[str, CalendarChoice]:
        """Each person's choice; the defaults for those who made none."""
        rows = self.connection.execute(
            select(reminder_settings).where(reminder_settings.c.person_id.in_(person_ids))
        )
        found = {
            r.person_id: CalendarChoice(
                r.person_id, r.off, tuple(r.minutes), r.updated_at, r.title, r.show_coach_name
            )
            for r in rows
        }
        return {p: found.get(p, CalendarChoice(p)) for p in person_ids}

    def save(self, choice: CalendarChoice) -> None:
        values = {
            "off": choice.off,
            "minutes": list(choice.minutes),
            "updated_at": choice.updated_at,
            "title": choice.title,
            "show_coach_name": choice.show_coach_name,
        }
        self.connection.execute(
            pg_insert(reminder_settings)
            .values(person_id=choice.person_id, **values)
            .on_conflict_do_update(index_elements=[reminder_settings.c.person_id], set_=values)
        )

    def upcoming(self, now: datetime, within: timedelta) -> list[Session]:
        """Booked sessions starting in (now, now + within]."""
        rows = self.connection.execute(
            select(sessions).where(
                sessions.c.status == "booked",
                sessions.c.starts_at > now,
                sessions.c.starts_at <= now + within,
            )
        )
        return [session_of(r) for r in rows]

    def already(self, session_ids: list[str]) -> set[tuple[str, str, int]]:
        rows = self.connection.execute(
            select(
                reminders_sent.c.session_id, reminders_sent.c.person_id, reminders_sent.c.minutes
            ).where(reminders_sent.c.session_id.in_(session_ids))
        )
        return {(r.session_id, r.person_id, r.minutes) for r in rows}

    def claim(self, session_id: str, person_id: str, minutes: int, now: datetime) -> bool:
        done = self.connection.execute(
            pg_insert(reminders_sent)
            .values(session_id=session_id, person_id=person_id, minutes=minutes, claimed_at=now)
            .on_conflict_do_nothing()
            .returning(reminders_sent.c.session_id)
        ).first()
        return done is not None

    def release(self, session_id: str, person_id: str, minutes: list[int]) -> None:
        """Claims given back (their mail could not be sent): the next sweep tries again."""
        self.connection.execute(
            delete(reminders_sent).where(
                reminders_sent.c.session_id == session_id,
                reminders_sent.c.person_id == person_id,
                reminders_sent.c.minutes.in_(minutes),
            )
        )

    def forget(self, person_id: str) -> None:
        """An erased person's choice and the record of their reminders."""
        self.connection.execute(
            delete(reminder_settings).where(reminder_settings.c.person_id == person_id)
        )
        self.connection.execute(
            delete(reminders_sent).where(reminders_sent.c.person_id == person_id)
        )
