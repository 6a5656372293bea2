"""Access revocations (rule 5), kept for processes that start or reconnect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from .tables import access_revocations


class AccessRevocations:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, row: dict[str, Any]) -> None:
        self.session.execute(insert(access_revocations).values(**row))

    def since(self, since: datetime) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(access_revocations)
            .where(access_revocations.c.not_before >= since)
            .order_by(access_revocations.c.not_before)
        ).all()
        return [dict(r._mapping) for r in rows]

    def prune(self, before: datetime) -> None:
        self.session.execute(
            access_revocations.delete().where(access_revocations.c.not_before < before)
        )
