"""A write carried out once per RPC call, however often the broker delivers the call.

The broker delivers a request again when the worker that had it could not acknowledge it: the
service process died, or its connection to the broker dropped (a broker restart). If that worker
had already committed its write, running the request again would write it twice: a second
booking, a second note (the fault tests' "A write can run twice", docs/operations/faults.md).

Each RPC worker knows its call's correlation id (the same on every delivery of one call,
`context.Delivery`). Every unit of work that wrote something (the transaction has a transaction
id) records, in the same transaction, a receipt for that call before it commits:

- a later delivery of the call finds the receipt before anything runs, and is refused with
  FAILED_PRECONDITION / ALREADY_DONE (`refuse_if_done`): the change stands, its answer was lost;
- two deliveries running at once (the first worker still alive on a dropped connection) meet on
  the receipt's key: the second's insert waits for the first's transaction, then finds the
  receipt of another worker and rolls its own write back (`record`);
- several units of work of one worker share the receipt (the same worker id).

A transaction that wrote nothing records nothing, and event handlers and timers (no call) none:
a receipt costs a write one statement in its own transaction. Receipts are pruned with the
inbox's retention (outbox.Relay.prune). What this does not cover: a client that sends the same
change twice (a retry after a timeout is a new call), and a handler's nested call to another
service that was made before the crash (that call was carried out; the retry makes a new one).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, exists, select, text

from ..context import Delivery
from ..errors import FailedPrecondition
from .outbox import rpc_receipts

ALREADY_DONE = "ALREADY_DONE"

# One round trip: whether this transaction has written (PostgreSQL gives a transaction an id at
# its first write) and, if so, the receipt taken: a key this worker holds is taken again (a second
# unit of work), a key another worker holds is not.
_RECORD = text(
    """
    WITH wrote AS (SELECT txid_current_if_assigned() IS NOT NULL AS yes),
    taken AS (
        INSERT INTO rpc_receipts (call_id, worker, method, recorded_at)
        SELECT :call_id, :worker, :method, :now FROM wrote WHERE wrote.yes
        ON CONFLICT (call_id) DO UPDATE SET worker = excluded.worker
            WHERE rpc_receipts.worker = excluded.worker
        RETURNING 1
    )
    SELECT (SELECT yes FROM wrote), EXISTS (SELECT 1 FROM taken)
    """
)


def already_done() -> FailedPrecondition:
    return FailedPrecondition(
        "This change was already made by an earlier delivery of the same request; its answer "
        "was lost. Read the current state before trying again.",
        reason=ALREADY_DONE,
    )


def record(connection: Connection, delivery: Delivery, now: datetime) -> None:
    """In a unit of work, before it commits: the call's receipt if the transaction wrote.
    Raises ALREADY_DONE (the transaction then rolls back) if another delivery of the same call
    has committed its write."""
    wrote, taken = connection.execute(
        _RECORD,
        {
            "call_id": delivery.call,
            "worker": delivery.worker,
            "method": delivery.method[:200],
            "now": now,  # the service's clock, as the pruning's
        },
    ).one()
    if wrote and not taken:
        raise already_done()


def refuse_if_done(connection: Connection, call_id: str) -> None:
    """Before a redelivered call runs: refused if a delivery of it has committed a write."""
    if connection.execute(select(exists().where(rpc_receipts.c.call_id == call_id))).scalar_one():
        raise already_done()
