"""The sign-in throttle's counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..domain.throttle import Counter
from .tables import sign_in_throttle


class Throttle:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def get(self, keys: Sequence[str]) -> list[Counter]:
        rows = self.session.execute(
            select(sign_in_throttle).where(sign_in_throttle.c.key.in_(list(keys)))
        ).all()
        return [Counter(**r._mapping) for r in rows]

    def locked(self, keys: Sequence[str], now: datetime) -> dict[str, Counter]:
        """The counters, created if missing, locked for update (in key order: no deadlock)."""
        ordered = sorted(set(keys))
        self.session.execute(
            pg_insert(sign_in_throttle)
            .values([{"key": k, "failures": 0, "window_start": now} for k in ordered])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        rows = self.session.execute(
            select(sign_in_throttle)
            .where(sign_in_throttle.c.key.in_(ordered))
            .order_by(sign_in_throttle.c.key)
            .with_for_update()
        ).all()
        return {r.key: Counter(**r._mapping) for r in rows}

    def save(self, counters: Sequence[Counter]) -> None:
        for c in counters:
            self.session.execute(
                update(sign_in_throttle)
                .where(sign_in_throttle.c.key == c.key)
                .values(
                    failures=c.failures,
                    window_start=c.window_start,
                    blocked_until=c.blocked_until,
                )
            )

    def clear(self, key: str) -> None:
        self.session.execute(sign_in_throttle.delete().where(sign_in_throttle.c.key == key))

    def prune(self, before: datetime) -> None:
        """Forgets counters whose window and wait are both over."""
        self.session.execute(
            sign_in_throttle.delete().where(
                sign_in_throttle.c.window_start < before,
                (sign_in_throttle.c.blocked_until.is_(None))
                | (sign_in_throttle.c.blocked_until < before),
            )
        )
