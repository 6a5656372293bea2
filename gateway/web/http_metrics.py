"""Counts and times every request the web gateway answers (services/kernel/metrics.py).

Labelled by the route's pattern (`/spaces/<space_id>/notes`), never by the path: paths carry
ids and the tokens of emailed links. Every Flask app of the process notes its matched rule in
the request's WSGI environ; the middleware around the whole WSGI app reads it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import request, request_started

from services.kernel import metrics

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

        try:
            return app(environ, starting)
        finally:
            route = environ.get(ROUTE_KEY, UNMATCHED)
            method = environ.get("REQUEST_METHOD", "")
            metrics.HTTP_REQUESTS.labels(
                route, method if method in METHODS else "other", status[0]
            ).inc()
            metrics.HTTP_DURATION.labels(route).observe(time.perf_counter() - started)

    return serve
