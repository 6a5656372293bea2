"""Engines, connections and the unit of work, without nameko (migrations, seeding and tests use
them too). `database.Database` is the nameko dependency built on them.

Repositories speak SQLAlchemy 2 Core over one `Connection` per worker: measured here, an ORM
Session plus the pool's reset-on-return cost about 1.5 ms per request for nothing we use.

A service declares its repositories on a subclass of `UnitOfWork`, one `Repository` attribute
each, and gives that class to its `Database` dependency; its handlers then reach them as
`uow.sessions`, `uow.spaces`, ... and never build storage classes themselves (so a fake unit of
work with in-memory repositories runs the same handlers: tests/unit/fakes):

    class SchedulingUnit(UnitOfWork):
        sessions = Repository(Sessions)   # Sessions(connection), made on first use

    db: WorkerDatabase[SchedulingUnit] = Database("scheduling", unit=SchedulingUnit)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import Connection, Engine, create_engine, event, exc

from .. import tracing
from ..clock import Clock
from ..context import current_delivery
from ..events import Envelope, EventPayload
from . import receipts
from .greening import ensure_green_psycopg
from .outbox import hold_sequences, record_event, record_events

# A connection back in the pool for longer than this is pinged before it is used again.
IDLE_PING_SECONDS = 5.0


def make_engine(url: str, pool_size: int, *, green: bool = False) -> Engine:
    """`green=True` inside nameko services: psycopg2 then yields to eventlet while it waits."""
    if green:
        ensure_green_psycopg()
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=10,
        # Every unit of work ends its transaction, and WorkerDatabase.close() rolls back any
        # left open, so the pool's own rollback on return (a round trip) is not needed.
        pool_reset_on_return=None,
        # A database error's text never carries the statement's values (emails, names): they
        # would reach the logs with its traceback.
        hide_parameters=True,
    )
    _ping_idle_connections(engine)
    if tracing.enabled():
        _trace_statements(engine)
    return engine


STATEMENT_CHARS = 2000  # a span's statement text is cut here (the text only: never its values)


def _trace_statements(engine: Engine) -> None:
    """A client span per statement, named by its verb, holding the statement's text with its
    placeholders (the values are parameters, which no span records)."""
    key = "ecoach.span"

    @event.listens_for(engine, "before_cursor_execute")
    def started(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any
    ) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        conn.info[key] = tracing.start_span(
            verb[:16],
            tracing.SpanKind.CLIENT,
            {
                "db.system": "postgresql",
                "db.operation": verb[:16],
                "db.statement": statement[:STATEMENT_CHARS],
            },
        )

    @event.listens_for(engine, "after_cursor_execute")
    def finished(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any
    ) -> None:
        current = conn.info.pop(key, None)
        if current is not None:
            current.end()

    @event.listens_for(engine, "handle_error")
    def failed(context: Any) -> None:
        conn = context.connection
        current = conn.info.pop(key, None) if conn is not None else None
        if current is not None:
            current.set_status(tracing.Status(tracing.StatusCode.ERROR))
            current.set_attribute("error.type", type(context.original_exception).__name__)
            current.end()


def _ping_idle_connections(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping costs a round trip on every checkout (~0.2 ms a request here).
    A connection that was just returned is known good; only one idle for a while is pinged, and
    a dead one is replaced. A database restart under traffic fails the calls in flight either
    way, and SQLAlchemy then invalidates the whole pool."""

    @event.listens_for(engine, "checkin")
    def returned(dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is not None and time.monotonic() - returned_at < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()
        except Exception as error:
            raise exc.DisconnectionError("stale pooled connection") from error


R = TypeVar("R")


class Repository(Generic[R]):
    """A repository a service's unit of work declares: `sessions = Repository(Sessions)`.

    `factory(connection)` builds it on the unit's connection when first used in that unit of
    work (a unit that never touches it pays nothing); it lives as long as the unit of work.
    Nothing is built at import time: the declaration holds the factory only."""

    def __init__(self, factory: Callable[[Connection], R]) -> None:
        self.factory = factory
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, uow: None, owner: type) -> Repository[R]: ...

    @overload
    def __get__(self, uow: UnitOfWork, owner: type) -> R: ...

    def __get__(self, uow: UnitOfWork | None, owner: type) -> R | Repository[R]:
        if uow is None:
            return self
        built = self.factory(uow.connection)
        uow.__dict__[self.name] = built  # found there from now on, without the descriptor
        return built


