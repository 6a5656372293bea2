"""Dead-letter queues: look at the events a service's handlers gave up on, and replay them.

A handler that keeps failing is retried with back-off and then parked, with headers saying where
and why (see `services.kernel.runtime.topology` and `eventing`), in `<service>.dead-letters`.
This module reads that queue without consuming it (`browse`, `find`) and sends chosen messages
back to their handler queue through `<service>.redeliver` (`replay`).

Replay is at-least-once: a message leaves the dead-letter queue only after the broker confirmed
its copy, so a crash in between leaves it in both places. That is harmless, because a handler
records every event id it applied in its inbox and skips one it has seen.
"""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import amqp.exceptions  # type: ignore[import-untyped]
import kombu.exceptions
from kombu.connection import Connection

from services.kernel.runtime import broker_admin
from services.kernel.runtime.publisher import ConfirmingPublisher, PublishFailed
from services.kernel.runtime.topology import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    FAILED_AT_HEADER,
    QUEUE_HEADER,
    RETRY_LEVEL_HEADER,
    dead_letter_queue,
    redeliver_exchange,
)

CONNECT_TIMEOUT = 10.0
CONFIRM_TIMEOUT = 10.0
# The headers of a failed delivery: a replayed message starts again with a clean count.
RESET_HEADERS = frozenset({ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER, RETRY_LEVEL_HEADER})
BROKER_ERRORS = (OSError, kombu.exceptions.OperationalError, amqp.exceptions.AMQPError)


class DlqError(Exception):
    """The dead-letter queue could not be read or written; the message says why."""


class NoDeadLetterQueue(DlqError):
    """The service has no dead-letter queue (wrong name, or its migration step has not run)."""

    def __init__(self, service: str) -> None:
        super().__init__(
            f"{service} has no dead-letter queue: is the service name right, and has the "
            "migration step run?"
        )
        self.service = service


@dataclass(frozen=True)
class ParkedMessage:
    """One message of a dead-letter queue, as fetched (and not yet acknowledged)."""

    position: int  # 1-based, from the head of the queue
    message_id: str | None
    headers: dict[str, Any]
    properties: dict[str, Any]
    body: bytes
    envelope: dict[str, Any] | None  # the body as a JSON object; None when it is not one
    delivery_tag: int = field(repr=False, compare=False)  # valid only on the fetching channel

    @classmethod
    def from_amqp(cls, position: int, message: Any) -> ParkedMessage:
        body = message.body
        if isinstance(body, str):  # a channel that decodes bodies; ours should not
            body = body.encode(message.properties.get("content_encoding") or "utf-8")
        properties = {
            key: value
            for key, value in (message.properties or {}).items()
            if key != "application_headers"
        }
        return cls(
            position=position,
            message_id=properties.get("message_id"),
            headers=dict(message.headers or {}),
            properties=properties,
            body=bytes(body),
            envelope=_json_object(bytes(body)),
            delivery_tag=message.delivery_tag,
        )

    def _field(self, name: str) -> str | None:
        value = (self.envelope or {}).get(name)
        return None if value is None else str(value)

    @property
    def event_id(self) -> str:
        """The message id the kernel sets (the event id), else the envelope's id, else ''."""
        return self.message_id or self._field("id") or ""

    @property
    def event_type(self) -> str | None:
        return self._field("type")

    @property
    def aggregate_id(self) -> str | None:
        return self._field("aggregate_id")

    @property
    def queue(self) -> str | None:
        """The handler queue the message failed in (and goes back to on replay)."""
        value = self.headers.get(QUEUE_HEADER)
        return _text(value) if value is not None else None

    @property
    def attempts(self) -> int | None:
        try:
            return int(self.headers[ATTEMPT_HEADER])
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def failed_at(self) -> str | None:
        value = self.headers.get(FAILED_AT_HEADER)
        return _text(value) if value is not None else None

    @property
    def error(self) -> str | None:
        value = self.headers.get(ERROR_HEADER)
        return _text(value) if value is not None else None

    def summary(self) -> dict[str, Any]:
        """What `dlq list --json` shows of it."""
        return {
            "position": self.position,
            "event_id": self.event_id or None,
            "type": self.event_type,
            "aggregate_id": self.aggregate_id,
            "queue": self.queue,
            "attempts": self.attempts,
            "failed_at": self.failed_at,
            "error": self.error,
        }


