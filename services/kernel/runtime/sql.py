"""Engines, sessions and the unit of work, without nameko (migrations, seeding and tests use
them too). `database.Database` is the nameko dependency built on them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

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
        pool_pre_ping=True,
        pool_timeout=10,
        future=True,
    )


class UnitOfWork:
    """One transaction: commit on success, roll back on any exception. Nothing is published or
    called inside it (rule 4): read, commit, then act."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class WorkerDatabase:
    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self._factory = factory
        self._session: Session | None = None
        self.clock = clock

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._factory()
        return self._session

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        uow = UnitOfWork(self.session, self.clock)
        try:
            yield uow
            uow.commit()
        except BaseException:
            uow.rollback()
            raise

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
