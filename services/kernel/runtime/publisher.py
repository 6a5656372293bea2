"""Publishing that the broker confirms: the relay, the retry path and the operator's replay use it.

A publish counts only once RabbitMQ has taken responsibility for the message (publisher
confirms); a batch is published first and confirmed as a whole. A nack (a queue at its length
limit refuses it, `overflow: reject-publish`) fails that message; a lost connection or no
confirm within the timeout raises `PublishFailed`. The caller keeps what failed (an outbox row,
an unacked delivery) and tries again later.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import amqp
import amqp.exceptions
import kombu
import kombu.exceptions

log = logging.getLogger(__name__)

PERSISTENT = 2
FAILURES = (
    OSError,
    TimeoutError,
    kombu.exceptions.OperationalError,
    amqp.exceptions.AMQPError,
    amqp.exceptions.MessageNacked,
)


class PublishFailed(Exception):
    """The broker did not confirm the message: it may or may not have been routed."""


@dataclass(frozen=True)
class Outgoing:
    """One message to publish."""

    exchange: str
    routing_key: str
    body: Mapping[str, Any] | bytes
    headers: Mapping[str, Any] | None = None
    message_id: str | None = None
    exchange_type: str = "topic"


class ConfirmingPublisher:
    """One connection and channel in confirm mode, opened on first use and after any failure.

    `publish_batch` sends a whole batch, then waits for the broker's confirms of all of it (one
    round trip per batch, not per message). Thread-safe (and greenthread-safe under eventlet):
    publishes are serialised by a lock."""

    def __init__(self, amqp_uri: str, *, confirm_timeout: float = 5.0, name: str = "") -> None:
        self._uri = amqp_uri
        self._confirm_timeout = confirm_timeout
        self._name = name
        self._lock = threading.Lock()
        self._conn: kombu.Connection | None = None
        self._channel: Any = None
        self._declared: set[tuple[str, str]] = set()
        self._next_tag = 1
        self._pending: set[int] = set()  # delivery tags published and not yet settled
        self._outcome: dict[int, bool] = {}  # delivery tag -> confirmed (True) or nacked

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: Mapping[str, Any] | bytes,
        *,
        headers: Mapping[str, Any] | None = None,
        message_id: str | None = None,
        exchange_type: str = "topic",
    ) -> None:
        """Publish one message; raises PublishFailed unless the broker confirmed it."""
        [ok] = self.publish_batch(
            [Outgoing(exchange, routing_key, body, headers, message_id, exchange_type)]
        )
        if not ok:
            raise PublishFailed("the broker refused the message (a queue at its limit?)")

    def publish_batch(self, items: Sequence[Outgoing]) -> list[bool]:
        """Publish `items` in order; for each, whether the broker confirmed it. Raises
        PublishFailed when the connection fails or confirms do not come in time (then none of
        the unconfirmed items counts as published)."""
        if not items:
            return []
        with self._lock:
            try:
                channel = self._open()
                tags = []
                for item in items:
                    if item.exchange and (item.exchange, item.exchange_type) not in self._declared:
                        # The same declaration as nameko's (durable; not auto-deleted).
                        channel.exchange_declare(
                            item.exchange, item.exchange_type, durable=True, auto_delete=False
                        )
                        self._declared.add((item.exchange, item.exchange_type))
                    channel.basic_publish(_message(item), item.exchange, item.routing_key)
                    tags.append(self._next_tag)
                    self._pending.add(self._next_tag)
                    self._next_tag += 1
                self._await(tags)
                return [self._outcome.pop(tag) for tag in tags]
            except FAILURES as exc:
                self._reset()
                raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc

    def _await(self, tags: list[int]) -> None:
        deadline = time.monotonic() + self._confirm_timeout
        assert self._conn is not None
        while any(tag not in self._outcome for tag in tags):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no publisher confirm in time")
            self._conn.drain_events(timeout=remaining)

    def _settle(self, ok: bool) -> Any:
        """The broker's ack (ok) or nack handler. RabbitMQ settles out of order: single acks
        for later tags can come before a `multiple` ack that covers earlier ones (seen here:
        6, 8, 10, then 9 multiple, settling 5, 7 and 9), so `multiple` settles every pending
        tag up to its own, not only a contiguous run below it."""

        def on_confirm(delivery_tag: int, multiple: bool) -> None:
            if multiple:
                settled = [tag for tag in self._pending if tag <= delivery_tag]
            else:
                settled = [delivery_tag] if delivery_tag in self._pending else []
            for tag in settled:
                self._pending.discard(tag)
                self._outcome[tag] = ok

        return on_confirm

    def _open(self) -> Any:
        if self._channel is None:
            self._conn = kombu.Connection(
                self._uri,
                connect_timeout=self._confirm_timeout,
                heartbeat=0,
                transport_options={
                    "read_timeout": self._confirm_timeout,
                    "write_timeout": self._confirm_timeout,
                },
            )
            self._conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            channel = self._conn.default_channel
            channel.events["basic_ack"].add(self._settle(True))
            channel.events["basic_nack"].add(self._settle(False))
            channel.confirm_select()
            self._channel = channel
            self._next_tag = 1
            self._pending = set()
            self._outcome = {}
        return self._channel

    def _reset(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        self._declared.clear()
        self._pending = set()
        self._outcome = {}
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: S110 - already broken; we only want it gone
                pass

    def close(self) -> None:
        with self._lock:
            self._reset()


def _message(item: Outgoing) -> amqp.Message:
    body = item.body
    payload = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":"))
    return amqp.Message(
        payload,
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=PERSISTENT,
        message_id=item.message_id,
        application_headers=dict(item.headers or {}),
    )
