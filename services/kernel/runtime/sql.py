"""Engines, connections and the unit of work, without nameko (migrations, seeding and tests use
them too). `database.Database` is the nameko dependency built on them.

Repositories speak SQLAlchemy 2 Core over one `Connection` per worker: measured here, an ORM
Session plus the pool's reset-on-return cost about 1.5 ms per request for nothing we use.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine

from ..clock import Clock
from .greening import ensure_green_psycopg


def make_engine(url: str, pool_size: int, *, green: bool = False) -> Engine:
    """`green=True` inside nameko services: psycopg2 then yields to eventlet while it waits."""
    if green:
        ensure_green_psycopg()
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,  # a connection dropped by a database restart is replaced, not used
        pool_timeout=10,
        # Every unit of work ends its transaction, and WorkerDatabase.close() rolls back any
        # left open, so the pool's own rollback on return (a round trip) is not needed.
        pool_reset_on_return=None,
    )


class UnitOfWork:
    """One transaction: commit on success, roll back on any exception. Nothing is published or
    called inside it (rule 4): read, commit, then act."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self.connection = connection
        self.clock = clock


class WorkerDatabase:
    """One connection per worker, checked out on first use and returned at the worker's end."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self.clock = clock

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        connection = self.connection
        with connection.begin():  # commits on success, rolls back on any exception
            yield UnitOfWork(connection, self.clock)

    def close(self) -> None:
        if self._connection is not None:
            try:
                if self._connection.in_transaction():
                    self._connection.rollback()
            finally:
                self._connection.close()
                self._connection = None
