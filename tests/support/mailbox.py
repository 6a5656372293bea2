"""Mails a deployment without SMTP wrote as .eml files (under <var>/mail), and their links."""

from __future__ import annotations

import re
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as email_policy
from pathlib import Path

# Each file parsed once: a deployment that invited a thousand people holds a thousand mails.
_parsed: dict[Path, EmailMessage] = {}


def mails_to(folder: Path, address: str) -> list[EmailMessage]:
    found = []
    for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime):
        mail = _parsed.get(path)
        if mail is None:
            mail = message_from_bytes(path.read_bytes(), policy=email_policy)  # type: ignore[assignment]
            _parsed[path] = mail  # type: ignore[assignment]
        if mail["To"] == address:  # type: ignore[index]
            found.append(mail)  # type: ignore[arg-type]
    return found


def mailed_link(folder: Path, address: str, path: str, timeout: float = 60.0) -> str:
    """The newest link to `.../<path>/<token>` mailed to `address`, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in reversed(mails_to(folder, address)):
            part = mail.get_body(preferencelist=("plain",))
            text = str(part.get_content()) if part is not None else ""
            found = re.search(rf"https?://\S+/{re.escape(path)}/[A-Za-z0-9_-]+", text)
            if found:
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no /{path}/ link mailed to {address}")
