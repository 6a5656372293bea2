"""The broker topology of events, declared up front by the migration step (rule 4).

For each service that handles events:

    <source>.events  (topic)  --type-->  evt-<source>-<type>--<service>.<method>   the handler queue
    <service>.retry  (headers: ecoach-retry-level = n)  -->  <service>.retry-<ttl>ms
        each retry queue holds a message for its TTL, then dead-letters it to
    <service>.redeliver  (direct, routing key = handler queue)  -->  the handler queue again
    <service>.dead-letters  (fanout)  -->  <service>.dead-letters   parked, for `ecoach-ops dlq`

Handler queues are durable and declared with exactly the arguments nameko declares them with
(none), so that nameko's own declaration on start agrees; their length limit comes from one
policy (`overflow: reject-publish`) applied through the management API. Declaring before any
service starts is what makes an event published before its consumer first ran wait in the queue
instead of being dropped. Handler queues of this service that no handler declares any more (a
removed handler) are deleted; retry queues of an old delay schedule are deleted once empty.

The revocation broadcast's queues (rule 5) are not here: they belong to each process.

`grants_for` gives each process's broker permissions (configure, write, read regexes of
RabbitMQ's model, plus topic permissions limiting the binding keys it may use): a process
connects as its own user, which may write only to `nameko-rpc`, its own `<service>.events` and
its own retry and dead-letter exchanges, use only its own queues, and read only the exchanges it
binds to. The names it covers are what nameko and the kernel declare:

    rpc-<p>                              nameko's RPC queue, bound with `<p>.*` to nameko-rpc
    rpc.reply-<p>-<uuid>                 reply queues (nameko's, the kernel's standalone proxies,
                                         the gateway's), bound with the uuid (hex for the gateway)
    evt-<source>-<type>--<p>.<method>    handler queues (nameko declares them again on start)
    revocations-<p>-...                  the revocation broadcast's queue of each process
    <source>.events                      exchanges it binds to: configure too (kombu declares the
                                         exchange of a queue it declares) and read
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import kombu

from ..events import source_of
from . import broker_admin

log = logging.getLogger(__name__)

RETRY_LEVEL_HEADER = "ecoach-retry-level"
ATTEMPT_HEADER = "ecoach-attempt"
QUEUE_HEADER = "ecoach-queue"
ERROR_HEADER = "ecoach-error"
FAILED_AT_HEADER = "ecoach-failed-at"
HANDLER_QUEUE_PREFIX = "evt-"
LIMITS_POLICY = "ecoach-event-queue-limits"


@dataclass(frozen=True)
class Subscription:
    """One handler of one event type in one service."""

    service: str
    event_type: str
    method: str

    @property
    def source(self) -> str:
        return source_of(self.event_type)

    @property
    def queue(self) -> str:
        return handler_queue(self.source, self.event_type, self.service, self.method)


def handler_queue(source: str, event_type: str, service: str, method: str) -> str:
    """nameko's name for a SERVICE_POOL handler's queue."""
    return f"{HANDLER_QUEUE_PREFIX}{source}-{event_type}--{service}.{method}"


def events_exchange(service: str) -> str:
    return f"{service}.events"


def retry_exchange(service: str) -> str:
    return f"{service}.retry"


def redeliver_exchange(service: str) -> str:
    return f"{service}.redeliver"


def dead_letter_exchange(service: str) -> str:
    return f"{service}.dead-letters"


def dead_letter_queue(service: str) -> str:
    return f"{service}.dead-letters"


def retry_delays_ms(retries: int, base_seconds: float) -> list[int]:
    """The wait before retry n (1-based): base, 2*base, 4*base, ..."""
    return [int(base_seconds * 1000 * 2 ** (n - 1)) for n in range(1, retries + 1)]


def retry_queue(service: str, delay_ms: int) -> str:
    return f"{service}.retry-{delay_ms}ms"


RPC_EXCHANGE = "nameko-rpc"
REVOCATION_EVENT = "identity.access_revoked"
UUID_KEY = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class Grants:
    """One process's permissions in its virtual host: RabbitMQ regexes (matched against
    exchange and queue names), and per topic exchange the regexes its routing keys (write) and
    binding keys (read) must match."""

    configure: str
    write: str
    read: str
    topics: dict[str, tuple[str, str]]


def _any_of(exact: Iterable[str], patterns: Iterable[str] = ()) -> str:
    alternatives = sorted({re.escape(name) for name in exact} | set(patterns))
    return "^(" + "|".join(alternatives) + ")$" if alternatives else "^$"


def grants_for(process: str, subscriptions: Iterable[Subscription], *, service: bool) -> Grants:
    """The permissions of `process`: a nameko service (`service`), or the gateway (an RPC
    client only). Every process hears the revocation broadcast."""
    me = re.escape(process)
    subs = list(subscriptions)
    handled = {sub.event_type for sub in subs} | {REVOCATION_EVENT}
    sources = {source_of(t) for t in handled}
    queues = [rf"rpc\.reply-{me}-.+", rf"revocations-{me}-.+"]
    exchanges = [RPC_EXCHANGE]
    rpc_keys = [r"rpc\.reply-" + me + r"-[0-9a-f]{32}"]
    if service:
        queues += [re.escape(f"rpc-{process}"), rf"evt-.+--{me}\..+"]
        exchanges += [
            events_exchange(process),
            retry_exchange(process),
            dead_letter_exchange(process),
        ]
        rpc_keys = [re.escape(f"{process}.*"), UUID_KEY]
    bound = [events_exchange(s) for s in sources]
    topics = {RPC_EXCHANGE: (".*", _any_of((), rpc_keys))}
    for source in sources:
        types = [t for t in handled if source_of(t) == source]
        topics[events_exchange(source)] = ("^$" if source != process else ".*", _any_of(types))
    if service:
        own = events_exchange(process)
        topics[own] = (rf"^{me}\..+$", topics.get(own, ("", "^$"))[1])
    return Grants(
        configure=_any_of([*exchanges, *bound], queues),
        write=_any_of(exchanges, queues),
        read=_any_of([RPC_EXCHANGE, *bound], queues),
        topics=topics,
    )


def subscriptions_of(service_cls: type) -> list[Subscription]:
    """The event handlers a nameko service class declares with the kernel's `on_event`."""
    from nameko.events import EventHandler

    found = []
    for name in dir(service_cls):
        method = getattr(service_cls, name, None)
        for entrypoint in getattr(method, "nameko_entrypoints", ()) or ():
            if isinstance(entrypoint, EventHandler):
                found.append(Subscription(service_cls.name, entrypoint.event_type, name))  # type: ignore[attr-defined]
    return sorted(found, key=lambda s: s.queue)


