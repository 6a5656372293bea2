"""A reference external consumer of ecoach's events: one file, kombu and cryptography only.

It declares its own durable queue, bound to a publisher's topic exchange (`<publisher>.events`)
for the routing keys (event types) it wants, and for each message:

1. verifies the Ed25519 signature of the exact body bytes (`ecoach-signature` header) with the
   publisher's public key file (`<keys>/<publisher>.pub`), and that the signer
   (`ecoach-signer`) is the publisher the event type names: anything else is refused, rejected
   without requeue into the dead-letter queue `<queue>.refused`, never applied;
2. parses the envelope (docs/api/asyncapi.json, docs/events/README.md);
3. ignores an event id it has already applied (delivery is at least once);
4. applies an event only if its `sequence` is newer than the last one applied for its aggregate
   (retries reorder events that carry an aggregate's current state);
5. prints one line per applied event, then acks.

Standalone on purpose, for integrators outside the platform: it imports nothing from ecoach.
What it repeats of the platform's kernel (services/kernel/events.py `check_signature`, the
base64url decoding of services/kernel/tokens.py) is the minimum to check a signature: the two
header names and a dozen lines. Its memory of applied ids and sequences lives in this process;
a real consumer keeps them in its own database, in the same transaction as its effect.

    python consume.py --url amqp://user:password@broker:5672/ --publisher reporting \\
        --public-key keys/reporting.pub --queue acme-hr-tool --routing-key 'reporting.#'
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kombu
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNER_HEADER = "ecoach-signer"
SIGNATURE_HEADER = "ecoach-signature"
ENVELOPE_FIELDS = ("id", "type", "version", "occurred_at", "aggregate_id", "sequence", "payload")

log = logging.getLogger("ecoach.example.consumer")


class Refused(ValueError):
    """A message this consumer will not apply: unsigned, forged, or not an envelope."""


def b64url_decode(text: str) -> bytes:
    """base64url without padding, as the platform writes keys and signatures."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A `<keys>/<publisher>.pub` file: the raw 32-byte Ed25519 public key, base64url."""
    return Ed25519PublicKey.from_public_bytes(b64url_decode(path.read_text().strip()))


def verify(
    body: bytes, routing_key: str, headers: Mapping[str, Any], publisher: str, key: Ed25519PublicKey
) -> None:
    """Raise Refused unless `publisher` signed exactly `body`, an event of its own."""
    signer, signature = headers.get(SIGNER_HEADER), headers.get(SIGNATURE_HEADER)
    if not isinstance(signer, str) or not isinstance(signature, str):
        raise Refused("unsigned event")
    if signer != publisher or routing_key.split(".", 1)[0] != signer:
        raise Refused(f"{signer} may not publish {routing_key} events")
    try:
        key.verify(b64url_decode(signature), body)
    except (InvalidSignature, ValueError):
        raise Refused(f"the signature of {signer} does not verify") from None


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    version: int
    occurred_at: str
    tenant_id: str | None
    aggregate_id: str
    sequence: int
    payload: dict[str, Any]


def parse_envelope(body: bytes, routing_key: str) -> Event:
    try:
        envelope = json.loads(body)
    except ValueError:
        raise Refused("the body is not JSON") from None
    if not isinstance(envelope, dict) or any(name not in envelope for name in ENVELOPE_FIELDS):
        raise Refused("the body is not an event envelope")
    if envelope["type"] != routing_key:
        raise Refused(f"an event of type {envelope['type']} sent as {routing_key}")
    return Event(**{name: envelope.get(name) for name in Event.__dataclass_fields__})


def describe(event: Event) -> str:
    """The line printed for an applied event."""
    payload = json.dumps(event.payload, sort_keys=True, separators=(",", ":"))
    return (
        f"{event.occurred_at} {event.type} v{event.version} tenant={event.tenant_id} "
        f"aggregate={event.aggregate_id} sequence={event.sequence} id={event.id} {payload}"
    )