class UnitOfWork:
    """One transaction: commit on success, roll back on any exception. Nothing is published or
    called inside it (rule 4): read, commit, then act. Events are recorded in it (the outbox)
    and published by the relay after the commit.

    A service subclasses it to declare its repositories (`Repository` attributes); the kernel's
    own has none (services that still build theirs from `uow.connection`)."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self.connection = connection
        self.clock = clock
        self.recorded: list[Envelope] = []

    def record(self, payload: EventPayload) -> Envelope:
        """Record an event in this transaction; it is published once the transaction commits."""
        envelope = record_event(self.connection, payload, self.clock.now())
        self.recorded.append(envelope)
        return envelope

    def record_many(self, payloads: list[EventPayload]) -> list[Envelope]:
        """Record many events in this transaction in a few statements (bulk use cases)."""
        envelopes = record_events(self.connection, payloads, self.clock.now())
        self.recorded.extend(envelopes)
        return envelopes

    def hold_sequences(self, aggregate_ids: list[str]) -> None:
        """Lock these aggregates' sequence rows until the transaction ends, before reading
        their state (republishing: services/kernel/runtime/republish.py)."""
        hold_sequences(self.connection, aggregate_ids)


U = TypeVar("U", bound=UnitOfWork)


class WorkerDatabase(Generic[U]):
    """One connection per worker, checked out on first use and returned at the worker's end.
    Its units of work are of the service's `unit` class (its repositories)."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        on_events: Callable[[], None] | None = None,
        unit: Callable[[Connection, Clock], U] = UnitOfWork,  # type: ignore[assignment]
    ) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self.clock = clock
        self._on_events = on_events
        self._unit = unit

    @property
    def engine(self) -> Engine:
        """For work that opens its own transactions outside the worker's connection (a webhook
        deliverer commits its leases before it POSTs)."""
        return self._engine

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    @contextmanager
    def unit_of_work(self) -> Iterator[U]:
        connection = self.connection
        with connection.begin():  # commits on success, rolls back on any exception
            uow = self._unit(connection, self.clock)
            yield uow
            delivery = current_delivery()
            if delivery is not None:  # an RPC worker's write: once per call (receipts.py)
                receipts.record(connection, delivery, self.clock.now())
        if uow.recorded and self._on_events is not None:
            self._on_events()  # committed: wake the relay

    @contextmanager
    def snapshot(self) -> Iterator[U]:
        """Reads that must agree with each other, such as a count and the row that describes
        it: one REPEATABLE READ, READ ONLY transaction, so every statement sees the database as
        of the first. Under `read_only` a writer committing between two statements shows the
        second its work and hides it from the first (a push counted as done with no push
        time)."""
        connection = self.connection
        with connection.begin():
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield self._unit(connection, self.clock)

    @contextmanager
    def read_only(self) -> Iterator[U]:
        """Queries without a transaction: no BEGIN and COMMIT round trips. For use cases that
        only read, and can live with each statement seeing its own snapshot (else `snapshot`)."""
        connection = self.connection
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        if connection.in_transaction():
            connection.rollback()
        dbapi.autocommit = True  # psycopg2: client-side, no round trip
        try:
            yield self._unit(connection, self.clock)
        finally:
            if connection.in_transaction():
                connection.commit()  # ends SQLAlchemy's autobegun scope; nothing on the server
            dbapi.autocommit = False

    def close(self) -> None:
        if self._connection is not None:
            try:
                if self._connection.in_transaction():
                    self._connection.rollback()
            finally:
                self._connection.close()
                self._connection = None
