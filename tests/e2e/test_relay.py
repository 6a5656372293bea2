"""The outbox relay on its own (kernel building blocks, plain threads): leases, no double
publishing between instances, lease expiry, pruning. Real PostgreSQL and RabbitMQ, a database
and a vhost of their own."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import kombu
import pytest
import sqlalchemy as sa

from ecoach_dev import broker
from services.kernel.clock import FixedClock
from services.kernel.config import Settings, with_database
from services.kernel.events import EventPayload
from services.kernel.runtime.migrations import create_database, drop_database
from services.kernel.runtime.outbox import (
    Relay,
    RelaySettings,
    claim_inbox,
    create_event_tables,
    record_event,
    record_events,
)
from services.kernel.runtime.publisher import ConfirmingPublisher, PublishFailed
from tests.support.events import drain

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class ThingHappened(EventPayload):
    TYPE: ClassVar[str] = "toy.thing_happened"
    AGGREGATE: ClassVar[str] = "thing_id"
    thing_id: str
    n: int


@pytest.fixture(scope="module")
def engine() -> Iterator[sa.Engine]:
    server = Settings(database_url=os.environ.get("ECOACH_DATABASE_URL")).server_url()
    name = f"ectest_relay_{secrets.token_hex(4)}"
    create_database(server, name)
    eng = sa.create_engine(with_database(server, name), pool_size=4)
    with eng.begin() as conn:
        create_event_tables(conn)
    yield eng
    eng.dispose()
    drop_database(server, name)


@pytest.fixture(scope="module")
def amqp_uri() -> Iterator[str]:
    base = Settings().amqp_uri
    broker.ensure_broker(base, management=True)
    vhost = f"ecoach-relay-{secrets.token_hex(4)}"
    uri = broker.create_vhost(base, vhost)
    yield uri
    broker.delete_vhost(base, vhost)


@pytest.fixture
def queue(amqp_uri: str) -> Iterator[str]:
    """A queue that receives every toy event."""
    name = f"all-toy-{secrets.token_hex(3)}"
    with kombu.Connection(amqp_uri) as conn:
        channel = conn.channel()
        channel.exchange_declare("toy.events", "topic", durable=True, auto_delete=False)
        channel.queue_declare(name, durable=True, auto_delete=False)
        channel.queue_bind(name, "toy.events", "#")
        channel.close()
    yield name


def record(engine: sa.Engine, count: int, clock: FixedClock, per_tx: int = 1000) -> None:
    done = 0
    while done < count:
        with engine.begin() as conn:
            for i in range(done, min(count, done + per_tx)):
                record_event(conn, ThingHappened(thing_id=f"thing-{i % 50}", n=i), clock.now())
        done = min(count, done + per_tx)


def flush(engine: sa.Engine, amqp_uri: str, queue: str) -> None:
    """Publish what earlier tests left in the outbox, and empty the queue."""
    r = relay(engine, amqp_uri, FixedClock(NOW + timedelta(days=1)))
    while r.run_once():
        pass
    r.publisher.close()
    drain(amqp_uri, queue)


def relay(engine: sa.Engine, amqp_uri: str, clock: FixedClock, **settings: object) -> Relay:
    return Relay(
        "toy",
        engine,
        clock,
        ConfirmingPublisher(amqp_uri),
        RelaySettings(**settings),  # type: ignore[arg-type]
    )


def test_two_relays_never_publish_the_same_event_twice(
    engine: sa.Engine, amqp_uri: str, queue: str
) -> None:
    clock = FixedClock(NOW)
    record(engine, 10_000, clock)
    relays = [relay(engine, amqp_uri, clock, batch_size=100) for _ in range(2)]
    errors: list[BaseException] = []

    def run(r: Relay) -> None:
        try:
            while r.run_once():
                pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert relays[0].backlog() == 0
    ids = drain(amqp_uri, queue)
    assert len(ids) == 10_000
    assert len(set(ids)) == 10_000  # no event published twice
    assert all(r.published > 0 for r in relays)  # both took part
    assert sum(r.published for r in relays) == 10_000
    for r in relays:
        r.publisher.close()


def test_sequences_count_per_aggregate(engine: sa.Engine) -> None:
    clock = FixedClock(NOW)
    with engine.begin() as conn:
        first = record_event(conn, ThingHappened(thing_id="seq-a", n=1), clock.now())
        second = record_event(conn, ThingHappened(thing_id="seq-a", n=2), clock.now())
        other = record_event(conn, ThingHappened(thing_id="seq-b", n=1), clock.now())
    assert (first.sequence, second.sequence, other.sequence) == (1, 2, 1)
    assert first.aggregate_id == "seq-a" and first.type == "toy.thing_happened"


def test_a_batch_continues_each_aggregates_sequence_in_order(engine: sa.Engine) -> None:
    clock = FixedClock(NOW)
    a, b = f"batch-{secrets.token_hex(3)}", f"batch-{secrets.token_hex(3)}"
    with engine.begin() as conn:
        before = record_event(conn, ThingHappened(thing_id=a, n=0), clock.now())
        batch = record_events(
            conn,
            [ThingHappened(thing_id=t, n=i) for i, t in enumerate([a, b, a, a, b], start=1)],
            clock.now(),
        )
        after = record_event(conn, ThingHappened(thing_id=b, n=6), clock.now())
        stored = conn.execute(
            sa.text(
                "SELECT aggregate_id, sequence FROM outbox "
                "WHERE aggregate_id IN (:a, :b) ORDER BY id"
            ),
            {"a": a, "b": b},
        ).all()
        assert record_events(conn, [], clock.now()) == []
    assert before.sequence == 1
    assert [(e.aggregate_id, e.sequence) for e in batch] == [(a, 2), (b, 1), (a, 3), (a, 4), (b, 2)]
    assert after.sequence == 3
    # Stored in the batch's order, so the relay publishes them in it.
    assert [tuple(r) for r in stored] == [(a, 1), (a, 2), (b, 1), (a, 3), (a, 4), (b, 2), (b, 3)]


def test_an_expired_lease_is_claimed_again(engine: sa.Engine, amqp_uri: str, queue: str) -> None:
    clock = FixedClock(NOW)
    flush(engine, amqp_uri, queue)
    record(engine, 3, clock)
    crashed = relay(engine, amqp_uri, clock, lease=timedelta(seconds=30))
    assert len(crashed.claim()) == 3  # claimed, then the process "dies" before publishing
    survivor = relay(engine, amqp_uri, clock, lease=timedelta(seconds=30))
    assert survivor.run_once() == 0  # the lease holds
    clock.advance(timedelta(seconds=31))
    assert survivor.run_once() == 3
    assert len(drain(amqp_uri, queue)) == 3
    survivor.publisher.close()
    crashed.publisher.close()


def test_a_relay_that_cannot_publish_leaves_the_rows_for_later(
    engine: sa.Engine, amqp_uri: str, queue: str
) -> None:
    clock = FixedClock(NOW)
    flush(engine, amqp_uri, queue)
    record(engine, 2, clock)
    broken = Relay(
        "toy",
        engine,
        clock,
        ConfirmingPublisher("amqp://guest:guest@127.0.0.1:1/", confirm_timeout=1),
    )
    with pytest.raises(PublishFailed):
        broken.run_once()
    working = relay(engine, amqp_uri, clock)
    assert working.run_once() == 2  # released at once, not held until the lease expires
    assert len(drain(amqp_uri, queue)) == 2
    working.publisher.close()


def test_sent_rows_old_inbox_ids_and_old_rpc_receipts_are_pruned(
    engine: sa.Engine, amqp_uri: str, queue: str
) -> None:
    clock = FixedClock(NOW + timedelta(days=1))
    flush(engine, amqp_uri, queue)
    r = relay(
        engine,
        amqp_uri,
        clock,
        outbox_retention=timedelta(hours=1),
        inbox_retention=timedelta(days=1),
    )
    while r.run_once():
        pass
    receipt = sa.text(
        "INSERT INTO rpc_receipts (call_id, worker, method, recorded_at)"
        " VALUES (:call, 'w', 'toy.m', :at)"
    )
    with engine.begin() as conn:
        assert claim_inbox(conn, "toy.h", "evt_old", clock.now())
        assert not claim_inbox(conn, "toy.h", "evt_old", clock.now())  # a duplicate
        conn.execute(receipt, {"call": "call_old", "at": clock.now()})  # an RPC call's receipt
    clock.advance(timedelta(days=2))
    with engine.begin() as conn:
        record_event(conn, ThingHappened(thing_id="fresh", n=0), clock.now())
        conn.execute(receipt, {"call": "call_fresh", "at": clock.now()})
    sent, seen = r.prune()
    assert sent > 0 and seen == 2  # the old inbox id and the old receipt
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one()
        calls = conn.execute(sa.text("SELECT call_id FROM rpc_receipts")).scalars().all()
    assert left == 1  # the unsent row stays
    assert calls == ["call_fresh"]
    r.publisher.close()


def test_the_migration_step_deletes_the_queues_of_removed_handlers(amqp_uri: str) -> None:
    from services.kernel.runtime import broker_admin
    from services.kernel.runtime.topology import Subscription, declare

    kept = Subscription("toy", "identity.tenant_created", "on_created")
    gone = Subscription("toy", "identity.membership_changed", "on_changed")
    options = {"retries": 2, "retry_base_seconds": 0.5, "queue_max_length": 10}
    assert declare(amqp_uri, "toy", [kept, gone], **options) == []  # type: ignore[arg-type]
    assert {kept.queue, gone.queue} <= set(broker_admin.queue_names(amqp_uri))
    # A new delay schedule and one handler fewer: its queue and the old retry queues go.
    removed = declare(amqp_uri, "toy", [kept], retries=1, retry_base_seconds=1, queue_max_length=10)
    names = set(broker_admin.queue_names(amqp_uri))
    assert gone.queue in removed and gone.queue not in names
    assert kept.queue in names and "toy.retry-1000ms" in names
    assert "toy.retry-500ms" not in names
    policy = broker_admin.management_request(
        amqp_uri, "GET", f"policies/{amqp_uri.rsplit('/', 1)[1]}/ecoach-event-queue-limits"
    )
    assert policy["definition"] == {"max-length": 10, "overflow": "reject-publish"}
