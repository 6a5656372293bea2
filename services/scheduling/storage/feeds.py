"""Each person's calendar feed: only the hash of its URL's secret is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from .tables import calendar_feeds


class Feeds:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def replace(self, person_id: str, token_hash: str, now: datetime) -> None:
        values = {"token_hash": token_hash, "created_at": now}
        self.connection.execute(
            pg_insert(calendar_feeds)
            .values(person_id=person_id, **values)
            .on_conflict_do_update(index_elements=[calendar_feeds.c.person_id], set_=values)
        )

    def delete(self, person_id: str) -> bool:
        done = self.connection.execute(
            delete(calendar_feeds).where(calendar_feeds.c.person_id == person_id)
        )
        return bool(done.rowcount)

    def created_at(self, person_id: str) -> datetime | None:
        return self.connection.execute(
            select(calendar_feeds.c.created_at).where(calendar_feeds.c.person_id == person_id)
        ).scalar()

    def person_of(self, token_hash: str) -> str | None:
        return self.connection.execute(
            select(calendar_feeds.c.person_id).where(calendar_feeds.c.token_hash == token_hash)
        ).scalar()
