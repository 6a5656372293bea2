"""Video: each tenant's provider (its secret sealed under a data key of the tenant's) and each
session's room name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.kernel.crypto import MasterKey
from services.kernel.runtime.keyring import KeyRing

from ..domain.model import ERASED_PERSON
from ..domain.rooms import VideoSettings
from .tables import rooms, video_settings


def _secret_context(tenant_id: str) -> str:
    return f"scheduling.video_secret.{tenant_id}"


class VideoSettingsRepo:
    """Each tenant's video provider. The master key that opens the tenant's data keys is the
    service's collaborator (a dependency provider), given with each call that needs it."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, tenant_id: str, master: MasterKey) -> VideoSettings | None:
        row = self.connection.execute(
            select(video_settings).where(video_settings.c.tenant_id == tenant_id)
        ).first()
        if row is None:
            return None
        secret = ""
        if row.data_key and row.secret_sealed:
            key = KeyRing(self.connection, master).data_key(tenant_id, row.data_key)
            secret = key.open_text(row.secret_sealed, _secret_context(tenant_id))
        return VideoSettings(
            tenant_id=tenant_id,
            provider=row.provider,
            server_url=row.server_url,
            app_id=row.app_id,
            secret=secret,
            opens_before=row.opens_before,
            closes_after=row.closes_after,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )

    def save(self, settings: VideoSettings, now: datetime, master: MasterKey) -> None:
        data_key = sealed = None
        if settings.secret:
            key, data_key = KeyRing(self.connection, master).new_data_key(settings.tenant_id, now)
            sealed = key.seal_text(settings.secret, _secret_context(settings.tenant_id))
        values = {
            "provider": settings.provider,
            "server_url": settings.server_url,
            "app_id": settings.app_id,
            "data_key": data_key,
            "secret_sealed": sealed,
            "opens_before": settings.opens_before,
            "closes_after": settings.closes_after,
            "updated_at": settings.updated_at,
            "updated_by": settings.updated_by,
        }
        self.connection.execute(
            pg_insert(video_settings)
            .values(tenant_id=settings.tenant_id, **values)
            .on_conflict_do_update(index_elements=[video_settings.c.tenant_id], set_=values)
        )

    def windows(self, tenant_ids: set[str]) -> dict[str, tuple[int, int]]:
        """(opens_before, closes_after) minutes of the tenants that set theirs."""
        rows = self.connection.execute(
            select(
                video_settings.c.tenant_id,
                video_settings.c.opens_before,
                video_settings.c.closes_after,
            ).where(video_settings.c.tenant_id.in_(tenant_ids))
        )
        return {r.tenant_id: (r.opens_before, r.closes_after) for r in rows}

    def anonymise(self, person_id: str) -> None:
        """An erased admin no longer shows as who last set the provider."""
        self.connection.execute(
            update(video_settings)
            .where(video_settings.c.updated_by == person_id)
            .values(updated_by=ERASED_PERSON)
        )


class Rooms:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def room_of(self, session_id: str, new_name: str, now: datetime) -> str:
        """The session's room name: `new_name` if it had none (two participants asking at once
        get the same one)."""
        self.connection.execute(
            pg_insert(rooms)
            .values(session_id=session_id, room=new_name, created_at=now)
            .on_conflict_do_nothing(index_elements=[rooms.c.session_id])
        )
        return str(
            self.connection.execute(
                select(rooms.c.room).where(rooms.c.session_id == session_id)
            ).scalar_one()
        )
