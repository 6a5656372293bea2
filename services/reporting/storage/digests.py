"""The digests reporting publishes (handlers/webhooks.py): which tenants get one, and the claim
of a tenant's time slot that keeps a digest from going out twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.kernel.runtime.webhooks import webhook_subscriptions

from . import tables as t


class Digests:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def tenants_subscribed(self) -> list[str]:
        """The tenants with at least one active webhook."""
        s = webhook_subscriptions
        query = select(s.c.tenant_id).where(s.c.active).distinct().order_by(s.c.tenant_id)
        return list(self.connection.execute(query).scalars())

    def claim(self, tenant_id: str, slot: int, digest_id: str, now: datetime) -> bool:
        """True if this slot of the tenant had no digest yet (it is now `digest_id`'s)."""
        statement = (
            pg_insert(t.digests)
            .values(tenant_id=tenant_id, slot=slot, digest_id=digest_id, created_at=now)
            .on_conflict_do_nothing()
            .returning(t.digests.c.digest_id)
        )
        return self.connection.execute(statement).first() is not None

    def prune(self, before: datetime) -> int:
        """Forget the claims of slots before `before`: slots only move forward, so an old slot
        is never claimed again. How many went."""
        statement = delete(t.digests).where(t.digests.c.created_at < before)
        return self.connection.execute(statement).rowcount or 0