@dataclass
class EventConsumer:
    """What one consumer knows: the publisher it trusts, and what it has applied."""

    publisher: str
    public_key: Ed25519PublicKey
    queue: str
    routing_keys: Sequence[str]
    on_event: Callable[[Event], None] = lambda event: print(describe(event), flush=True)
    applied_ids: set[str] = field(default_factory=set)
    sequences: dict[str, int] = field(default_factory=dict)
    handled: int = 0

    def queues(self) -> list[kombu.Queue]:
        """Its durable queue, bound for each routing key, and the queue its refusals go to."""
        # The exchange is the publisher's (the platform declares it): bind to it, never declare.
        exchange = kombu.Exchange(
            f"{self.publisher}.events", "topic", durable=True, no_declare=True
        )
        refused = f"{self.queue}.refused"
        main = kombu.Queue(
            self.queue,
            bindings=[kombu.binding(exchange, routing_key=key) for key in self.routing_keys],
            durable=True,
            queue_arguments={
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": refused,
            },
        )
        return [main, kombu.Queue(refused, durable=True)]

    def handle(self, message: kombu.Message) -> None:
        """One delivery: verify, parse, de-duplicate, apply by sequence, ack (or reject)."""
        self.handled += 1
        routing_key = message.delivery_info.get("routing_key", "")
        body = message.body if isinstance(message.body, bytes) else message.body.encode()
        try:
            verify(body, routing_key, message.headers or {}, self.publisher, self.public_key)
            event = parse_envelope(body, routing_key)
        except Refused as exc:
            log.error(
                "refused message %s (%s): %s",
                message.properties.get("message_id"),
                routing_key,
                exc,
            )
            message.reject(requeue=False)  # dead-lettered to <queue>.refused
            return
        if event.id in self.applied_ids:
            log.info("duplicate %s: already applied", event.id)
        elif event.sequence <= self.sequences.get(event.aggregate_id, 0):
            log.info(
                "stale %s: sequence %s of %s, already at %s",
                event.id,
                event.sequence,
                event.aggregate_id,
                self.sequences[event.aggregate_id],
            )
            self.applied_ids.add(event.id)
        else:
            self.on_event(event)
            self.sequences[event.aggregate_id] = event.sequence
            self.applied_ids.add(event.id)
        message.ack()

    def run(
        self,
        connection: kombu.Connection,
        count: int | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        """Consume until `count` messages were handled, or nothing came for `idle_timeout`
        seconds (both None: forever)."""
        queues = self.queues()
        for queue in queues:
            queue(connection.default_channel).declare()
        with kombu.Consumer(
            connection, queues=queues[:1], on_message=self.handle, prefetch_count=10
        ):
            while count is None or self.handled < count:
                try:
                    connection.drain_events(timeout=idle_timeout)
                except TimeoutError:
                    return


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the events one ecoach service publishes.")
    parser.add_argument(
        "--url",
        default="amqp://guest:guest@127.0.0.1:5672/",
        help="the broker (amqps:// in production)",
    )
    parser.add_argument(
        "--publisher",
        required=True,
        help="the publishing service: its exchange is <publisher>.events",
    )
    parser.add_argument(
        "--public-key",
        type=Path,
        required=True,
        help="the publisher's public key file (<keys>/<publisher>.pub)",
    )
    parser.add_argument("--queue", required=True, help="your own durable queue's name")
    parser.add_argument(
        "--routing-key",
        action="append",
        default=[],
        help="an event type or topic pattern (repeatable; default <publisher>.#)",
    )
    parser.add_argument("--count", type=int, help="stop after this many messages")
    parser.add_argument(
        "--idle-timeout", type=float, help="stop after this many seconds without a message"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    consumer = EventConsumer(
        publisher=args.publisher,
        public_key=load_public_key(args.public_key),
        queue=args.queue,
        routing_keys=args.routing_key or [f"{args.publisher}.#"],
    )
    with kombu.Connection(args.url) as connection:
        try:
            consumer.run(connection, count=args.count, idle_timeout=args.idle_timeout)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
