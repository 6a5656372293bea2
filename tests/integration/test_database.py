"""The database dependency's pool: a connection killed while idle is replaced, not used."""

from __future__ import annotations

import psycopg2
import psycopg2.extensions
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.kernel.clock import SystemClock
from services.kernel.config import settings
from services.kernel.runtime import sql
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from tests.support.waiting import wait_for


def backend_pid(db: WorkerDatabase) -> int:
    with db.unit_of_work() as uow:
        pid = int(uow.connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    db.close()
    return pid


def test_an_idle_connection_killed_by_the_server_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sql, "IDLE_PING_SECONDS", 0.2)
    engine = make_engine(settings().database_url_for("identity"), pool_size=1, green=True)
    db = WorkerDatabase(engine, SystemClock())
    try:
        first = backend_pid(db)
        assert backend_pid(db) == first  # a just-returned connection is reused as it is
        admin = psycopg2.connect(settings().database_url_for("identity"))
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (first,))

            def gone() -> bool:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (first,))
                return cur.fetchone() == (0,)

            wait_for(gone, 10, "the server to end the backend")
        admin.close()
        monkeypatch.setattr(sql, "IDLE_PING_SECONDS", 0.0)  # it has idled long enough now
        assert backend_pid(db) != first  # pinged after idling, found dead, replaced
    finally:
        engine.dispose()


def test_a_unit_of_work_that_raises_leaves_nothing_behind() -> None:
    engine = make_engine(settings().database_url_for("identity"), pool_size=1, green=True)
    db = WorkerDatabase(engine, SystemClock())
    try:
        with db.unit_of_work() as uow:
            uow.connection.execute(text("CREATE TEMP TABLE IF NOT EXISTS probe (x int)"))
        with pytest.raises(RuntimeError), db.unit_of_work() as uow:
            uow.connection.execute(text("INSERT INTO probe VALUES (1)"))
            raise RuntimeError("crash after the write, before the commit")
        with db.unit_of_work() as uow:
            assert uow.connection.execute(text("SELECT count(*) FROM probe")).scalar_one() == 0
    finally:
        db.close()
        engine.dispose()


def test_read_only_work_sees_committed_data_and_leaves_the_connection_transactional() -> None:
    engine = make_engine(settings().database_url_for("identity"), pool_size=1, green=True)
    db = WorkerDatabase(engine, SystemClock())
    try:
        with db.unit_of_work() as uow:
            uow.connection.execute(text("CREATE TEMP TABLE IF NOT EXISTS probe2 (x int)"))
            uow.connection.execute(text("INSERT INTO probe2 VALUES (1)"))
        with db.read_only() as uow:
            assert uow.connection.execute(text("SELECT count(*) FROM probe2")).scalar_one() == 1
            # no transaction is open on the server while reading
            status = uow.connection.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
            assert status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        # after it, writes are transactional again: a crash rolls them back
        with pytest.raises(RuntimeError), db.unit_of_work() as uow:
            uow.connection.execute(text("INSERT INTO probe2 VALUES (2)"))
            raise RuntimeError("crash before the commit")
        with db.read_only() as uow:
            assert uow.connection.execute(text("SELECT count(*) FROM probe2")).scalar_one() == 1
    finally:
        db.close()
        engine.dispose()


def test_a_snapshot_reads_one_instant_where_read_only_sees_each_commit() -> None:
    """The LRS view counted no pending statement yet showed no push: its two reads straddled
    the push's commit. A snapshot's reads agree; it refuses writes."""
    engine = make_engine(settings().database_url_for("identity"), pool_size=2, green=True)
    reader, writer = WorkerDatabase(engine, SystemClock()), WorkerDatabase(engine, SystemClock())

    def count(uow: sql.UnitOfWork) -> int:
        return int(uow.connection.execute(text("SELECT count(*) FROM snapshot_probe")).scalar_one())

    def commit_one() -> None:
        with writer.unit_of_work() as uow:
            uow.connection.execute(text("INSERT INTO snapshot_probe VALUES (1)"))

    try:
        with writer.unit_of_work() as uow:
            uow.connection.execute(text("CREATE TABLE IF NOT EXISTS snapshot_probe (x int)"))
            uow.connection.execute(text("TRUNCATE snapshot_probe"))
        with reader.read_only() as uow:
            before = count(uow)
            commit_one()
            assert (before, count(uow)) == (0, 1)
        with reader.snapshot() as uow:
            before = count(uow)
            commit_one()
            assert (before, count(uow)) == (1, 1)
        with reader.read_only() as uow:
            assert count(uow) == 2
        with pytest.raises(DBAPIError, match="read-only transaction"), reader.snapshot() as uow:
            uow.connection.execute(text("INSERT INTO snapshot_probe VALUES (3)"))
        with reader.unit_of_work() as uow:  # the connection is usable again after the refusal
            assert count(uow) == 2
    finally:
        with writer.unit_of_work() as uow:
            uow.connection.execute(text("DROP TABLE IF EXISTS snapshot_probe"))
        reader.close()
        writer.close()
        engine.dispose()
