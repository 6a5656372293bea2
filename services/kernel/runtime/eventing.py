"""Events in nameko services: the relay that empties the outbox, and reliable event handlers.

    class SchedulingService:
        name = "scheduling"
        db = Database("scheduling")
        relay = EventRelay()            # only in a service that records events

        @on_event(identity.TenantCreated)
        def create_default_policy(self, uow: UnitOfWork, event: identity.TenantCreated,
                                  envelope: Envelope) -> None:
            ...                         # in the same transaction as the inbox row

A handler applies each event at most once: the kernel records `(handler, event id)` in the
service's inbox in the handler's own transaction. A handler that raises is retried with
exponential back-off through the retry queues, then parked in the service's dead-letter queue
(`ecoach-ops dlq`). An event that cannot be read (bad envelope) is parked at once, and so is an
event that is unsigned, wrongly signed, or signed by a service other than the one its type names
(the broker is a trust boundary: see `check_signature`): never applied, logged as an error, kept
for the operator; replaying it fails the same way.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import eventlet
from nameko.events import SERVICE_POOL, EventHandler
from nameko.extensions import DependencyProvider, SharedExtension
from pydantic import ValidationError

from .. import metrics, tracing
from ..clock import clock_for
from ..config import settings
from ..context import request_scope
from ..events import Envelope, EventPayload, ForgedEvent, check_signature, source_of
from ..logs import scrub
from ..tokens import ServicePublicKeys, load_or_create_service_key
from .database import Database
from .metric_sources import DeadLetterDepth
from .outbox import Relay, RelaySettings, claim_inbox, inbox_has
from .publisher import ConfirmingPublisher, PublishFailed
from .sql import WorkerDatabase
from .topology import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    FAILED_AT_HEADER,
    QUEUE_HEADER,
    RETRY_LEVEL_HEADER,
    dead_letter_exchange,
    retry_exchange,
)

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 600.0


# ---------------------------------------------------------------- the relay


class EventRelay(DependencyProvider):  # type: ignore[misc]
    """Runs the outbox relay in the service's container: woken by the service's own commits,
    polling for the rest (other instances' leases that expired, earlier failures)."""

    def setup(self) -> None:
        config = settings()
        self.config = config
        self.database = next(d for d in self.container.dependencies if isinstance(d, Database))
        self.database.on_events_committed(self.wake)
        self._wake = threading.Event()
        self._stopping = False
        self._thread: Any = None
        self.relay: Relay | None = None

    def start(self) -> None:
        config = self.config
        assert self.database.engine is not None
        # The relay's own connection (a test routes it through a proxy); else the container's.
        uri = self.container.config.get("AMQP_URI") or config.amqp_uri
        if config.events_amqp_uri:  # as the service's own broker user, if it has one
            uri = config.broker_uri(self.container.service_name, config.events_amqp_uri)
        publisher = ConfirmingPublisher(uri, confirm_timeout=config.relay_confirm_timeout_seconds)
        key = load_or_create_service_key(config.keys_path, self.container.service_name)
        self.relay = Relay(
            self.container.service_name,
            self.database.engine,
            clock_for(config.env, config.test_clock_path),
            publisher,
            RelaySettings(
                batch_size=config.relay_batch_size,
                lease=timedelta(seconds=config.relay_lease_seconds),
                outbox_retention=timedelta(seconds=config.outbox_retention_hours * 3600),
                inbox_retention=timedelta(seconds=config.inbox_retention_days * 86400),
            ),
            signing_key=key,
        )
        metrics.add_scrape_source(self, self.relay.lag_samples)
        self._thread = self.container.spawn_managed_thread(self._run, identifier="event-relay")

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        assert self.relay is not None
        relay, config = self.relay, self.config
        failures = 0
        next_prune = time.monotonic() + 5.0
        # A cycle must end well inside its lease, or another instance could claim and publish
        # the same rows again.
        cycle_limit = config.relay_lease_seconds * 0.8
        self._wake.set()  # look at once: rows may be waiting from before a restart
        while not self._stopping:
            pause = config.relay_poll_seconds if failures == 0 else min(0.25 * 2**failures, 10.0)
            self._wake.wait(pause)
            self._wake.clear()
            if self._stopping:
                break
            try:
                with eventlet.Timeout(cycle_limit):
                    while relay.run_once() >= relay.settings.batch_size and not self._stopping:
                        pass
                if failures:
                    log.info("relay publishes again", extra={"backlog": relay.backlog()})
                failures = 0
            except PublishFailed:
                failures += 1  # logged by the relay; rows wait in the outbox
            except eventlet.Timeout:
                failures += 1
                relay.publisher.close()
                log.warning("relay cycle took longer than %.0f s; retrying", cycle_limit)
            except Exception:
                failures += 1
                log.exception("relay cycle failed; retrying")
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                try:
                    sent, seen = relay.prune()
                    if sent or seen:
                        log.info("pruned %d sent event(s), %d inbox and receipt row(s)", sent, seen)
                except Exception:
                    log.exception("pruning the outbox failed")

    def stop(self) -> None:
        metrics.remove_scrape_source(self)
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.wait()
        if self.relay is not None:
            self.relay.publisher.close()

    def kill(self) -> None:
        metrics.remove_scrape_source(self)
        self._stopping = True
        self._wake.set()
        if self.relay is not None:
            self.relay.publisher.close()


# ---------------------------------------------------------------- handlers


class PoisonEvent(Exception):
    """A message that no retry can help: it is parked at once."""


# The services' public keys, from the deployment's key folder as configured when first asked.
PUBLISHER_KEYS = ServicePublicKeys(lambda: settings().keys_path)


class FailureRouter(SharedExtension):  # type: ignore[misc]
    """One per container: sends failed deliveries to a retry queue or the dead-letter queue."""

    def setup(self) -> None:
        config = settings()
        self.retries = config.handler_retries
        self.publisher = ConfirmingPublisher(
            self.container.config.get("AMQP_URI") or config.amqp_uri,
            confirm_timeout=config.relay_confirm_timeout_seconds,
        )
        self.dead_letters = DeadLetterDepth(
            self.container.config.get("AMQP_URI") or config.amqp_uri, self.container.service_name
        )
        metrics.add_scrape_source(self, self.dead_letters.samples)

    def stop(self) -> None:
        metrics.remove_scrape_source(self)
        self.dead_letters.close()
        self.publisher.close()

    def kill(self) -> None:
        self.stop()

    def route(self, entrypoint: ReliableEventHandler, message: Any, error: BaseException) -> None:
        service = self.container.service_name
        headers = dict(message.headers or {})
        attempt = int(headers.get(ATTEMPT_HEADER, 0)) + 1
        headers[ATTEMPT_HEADER] = attempt
        headers[QUEUE_HEADER] = entrypoint.queue.name
        headers[ERROR_HEADER] = scrub(f"{type(error).__name__}: {error}")[:500]
        body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
        retry = attempt <= self.retries and not isinstance(error, PoisonEvent)
        if retry:
            headers[RETRY_LEVEL_HEADER] = attempt
            exchange, kind = retry_exchange(service), "headers"
        else:
            headers.pop(RETRY_LEVEL_HEADER, None)
            headers[FAILED_AT_HEADER] = datetime.now(UTC).isoformat(timespec="seconds")
            exchange, kind = dead_letter_exchange(service), "fanout"
        metrics.EVENTS_ROUTED.labels(
            f"{service}.{entrypoint.method_name}", "retry" if retry else "dead_letter"
        ).inc()
        self.publisher.publish(
            exchange,
            entrypoint.queue.name,
            body,
            headers=headers,
            message_id=message.properties.get("message_id"),
            exchange_type=kind,
        )
        if retry:
            log.warning(
                "event handler failed; retry %d of %d scheduled",
                attempt,
                self.retries,
                extra={"queue": entrypoint.queue.name, "error": headers[ERROR_HEADER]},
            )
        else:
            log.error(
                "event handler failed %d time(s); parked in the dead-letter queue",
                attempt,
                extra={"queue": entrypoint.queue.name, "error": headers[ERROR_HEADER]},
            )


class ReliableEventHandler(EventHandler):  # type: ignore[misc]
    """nameko's SERVICE_POOL handler (durable queue, declared up front by the migration step),
    except that a failure is retried and then parked instead of being acked and lost."""

    failures = FailureRouter()

    def __init__(self, event_type: str, **kwargs: Any) -> None:
        super().__init__(
            source_of(event_type),
            event_type,
            handler_type=SERVICE_POOL,
            reliable_delivery=True,
            requeue_on_error=False,
            **kwargs,
        )

    def handle_message(self, body: Any, message: Any) -> None:
        # The handler also sees the delivery's headers (attempt, request id).
        context_data = self.unpack_message_headers(message)
        handle_result = functools.partial(self.handle_result, message)
        headers = dict(message.headers or {})
        raw = message.body if isinstance(message.body, bytes) else str(message.body).encode()
        delivery = {
            "attempt": int(headers.get(ATTEMPT_HEADER, 0)) + 1,
            "request_id": context_data.get("request_id"),
            "traceparent": context_data.get(tracing.TRACEPARENT),
            "headers": headers,
            "raw": raw,
        }
        try:
            self.container.spawn_worker(
                self, (body, delivery), {}, context_data=context_data, handle_result=handle_result
            )
        except Exception:  # the container is being killed: the broker keeps the message
            self.queue_consumer.requeue_message(message)

    def handle_result(
        self, message: Any, worker_ctx: Any, result: Any = None, exc_info: Any = None
    ) -> tuple[Any, Any]:
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        try:
            self.failures.route(self, message, exc_info[1])
        except PublishFailed:
            # Not retried and not parked: leave it with the broker, which redelivers it.
            log.exception("could not schedule a retry; the message goes back to its queue")
            self.queue_consumer.requeue_message(message)
        else:
            self.queue_consumer.ack_message(message)
        return result, None  # handled here: nameko need not log it again


Handler = Callable[[Any, Any, Any, Envelope], None]


def on_event(
    model: type[EventPayload], *, db: str = "db", transactional: bool = True
) -> Callable[[Handler], Any]:
    """Declare a reliable handler of `model`'s events.

    transactional (the default): the method runs inside a unit of work of the service's `db`
    dependency, whose transaction also records the event id in the inbox: applied at most once.
    It receives the unit of work, the validated payload and the envelope.

    transactional=False, for effects outside the database (sending a mail): the method receives
    the `WorkerDatabase` itself, reads what it needs, commits, then acts; the kernel records the
    event id afterwards. A crash between the effect and that record repeats the effect once
    (at least once), which is the right failure for a mail."""

    def decorate(fn: Handler) -> Any:
        @functools.wraps(fn)
        def run(self: Any, body: Any, delivery: dict[str, Any]) -> None:
            started = time.perf_counter()
            try:
                check_signature(
                    delivery["raw"], model.TYPE, delivery["headers"], PUBLISHER_KEYS.public_key
                )
            except ForgedEvent as exc:
                raise PoisonEvent(f"refused {model.TYPE} event: {exc}") from None
            try:
                envelope = Envelope.model_validate(body)
                event = envelope.parse(model)
            except (ValidationError, ValueError) as exc:
                raise PoisonEvent(f"unreadable {model.TYPE} event: {exc}") from None
            handler = f"{self.name}.{fn.__name__}"
            database: WorkerDatabase = getattr(self, db)
            outcome = "failed"
            try:
                with (
                    request_scope(delivery.get("request_id"), None),
                    tracing.span(
                        f"{model.TYPE} process",
                        tracing.SpanKind.CONSUMER,
                        {
                            "messaging.system": "rabbitmq",
                            "messaging.destination.name": model.TYPE,
                            "ecoach.handler": handler,
                        },
                        parent=tracing.parent_from(delivery.get("traceparent")),
                    ),
                ):
                    if transactional:
                        with database.unit_of_work() as uow:
                            if not claim_inbox(
                                uow.connection, handler, envelope.id, uow.clock.now()
                            ):
                                outcome = "duplicate"
                                return
                            fn(self, uow, event, envelope)
                    else:
                        with database.read_only() as uow:
                            if inbox_has(uow.connection, handler, envelope.id):
                                outcome = "duplicate"
                                return
                        fn(self, database, event, envelope)
                        with database.unit_of_work() as uow:
                            claim_inbox(uow.connection, handler, envelope.id, uow.clock.now())
                    outcome = "applied"
            finally:
                metrics.EVENTS_HANDLED.labels(handler, outcome).inc()
                lag = (database.clock.now() - envelope.occurred_at).total_seconds()
                metrics.EVENT_LAG.labels(handler).observe(max(lag, 0.0))
                log.info(
                    "event %s",
                    envelope.type,
                    extra={
                        "handler": handler,
                        "event_id": envelope.id,
                        "aggregate_id": envelope.aggregate_id,
                        "sequence": envelope.sequence,
                        "attempt": delivery.get("attempt", 1),
                        "outcome": outcome,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )

        return ReliableEventHandler.decorator(model.TYPE)(run)

    return decorate
