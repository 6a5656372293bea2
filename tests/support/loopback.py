"""HTTP servers that tests run on 127.0.0.1 in a thread (a local LRS, pages for the link checker,
a webhook receiver), and a transport that refuses to connect anywhere else."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import httpx


class LoopbackServer:
    """Serves `handler` on 127.0.0.1, a free port, while the `with` block lasts."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def stopping(self) -> None:
        """Called first on exit (a subclass releases handlers that wait)."""


class LoopbackOnly(httpx.HTTPTransport):
    """A safety net for tests of outgoing HTTP: nothing but 127.0.0.1 is ever connected to."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == "127.0.0.1", f"a request tried {request.url.host}"
        return super().handle_request(request)
