"""A real SMTP server on localhost for the tests (aiosmtpd): it keeps every mail it receives."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from ecoach_dev.deployment import free_port


class Inbox:
    """aiosmtpd's handler: every received message, parsed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str, containing: str = "") -> list[EmailMessage]:
        """Mails to `address` (whose body contains `containing`), in arrival order."""
        with self._lock:
            mails = [m for m in self.messages if m["To"] == address]
        return [m for m in mails if containing in body(m)]

    def wait_for(
        self, address: str, count: int = 1, timeout: float = 20.0, containing: str = ""
    ) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address, containing)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no {count} mail(s) for {address} within {timeout} s")


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_token(message: EmailMessage, path: str) -> str:
    """The token of the first link to `<public URL>/<path>/<token>` in a mail."""
    found = re.search(rf"https?://\S+/{re.escape(path)}/([A-Za-z0-9_-]+)", body(message))
    assert found, f"no /{path}/ link in the mail"
    return found.group(1)
