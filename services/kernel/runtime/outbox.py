"""The outbox and its relay (rule 4): no lost events, and nothing published inside a transaction.

A use case records events through its unit of work (`uow.record(payload)`): the row lands in the
service's `outbox` table in the same transaction as the change it describes, with the next
sequence number of its aggregate. After the commit, a relay publishes it:

1. claim: one short transaction `UPDATE outbox SET claimed_by, claimed_until` over up to
   `batch` unsent rows picked `FOR UPDATE SKIP LOCKED` whose lease is free or expired;
2. publish each claimed row to `<service>.events` (routing key: the event type), persistent,
   with publisher confirms, signed with the service's Ed25519 key (`signature_headers`);
3. mark the confirmed rows sent (only if the lease is still ours).

Several relays (one per service instance) never publish the same row while a lease holds; a relay
that dies mid-batch leaves rows whose lease expires and another claims them (at-least-once: the
handlers' inbox turns it into exactly-once effects). A row the broker refuses (a full queue) stays
unsent and is tried again. Sent rows are pruned after the retention; applied-event ids in the
inbox too.
"""

from __future__ import annotations

import logging
import secrets
import socket
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from .. import tracing
from ..clock import Clock
from ..context import current_request_id
from ..events import Envelope, EventPayload, envelope_bytes, new_event_id, signature_headers
from ..tokens import SigningKey
from .publisher import ConfirmingPublisher, Outgoing, PublishFailed
from .topology import events_exchange

log = logging.getLogger(__name__)

# The same three tables in every service's database; each service's migrations create them with
# `create_event_tables` (see services/identity/migrations/versions/0002_events.py).
EVENT_METADATA = MetaData()

