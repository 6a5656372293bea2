"""Each tenant's reschedule and cancellation policy (the defaults until an admin sets one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, text, update

from ..domain.model import ERASED_PERSON
from ..domain.policy import Policy
from .tables import policies


class Policies:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, tenant_id: str) -> Policy:
        """The tenant's policy; the defaults if it has none yet."""
        row = self.connection.execute(
            select(policies).where(policies.c.tenant_id == tenant_id)
        ).first()
        if row is None:
            return Policy(tenant_id)
        return Policy(
            tenant_id=row.tenant_id,
            free_hours=row.free_hours,
            request_hours=row.request_hours,
            late_cancel_uses_session=row.late_cancel_uses_session,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )

    def create_default(self, tenant_id: str, now: datetime) -> None:
        default = Policy(tenant_id)
        self.connection.execute(
            text(
                "INSERT INTO policies (tenant_id, free_hours, request_hours, "
                "late_cancel_uses_session, updated_at) VALUES (:t, :f, :r, :l, :u) "
                "ON CONFLICT (tenant_id) DO NOTHING"
            ),
            {
                "t": tenant_id,
                "f": default.free_hours,
                "r": default.request_hours,
                "l": default.late_cancel_uses_session,
                "u": now,
            },
        )

    def save(self, policy: Policy) -> None:
        values = {
            "free_hours": policy.free_hours,
            "request_hours": policy.request_hours,
            "late_cancel_uses_session": policy.late_cancel_uses_session,
            "updated_at": policy.updated_at,
            "updated_by": policy.updated_by,
        }
        done = self.connection.execute(
            update(policies).where(policies.c.tenant_id == policy.tenant_id).values(**values)
        )
        if done.rowcount == 0:
            self.connection.execute(insert(policies).values(tenant_id=policy.tenant_id, **values))

    def anonymise(self, person_id: str) -> None:
        self.connection.execute(
            update(policies)
            .where(policies.c.updated_by == person_id)
            .values(updated_by=ERASED_PERSON)
        )
