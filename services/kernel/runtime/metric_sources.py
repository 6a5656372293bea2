"""What a nameko service reports at scrape time (services/kernel/metrics.py): its dead-letter
queue's depth and its database pool. Nothing here runs on a request path."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import amqp
import kombu
import kombu.exceptions
from sqlalchemy import Engine

from ..metrics import Sample
from .topology import dead_letter_queue

BROKER_ERRORS = (OSError, kombu.exceptions.OperationalError, amqp.exceptions.AMQPError)
# The depth changes slowly and scrapes may come from several Prometheus servers: ask the
# broker at most this often.
DEAD_LETTER_CACHE_SECONDS = 15.0


class DeadLetterDepth:
    """`<service>.dead-letters`' message count, by a passive queue.declare (which RabbitMQ allows
    without any permission, so the service's own broker user may) on a connection of its own,
    opened at the first scrape and again after a failure."""

    def __init__(
        self,
        amqp_uri: str,
        service: str,
        monotonic: Callable[[], float] = time.monotonic,
        connect: Callable[[str], Any] | None = None,
    ) -> None:
        self.service = service
        self.queue = dead_letter_queue(service)
        self._uri = amqp_uri
        self._monotonic = monotonic
        self._connect = connect or _connect
        self._conn: Any = None
        self._cached: tuple[float, list[Sample]] | None = None

    def samples(self) -> list[Sample]:
        now = self._monotonic()
        if self._cached is not None and now - self._cached[0] < DEAD_LETTER_CACHE_SECONDS:
            return self._cached[1]
        try:
            count = self._count()
        except BROKER_ERRORS:
            self.close()  # reconnect at the next scrape; this one goes without the gauge
            raise
        found: list[Sample] = []
        if count is not None:
            found = [("ecoach_dead_letter_messages", (self.service,), float(count))]
        self._cached = (now, found)
        return found

    def _count(self) -> int | None:
        if self._conn is None:
            self._conn = self._connect(self._uri)
        channel = self._conn.channel()
        try:
            _, count, _ = channel.queue_declare(self.queue, passive=True)
        except amqp.exceptions.NotFound:
            return None  # a service without event handlers has no dead-letter queue
        finally:
            try:
                channel.close()
            except BROKER_ERRORS:
                pass  # a refused passive declare has closed it already
        return int(count)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.release()
            except BROKER_ERRORS:
                pass


def _connect(uri: str) -> Any:
    conn = kombu.Connection(uri, connect_timeout=2, heartbeat=0)
    conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    return conn


def pool_samples(service: str, engine: Engine) -> Callable[[], list[Sample]]:
    """The service's database pool: its size and the connections checked out now."""

    def samples() -> list[Sample]:
        pool: Any = engine.pool
        return [
            ("ecoach_db_pool_size", (service,), float(pool.size())),
            ("ecoach_db_pool_checked_out", (service,), float(pool.checkedout())),
        ]

    return samples