def declare(
    amqp_uri: str,
    service: str,
    subscriptions: Iterable[Subscription],
    *,
    retries: int,
    retry_base_seconds: float,
    queue_max_length: int,
    publishes: bool = True,
) -> list[str]:
    """Declare the service's event topology; the names of queues it deleted."""
    subs = list(subscriptions)
    delays = retry_delays_ms(retries, retry_base_seconds)
    with kombu.Connection(amqp_uri, connect_timeout=10) as conn:
        channel = conn.channel()
        try:
            if publishes:
                _exchange(channel, events_exchange(service), "topic")
            if subs:
                _exchange(channel, redeliver_exchange(service), "direct")
                _exchange(channel, retry_exchange(service), "headers")
                _exchange(channel, dead_letter_exchange(service), "fanout")
                channel.queue_declare(dead_letter_queue(service), durable=True, auto_delete=False)
                channel.queue_bind(dead_letter_queue(service), dead_letter_exchange(service), "")
                for level, delay in enumerate(delays, start=1):
                    name = retry_queue(service, delay)
                    channel.queue_declare(
                        name,
                        durable=True,
                        auto_delete=False,
                        arguments={
                            "x-message-ttl": delay,
                            "x-dead-letter-exchange": redeliver_exchange(service),
                        },
                    )
                    channel.queue_bind(
                        name,
                        retry_exchange(service),
                        "",
                        arguments={"x-match": "all", RETRY_LEVEL_HEADER: level},
                    )
            for sub in subs:
                _exchange(channel, events_exchange(sub.source), "topic")
                # As nameko declares it: durable, not exclusive, not auto-deleted, no arguments.
                channel.queue_declare(sub.queue, durable=True, auto_delete=False)
                channel.queue_bind(sub.queue, events_exchange(sub.source), sub.event_type)
                channel.queue_bind(sub.queue, redeliver_exchange(service), sub.queue)
        finally:
            channel.close()
    broker_admin.set_policy(
        amqp_uri,
        LIMITS_POLICY,
        f"^{HANDLER_QUEUE_PREFIX}",
        {"max-length": queue_max_length, "overflow": "reject-publish"},
    )
    return _remove_stale(amqp_uri, service, {s.queue for s in subs}, delays)


def _exchange(channel: Any, name: str, kind: str) -> None:
    # nameko declares event exchanges durable and not auto-deleted; so do we, for every exchange.
    channel.exchange_declare(name, kind, durable=True, auto_delete=False)


def _remove_stale(amqp_uri: str, service: str, wanted: set[str], delays: list[int]) -> list[str]:
    mine = f"--{service}."
    retry_prefix = f"{service}.retry-"
    current_retry = {retry_queue(service, d) for d in delays}
    removed = []
    with kombu.Connection(amqp_uri, connect_timeout=10) as conn:
        channel = conn.channel()
        try:
            for name in broker_admin.queue_names(amqp_uri):
                if name.startswith(HANDLER_QUEUE_PREFIX) and mine in name and name not in wanted:
                    dropped = channel.queue_delete(name)
                    log.warning("deleted the queue of a removed handler: %s", name)
                    removed.append(name)
                    if dropped:
                        log.warning("%s held %s message(s), now gone", name, dropped)
                elif name.startswith(retry_prefix) and name not in current_retry:
                    # An old delay schedule: delete it once its messages have gone back.
                    _, count, _ = channel.queue_declare(name, passive=True)
                    if count == 0:
                        channel.queue_delete(name)
                        removed.append(name)
        finally:
            channel.close()
    return removed
