"""Who visited which space when (for what is new since), and the sessions booked in each space
(from scheduling's events: a note may link only to these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from .tables import (
    notes,
    space_sessions,
    space_visits,
)


class Visits:
    """When each person last opened each space (what is new since)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def record(self, space_id: str, person_id: str, now: datetime) -> None:
        upsert = pg_insert(space_visits).values(
            space_id=space_id, person_id=person_id, visited_at=now
        )
        self.connection.execute(
            upsert.on_conflict_do_update(
                index_elements=[space_visits.c.space_id, space_visits.c.person_id],
                set_={"visited_at": upsert.excluded.visited_at},
                where=space_visits.c.visited_at < upsert.excluded.visited_at,
            )
        )

    def of_person(self, person_id: str) -> list[dict[str, Any]]:
        """A person's visits (their export)."""
        rows = self.connection.execute(
            select(space_visits.c.space_id, space_visits.c.visited_at)
            .where(space_visits.c.person_id == person_id)
            .order_by(space_visits.c.space_id)
        )
        return [{"space_id": r.space_id, "visited_at": r.visited_at.isoformat()} for r in rows]

    def new_shared_notes(self, person_id: str, since: dict[str, datetime | None]) -> dict[str, int]:
        """Per space, the shared notes others wrote after `since[space]` (None: ever), deleted
        ones left out. One query."""
        if not since:
            return {}
        windows = [
            notes.c.space_id == space_id
            if after is None
            else (notes.c.space_id == space_id) & (notes.c.created_at > after)
            for space_id, after in since.items()
        ]
        rows = self.connection.execute(
            select(notes.c.space_id, func.count().label("n"))
            .where(
                notes.c.space_id.in_(list(since)),
                notes.c.kind == "shared",
                notes.c.deleted_at.is_(None),
                notes.c.author_id != person_id,
                or_(*windows),
            )
            .group_by(notes.c.space_id)
        )
        return {r.space_id: r.n for r in rows}


class SpaceSessions:
    """The sessions booked in each space, from scheduling's events: a note may link only to
    these."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def record(self, session_id: str, space_id: str, tenant_id: str) -> None:
        self.connection.execute(
            text(
                "INSERT INTO space_sessions (session_id, space_id, tenant_id) VALUES (:s, :p, :t) "
                "ON CONFLICT (session_id) DO NOTHING"
            ),
            {"s": session_id, "p": space_id, "t": tenant_id},
        )

    def record_state(
        self, session_id: str, space_id: str, tenant_id: str, state: str, sequence: int
    ) -> bool:
        """The session's state from an event with this envelope `sequence`: kept unless a
        later one was already recorded (events may arrive out of order). True if it changed."""
        changed = self.connection.execute(
            text(
                "INSERT INTO space_sessions (session_id, space_id, tenant_id, state, "
                "state_sequence) VALUES (:s, :p, :t, :state, :n) "
                "ON CONFLICT (session_id) DO UPDATE SET state = excluded.state, "
                "state_sequence = excluded.state_sequence "
                "WHERE space_sessions.state_sequence < excluded.state_sequence "
                "RETURNING session_id"
            ),
            {"s": session_id, "p": space_id, "t": tenant_id, "state": state, "n": sequence},
        ).first()
        return changed is not None

    def held(self, space_id: str) -> int:
        """How many of the space's sessions are held now (corrections counted)."""
        return int(
            self.connection.execute(
                select(func.count()).where(
                    space_sessions.c.space_id == space_id, space_sessions.c.state == "held"
                )
            ).scalar_one()
        )

    def has(self, space_id: str, session_id: str) -> bool:
        return (
            self.connection.execute(
                select(space_sessions.c.session_id).where(
                    space_sessions.c.session_id == session_id, space_sessions.c.space_id == space_id
                )
            ).first()
            is not None
        )