outbox = Table(
    "outbox",
    EVENT_METADATA,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("event_type", String(128), nullable=False),
    Column("aggregate_id", String(128), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("envelope", JSONB, nullable=False),
    Column("request_id", String(64)),
    # The W3C traceparent of the span that recorded the event, when tracing is on: the relay
    # sends it along and the handlers continue the trace (added by `add_traceparent_column`).
    Column("traceparent", String(55)),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(80)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("publish_attempts", Integer, nullable=False, server_default="0"),
    Index("outbox_unsent", "id", postgresql_where=text("sent_at IS NULL")),
    Index("outbox_sent_at", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
)

event_sequences = Table(
    "event_sequences",
    EVENT_METADATA,
    Column("aggregate_id", String(128), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
)

inbox = Table(
    "inbox",
    EVENT_METADATA,
    Column("handler", String(200), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("handler", "event_id"),
    Index("inbox_applied_at", "applied_at"),
)


# One row per RPC call whose worker committed a write (services/kernel/runtime/receipts.py): a
# delivery of the same call again (the broker redelivers a request whose worker died before
# acknowledging it) is refused instead of writing twice. Pruned after the inbox's retention.
rpc_receipts = Table(
    "rpc_receipts",
    EVENT_METADATA,
    Column("call_id", String(64), primary_key=True),
    Column("worker", String(32), nullable=False),
    Column("method", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("rpc_receipts_recorded_at", "recorded_at"),
)


def create_event_tables(bind: Connection) -> None:
    """For a service's migration: the outbox, sequence and inbox tables (version 1)."""
    EVENT_METADATA.create_all(bind)


def add_traceparent_column(bind: Connection) -> None:
    """For a service's migration, once: the outbox's `traceparent` column, to databases made
    before it was in `create_event_tables` (nullable, no default: PostgreSQL only records it in
    its catalogue, the table is not rewritten)."""
    bind.exec_driver_sql("ALTER TABLE outbox ADD COLUMN IF NOT EXISTS traceparent varchar(55)")


def drop_traceparent_column(bind: Connection) -> None:
    bind.exec_driver_sql("ALTER TABLE outbox DROP COLUMN IF EXISTS traceparent")


def add_receipts_table(bind: Connection) -> None:
    """For a service's migration, once: `rpc_receipts`, to databases made before it was in
    `create_event_tables`."""
    rpc_receipts.create(bind, checkfirst=True)


def drop_receipts_table(bind: Connection) -> None:
    rpc_receipts.drop(bind, checkfirst=True)


def drop_event_tables(bind: Connection) -> None:
    EVENT_METADATA.drop_all(bind)


# ---------------------------------------------------------------- recording (inside a unit of work)

_next_sequence = (
    pg_insert(event_sequences)
    .values(aggregate_id=bindparam("aggregate_id"), last_sequence=1)
    .on_conflict_do_update(
        index_elements=[event_sequences.c.aggregate_id],
        set_={"last_sequence": event_sequences.c.last_sequence + 1},
    )
    .returning(event_sequences.c.last_sequence)
)
_insert_outbox = insert(outbox)


# Many aggregates' sequences advanced in one statement: each by the number of events it gets.
_advance_sequences = text(
    "INSERT INTO event_sequences (aggregate_id, last_sequence) "
    "SELECT a, n FROM unnest(CAST(:ids AS varchar[]), CAST(:counts AS bigint[])) AS s(a, n) "
    "ON CONFLICT (aggregate_id) DO UPDATE "
    "SET last_sequence = event_sequences.last_sequence + EXCLUDED.last_sequence "
    "RETURNING aggregate_id, last_sequence"
)


def record_event(connection: Connection, payload: EventPayload, now: datetime) -> Envelope:
    """Add `payload` to the outbox in the connection's open transaction."""
    _check_type(payload)
    aggregate_id = payload.aggregate_of()
    sequence = int(connection.execute(_next_sequence, {"aggregate_id": aggregate_id}).scalar_one())
    envelope = _envelope(payload, aggregate_id, sequence, now)
    connection.execute(_insert_outbox, _outbox_row(envelope, now))
    return envelope


def record_events(
    connection: Connection, payloads: list[EventPayload], now: datetime
) -> list[Envelope]:
    """Add many events at once (a bulk import), in order: three statements whatever their number,
    each aggregate's sequence numbers following the order of `payloads`."""
    if not payloads:
        return []
    for payload in payloads:
        _check_type(payload)
    aggregates = [p.aggregate_of() for p in payloads]
    counts: dict[str, int] = {}
    for aggregate_id in aggregates:
        counts[aggregate_id] = counts.get(aggregate_id, 0) + 1
    rows = connection.execute(
        _advance_sequences, {"ids": list(counts), "counts": list(counts.values())}
    )
    # The first sequence each aggregate hands out in this batch.
    following = {r.aggregate_id: int(r.last_sequence) - counts[r.aggregate_id] + 1 for r in rows}
    envelopes = []
    for payload, aggregate_id in zip(payloads, aggregates, strict=True):
        envelopes.append(_envelope(payload, aggregate_id, following[aggregate_id], now))
        following[aggregate_id] += 1
    connection.execute(_insert_outbox, [_outbox_row(e, now) for e in envelopes])
    return envelopes


# Lock (and create, at 0, when missing) the sequence rows of many aggregates, in id order so
# two such statements never wait on each other crosswise.
_hold_sequences = text(
    "INSERT INTO event_sequences (aggregate_id, last_sequence) "
    "SELECT a, 0 FROM unnest(CAST(:ids AS varchar[])) AS s(a) ORDER BY a "
    "ON CONFLICT (aggregate_id) DO UPDATE SET last_sequence = event_sequences.last_sequence"
)


def hold_sequences(connection: Connection, aggregate_ids: list[str]) -> None:
    """Lock the sequence rows of `aggregate_ids` until the transaction ends. A transaction that
    records an event of one of them meanwhile waits; one that recorded before has committed
    (its state is read after this). So state read now and recorded in this transaction gets a
    sequence after every event describing an older state."""
    if aggregate_ids:
        connection.execute(_hold_sequences, {"ids": sorted(set(aggregate_ids))})


def _check_type(payload: EventPayload) -> None:
    if not payload.TYPE:
        raise TypeError(f"{type(payload).__name__} has no TYPE")


def _envelope(payload: EventPayload, aggregate_id: str, sequence: int, now: datetime) -> Envelope:
    return Envelope(
        id=new_event_id(),
        type=payload.TYPE,
        version=payload.VERSION,
        occurred_at=now,
        tenant_id=payload.tenant_of(),
        aggregate_id=aggregate_id,
        sequence=sequence,
        payload=payload.model_dump(mode="json"),
    )


def _outbox_row(envelope: Envelope, now: datetime) -> dict[str, Any]:
    return {
        "event_id": envelope.id,
        "event_type": envelope.type,
        "aggregate_id": envelope.aggregate_id,
        "sequence": envelope.sequence,
        "envelope": envelope.model_dump(mode="json"),
        "request_id": current_request_id(),
        "traceparent": tracing.current_traceparent(),
        "recorded_at": now,
    }


# ---------------------------------------------------------------- the relay


@dataclass(frozen=True)
class RelaySettings:
    batch_size: int = 200
    lease: timedelta = timedelta(seconds=30)
    outbox_retention: timedelta = timedelta(hours=72)
    inbox_retention: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class Claimed:
    id: int
    event_id: str
    event_type: str
    envelope: dict[str, Any]
    request_id: str | None
    traceparent: str | None = None


def relay_owner_id(service: str) -> str:
    """Names one relay instance in `claimed_by` (host, process, random)."""
    import os

    return f"{service}@{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


_pick = (
    select(outbox.c.id)
    .where(
        outbox.c.sent_at.is_(None),
        (outbox.c.claimed_until.is_(None)) | (outbox.c.claimed_until < bindparam("now")),
    )
    .order_by(outbox.c.id)
    .limit(bindparam("batch"))
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_claim = (
    update(outbox)
    .where(outbox.c.id.in_(_pick))
    .values(
        claimed_by=bindparam("owner"),
        claimed_until=bindparam("until"),
        publish_attempts=outbox.c.publish_attempts + 1,
    )
    .returning(
        outbox.c.id,
        outbox.c.event_id,
        outbox.c.event_type,
        outbox.c.envelope,
        outbox.c.request_id,
        outbox.c.traceparent,
    )
)
_mark_sent = (
    update(outbox)
    .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
    .where(outbox.c.claimed_by == bindparam("owner"))
    .values(sent_at=bindparam("now"), claimed_until=None)
)
_release = (
    update(outbox)
    .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
    .where(outbox.c.claimed_by == bindparam("owner"))
    .where(outbox.c.sent_at.is_(None))
    .values(claimed_until=None)
)
_prune_outbox = delete(outbox).where(
    outbox.c.sent_at.is_not(None), outbox.c.sent_at < bindparam("before")
)
_prune_inbox = delete(inbox).where(inbox.c.applied_at < bindparam("before"))
_prune_receipts = delete(rpc_receipts).where(rpc_receipts.c.recorded_at < bindparam("before"))
_backlog = select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
# Both from the partial index of unsent rows: cheap however many sent rows wait for pruning.
_unsent = select(func.count(), func.min(outbox.c.recorded_at)).where(outbox.c.sent_at.is_(None))


class Relay:
    """Publishes a service's outbox. `run_once` does one claim-publish-mark cycle; the nameko
    dependency (`EventRelay`) runs it in a loop. Usable from plain threads as well."""

    def __init__(
        self,
        service: str,
        engine: Engine,
        clock: Clock,
        publisher: ConfirmingPublisher,
        settings: RelaySettings | None = None,
        owner: str | None = None,
        signing_key: SigningKey | None = None,
    ) -> None:
        """`signing_key`: the service's own key, which signs every event (consumers refuse
        unsigned ones; only tests of the relay alone leave it out)."""
        self.service = service
        self.signing_key = signing_key
        self.engine = engine
        self.clock = clock
        self.publisher = publisher
        self.settings = settings or RelaySettings()
        self.owner = owner or relay_owner_id(service)
        self.exchange = events_exchange(service)
        self.published = 0

    def claim(self) -> list[Claimed]:
        now = self.clock.now()
        with self.engine.begin() as conn:
            rows = conn.execute(
                _claim,
                {
                    "now": now,
                    "batch": self.settings.batch_size,
                    "owner": self.owner,
                    "until": now + self.settings.lease,
                },
            ).all()
        claimed = [
            Claimed(r.id, r.event_id, r.event_type, r.envelope, r.request_id, r.traceparent)
            for r in rows
        ]
        claimed.sort(key=lambda c: c.id)
        return claimed

    def _outgoing(self, row: Claimed, spans: ExitStack) -> Outgoing:
        body = envelope_bytes(row.envelope)
        headers = {"nameko.request_id": row.request_id} if row.request_id else {}
        parent = tracing.parent_from(row.traceparent)
        if parent is not None:  # a publish span in the recording request's trace, sent along
            spans.enter_context(
                tracing.span(
                    f"{row.event_type} publish",
                    tracing.SpanKind.PRODUCER,
                    {"messaging.system": "rabbitmq", "messaging.destination.name": row.event_type},
                    parent=parent,
                )
            )
            headers["nameko." + tracing.TRACEPARENT] = tracing.current_traceparent()
        if self.signing_key is not None:
            headers.update(signature_headers(body, self.service, self.signing_key))
        return Outgoing(self.exchange, row.event_type, body, headers, message_id=row.event_id)

    def run_once(self) -> int:
        """Publish what can be claimed now; the number of events published."""
        claimed = self.claim()
        if not claimed:
            return 0
        failure: PublishFailed | None = None
        with ExitStack() as spans:  # each publish span ends once the broker has confirmed
            try:
                confirmed = self.publisher.publish_batch(
                    [self._outgoing(row, spans) for row in claimed]
                )
            except PublishFailed as exc:
                failure, confirmed = exc, [False] * len(claimed)
        sent = [row.id for row, ok in zip(claimed, confirmed, strict=True) if ok]
        if failure is None and len(sent) < len(claimed):
            failure = PublishFailed("the broker refused some events (a queue at its limit?)")
        with self.engine.begin() as conn:
            if sent:
                conn.execute(
                    _mark_sent, {"ids": sent, "owner": self.owner, "now": self.clock.now()}
                )
            done = set(sent)
            unsent = [row.id for row in claimed if row.id not in done]
            if unsent:
                # Let the next cycle (ours or another instance's) take them without waiting out
                # the lease.
                conn.execute(_release, {"ids": unsent, "owner": self.owner})
        self.published += len(sent)
        if failure is not None:
            log.warning(
                "relay could not publish; %d event(s) wait in the outbox",
                len(claimed) - len(sent),
                extra={"service": self.service, "error": str(failure)[:200]},
            )
            raise failure
        return len(sent)

    def prune(self) -> tuple[int, int]:
        """Delete sent outbox rows, applied-event ids and RPC receipts older than their
        retention (receipts: the inbox's, far beyond any request's deadline)."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            sent = conn.execute(
                _prune_outbox, {"before": now - self.settings.outbox_retention}
            ).rowcount
            seen = conn.execute(
                _prune_inbox, {"before": now - self.settings.inbox_retention}
            ).rowcount
            seen += conn.execute(
                _prune_receipts, {"before": now - self.settings.inbox_retention}
            ).rowcount
        return int(sent or 0), int(seen or 0)

    def backlog(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(_backlog).scalar_one())

    def lag_samples(self) -> list[tuple[str, tuple[str, ...], float]]:
        """At scrape time (services/kernel/metrics.py): the unsent events and the age of the
        oldest, on the service's clock (the one that stamped them)."""
        with self.engine.connect() as conn:
            count, oldest = conn.execute(_unsent).one()
        age = max((self.clock.now() - oldest).total_seconds(), 0.0) if oldest else 0.0
        return [
            ("ecoach_outbox_backlog", (self.service,), float(count)),
            ("ecoach_outbox_oldest_unsent_age_seconds", (self.service,), age),
        ]


# ---------------------------------------------------------------- the inbox (handlers' side)

_claim_inbox = (
    pg_insert(inbox)
    .values(
        handler=bindparam("handler"), event_id=bindparam("event_id"), applied_at=bindparam("now")
    )
    .on_conflict_do_nothing()
    .returning(inbox.c.event_id)
)


def claim_inbox(connection: Connection, handler: str, event_id: str, now: datetime) -> bool:
    """In the handler's transaction: True the first time `handler` sees `event_id`.

    A concurrent duplicate waits on the primary key until the first transaction ends, then finds
    the row (committed: a duplicate) or not (rolled back: its turn to apply)."""
    row = connection.execute(
        _claim_inbox, {"handler": handler, "event_id": event_id, "now": now}
    ).first()
    return row is not None


_seen = select(inbox.c.event_id).where(
    inbox.c.handler == bindparam("handler"), inbox.c.event_id == bindparam("event_id")
)


def inbox_has(connection: Connection, handler: str, event_id: str) -> bool:
    return connection.execute(_seen, {"handler": handler, "event_id": event_id}).first() is not None
