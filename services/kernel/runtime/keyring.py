"""Keys for free text at rest (rule 8), for every service that stores what people write.

Three levels: each object that holds free text (a space, say) has its own **data key**; it is
stored beside the object, wrapped by its tenant's **tenant key**; tenant keys are stored in the
service's `tenant_keys` table, wrapped by the **master key**, which is in no database. Erasing
the object's wrapped data key makes everything it sealed unreadable, backups included once they
expire.

Every wrapped value names the key that wrapped it (`v1.<key id>.<blob>`), so a tenant may hold
several keys: the newest wraps new data keys, older ones still unwrap until a rotation has
re-wrapped their data keys.

    ring = KeyRing(uow.connection, master)
    key, wrapped = ring.new_data_key(tenant_id, now)   # store `wrapped` with the object
    key = ring.data_key(tenant_id, wrapped)            # later
    key.seal_text(text, context) / key.open_text(sealed, context)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.contracts.base import TenantKeyRotation

from ..crypto import MasterKey, SecretKey, key_id_of
from ..errors import Unavailable

KEYRING_METADATA = MetaData()

tenant_keys = Table(
    "tenant_keys",
    KEYRING_METADATA,
    Column("key_id", String(32), primary_key=True),
    Column("tenant_id", String(40), nullable=False, index=True),
    Column("wrapped_key", Text, nullable=False),  # by the master key (context below)
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def create_keyring_tables(bind: Connection) -> None:
    """For a service's migration (version 1)."""
    KEYRING_METADATA.create_all(bind)


class TenantKeyGone(Unavailable, LookupError):
    """No tenant key of that id for that tenant. In service, the one way there: a rotation
    re-wrapped the data key and retired its tenant key between the caller's read of the wrapped
    value and this lookup (two statements, two snapshots, under READ COMMITTED). The stored
    row holds the new wrapping by then, so the call is answered UNAVAILABLE, to be tried again,
    and not INTERNAL; a `LookupError` for code that asks with another tenant's id."""


def _tenant_context(tenant_id: str) -> str:
    return f"tenant_key.{tenant_id}"


def _data_context(tenant_id: str) -> str:
    return f"data_key.{tenant_id}"


# Unwrapped tenant keys, per process, by key id: unwrapping is cheap, but not free.
_unwrapped: dict[tuple[str, str], SecretKey] = {}
_lock = threading.Lock()


