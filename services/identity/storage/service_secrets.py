"""The service's own secrets (the link key), wrapped by the master key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from .tables import service_secrets


class Secrets:
    """Service secrets wrapped by the master key (the link key)."""

    def __init__(self, session: Connection) -> None:
        self.session = session

    def get(self, name: str) -> str | None:
        row = self.session.execute(
            select(service_secrets.c.wrapped).where(service_secrets.c.name == name)
        ).first()
        return str(row.wrapped) if row else None

    def add_if_missing(self, name: str, wrapped: str, now: datetime) -> None:
        self.session.execute(
            pg_insert(service_secrets)
            .values(name=name, wrapped=wrapped, created_at=now)
            .on_conflict_do_nothing()
        )
