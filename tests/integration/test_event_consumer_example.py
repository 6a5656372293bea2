"""The reference external consumer (examples/event_consumer/consume.py) against a real RabbitMQ:
it applies a signed event once, in sequence order, and refuses a forged one into its dead-letter
queue. The events are signed the way the platform's relay signs them (tests/support/signing.py),
and the consumer reads the publisher's public key file the platform writes (`<keys>/spaces.pub`)."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import kombu

from services.kernel.events import envelope_bytes, new_event_id
from services.kernel.tokens import load_or_create_service_key
from tests.support.signing import signed
from tests.support.waiting import wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "event_consumer" / "consume.py"


def _example() -> ModuleType:
    # Loaded from its file: the example is a standalone script, not a package of the project.
    spec = importlib.util.spec_from_file_location("ecoach_event_consumer_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _envelope(aggregate_id: str, sequence: int, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or new_event_id(),
        "type": "spaces.space_paused",
        "version": 1,
        "occurred_at": f"2026-12-06T09:00:0{sequence}+00:00",
        "tenant_id": "ten_1",
        "aggregate_id": aggregate_id,
        "sequence": sequence,
        "payload": {"space_id": aggregate_id, "tenant_id": "ten_1"},
    }


def _publish(producer: kombu.Producer, envelope: dict[str, Any], keys: Path) -> None:
    body, headers = signed(envelope, "spaces", keys)
    producer.publish(
        body,
        exchange="spaces.events",
        routing_key=envelope["type"],
        headers=headers,
        content_type="application/json",
        content_encoding="utf-8",
        message_id=envelope["id"],
        delivery_mode=2,
    )


def test_the_example_consumer_applies_signed_events_once_in_order_and_refuses_forgeries(
    rabbit_config: dict[str, Any], tmp_path: Path
) -> None:
    example = _example()
    # The deployment's keys (spaces' pair), and someone else's key claiming to be spaces.
    keys, forger_keys = tmp_path / "keys", tmp_path / "forger"
    load_or_create_service_key(keys, "spaces")  # writes <keys>/spaces.pub, as the platform does
    applied: list[str] = []
    queue = f"example-{uuid.uuid4().hex[:8]}"
    consumer = example.EventConsumer(
        publisher="spaces",
        public_key=example.load_public_key(keys / "spaces.pub"),
        queue=queue,
        routing_keys=["spaces.space_paused"],
        on_event=lambda event: applied.append(example.describe(event)),
    )
    space = "spa_" + uuid.uuid4().hex
    first, second = _envelope(space, 1), _envelope(space, 2)
    forged, other = _envelope(space, 3), _envelope("spa_" + uuid.uuid4().hex, 1)
    with kombu.Connection(rabbit_config["AMQP_URI"]) as connection:
        channel = connection.default_channel
        # The platform's side: the publisher's exchange exists before anyone binds to it.
        kombu.Exchange("spaces.events", "topic", durable=True)(channel).declare()
        for declared in consumer.queues():
            declared(channel).declare()
        producer = kombu.Producer(channel)
        _publish(producer, second, keys)
        _publish(producer, first, keys)  # older, arrives later: not applied
        _publish(producer, second, keys)  # redelivered: not applied twice
        _publish(producer, forged, forger_keys)  # not the publisher's key: refused
        _publish(producer, other, keys)
        consumer.run(connection, count=5, idle_timeout=10)

        assert applied == [
            example.describe(example.parse_envelope(envelope_bytes(envelope), envelope["type"]))
            for envelope in (second, other)
        ]
        refused = kombu.Queue(f"{queue}.refused")(channel)
        dead = wait_for(lambda: refused.get(no_ack=True), 10, "the forgery dead-lettered")
        assert dead.properties["message_id"] == forged["id"]
        # Nothing is left unacknowledged or waiting in the consumer's queue.
        assert kombu.Queue(queue)(channel).queue_declare(passive=True).message_count == 0