@dataclass
class ReplayReport:
    """What `replay` did: replayed messages, those left parked with the reason, unknown ids."""

    replayed: list[ParkedMessage] = field(default_factory=list)
    failed: list[tuple[ParkedMessage, str]] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    remaining: int = 0  # messages still parked afterwards (not chosen, or failed)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_found


def replay_headers(headers: dict[str, Any]) -> dict[str, Any]:
    """The headers a replayed message carries: the original ones minus the failure's."""
    return {key: value for key, value in headers.items() if key not in RESET_HEADERS}


def browse(amqp_uri: str, service: str, *, limit: int | None = None) -> list[ParkedMessage]:
    """Every parked message of the service (the first `limit`), head first, left in place."""
    # Leaving the block closes the channel without acknowledging anything: the broker puts every
    # fetched message back at its old position, so the queue keeps its order. (That holds for a
    # classic queue as long as nobody else consumes it meanwhile; a dead-letter queue has no
    # consumer.)
    with _dead_letters(amqp_uri, service) as channel:
        return _fetch(channel, dead_letter_queue(service), limit)


def find(amqp_uri: str, service: str, event_id: str) -> list[ParkedMessage]:
    """The parked messages of one event: usually one, more when it failed in several handlers
    of the service or was parked again after a replay."""
    return [m for m in browse(amqp_uri, service) if m.event_id == event_id]


def replay(
    amqp_uri: str,
    service: str,
    event_ids: Collection[str] | None,
    *,
    on_result: Callable[[ParkedMessage, str | None], None] | None = None,
    confirm_timeout: float = CONFIRM_TIMEOUT,
) -> ReplayReport:
    """Send the parked messages of `event_ids` (all of them when None) back to their handler
    queues through `<service>.redeliver`, and remove each from the dead-letter queue once the
    broker confirmed its copy. `on_result(message, None | reason it stayed parked)` is called
    for each chosen message as it is handled. Messages not chosen stay in place, in order."""
    wanted = None if event_ids is None else set(event_ids)
    report = ReplayReport()
    exchange = redeliver_exchange(service)
    with _dead_letters(amqp_uri, service) as channel:
        routes = _redeliver_routes(amqp_uri, service)
        # Everything is fetched (and held unacknowledged) before anything is republished, so that
        # a message that fails again at once and is parked anew is not picked up a second time.
        parked = _fetch(channel, dead_letter_queue(service), None)
        if wanted is not None:
            present = {m.event_id for m in parked}
            report.not_found = [i for i in dict.fromkeys(event_ids or ()) if i not in present]
        publisher = ConfirmingPublisher(
            amqp_uri, confirm_timeout=confirm_timeout, name="ecoach-ops"
        )
        try:
            for message in parked:
                if wanted is not None and message.event_id not in wanted:
                    # Not chosen: back to its old place in the queue.
                    channel.basic_reject(message.delivery_tag, requeue=True)
                    report.remaining += 1
                    continue
                problem = _unroutable(message, routes, exchange)
                if problem is None:
                    try:
                        publisher.publish(
                            exchange,
                            message.queue or "",
                            message.body,
                            headers=replay_headers(message.headers),
                            message_id=message.message_id,
                            exchange_type="direct",
                        )
                    except PublishFailed as exc:
                        problem = f"the broker did not confirm the copy ({exc})"
                if problem is None:
                    # Only now: the copy is the broker's responsibility.
                    channel.basic_ack(message.delivery_tag)
                    report.replayed.append(message)
                else:
                    channel.basic_reject(message.delivery_tag, requeue=True)
                    report.failed.append((message, problem))
                    report.remaining += 1
                if on_result is not None:
                    on_result(message, problem)
        except BROKER_ERRORS as exc:
            raise DlqError(
                f"lost the broker during the replay ({type(exc).__name__}: {exc}); the messages "
                "not yet replayed stay parked, and replaying again is safe"
            ) from exc
        finally:
            publisher.close()
    return report