class KeyRing:
    def __init__(self, connection: Connection, master: MasterKey) -> None:
        self.connection = connection
        self.master = master

    def _current_tenant_key(self, tenant_id: str, now: datetime) -> SecretKey:
        row = self.connection.execute(
            select(tenant_keys.c.key_id, tenant_keys.c.wrapped_key)
            .where(tenant_keys.c.tenant_id == tenant_id)
            .order_by(tenant_keys.c.created_at.desc())
            .limit(1)
        ).first()
        if row is not None:
            return self._unwrap_tenant_key(tenant_id, row.key_id, row.wrapped_key)
        key = SecretKey.generate()
        self.connection.execute(
            pg_insert(tenant_keys)
            .values(
                key_id=key.key_id,
                tenant_id=tenant_id,
                wrapped_key=self.master.wrap(key.raw, _tenant_context(tenant_id)),
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
        # Two first writers at once: both inserted a key; the newest wraps from now on, and both
        # keep unwrapping what they wrapped.
        return key

    def _unwrap_tenant_key(self, tenant_id: str, key_id: str, wrapped: str) -> SecretKey:
        with _lock:
            known = _unwrapped.get((tenant_id, key_id))
        if known is None:
            known = SecretKey(self.master.unwrap(wrapped, _tenant_context(tenant_id)))
            with _lock:
                _unwrapped[(tenant_id, key_id)] = known
        return known

    def new_data_key(self, tenant_id: str, now: datetime) -> tuple[SecretKey, str]:
        """A new data key, and its wrapped form to store beside what it seals."""
        tenant_key = self._current_tenant_key(tenant_id, now)
        key = SecretKey.generate()
        return key, tenant_key.wrap(key.raw, _data_context(tenant_id))

    def rotate_tenant(self, tenant_id: str, now: datetime) -> str:
        """A new tenant key, which wraps every new data key from now on; the older ones keep
        unwrapping until `rewrap` has moved their data keys over. Returns its id.

        The newest key is the current one: a clock that has not moved since the last key (a
        test's frozen clock, a coarse one) still makes this one newer, by a microsecond."""
        key = SecretKey.generate()
        newest = self.connection.execute(
            select(func.max(tenant_keys.c.created_at)).where(tenant_keys.c.tenant_id == tenant_id)
        ).scalar()
        if newest is not None and newest >= now:
            now = newest + timedelta(microseconds=1)
        self.connection.execute(
            tenant_keys.insert().values(
                key_id=key.key_id,
                tenant_id=tenant_id,
                wrapped_key=self.master.wrap(key.raw, _tenant_context(tenant_id)),
                created_at=now,
            )
        )
        return key.key_id

    def current_key_id(self, tenant_id: str, now: datetime) -> str:
        return self._current_tenant_key(tenant_id, now).key_id

    def rewrap(self, tenant_id: str, wrapped: str, now: datetime) -> str | None:
        """`wrapped` under the tenant's current key, or None if it already is."""
        current = self._current_tenant_key(tenant_id, now)
        if key_id_of(wrapped) == current.key_id:
            return None
        raw = self.data_key(tenant_id, wrapped).raw
        return current.wrap(raw, _data_context(tenant_id))

    def retire_unused(self, tenant_id: str, in_use: set[str]) -> int:
        """Deletes the tenant's keys that wrap nothing any more (never the current one)."""
        rows = self.connection.execute(
            select(tenant_keys.c.key_id)
            .where(tenant_keys.c.tenant_id == tenant_id)
            .order_by(tenant_keys.c.created_at.desc())
        ).all()
        gone = [r.key_id for r in rows[1:] if r.key_id not in in_use]
        if gone:
            self.connection.execute(tenant_keys.delete().where(tenant_keys.c.key_id.in_(gone)))
        return len(gone)

    def data_key(self, tenant_id: str, wrapped: str) -> SecretKey:
        key_id = key_id_of(wrapped)
        with _lock:
            cached = _unwrapped.get((tenant_id, key_id))
        if cached is not None:
            return SecretKey(cached.unwrap(wrapped, _data_context(tenant_id)))
        row = self.connection.execute(
            select(tenant_keys.c.wrapped_key).where(
                tenant_keys.c.key_id == key_id, tenant_keys.c.tenant_id == tenant_id
            )
        ).first()
        if row is None:
            raise TenantKeyGone("the tenant key that wrapped this data key is gone")
        tenant_key = self._unwrap_tenant_key(tenant_id, key_id, row.wrapped_key)
        return SecretKey(tenant_key.unwrap(wrapped, _data_context(tenant_id)))


class WrappedKeys:
    """The data keys that one table stores beside its rows (columns `id`, `tenant_id` and
    `data_key`), as a tenant key rotation moves them."""

    def __init__(self, ring: KeyRing, table: Table) -> None:
        self.ring = ring
        self.table = table

    def rewrap_batch(self, tenant_id: str, now: datetime, batch: int = 200) -> int:
        """Moves up to `batch` of the tenant's data keys under its current tenant key. Rows
        being written are skipped (a later batch or rotation takes them); only `data_key`
        changes, so a concurrent edit of what the key seals is never lost."""
        t = self.table
        current = self.ring.current_key_id(tenant_id, now)
        rows = self.ring.connection.execute(
            select(t.c.id, t.c.data_key)
            .where(t.c.tenant_id == tenant_id, ~t.c.data_key.startswith(f"v1.{current}."))
            .order_by(t.c.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            new = self.ring.rewrap(tenant_id, row.data_key, now)
            if new is not None:
                self.ring.connection.execute(
                    update(t)
                    .where(t.c.id == row.id, t.c.data_key == row.data_key)
                    .values(data_key=new)
                )
        return len(rows)

    def retire_unused(self, tenant_id: str) -> int:
        """Deletes the tenant's older keys that wrap none of the table's data keys."""
        t = self.table
        wrapped = self.ring.connection.execute(
            select(t.c.data_key).where(t.c.tenant_id == tenant_id)
        ).scalars()
        return self.ring.retire_unused(tenant_id, {key_id_of(w) for w in wrapped})


# One unit of work of the calling service: its table's wrapped keys and the unit's clock.
KeyUnit = Callable[[], AbstractContextManager[tuple[WrappedKeys, datetime]]]


def rotate_tenant_key(unit: KeyUnit, tenant_id: str) -> TenantKeyRotation:
    """A new key for the tenant, every data key re-wrapped under it in batches of their own
    transactions (what the keys seal is not touched, so nothing waits and no edit is lost),
    then the older tenant keys deleted. The caller checks that an operator asks."""
    with unit() as (keys, now):
        key_id = keys.ring.rotate_tenant(tenant_id, now)
    rewrapped = 0
    while True:
        with unit() as (keys, now):
            moved = keys.rewrap_batch(tenant_id, now)
        rewrapped += moved
        if moved == 0:
            break
    with unit() as (keys, _):
        retired = keys.retire_unused(tenant_id)
    return TenantKeyRotation(key_id=key_id, rewrapped=rewrapped, retired=retired)


def rewrap_master_key(connection: Connection, master: MasterKey) -> int:
    """After a master-key rotation: every tenant key wrapped again under the current master key
    (the previous one must still be known to `master`). Returns how many changed."""
    changed = 0
    rows = connection.execute(
        select(tenant_keys.c.key_id, tenant_keys.c.tenant_id, tenant_keys.c.wrapped_key)
    ).all()
    for row in rows:
        new = master.rewrapped(row.wrapped_key, _tenant_context(row.tenant_id))
        if new is not None:
            connection.execute(
                tenant_keys.update()
                .where(
                    tenant_keys.c.key_id == row.key_id, tenant_keys.c.wrapped_key == row.wrapped_key
                )
                .values(wrapped_key=new)
            )
            changed += 1
    return changed
