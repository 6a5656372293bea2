"""Coaches' own instruments, one row per version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from services.kernel.space_copy import ERASED_PERSON

from .tables import instruments


@dataclass(frozen=True)
class StoredInstrument:
    instrument_id: str
    version: int
    tenant_id: str
    owner_person_id: str
    slug: str
    shared: bool
    document: dict[str, Any]  # the InstrumentDocument's JSON
    created_at: datetime


class Instruments:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, stored: StoredInstrument) -> None:
        self.connection.execute(instruments.insert().values(**stored.__dict__))
        # `shared` is the instrument's: every version says the same.
        self.connection.execute(
            update(instruments)
            .where(instruments.c.instrument_id == stored.instrument_id)
            .values(shared=stored.shared)
        )

    def get(self, instrument_id: str, version: int = 0) -> StoredInstrument | None:
        query = select(instruments).where(instruments.c.instrument_id == instrument_id)
        if version:
            query = query.where(instruments.c.version == version)
        row = self.connection.execute(query.order_by(instruments.c.version.desc()).limit(1)).first()
        return _stored(row) if row else None

    def latest_visible_to(self, tenant_id: str, person_id: str) -> list[StoredInstrument]:
        """The latest version of each instrument the person wrote or their tenant shares."""
        latest = (
            select(instruments.c.instrument_id, func.max(instruments.c.version).label("version"))
            .where(
                instruments.c.tenant_id == tenant_id,
                or_(instruments.c.owner_person_id == person_id, instruments.c.shared.is_(True)),
            )
            .group_by(instruments.c.instrument_id)
            .subquery()
        )
        rows = self.connection.execute(
            select(instruments)
            .join(
                latest,
                and_(
                    instruments.c.instrument_id == latest.c.instrument_id,
                    instruments.c.version == latest.c.version,
                ),
            )
            .order_by(instruments.c.slug, instruments.c.instrument_id)
        )
        return [_stored(r) for r in rows]

    def of_owner(self, person_id: str) -> list[StoredInstrument]:
        rows = self.connection.execute(
            select(instruments)
            .where(instruments.c.owner_person_id == person_id)
            .order_by(instruments.c.instrument_id, instruments.c.version)
        )
        return [_stored(r) for r in rows]

    def delete_private_of(self, person_id: str, assigned: set[str]) -> None:
        """Erasure: the person's private instruments go, but for those assigned (their
        coachees' results need them) and shared ones (the tenant's coaches use them), which
        stay, their author's id replaced."""
        query = instruments.delete().where(
            instruments.c.owner_person_id == person_id, instruments.c.shared.is_(False)
        )
        if assigned:
            query = query.where(instruments.c.instrument_id.not_in(assigned))
        self.connection.execute(query)
        self.connection.execute(
            update(instruments)
            .where(instruments.c.owner_person_id == person_id)
            .values(owner_person_id=ERASED_PERSON)
        )


def _stored(r: Any) -> StoredInstrument:
    return StoredInstrument(
        instrument_id=r.instrument_id,
        version=r.version,
        tenant_id=r.tenant_id,
        owner_person_id=r.owner_person_id,
        slug=r.slug,
        shared=r.shared,
        document=r.document,
        created_at=r.created_at,
    )
