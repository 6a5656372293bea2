"""A tenant's webhook receiver, served on 127.0.0.1 in a thread (tests/support/loopback.py): it
verifies every POST's signature with the subscription's secret, as a receiver following
docs/api/webhooks.md does, and answers the statuses the test sets."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from services.kernel.clock import Clock
from services.kernel.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, InvalidSignature, verify

from .loopback import LoopbackServer


class Receiver(LoopbackServer):
    """A tenant's webhook endpoint: verifies each POST with the secret on the shared clock, then
    answers the next status of `answers` (200 once they run out)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.secret = ""
        self.answers: list[int] = []
        self.received: list[dict[str, Any]] = []  # verified bodies
        self.refused: list[str] = []  # why a signature failed
        self.lock = threading.Lock()
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks"

    def ids(self) -> list[str]:
        return [body["id"] for body in self.received]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    verify(
                        receiver.secret,
                        body,
                        self.headers[SIGNATURE_HEADER],
                        receiver.clock.now(),
                    )
                except InvalidSignature as bad:
                    with receiver.lock:
                        receiver.refused.append(str(bad))
                    status = 400
                else:
                    parsed = json.loads(body)
                    assert parsed["id"] == self.headers[DELIVERY_HEADER]
                    with receiver.lock:
                        receiver.received.append(parsed)
                        status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        return Handler
