"""The spaces repository on its real database: content sealed by a per-space data key, wrapped
by a per-tenant key, wrapped by the master key; nothing readable without them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from services.kernel.clock import SystemClock
from services.kernel.config import settings
from services.kernel.crypto import MasterKey, master_key_from
from services.kernel.errors import ErrorCode, NotFound, Unavailable
from services.kernel.runtime import keyring
from services.kernel.runtime.keyring import KeyRing, WrappedKeys, rotate_tenant_key, tenant_keys
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from services.spaces.domain.model import Content, Participant, SetUp, Space, new_id
from services.spaces.storage.spaces import Spaces
from services.spaces.storage.tables import spaces

NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)


@pytest.fixture
def db() -> WorkerDatabase:
    engine = make_engine(settings().database_url_for("spaces"), pool_size=1)
    return WorkerDatabase(engine, SystemClock())


@pytest.fixture
def master() -> MasterKey:
    config = settings()
    return master_key_from(config)


def a_space(tenant_id: str, **content: str) -> Space:
    set_up = SetUp(
        coachee=Participant(new_id("mem"), new_id("per")),
        coach=Participant(new_id("mem"), new_id("per")),
        co_coach=None,
        cadence="weekly",
        sessions_planned=6,
        starts_on=date(2027, 1, 4),
    )
    return Space.create(tenant_id, set_up, Content(**content), new_id("per"), NOW)


def test_content_round_trips_sealed_with_one_key_per_space(
    db: WorkerDatabase, master: MasterKey
) -> None:
    tenant = new_id("tnt")
    first, second = a_space(tenant, project="SEALED-one"), a_space(tenant, project="SEALED-two")
    with db.unit_of_work() as uow:
        repo = Spaces(uow.connection, master)
        repo.add(first)
        repo.add(second)
    with db.read_only() as uow:
        repo = Spaces(uow.connection, master)
        found = repo.get(tenant, first.id)
        assert found is not None and found.content.project == ""  # not opened by default
        assert repo.with_content(found).content.project == "SEALED-one"
        rows = uow.connection.execute(
            text("SELECT * FROM spaces WHERE tenant_id = :t"), {"t": tenant}
        )
        raw = " ".join(str(v) for r in rows for v in r)
        assert "SEALED" not in raw
        keys = uow.connection.execute(
            select(tenant_keys).where(tenant_keys.c.tenant_id == tenant)
        ).all()
        assert len(keys) == 1  # one tenant key, two data keys
        data_keys = (
            uow.connection.execute(select(spaces.c.data_key).where(spaces.c.tenant_id == tenant))
            .scalars()
            .all()
        )
        assert len(set(data_keys)) == 2
        # Another tenant's key ring cannot open them.
        with pytest.raises(LookupError):
            KeyRing(uow.connection, master).data_key(new_id("tnt"), data_keys[0])
    db.close()


def test_without_the_master_key_nothing_opens(db: WorkerDatabase, master: MasterKey) -> None:
    tenant = new_id("tnt")
    space = a_space(tenant, objectives="SEALED-objectives")
    with db.unit_of_work() as uow:
        Spaces(uow.connection, master).add(space)
    impostor = MasterKey(b"\x01" * 32)
    with db.read_only() as uow:
        row = uow.connection.execute(select(spaces).where(spaces.c.id == space.id)).one()
        wrapped_tenant = uow.connection.execute(
            select(tenant_keys.c.wrapped_key).where(tenant_keys.c.tenant_id == tenant)
        ).scalar_one()
    with pytest.raises(ValueError):
        impostor.unwrap(wrapped_tenant, f"tenant_key.{tenant}")
    assert row.data_key and row.content_sealed
    db.close()


def test_saving_without_the_content_leaves_it_as_it_was(
    db: WorkerDatabase, master: MasterKey
) -> None:
    tenant = new_id("tnt")
    space = a_space(tenant, context="SEALED-context")
    with db.unit_of_work() as uow:
        Spaces(uow.connection, master).add(space)
    with db.unit_of_work() as uow:  # HR's move: the content is never loaded
        repo = Spaces(uow.connection, master)
        loaded = repo.get(tenant, space.id, for_update=True)
        assert loaded is not None
        loaded.status = "archived"
        repo.save(loaded, with_content=False)
    with db.read_only() as uow:
        repo = Spaces(uow.connection, master)
        again = repo.get(tenant, space.id)
        assert again is not None and again.status == "archived"
        assert repo.with_content(again).content.context == "SEALED-context"
    db.close()


def test_content_is_opened_from_the_row_the_relation_was_decided_on(
    master: MasterKey,
) -> None:
    """A co-coach who joined late is removed between a read of the space and the opening of its
    content: what comes back is still the space as first read, so the date that hides earlier
    content from them is not lost (with a second read it was, and they were shown it)."""
    engine = make_engine(settings().database_url_for("spaces"), pool_size=2)
    reader, writer = WorkerDatabase(engine, SystemClock()), WorkerDatabase(engine, SystemClock())
    tenant, joined = new_id("tnt"), datetime(2027, 3, 1, 9, tzinfo=UTC)
    space, co_coach = a_space(tenant, project="SEALED-first"), Participant(new_id("mem"), "per_co")
    try:
        with writer.unit_of_work() as uow:
            Spaces(uow.connection, master).add(space)
            uow.connection.execute(
                spaces.update()
                .where(spaces.c.id == space.id)
                .values(
                    co_coach_member_id=co_coach.member_id,
                    co_coach_person_id=co_coach.person_id,
                    co_coach_joined_at=joined,
                )
            )
        with reader.read_only() as uow:
            repo = Spaces(uow.connection, master)
            first = repo.get(tenant, space.id)
            assert first is not None and first.co_coach_joined_at == joined
            with writer.unit_of_work() as w:  # removed, and the project rewritten, meanwhile
                other = Spaces(w.connection, master)
                moved = other.get(tenant, space.id, for_update=True)
                assert moved is not None
                moved = other.with_content(moved)
                moved.set_up = replace(moved.set_up, co_coach=None)
                moved.co_coach_joined_at = None
                moved.content = Content(project="SEALED-later")
                other.save(moved, with_content=True)
            opened = repo.with_content(first)
            assert opened.co_coach_joined_at == joined
            assert opened.set_up.co_coach == co_coach
            assert opened.content.project == "SEALED-first"
            # A space this repository did not read is opened as it is now, under its own key.
            fresh = Spaces(uow.connection, master)
            assert fresh.with_content(replace(first, data_key="")).content.project == "SEALED-later"
            gone = replace(first, id=new_id("spc"))
            with pytest.raises(NotFound):
                repo.with_content(gone)
    finally:
        reader.close()
        writer.close()
        engine.dispose()


@pytest.mark.parametrize("reading", ["read_only", "snapshot"])
def test_a_tenant_key_rotated_during_a_read_is_a_retry_never_a_crash(
    master: MasterKey, reading: str
) -> None:
    """The operator rotates the tenant's key (every data key re-wrapped, the old tenant key
    deleted) between a read of a space and the opening of its content, in an instance that has
    not unwrapped the old key before. Under read_only the old key is gone for the second
    statement: UNAVAILABLE, and the next try opens the space under the new key (it was an
    INTERNAL error). Under a snapshot the old key is still there to read."""
    engine = make_engine(settings().database_url_for("spaces"), pool_size=2)
    reader, writer = WorkerDatabase(engine, SystemClock()), WorkerDatabase(engine, SystemClock())
    tenant = new_id("tnt")
    space = a_space(tenant, project="SEALED-rotated")

    @contextmanager
    def unit() -> Iterator[tuple[WrappedKeys, datetime]]:
        with writer.unit_of_work() as uow:
            yield WrappedKeys(KeyRing(uow.connection, master), spaces), datetime.now(UTC)

    try:
        with writer.unit_of_work() as uow:
            Spaces(uow.connection, master).add(space)
        with getattr(reader, reading)() as uow:
            repo = Spaces(uow.connection, master)
            first = repo.get(tenant, space.id)
            assert first is not None
            rotation = rotate_tenant_key(unit, tenant)
            assert (rotation.rewrapped, rotation.retired) == (1, 1)
            keyring._unwrapped.clear()  # as another instance: the old key never unwrapped here
            if reading == "snapshot":
                assert repo.with_content(first).content.project == "SEALED-rotated"
            else:
                with pytest.raises(Unavailable) as refused:
                    repo.with_content(first)
                assert refused.value.code == ErrorCode.UNAVAILABLE
        with reader.read_only() as uow:  # the caller's next try
            repo = Spaces(uow.connection, master)
            again = repo.get(tenant, space.id)
            assert again is not None and again.data_key != first.data_key
            assert repo.with_content(again).content.project == "SEALED-rotated"
    finally:
        reader.close()
        writer.close()
        engine.dispose()
