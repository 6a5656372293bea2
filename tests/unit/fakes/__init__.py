"""A fake database for any service's handler tests (cosmicpython's FakeUnitOfWork, for ours).

A service's handlers are given `db` and reach storage only through `uow.<repository>` (the
names its unit of work declares with `services.kernel.runtime.sql.Repository`). Here the same
names are in-memory repositories over one shared `state` object (each service's fakes module,
e.g. `fakes/scheduling.py`, gives both), so the handlers run unchanged without PostgreSQL:

    db = FakeDatabase(FixedClock(NOW), SchedulingState(), scheduling_repositories)
    booking.book_session(db, caller, request)
    assert [type(e) for e in db.events] == [c.SessionBooked]

What it keeps of the real unit of work (services/kernel/runtime/sql.py):
- a unit that raises leaves the state as it was (rolled back: the state is copied when the unit
  starts and put back), and records nothing;
- events recorded in a committed unit are kept, in order, in `db.events`; `read_only` units may
  record none;
- repositories return copies of what they keep (a row read from a database is a new object), so
  a handler that changes an object and forgets to save it changes nothing, as with PostgreSQL;
- `uow.connection` is refused: a handler that reaches SQL directly is not tested by a fake.
Locks (`for_update`) and isolation levels are not modelled: races are the integration and
end-to-end tests' business.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from services.kernel.clock import Clock
from services.kernel.events import EventPayload

S = TypeVar("S")


class FakeUnitOfWork:
    def __init__(self, clock: Clock, repositories: dict[str, Any]) -> None:
        self.clock = clock
        self.recorded: list[EventPayload] = []
        for name, repository in repositories.items():
            setattr(self, name, repository)

    @property
    def connection(self) -> Any:
        raise AssertionError("a handler used uow.connection: storage goes through repositories")

    def record(self, payload: EventPayload) -> EventPayload:
        self.recorded.append(payload)
        return payload

    def record_many(self, payloads: list[EventPayload]) -> list[EventPayload]:
        self.recorded.extend(payloads)
        return payloads

    def hold_sequences(self, aggregate_ids: list[str]) -> None:
        self.held = [*getattr(self, "held", []), *aggregate_ids]  # locks are not modelled


class FakeDatabase(Generic[S]):
    """What a handler is given as `db`: units of work on `repositories(state)`."""

    def __init__(self, clock: Clock, state: S, repositories: Callable[[S], dict[str, Any]]) -> None:
        self.clock = clock
        self.state = state
        self.repositories = repositories(state)
        self.events: list[EventPayload] = []
        self.commits = 0

    @contextmanager
    def unit_of_work(self) -> Iterator[Any]:
        saved = copy.deepcopy(self.state.__dict__)
        uow = FakeUnitOfWork(self.clock, self.repositories)
        try:
            yield uow
        except BaseException:
            self.state.__dict__.clear()  # in place: the repositories keep their reference
            self.state.__dict__.update(saved)
            raise
        self.commits += 1
        self.events.extend(uow.recorded)

    @contextmanager
    def read_only(self) -> Iterator[Any]:
        uow = FakeUnitOfWork(self.clock, self.repositories)
        yield uow
        assert not uow.recorded, "events recorded in a read-only unit of work"

    snapshot = read_only  # one thread, no concurrent writer: every read already agrees

    def events_of(self, model: type[EventPayload]) -> list[Any]:
        return [e for e in self.events if isinstance(e, model)]
