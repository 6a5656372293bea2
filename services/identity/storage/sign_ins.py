"""Each person's sign-in history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from services.kernel.ids import new_id
from services.kernel.runtime.pagination import keyset_page

from .rows import jsonable
from .tables import sign_in_history


class SignInHistory:
    KEPT = timedelta(days=90)

    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(
        self, person_id: str, outcome: str, tenant_id: str | None, source: str, now: datetime
    ) -> None:
        self.session.execute(
            insert(sign_in_history).values(
                id=new_id("sgn"),
                person_id=person_id,
                created_at=now,
                outcome=outcome,
                tenant_id=tenant_id,
                source=source[:64],
            )
        )
        self.session.execute(
            sign_in_history.delete().where(
                sign_in_history.c.person_id == person_id,
                sign_in_history.c.created_at < now - self.KEPT,
            )
        )

    def delete_person(self, person_id: str) -> None:
        self.session.execute(
            sign_in_history.delete().where(sign_in_history.c.person_id == person_id)
        )

    def all_of(self, person_id: str) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(
                sign_in_history.c.created_at,
                sign_in_history.c.outcome,
                sign_in_history.c.tenant_id,
                sign_in_history.c.source,
            )
            .where(sign_in_history.c.person_id == person_id)
            .order_by(sign_in_history.c.created_at)
        ).all()
        return [jsonable(r._mapping) for r in rows]

    def page(self, person_id: str, size: int, token: str) -> tuple[list[dict[str, Any]], str]:
        query = select(sign_in_history).where(sign_in_history.c.person_id == person_id)
        return keyset_page(
            self.session,
            sign_in_history,
            query,
            size,
            token,
            lambda r: dict(r._mapping),
            newest_first=True,
        )