# ---------------------------------------------------------------- broker access


@contextmanager
def _dead_letters(amqp_uri: str, service: str) -> Iterator[Any]:
    """A channel on which the service's dead-letter queue is known to exist. Closing it (on
    leaving) hands every message fetched and not acknowledged back to the queue."""
    queue = dead_letter_queue(service)
    # kombu is untyped: the connection and its channel are Any here.
    conn: Any = Connection(amqp_uri, connect_timeout=CONNECT_TIMEOUT, heartbeat=0)  # type: ignore[no-untyped-call]
    try:
        try:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            channel = conn.channel()
        except BROKER_ERRORS as exc:
            raise DlqError(
                f"cannot reach RabbitMQ at {broker_admin.redacted(amqp_uri)} "
                f"({type(exc).__name__}: {exc}); "
                "check --amqp-uri or ECOACH_AMQP_URI"
            ) from exc
        try:
            channel.queue_declare(queue, passive=True)
        except amqp.exceptions.NotFound:
            raise NoDeadLetterQueue(service) from None
        except BROKER_ERRORS as exc:
            raise DlqError(f"cannot look at {queue} ({type(exc).__name__}: {exc})") from exc
        channel.auto_decode = False  # bodies as the bytes that were published
        try:
            yield channel
        except BROKER_ERRORS as exc:
            raise DlqError(
                f"lost the connection to RabbitMQ ({type(exc).__name__}: {exc}); the messages "
                f"go back to {queue} as they were"
            ) from exc
        finally:
            try:
                channel.close()
            except BROKER_ERRORS:  # already gone: the broker requeues on its own
                pass
    finally:
        try:
            conn.release()
        except BROKER_ERRORS:
            pass


def _fetch(channel: Any, queue: str, limit: int | None) -> list[ParkedMessage]:
    messages: list[ParkedMessage] = []
    while limit is None or len(messages) < limit:
        # basic_get without no_ack: the message is only lent to us until we ack or reject it.
        raw = channel.basic_get(queue, no_ack=False)
        if raw is None:
            break
        messages.append(ParkedMessage.from_amqp(len(messages) + 1, raw))
    return messages


def _redeliver_routes(amqp_uri: str, service: str) -> set[str]:
    """The routing keys `<service>.redeliver` delivers to a queue of the same name (the
    migration step binds each handler queue so). Asked of the management API."""
    vhost = quote(broker_admin.vhost_of(amqp_uri), safe="")
    exchange = quote(redeliver_exchange(service), safe="")
    try:
        rows = broker_admin.management_request(
            amqp_uri, "GET", f"exchanges/{vhost}/{exchange}/bindings/source"
        )
    except urllib.error.HTTPError as exc:
        if broker_admin.is_not_found(exc):
            return set()
        raise DlqError(f"RabbitMQ's management API refused the request: {exc}") from exc
    except (urllib.error.URLError, OSError) as exc:
        base = broker_admin.management_url(amqp_uri)[0]
        raise DlqError(
            f"RabbitMQ's management API does not answer at {base} ({exc}); replay needs it to "
            "check where each message goes back to"
        ) from exc
    return {
        row["routing_key"]
        for row in rows or ()
        if row.get("destination_type") == "queue" and row.get("destination") == row["routing_key"]
    }


def _unroutable(message: ParkedMessage, routes: set[str], exchange: str) -> str | None:
    """Why the message cannot go back (a publish to an unbound key would be confirmed and then
    dropped by the broker), or None."""
    if not message.queue:
        return f"it has no {QUEUE_HEADER} header, so its handler queue is unknown"
    if message.queue not in routes:
        return (
            f"{message.queue} is not bound to {exchange} (a removed handler, or the "
            "migration step has not run since it was added)"
        )
    return None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
