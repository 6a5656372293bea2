"""Events published by hand in tests as the publishing service's relay publishes them: the
envelope of a payload (with the sequence the test chooses) on `<source>.events`, signed by the
service its type names."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import kombu

from services.kernel.events import Envelope, EventPayload, new_event_id
from tests.support.signing import signed


def envelope_of(event: EventPayload, sequence: int, occurred_at: datetime) -> Envelope:
    """`event` in the envelope its service's relay would give it (sequence per aggregate)."""
    return Envelope(
        id=new_event_id(),
        type=event.TYPE,
        version=event.VERSION,
        occurred_at=occurred_at,
        tenant_id=event.tenant_of(),
        aggregate_id=event.aggregate_of(),
        sequence=sequence,
        payload=event.model_dump(mode="json"),
    )


def publish_event(amqp_uri: str, envelope: Envelope, keys_dir: Path) -> None:
    """What the relay of the envelope's source publishes: on `<source>.events`, signed by it."""
    source = envelope.source()
    body, headers = signed(envelope.model_dump(mode="json"), source, keys_dir)
    with kombu.Connection(amqp_uri) as conn:
        exchange = kombu.Exchange(f"{source}.events", type="topic", durable=True)
        conn.Producer().publish(
            body,
            exchange=exchange,
            routing_key=envelope.type,
            declare=[exchange],
            headers=headers,
            content_type="application/json",
            content_encoding="utf-8",
        )


def drain(amqp_uri: str, queue: str) -> list[str]:
    """The message ids (a relayed event's id) of every message waiting in `queue`, taken off it."""
    ids = []
    with kombu.Connection(amqp_uri) as conn:
        channel = conn.channel()
        while True:
            message = channel.basic_get(queue, no_ack=True)
            if message is None:
                break
            ids.append(message.properties["message_id"])
        channel.close()
    return ids
