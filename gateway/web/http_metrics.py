"""Counts and times every request the web gateway answers (services/kernel/metrics.py), and
opens its trace's root span (services/kernel/tracing.py), which its gRPC calls continue.

Labelled by the route's pattern (`/spaces/<space_id>/notes`), never by the path: paths carry
ids and the tokens of emailed links. Every Flask app of the process notes its matched rule in
the request's WSGI environ; the middleware around the whole WSGI app reads it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import grpc
from flask import request, request_started

from services.kernel import metrics, tracing

ROUTE_KEY = "ecoach.route"
UNMATCHED = "(unmatched)"  # no route: a 404, or a method the route does not allow
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def _note_route(sender: Any, **extra: Any) -> None:
    rule = request.url_rule
    request.environ[ROUTE_KEY] = rule.rule if rule is not None else UNMATCHED


def measured(app: WsgiApp) -> WsgiApp:
    """`app` counted and timed (to its response's headers) by route pattern and status."""
    request_started.connect(_note_route)  # every Flask app of the process (a weak-free function)

    def serve(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.perf_counter()
        status = ["500"]

        def starting(status_line: str, headers: Any, exc_info: Any = None) -> Any:
            status[0] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, exc_info)

        method = environ.get("REQUEST_METHOD", "")
        verb = method if method in METHODS else "other"
        # A new trace per request: a traceparent sent from outside is not believed.
        with tracing.span(
            f"{verb} (route)", tracing.SpanKind.SERVER, parent=tracing.NEW_TRACE
        ) as current:
            try:
                return app(environ, starting)
            finally:
                route = environ.get(ROUTE_KEY, UNMATCHED)
                if current is not None:  # named by the pattern, never the path (tokens)
                    current.update_name(f"{verb} {route}")
                    current.set_attributes(
                        {
                            "http.request.method": verb,
                            "http.route": route,
                            "http.response.status_code": int(status[0]),
                        }
                    )
                _count(route, verb, status[0], started)

    return serve


def _count(route: str, verb: str, status: str, started: float) -> None:
    metrics.HTTP_REQUESTS.labels(route, verb, status).inc()
    metrics.HTTP_DURATION.labels(route).observe(time.perf_counter() - started)


class _TraceparentInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
    """Adds the current span's `traceparent` to every call's metadata."""

    def _with_traceparent(self, details: Any) -> Any:
        traceparent = tracing.current_traceparent()
        if traceparent is None:
            return details
        metadata = [*(details.metadata or ()), (tracing.TRACEPARENT, traceparent)]
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_traceparent(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_traceparent(details), request)


def traced_channel(channel: grpc.Channel) -> grpc.Channel:
    """`channel`, its calls continuing the web request's trace (as is when tracing is off)."""
    if not tracing.enabled():
        return channel
    return grpc.intercept_channel(channel, _TraceparentInterceptor())
