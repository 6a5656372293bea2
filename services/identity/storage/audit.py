"""The security and administration audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from services.kernel.ids import new_id
from services.kernel.runtime.pagination import keyset_page

from .rows import jsonable
from .tables import audit_log


class AuditLog:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(audit_log), [{"id": new_id("aud"), **r} for r in rows])

    def forget_sources(self, person_id: str) -> None:
        """Erasure: the addresses the person's attempts came from go; the ids and times stay
        (security records that name nobody once the account is anonymised)."""
        self.session.execute(
            update(audit_log)
            .where(audit_log.c.subject == person_id, audit_log.c.detail.has_key("source"))
            .values(detail=audit_log.c.detail - "source")
        )

    def about(self, person_id: str, member_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Rows the person did, or that are about them or their memberships."""
        subjects = [person_id, *member_ids]
        rows = self.session.execute(
            select(
                audit_log.c.created_at,
                audit_log.c.action,
                audit_log.c.tenant_id,
                audit_log.c.actor_id,
                audit_log.c.subject,
                audit_log.c.detail,
            )
            .where((audit_log.c.actor_id == person_id) | audit_log.c.subject.in_(subjects))
            .order_by(audit_log.c.created_at)
        ).all()
        return [jsonable(r._mapping) for r in rows]

    def page(
        self, size: int, token: str, *, tenant_id: str | None, actions: Sequence[str] | None
    ) -> tuple[list[dict[str, Any]], str]:
        """Newest first; one tenant's rows (`tenant_id`), or every row (None)."""
        query = select(audit_log)
        if tenant_id is not None:
            query = query.where(audit_log.c.tenant_id == tenant_id)
        if actions is not None:
            query = query.where(audit_log.c.action.in_(list(actions)))
        return keyset_page(
            self.session,
            audit_log,
            query,
            size,
            token,
            lambda r: dict(r._mapping),
            newest_first=True,
        )
