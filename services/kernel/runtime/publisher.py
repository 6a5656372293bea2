"""Publishing that the broker confirms: the relay, the retry path and the operator's replay use it.

A publish returns only once RabbitMQ has taken responsibility for the message (publisher
confirms). A nack (a queue at its length limit refuses it, `overflow: reject-publish`), a lost
connection or no confirm within the timeout raises `PublishFailed`; the caller keeps the message
(an outbox row, an unacked delivery) and tries again later.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

import amqp
import amqp.exceptions
import kombu
import kombu.exceptions

log = logging.getLogger(__name__)

PERSISTENT = 2
FAILURES = (
    OSError,
    kombu.exceptions.OperationalError,
    amqp.exceptions.AMQPError,
    amqp.exceptions.MessageNacked,
)


class PublishFailed(Exception):
    """The broker did not confirm the message: it may or may not have been routed."""


class ConfirmingPublisher:
    """One connection and channel in confirm mode, opened on first use and after any failure.

    Thread-safe (and greenthread-safe under eventlet): publishes are serialised by a lock."""

    def __init__(self, amqp_uri: str, *, confirm_timeout: float = 5.0, name: str = "") -> None:
        self._uri = amqp_uri
        self._confirm_timeout = confirm_timeout
        self._name = name
        self._lock = threading.Lock()
        self._conn: kombu.Connection | None = None
        self._channel: Any = None
        self._declared: set[tuple[str, str]] = set()

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
        payload = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":"))
        message = amqp.Message(
            payload,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=PERSISTENT,
            message_id=message_id,
            application_headers=dict(headers or {}),
        )
        with self._lock:
            try:
                channel = self._open()
                if exchange and (exchange, exchange_type) not in self._declared:
                    # The same declaration as nameko's (durable; not auto-deleted).
                    channel.exchange_declare(
                        exchange, exchange_type, durable=True, auto_delete=False
                    )
                    self._declared.add((exchange, exchange_type))
                channel.basic_publish(
                    message, exchange, routing_key, confirm_timeout=self._confirm_timeout
                )
            except FAILURES as exc:
                self._reset()
                raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc

    def _open(self) -> Any:
        if self._channel is None:
            self._conn = kombu.Connection(
                self._uri,
                connect_timeout=self._confirm_timeout,
                heartbeat=0,
                transport_options={"confirm_publish": True},
            )
            self._conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            self._channel = self._conn.default_channel
        return self._channel

    def _reset(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        self._declared.clear()
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: S110 - already broken; we only want it gone
                pass

    def close(self) -> None:
        with self._lock:
            self._reset()
