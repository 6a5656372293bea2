"""A real SMTP server on localhost for the tests (aiosmtpd): it keeps every mail it receives."""

from __future__ import annotations

import email
import email.policy
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from ecoach_dev.deployment import Deployment, free_port
from gateway.api.pb import identity_pb2 as ipb
from tests.support.api import Api, Session
from tests.support.clock import move_test_clock


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
        self, address: str, count: int = 1, timeout: float = 40.0, containing: str = ""
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


def use_calendar_address(
    api: Api, smtp: SmtpServer, who: Session, address: str, password: str
) -> None:
    """`who` (whose password is `password`: the proof of the person the request needs) has their
    calendar mail sent to `address`, confirmed from the mail received there."""
    api.auth.RequestCalendarEmail(
        ipb.RequestCalendarEmailRequest(calendar_email=address, current_password=password),
        metadata=who.metadata,
        timeout=10,
    )
    [mail] = smtp.inbox.wait_for(address, containing="/confirm-calendar-email/")
    token = link_token(mail, "confirm-calendar-email")
    api.auth.ConfirmEmailChange(ipb.ConfirmEmailChangeRequest(token=token), timeout=10)


@contextmanager
def mailing_deployment(folder: Path, smtp: SmtpServer, **env: str) -> Iterator[Deployment]:
    """A deployment of its own whose services send their mail to `smtp` (its test clock put
    back and its processes stopped afterwards)."""
    d = Deployment(
        folder, os.environ.get("ECOACH_DATABASE_URL"), env={"ECOACH_SMTP_URL": smtp.url, **env}
    )
    try:
        d.start()
        yield d
    finally:
        move_test_clock(d.config.test_clock_path, 0)
        d.stop()
