"""Outgoing mail, written once for every service that writes to people (identity and scheduling).

A service lists its mails (`services/<service>/mails.py`: subject and body, msgids of the
kernel's Babel catalogue with `%(placeholder)s` values, ADR 0013). The recipient's locale picks
the language (French or English; English when theirs is neither).

Mail goes to the SMTP server of `ECOACH_SMTP_URL`; without one (development, `make run`), each
mail is written as an `.eml` file under `var/mail/`, which a production deployment refuses.
Mail is never sent inside a database transaction (rule 4): a handler reads, commits, then sends.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from ..config import Settings
from ..i18n import gettext, language_of
from ..mail import Mail

log = logging.getLogger(__name__)

LOCALES = ("fr", "en")
SIGNATURE = "\n\n-- \necoach\n"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class Templates:
    """A service's mails, rendered in a person's language."""

    def __init__(self, mails: Mapping[str, Mail]) -> None:
        self.mails = mails

    def render(self, template: str, locale: str, /, **values: str) -> Rendered:
        mail = self.mails[template]
        language = language_of(locale)
        subject = gettext(language, mail.subject) % values
        body = gettext(language, mail.body) % values
        return Rendered(subject.strip(), body.strip() + SIGNATURE)


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    """smtp://host:port, smtps://host:port (TLS), ?starttls=1; credentials in the URL."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("ECOACH_SMTP_URL must start with smtp:// or smtps://")
        self.tls = parts.scheme == "smtps"
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true")
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        try:
            self._send(message)
        except smtplib.SMTPException as exc:
            # smtplib's errors hold the addresses (refused recipients, the server's own words
            # about them): what is raised, and logged with its traceback, keeps types and codes.
            raise MailRefused(_described(exc)) from None

    def _send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


class MailRefused(Exception):
    """The SMTP server refused a mail; the text names the error's type and codes only."""


def _described(exc: smtplib.SMTPException) -> str:
    codes: list[str] = []
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in exc.recipients.values()})
    elif isinstance(exc, smtplib.SMTPResponseException):
        codes = [str(exc.smtp_code)]
    return f"SMTP {type(exc).__name__}" + (f" ({', '.join(codes)})" if codes else "")


class DirectoryTransport:
    """Each mail as an .eml file (open it in any mail client): development only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{secrets.token_hex(4)}.eml"
        path.write_bytes(bytes(message))


class Mailer:
    def __init__(self, transport: Transport, sender: str, templates: Templates) -> None:
        self.transport = transport
        self.sender = sender
        self.templates = templates

    @property
    def domain(self) -> str:
        """The sender address's domain (calendar UIDs are made under it)."""
        return self.sender.rsplit("@", 1)[-1].strip("> ")

    @property
    def address(self) -> str:
        """The sender's bare address."""
        return self.sender.rsplit("<", 1)[-1].strip("> ")

    def send(
        self,
        to: str,
        locale: str,
        template: str,
        /,
        calendar: tuple[str, bytes] | None = None,
        **values: str,
    ) -> None:
        """`calendar` = (iTIP method, iCalendar object): sent as the text/calendar alternative
        calendar clients act on, and as an `invite.ics` attachment for the others."""
        rendered = self.templates.render(template, locale, **values)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = rendered.subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=self.domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(rendered.body)
        # After set_content, which drops every Content-* header set before it.
        message["Content-Language"] = locale if locale in LOCALES else "en"
        if calendar is not None:
            method, ics = calendar
            message.add_alternative(ics.decode(), subtype="calendar", params={"method": method})
            message.add_attachment(
                ics, maintype="application", subtype="ics", filename="invite.ics"
            )
        self.transport.send(message)
        # Never the address or the body: they are personal data.
        log.info("mail sent", extra={"template": template, "locale": locale})


def transport_from(config: Settings) -> Transport:
    if config.smtp_url:
        return SmtpTransport(config.smtp_url)
    if config.env == "production":
        raise RuntimeError("ECOACH_SMTP_URL is required in production (mail would go nowhere)")
    return DirectoryTransport(config.mail_path)


def mailer_from(config: Settings, mails: Mapping[str, Mail]) -> Mailer:
    return Mailer(transport_from(config), config.mail_from, Templates(mails))
