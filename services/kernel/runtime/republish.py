"""Republishing: the current state of a service's aggregates recorded again as snapshot events
(docs/adr/0022-republish.md).

A consumer that starts late (its queue was declared after the events it needs, and the outbox
keeps sent rows for a few days only) is rebuilt from scratch by asking each publishing service
to republish. Each kind of aggregate gives its own snapshot event type, which no existing handler
subscribes to, so a republish re-triggers no side effect (no invitation mailed again, no toolbox
unlocked again).

Each batch of `BATCH_SIZE` aggregates is one unit of work: the ids of the next batch (keyset
paging on the id, optionally within one tenant), then the aggregates' sequence rows locked
(`UnitOfWork.hold_sequences`), then their state read and recorded with the next sequence. A live
change that commits first is read; one that commits later waits for the lock and records its
event with a later sequence: so a snapshot never carries an older state under a newer sequence.

    SNAPSHOTS = (
        Snapshots(lambda uow, tenant, after, n: uow.sessions.ids_after(tenant, after, n),
                  lambda uow, ids: [session_snapshot(s) for s in uow.sessions.get_many(ids)]),
    )
    republish(db, SNAPSHOTS, request.tenant_id)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Table, select

from ..events import EventPayload

BATCH_SIZE = 500

U = TypeVar("U")


class UnitsOfWork(Protocol[U]):  # WorkerDatabase, or the tests' FakeDatabase
    def unit_of_work(self) -> Any: ...


@dataclass(frozen=True)
class Snapshots(Generic[U]):
    """One kind of aggregate to republish.

    `page(uow, tenant_id, after, limit)`: up to `limit` aggregate ids greater than `after`, in
    ascending order, of `tenant_id` (None: every tenant); they are the snapshots' aggregate ids.
    `snapshots(uow, ids)`: the snapshot events of those aggregates (one each; an aggregate gone
    in between is left out)."""

    page: Callable[[U, str | None, str, int], list[str]]
    snapshots: Callable[[U, list[str]], Sequence[EventPayload]]


def republish(
    db: UnitsOfWork[U],
    kinds: Sequence[Snapshots[U]],
    tenant_id: str | None,
    batch_size: int = BATCH_SIZE,
) -> dict[str, int]:
    """Record a snapshot of every aggregate of each kind; how many of each event type."""
    recorded: dict[str, int] = {}
    for kind in kinds:
        after = ""
        while True:
            with db.unit_of_work() as uow:
                ids = kind.page(uow, tenant_id, after, batch_size)
                if ids:
                    uow.hold_sequences(ids)
                    events = list(kind.snapshots(uow, ids))
                    uow.record_many(events)
                    for event in events:
                        recorded[event.TYPE] = recorded.get(event.TYPE, 0) + 1
            if len(ids) < batch_size:
                break
            after = ids[-1]
    return recorded


def id_page(
    connection: Connection,
    table: Table,
    tenant_id: str | None,
    after: str,
    limit: int,
    *,
    id_column: str = "id",
    tenant_column: str = "tenant_id",
) -> list[str]:
    """The next `limit` ids of `table` after `after` (keyset paging on its primary key)."""
    key = table.c[id_column]
    query = select(key).where(key > after).order_by(key).limit(limit)
    if tenant_id is not None:
        query = query.where(table.c[tenant_column] == tenant_id)
    return [str(r[0]) for r in connection.execute(query)]
