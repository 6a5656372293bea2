"""OpenTelemetry traces across the web gateway, the gRPC gateway, nameko RPC, events and SQL.

Off unless ECOACH_OTLP_ENDPOINT names an OTLP/HTTP collector (docs/operations/tracing.md): then
`configure_tracing(process)` installs a tracer provider that samples ECOACH_TRACE_SAMPLE_RATIO of
the traces started here (a trace continued from a caller follows the caller's decision) and
exports them in batches. Off, every helper below returns after one boolean check.

The W3C `traceparent` travels beside the request id: in gRPC metadata, in nameko's context
headers (`nameko.traceparent`) and in the headers of the events the relay publishes (kept in the
outbox row until then).

Attributes are bounded and never personal: method, route pattern, event type, status code, the
SQL statement's text (its parameters never). No person's id, email, token or free text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_propagator = TraceContextTextMapPropagator()
NEW_TRACE = otel_context.Context()  # as `parent`: a root span, whatever is current
_enabled = False
_tracer: trace.Tracer = trace.NoOpTracer()
_provider: Any = None

__all__ = [
    "NEW_TRACE",
    "TRACEPARENT",
    "SpanKind",
    "Status",
    "StatusCode",
    "configure_tracing",
    "current_traceparent",
    "enabled",
    "parent_from",
    "shutdown_tracing",
    "span",
    "start_span",
]


def enabled() -> bool:
    return _enabled


def configure_tracing(
    process: str,
    endpoint: str | None = None,
    ratio: float | None = None,
    *,
    exporter: Any = None,
) -> bool:
    """Turn tracing on for this process (`service.name` = `process`) when an endpoint is set.
    `exporter`: a span exporter of the tests' own, each span exported as it ends."""
    global _enabled, _tracer, _provider
    if endpoint is None or ratio is None:
        from .config import settings

        config = settings()
        endpoint = config.otlp_endpoint if endpoint is None else endpoint
        ratio = config.trace_sample_ratio if ratio is None else ratio
    if not endpoint:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create({"service.name": process, "service.namespace": "ecoach"}),
        sampler=ParentBased(TraceIdRatioBased(ratio)),
    )
    # The batch processor's worker is a thread: a green one in an eventlet-patched service,
    # which is what we want (it sleeps on an eventlet condition, exports with green sockets).
    provider.add_span_processor(
        SimpleSpanProcessor(exporter)
        if exporter is not None
        else BatchSpanProcessor(
            OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces", timeout=5),
            schedule_delay_millis=1000,
        )
    )
    _provider = provider
    _tracer = provider.get_tracer("ecoach")
    _enabled = True
    log.info("tracing on: OTLP to %s, sampling %s", endpoint, ratio)
    return True


def shutdown_tracing() -> None:
    """Export what is left (a process that stops); tracing is off afterwards."""
    global _enabled, _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _enabled, _tracer, _provider = False, trace.NoOpTracer(), None


def parent_from(traceparent: Any) -> otel_context.Context | None:
    """The context a well-formed `traceparent` names (None for anything else)."""
    if not _enabled or not isinstance(traceparent, str) or not _TRACEPARENT.match(traceparent):
        return None
    return _propagator.extract({TRACEPARENT: traceparent})


def current_traceparent() -> str | None:
    """The current span's `traceparent` (None when tracing is off or no span is recording)."""
    if not _enabled:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT)


@contextmanager
def span(
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int | float | bool] | None = None,
    *,
    parent: otel_context.Context | None = None,
    link: otel_context.Context | None = None,
    within: bool = False,
) -> Iterator[Span | None]:
    """A span around the block, current inside it; nothing when tracing is off. `parent`: the
    caller's context (from its traceparent); `link`: a context linked rather than continued;
    `within`: only inside a trace already going on (no trace of its own for a health probe)."""
    if not _enabled or (within and parent is None and not _in_trace()):
        yield None
        return
    links = None
    if link is not None:
        linked = trace.get_current_span(link).get_span_context()
        if linked.is_valid:
            links = [Link(linked)]
    with _tracer.start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=dict(attributes or {}),
        links=links,
        record_exception=False,  # an exception's text may hold what a person wrote
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_status(Status(StatusCode.ERROR))
            current.set_attribute("error.type", type(exc).__name__)
            raise


def _in_trace() -> bool:
    return bool(trace.get_current_span().get_span_context().is_valid)


def start_span(
    name: str, kind: SpanKind, attributes: Mapping[str, str | int | float | bool]
) -> Span | None:
    """A span child of the current one, not made current (the caller ends it): for hooks that
    open and close in separate callbacks (SQLAlchemy's cursor events). None outside a trace: a
    relay's or a timer's polling statements make no trace of their own."""
    if not _enabled or not _in_trace():
        return None
    return _tracer.start_span(name, kind=kind, attributes=dict(attributes))
