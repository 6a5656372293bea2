"""Erasures and their steps, one per service keeping personal data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from services.kernel.runtime.pagination import keyset_page

from .tables import erasure_steps, erasures


class Erasures:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(
        self,
        erasure_id: str,
        person_id: str,
        now: datetime,
        requested_by: str,
        receipt_hash: str | None,
        services: Sequence[str],
        done: str,
    ) -> None:
        """The request, and one step per service; `done` (identity) completes with it."""
        self.session.execute(
            insert(erasures).values(
                id=erasure_id,
                person_id=person_id,
                created_at=now,
                requested_by=requested_by,
                receipt_hash=receipt_hash,
            )
        )
        self.session.execute(
            insert(erasure_steps),
            [
                {"erasure_id": erasure_id, "service": s, "completed_at": now if s == done else None}
                for s in services
            ],
        )
        self._complete_if_done(erasure_id, now)

    def complete_step(self, erasure_id: str, service: str, now: datetime) -> None:
        """A service reported; the erasure completes with its last step (under a row lock, so
        that two services reporting at once cannot both miss it)."""
        locked = self.session.execute(
            select(erasures.c.id).where(erasures.c.id == erasure_id).with_for_update()
        ).first()
        if locked is None:
            return  # not ours (another deployment's erasure): nothing to record
        self.session.execute(
            update(erasure_steps)
            .where(
                erasure_steps.c.erasure_id == erasure_id,
                erasure_steps.c.service == service,
                erasure_steps.c.completed_at.is_(None),
            )
            .values(completed_at=now)
        )
        self._complete_if_done(erasure_id, now)

    def _complete_if_done(self, erasure_id: str, now: datetime) -> None:
        waiting = self.session.execute(
            select(func.count())
            .select_from(erasure_steps)
            .where(erasure_steps.c.erasure_id == erasure_id, erasure_steps.c.completed_at.is_(None))
        ).scalar_one()
        if waiting == 0:
            self.session.execute(
                update(erasures)
                .where(erasures.c.id == erasure_id, erasures.c.completed_at.is_(None))
                .values(completed_at=now)
            )

    def since(self, since: datetime) -> list[Any]:
        return list(
            self.session.execute(
                select(erasures)
                .where(erasures.c.created_at >= since)
                .order_by(erasures.c.created_at)
            )
        )

    def get(self, erasure_id: str) -> dict[str, Any] | None:
        row = self.session.execute(select(erasures).where(erasures.c.id == erasure_id)).first()
        return self._with_steps([row])[0] if row else None

    def by_receipt(self, receipt_hash: str) -> dict[str, Any] | None:
        row = self.session.execute(
            select(erasures).where(erasures.c.receipt_hash == receipt_hash)
        ).first()
        return self._with_steps([row])[0] if row else None

    def page(self, size: int, token: str) -> tuple[list[dict[str, Any]], str]:
        rows, nxt = keyset_page(
            self.session, erasures, select(erasures), size, token, lambda r: r, newest_first=True
        )
        return self._with_steps(rows), nxt

    def _with_steps(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        ids = [r.id for r in rows]
        steps: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for s in self.session.execute(
                select(erasure_steps)
                .where(erasure_steps.c.erasure_id.in_(ids))
                .order_by(erasure_steps.c.service)
            ):
                steps[s.erasure_id].append({"service": s.service, "completed_at": s.completed_at})
        return [{**dict(r._mapping), "steps": steps[r.id]} for r in rows]
