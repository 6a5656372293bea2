"""Is a nameko service serving? `python -m services.kernel.runtime.probe <service> [--timeout S]`
pings it over the broker (its public `ping`, as the gateway's health does) and exits 0 when an
instance answers in time, 1 otherwise: the readiness and liveness command of a service's
container (deploy/k8s, deploy/compose.yaml), which has no port of its own to probe.

It connects as the service's own broker user (`<keys>/<service>.amqp`, as the service does), so
it needs no permission the service lacks: its reply queue is `rpc.reply-<service>-probe-<hex>`,
bound by a UUID, like a nested call's. Plain blocking kombu, no eventlet: it runs beside the
service, not in it. Any instance may answer: on a shared queue, "serving" means the service.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from typing import Any

import amqp
import amqp.exceptions
import kombu
import kombu.exceptions

from ..config import Settings, settings

RPC_EXCHANGE = "nameko-rpc"


def ping(service: str, *, timeout: float, config: Settings | None = None) -> bool:
    """True when `service` answers its ping within `timeout` seconds (broker connection
    included); False when it does not, or the broker is unreachable."""
    config = config or settings()
    deadline = time.monotonic() + timeout
    routing_key = str(uuid.uuid4())
    correlation_id = uuid.uuid4().hex
    replies: list[dict[str, Any]] = []
    exchange = kombu.Exchange(RPC_EXCHANGE, type="topic", durable=True)
    queue = kombu.Queue(
        f"rpc.reply-{service}-probe-{uuid.uuid4().hex}",
        exchange,
        routing_key=routing_key,
        exclusive=True,
        auto_delete=True,
    )

    def on_message(body: Any, message: Any) -> None:
        if message.properties.get("correlation_id") == correlation_id:
            replies.append(body if isinstance(body, dict) else json.loads(body))

    try:
        with kombu.Connection(
            config.broker_uri(service), connect_timeout=max(0.1, timeout)
        ) as conn:
            channel = conn.channel()
            with kombu.Consumer(channel, [queue], callbacks=[on_message], no_ack=True):
                message = amqp.Message(
                    json.dumps({"args": [{}], "kwargs": {}}),
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=1,
                    reply_to=routing_key,
                    correlation_id=correlation_id,
                    expiration=str(max(1, int(timeout * 1000))),
                )
                channel.basic_publish(message, RPC_EXCHANGE, f"{service}.ping")
                while not replies:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    try:
                        conn.drain_events(timeout=left)
                    except TimeoutError:
                        return False
    except (OSError, kombu.exceptions.KombuError, amqp.exceptions.AMQPError):
        return False
    reply = replies[0]
    result = reply.get("result")
    return not reply.get("error") and isinstance(result, dict) and result.get("ok") is True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.kernel.runtime.probe")
    parser.add_argument("service", help="a registered service (services/kernel/registry.py)")
    parser.add_argument("--timeout", type=float, default=settings().health_probe_timeout_seconds)
    args = parser.parse_args(argv)
    if ping(args.service, timeout=args.timeout):
        return 0
    print(f"{args.service} did not answer its ping within {args.timeout} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
