"""Reschedule requests: a coachee's proposed time, waiting for the coach."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from services.kernel.runtime.pagination import keyset_page

from ..domain.model import ERASED_PERSON, PENDING, ChangeRequest
from .tables import change_requests


def _request_row(r: ChangeRequest) -> dict[str, Any]:
    return {
        "tenant_id": r.tenant_id,
        "space_id": r.space_id,
        "session_id": r.session_id,
        "status": r.status,
        "original_starts_at": r.original_starts_at,
        "proposed_starts_at": r.proposed_starts_at,
        "proposed_ends_at": r.proposed_ends_at,
        "proposed_local": r.proposed_local,
        "proposed_shifted": r.proposed_shifted,
        "requested_by": r.requested_by,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "decided_at": r.decided_at,
        "decided_by": r.decided_by,
    }


def _request(r: Any) -> ChangeRequest:
    return ChangeRequest(
        id=r.id,
        tenant_id=r.tenant_id,
        space_id=r.space_id,
        session_id=r.session_id,
        status=r.status,
        original_starts_at=r.original_starts_at,
        proposed_starts_at=r.proposed_starts_at,
        proposed_ends_at=r.proposed_ends_at,
        proposed_local=r.proposed_local,
        proposed_shifted=r.proposed_shifted,
        requested_by=r.requested_by,
        created_at=r.created_at,
        expires_at=r.expires_at,
        decided_at=r.decided_at,
        decided_by=r.decided_by,
    )


class ChangeRequests:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, r: ChangeRequest) -> None:
        self.connection.execute(insert(change_requests).values(id=r.id, **_request_row(r)))

    def save(self, r: ChangeRequest) -> None:
        self.connection.execute(
            update(change_requests).where(change_requests.c.id == r.id).values(**_request_row(r))
        )

    def get(
        self, tenant_id: str, request_id: str, *, for_update: bool = False
    ) -> ChangeRequest | None:
        query = select(change_requests).where(
            change_requests.c.id == request_id, change_requests.c.tenant_id == tenant_id
        )
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return _request(row) if row else None

    def pending_of(self, session_ids: list[str]) -> list[ChangeRequest]:
        rows = self.connection.execute(
            select(change_requests)
            .where(
                change_requests.c.session_id.in_(session_ids), change_requests.c.status == PENDING
            )
            .with_for_update()
        )
        return [_request(r) for r in rows]

    def page(
        self, tenant_id: str, space_ids: list[str], status: str | None, size: int, token: str
    ) -> tuple[list[ChangeRequest], str]:
        query = select(change_requests).where(
            change_requests.c.tenant_id == tenant_id, change_requests.c.space_id.in_(space_ids)
        )
        if status is not None:
            query = query.where(change_requests.c.status == status)
        return keyset_page(self.connection, change_requests, query, size, token, _request)

    def pending_for(
        self, tenant_id: str, space_ids: list[str], limit: int = 100
    ) -> list[ChangeRequest]:
        if not space_ids:
            return []
        rows = self.connection.execute(
            select(change_requests)
            .where(
                change_requests.c.tenant_id == tenant_id,
                change_requests.c.space_id.in_(space_ids),
                change_requests.c.status == PENDING,
            )
            .order_by(change_requests.c.expires_at)
            .limit(limit)
        )
        return [_request(r) for r in rows]

    def lapsed(self, now: datetime, limit: int = 100) -> list[ChangeRequest]:
        """Pending requests whose session has started, locked (other instances skip them)."""
        rows = self.connection.execute(
            select(change_requests)
            .where(change_requests.c.status == PENDING, change_requests.c.expires_at <= now)
            .order_by(change_requests.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_request(r) for r in rows]

    def of_person(self, person_id: str) -> list[ChangeRequest]:
        rows = self.connection.execute(
            select(change_requests).where(
                or_(
                    change_requests.c.requested_by == person_id,
                    change_requests.c.decided_by == person_id,
                )
            )
        )
        return [_request(r) for r in rows]

    def anonymise(self, person_id: str) -> None:
        for column in ("requested_by", "decided_by"):
            self.connection.execute(
                update(change_requests)
                .where(change_requests.c[column] == person_id)
                .values({column: ERASED_PERSON})
            )
