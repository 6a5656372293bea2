"""The web gateway process: `python -m gateway.web.server` (waitress, a plain threaded server).

It serves the web pages and, under /api/, the HTTP/JSON API (gateway/httpjson, ADR 0020).

Listens on ECOACH_WEB_ADDRESS and calls the gRPC gateway at ECOACH_GATEWAY_ADDRESS. Put it
behind the TLS-terminating proxy that serves ECOACH_PUBLIC_URL. Its session cookies are sealed
with ECOACH_WEB_SESSION_KEY (else the key file set-up creates), and Secure outside development.

SIGTERM (or SIGINT) drains: no new connection is accepted, the requests in flight are answered
(for at most DRAIN_SECONDS), idle keep-alive connections are closed, then the process exits 0.
waitress's own `serve` has no such stop: without it, a container's stop cut requests midway.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

import grpc
from waitress import create_server, wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

from gateway.api.peers import parse_proxies
from gateway.httpjson.app import create_api, mount
from services.kernel.clock import clock_for
from services.kernel.config import settings
from services.kernel.logs import configure
from services.kernel.metrics import serve_metrics
from services.kernel.tracing import configure_tracing, shutdown_tracing

from .app import create_app
from .http_metrics import measured, traced_channel
from .session import load_session_key

log = logging.getLogger("gateway.web")

# How long requests in flight may take to finish once the process is asked to stop; the gRPC
# gateway gives its own calls 5 s; a pod has 30 s (deploy/k8s) before it is killed.
DRAIN_SECONDS = 10.0


def main() -> int:
    config = settings()
    configure("web", config.log_level)
    serve_metrics(config.metrics_port, config.metrics_host, "web")
    configure_tracing("web")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    proxies = parse_proxies(config.trusted_proxies)
    pages = create_app(
        config.gateway_address,
        load_session_key(config.web_session_key, config.web_session_key_path),
        secure_cookie=config.env != "development",
        feed_per_hour=config.feed_requests_per_hour,
        feed_per_address_hour=config.feed_requests_per_address_hour,
        trusted_proxies=proxies,
        clock=clock_for(config.env, config.test_clock_path),
    )
    app = measured(
        mount(
            pages,
            create_api(traced_channel(grpc.insecure_channel(config.gateway_address)), proxies),
        )
    )
    log.info("web gateway listening on %s", config.web_address)
    # The app decides which X-Forwarded-For to believe (ECOACH_TRUSTED_PROXIES); waitress 3
    # would otherwise drop the header from every peer before the app sees it.
    server = create_server(
        app,
        listen=config.web_address,
        threads=8,
        ident="ecoach",
        clear_untrusted_proxy_headers=False,
    )
    stopping = threading.Event()

    def shutdown(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    serve_until(server, stopping)
    shutdown_tracing()
    log.info("web gateway stopped")
    return 0


def serve_until(server: Any, stopping: threading.Event, grace: float = DRAIN_SECONDS) -> None:
    """waitress's loop until `stopping` is set, then the drain: the listening sockets closed,
    each connection closed once it has no request left (answered and flushed), for at most
    `grace` seconds; then the worker threads stopped."""
    sockets = server.map if hasattr(server, "map") else server._map  # several addresses or one
    while not stopping.is_set():
        wasyncore.loop(timeout=0.5, map=sockets, use_poll=True, count=1)
    for listener in [d for d in list(sockets.values()) if isinstance(d, BaseWSGIServer)]:
        wasyncore.dispatcher.close(listener)  # its trigger stays: workers still wake the loop
    log.info("web gateway draining")
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        channels = [d for d in list(sockets.values()) if isinstance(d, HTTPChannel)]
        if not channels:
            break
        for channel in channels:
            if not channel.requests and not channel.total_outbufs_len:
                channel.will_close = True  # idle (keep-alive): closed at the next turn
        wasyncore.loop(timeout=0.1, map=sockets, use_poll=True, count=1)
    server.task_dispatcher.shutdown(timeout=1)


if __name__ == "__main__":
    raise SystemExit(main())
