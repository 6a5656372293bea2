"""The webhook deliverer on real PostgreSQL, POSTing to a receiver served on 127.0.0.1 that checks
every signature with the subscription's secret (ADR 0023): a delivery arrives signed; a 500 then a
200 is retried on the test clock and delivered at the second attempt; two deliverers at once send
each delivery once; and without the tests' allow-list a receiver on a loopback address is
refused as unsafe, before any connection. Each test has a database of its own, created and
dropped around it (a deliverer sends every due delivery of its database, whichever test enqueued
it). The receiver is tests/support/webhooks.py's."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from services.kernel.clock import FixedClock
from services.kernel.config import settings, with_database
from services.kernel.crypto import MasterKey
from services.kernel.runtime.keyring import create_keyring_tables
from services.kernel.runtime.migrations import create_database, drop_database
from services.kernel.runtime.sql import make_engine
from services.kernel.runtime.webhooks import (
    WebhookDeliverer,
    WebhookPoster,
    create_webhook_tables,
    deactivate,
    deliveries_of,
    enqueue,
    subscribe,
    webhook_deliveries,
    webhook_subscriptions,
)
from services.kernel.webhooks import (
    DeliveryState,
)
from tests.support.loopback import LoopbackOnly
from tests.support.webhooks import Receiver

AGGREGATES = {"period": "2026-11", "sessions_held": 42, "coachees": 12}


@pytest.fixture
def engine() -> Iterator[Engine]:
    config = settings()
    name = f"{config.database_prefix}_webhooks_{secrets.token_hex(3)}"
    create_database(config.server_url(), name)
    engine = make_engine(with_database(config.server_url(), name), pool_size=6, green=True)
    try:
        with engine.begin() as connection:
            create_keyring_tables(connection)
            create_webhook_tables(connection)
        yield engine
    finally:
        engine.dispose()
        drop_database(config.server_url(), name)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def master() -> MasterKey:
    return MasterKey(secrets.token_bytes(32))


@pytest.fixture
def receiver(clock: FixedClock) -> Iterator[Receiver]:
    with Receiver(clock) as serving:
        yield serving


def tenant() -> str:
    return f"ten_{secrets.token_hex(6)}"


def subscribed(engine: Engine, master: MasterKey, receiver: Receiver, clock: FixedClock) -> str:
    """A new tenant subscribed to the receiver, which learns the secret shown once."""
    tenant_id = tenant()
    with engine.begin() as connection:
        subscription = subscribe(connection, master, tenant_id, receiver.url, clock.now())
    receiver.secret = subscription.secret
    return tenant_id


def deliverer(engine: Engine, master: MasterKey, clock: FixedClock, **options: Any) -> Any:
    poster = options.pop("poster", None) or WebhookPoster(
        https_only=False, allow=["127.0.0.1/32"], transport=LoopbackOnly()
    )
    return WebhookDeliverer("tests", engine, master, clock, poster, **options)


def test_the_secret_is_stored_sealed(
    engine: Engine, master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant_id = subscribed(engine, master, receiver, clock)
    with engine.connect() as connection:
        stored = connection.execute(
            select(webhook_subscriptions.c.secret).where(
                webhook_subscriptions.c.tenant_id == tenant_id
            )
        ).scalar_one()
    assert receiver.secret not in stored and stored.startswith("v1.")


def test_a_delivery_arrives_signed_and_is_recorded_delivered(
    engine: Engine, master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant_id = subscribed(engine, master, receiver, clock)
    with engine.begin() as connection:
        (delivery_id,) = enqueue(connection, tenant_id, "sessions.monthly", AGGREGATES, clock.now())

    assert deliverer(engine, master, clock).run_once() >= 1

    assert receiver.refused == []
    (body,) = [b for b in receiver.received if b["id"] == delivery_id]
    assert (body["kind"], body["tenant_id"], body["data"]) == (
        "sessions.monthly",
        tenant_id,
        AGGREGATES,
    )
    with engine.connect() as connection:
        (seen,) = deliveries_of(connection, tenant_id)
    assert (seen.id, seen.state, seen.attempts, seen.last_status) == (
        delivery_id,
        DeliveryState.DELIVERED,
        1,
        200,
    )
    with engine.connect() as connection:
        assert deliveries_of(connection, tenant()) == []  # another tenant sees none of it


def test_a_500_is_retried_after_the_backoff_and_delivered_at_the_second_attempt(
    engine: Engine, master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant_id = subscribed(engine, master, receiver, clock)
    receiver.answers = [500]
    with engine.begin() as connection:
        (delivery_id,) = enqueue(connection, tenant_id, "sessions.monthly", AGGREGATES, clock.now())
    sender = deliverer(engine, master, clock)

    sender.run_once()
    with engine.connect() as connection:
        (first,) = deliveries_of(connection, tenant_id)
    assert (first.state, first.attempts, first.last_status, first.last_error) == (
        DeliveryState.PENDING,
        1,
        500,
        "http_500",
    )
    assert first.next_attempt_at is not None
    assert clock.now() + timedelta(seconds=27) <= first.next_attempt_at
    assert first.next_attempt_at <= clock.now() + timedelta(seconds=33)

    clock.advance(timedelta(seconds=20))  # not due yet
    sender.run_once()
    assert receiver.ids().count(delivery_id) == 1

    clock.advance(timedelta(seconds=20))  # due now
    sender.run_once()
    with engine.connect() as connection:
        (second,) = deliveries_of(connection, tenant_id)
    assert (second.state, second.attempts, second.last_status, second.last_error) == (
        DeliveryState.DELIVERED,
        2,
        200,
        None,
    )
    assert receiver.ids().count(delivery_id) == 2 and receiver.refused == []


def test_two_deliverers_at_once_send_each_delivery_once(
    engine: Engine, master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant_id = subscribed(engine, master, receiver, clock)
    with engine.begin() as connection:
        ids = [
            enqueue(connection, tenant_id, "sessions.weekly", {"week": n}, clock.now())[0]
            for n in range(30)
        ]
    first, second = (deliverer(engine, master, clock, batch=3) for _ in range(2))
    assert first.owner != second.owner
    work: dict[str, int] = {}

    def drain(name: str, sender: WebhookDeliverer) -> None:
        work[name] = 0
        while (made := sender.run_once()) > 0:
            work[name] += made

    threads = [
        threading.Thread(target=drain, args=(name, sender))
        for name, sender in (("first", first), ("second", second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    sent = Counter(i for i in receiver.ids() if i in set(ids))
    assert sent == Counter(dict.fromkeys(ids, 1))  # every one, once
    assert work["first"] + work["second"] == 30
    with engine.connect() as connection:
        states = {d.state for d in deliveries_of(connection, tenant_id, limit=100)}
    assert states == {DeliveryState.DELIVERED}


def test_a_leased_or_locked_delivery_is_skipped_by_another_deliverer(
    engine: Engine, master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant_id = subscribed(engine, master, receiver, clock)
    with engine.begin() as connection:
        leased, locked, free = (
            enqueue(connection, tenant_id, "sessions.daily", {"day": n}, clock.now())[0]
            for n in range(3)
        )
    d = webhook_deliveries
    first = deliverer(engine, master, clock, batch=1)
    with engine.begin() as connection:  # only `leased` is due for the first claim
        connection.execute(
            update(d)
            .where(d.c.id.in_([locked, free]))
            .values(next_attempt_at=clock.now() + timedelta(seconds=1))
        )
    assert [c.delivery.id for c in first.claim()] == [leased]
    clock.advance(timedelta(seconds=1))

    second = deliverer(engine, master, clock)
    with engine.connect() as holder, holder.begin():  # another transaction is on `locked`
        holder.execute(select(d.c.id).where(d.c.id == locked).with_for_update())
        claimed = [c.delivery.id for c in second.claim() if c.delivery.tenant_id == tenant_id]
    assert claimed == [free]  # neither the leased one nor the locked one; no wait either

    clock.advance(timedelta(minutes=3))  # the first deliverer's lease has expired
    assert leased in [c.delivery.id for c in second.claim()]


def test_a_receiver_on_a_loopback_address_without_the_allow_list_is_refused_unsafe(
    engine: Engine, master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant_id = subscribed(engine, master, receiver, clock)
    with engine.begin() as connection:
        (delivery_id,) = enqueue(connection, tenant_id, "sessions.monthly", AGGREGATES, clock.now())
    production_like = WebhookPoster(https_only=False, transport=LoopbackOnly())

    deliverer(engine, master, clock, poster=production_like).run_once()

    with engine.connect() as connection:
        (seen,) = deliveries_of(connection, tenant_id)
    assert (seen.id, seen.state, seen.attempts, seen.last_error, seen.last_status) == (
        delivery_id,
        DeliveryState.PENDING,
        1,
        "refused_unsafe",
        None,
    )
    assert delivery_id not in receiver.ids()


def test_a_deactivated_subscriptions_pending_delivery_fails(
    engine: Engine, master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant_id = subscribed(engine, master, receiver, clock)
    with engine.begin() as connection:
        (delivery_id,) = enqueue(connection, tenant_id, "sessions.monthly", AGGREGATES, clock.now())
        (subscription_id,) = connection.execute(
            select(webhook_subscriptions.c.id).where(webhook_subscriptions.c.tenant_id == tenant_id)
        ).scalars()
        assert not deactivate(connection, tenant(), subscription_id)  # not another tenant's
        assert deactivate(connection, tenant_id, subscription_id)

    deliverer(engine, master, clock).run_once()

    with engine.connect() as connection:
        (seen,) = deliveries_of(connection, tenant_id)
        assert enqueue(connection, tenant_id, "sessions.monthly", AGGREGATES, clock.now()) == []
    assert (seen.state, seen.last_error) == (DeliveryState.FAILED, "subscription_inactive")
    assert delivery_id not in receiver.ids()
