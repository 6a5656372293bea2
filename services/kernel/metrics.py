"""Prometheus metrics of every process (docs/operations/metrics.md), written once.

Each process (a nameko service with its relay, the gRPC gateway, the web gateway) serves
`/metrics` on `ECOACH_METRICS_PORT` when it is set (0, the default, serves nothing), through
`serve_metrics`. The counters and histograms below live in prometheus_client's process-wide
registry; what is only worth knowing when someone looks (the outbox backlog, the relay lag, the
dead-letter queue's depth, the database pool) is read at scrape time from the sources that
dependencies add with `add_scrape_source`, so nothing is counted on a request path for them.

Labels are bounded: service, method, handler, route pattern, outcome or status code; never an
id, a tenant, a path or anything a person wrote.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# Request latencies, in seconds: from a cached read (1 ms) to a deadline (10 s and beyond).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# How long after it happened an event is handled: a relay's poll to retries of minutes.
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)

RPC_REQUESTS = Counter(
    "ecoach_rpc_requests",
    "RPC calls a nameko service served, by method and outcome (OK or the error code).",
    ("service", "method", "outcome"),
)
RPC_DURATION = Histogram(
    "ecoach_rpc_duration_seconds",
    "Time a nameko service took to serve an RPC call (validation, authorisation, handler).",
    ("service", "method"),
    buckets=LATENCY_BUCKETS,
)
GRPC_REQUESTS = Counter(
    "ecoach_grpc_requests",
    "Calls the gRPC gateway answered, by full method name and status code.",
    ("method", "code"),
)
GRPC_DURATION = Histogram(
    "ecoach_grpc_duration_seconds",
    "Time the gRPC gateway took to answer a call.",
    ("method",),
    buckets=LATENCY_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "ecoach_http_requests",
    "Requests the web gateway answered, by route pattern (never the path), method and status.",
    ("route", "method", "status"),
)
HTTP_DURATION = Histogram(
    "ecoach_http_duration_seconds",
    "Time the web gateway took to answer a request, by route pattern.",
    ("route",),
    buckets=LATENCY_BUCKETS,
)
EVENTS_HANDLED = Counter(
    "ecoach_events_handled",
    "Event deliveries a handler saw, by outcome: applied, duplicate (already applied), failed.",
    ("handler", "outcome"),
)
EVENTS_ROUTED = Counter(
    "ecoach_event_failures_routed",
    "Failed event deliveries sent on, by destination: retry (a back-off queue) or dead_letter.",
    ("handler", "destination"),
)
EVENT_LAG = Histogram(
    "ecoach_event_lag_seconds",
    "Time from an event's occurred_at to its handler seeing it (relay, broker, retries).",
    ("handler",),
    buckets=LAG_BUCKETS,
)

# The gauges read at scrape time: name -> (help, label names).
SCRAPE_GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ecoach_outbox_backlog": ("Events recorded in the outbox and not yet sent.", ("service",)),
    "ecoach_outbox_oldest_unsent_age_seconds": (
        "Age of the oldest unsent outbox event (the relay's lag); 0 when none waits.",
        ("service",),
    ),
    "ecoach_dead_letter_messages": (
        "Messages parked in the service's dead-letter queue (`ecoach-ops dlq`).",
        ("service",),
    ),
    "ecoach_db_pool_size": ("Connections the service's database pool keeps.", ("service",)),
    "ecoach_db_pool_checked_out": ("Database connections in use right now.", ("service",)),
}

# One scrape-time reading: (gauge name, label values, value).
Sample = tuple[str, tuple[str, ...], float]
Source = Callable[[], Iterable[Sample]]


class ScrapeTimeGauges(Collector):
    """Asks each source at scrape time; a source that fails is logged and left out of that
    scrape (its gauges go missing, which an alert on `absent()` can see) instead of failing it."""

    def __init__(self) -> None:
        self._sources: dict[object, Source] = {}
        self._lock = threading.Lock()

    def add(self, key: object, source: Source) -> None:
        with self._lock:
            self._sources[key] = source

    def remove(self, key: object) -> None:
        with self._lock:
            self._sources.pop(key, None)

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # no collect() at registration: sources may not be ready then

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            sources = list(self._sources.values())
        families = {
            name: GaugeMetricFamily(name, doc, labels=labels)
            for name, (doc, labels) in SCRAPE_GAUGES.items()
        }
        for source in sources:
            try:
                samples = list(source())
            except Exception as exc:
                log.warning("a metrics source failed: %s", type(exc).__name__)
                continue
            for name, labels, value in samples:
                families[name].add_metric(list(labels), value)
        yield from (family for family in families.values() if family.samples)


SCRAPE_TIME = ScrapeTimeGauges()
REGISTRY.register(SCRAPE_TIME)


def add_scrape_source(key: object, source: Source) -> None:
    """`source` is asked at every scrape until `remove_scrape_source(key)`."""
    SCRAPE_TIME.add(key, source)


def remove_scrape_source(key: object) -> None:
    SCRAPE_TIME.remove(key)


def serve_metrics(port: int, host: str, process: str) -> Any:
    """Serve `/metrics` on host:port in a daemon thread (a green thread under eventlet); port 0
    serves nothing. A taken port stops the process: a scrape target answering for another
    process would mislead."""
    if not port:
        return None
    try:
        server, _thread = start_http_server(port, addr=host)
    except OSError as exc:
        raise SystemExit(
            f"{process}: cannot serve metrics on {host}:{port} (ECOACH_METRICS_PORT): {exc}"
        ) from None
    log.info("metrics on http://%s:%d/metrics", host, port)
    return server
