"""What reaches the logs when mail or the database fails carries no address or name."""

from __future__ import annotations

import logging
import smtplib
import time
import traceback
from email.message import EmailMessage
from typing import Any

import pytest

from services.kernel.logs import scrub
from services.kernel.runtime import mailer as mailer_module
from services.kernel.runtime.mailer import MailRefused, SmtpTransport
from services.kernel.runtime.sql import make_engine

ADDRESS = "ada.lovelace@example.test"


class RefusingSmtp:
    """An SMTP client whose server refuses the recipient, as smtplib reports it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> RefusingSmtp:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def send_message(self, message: EmailMessage) -> None:
        raise smtplib.SMTPRecipientsRefused(
            {ADDRESS: (550, f"5.1.1 <{ADDRESS}>: Recipient address rejected".encode())}
        )


class RefusingSender(RefusingSmtp):
    def send_message(self, message: EmailMessage) -> None:
        raise smtplib.SMTPSenderRefused(553, f"<{ADDRESS}> not allowed".encode(), ADDRESS)


@pytest.mark.parametrize("client", [RefusingSmtp, RefusingSender])
def test_an_smtp_refusal_logs_its_type_and_code_not_the_address(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, client: type
) -> None:
    monkeypatch.setattr(mailer_module.smtplib, "SMTP", client)
    message = EmailMessage()
    message["To"] = ADDRESS
    message.set_content("hello")
    with pytest.raises(MailRefused) as caught:
        SmtpTransport("smtp://mail.example.test:25").send(message)
    with caplog.at_level(logging.ERROR):
        logging.getLogger("test").exception("mail failed", exc_info=caught.value)
    written = "".join(traceback.format_exception(caught.value)) + caplog.text
    assert "SMTP" in written and ("550" in written or "553" in written)
    assert "ada" not in written.lower()


def test_database_engines_hide_bound_parameters() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none", pool_size=1)
    assert engine.hide_parameters
    engine.dispose()


@pytest.mark.parametrize(
    "hostile",
    ["eyJ" * 30_000, "x" * 100_000, "a@" + ".a" * 50_000, "Key (" * 20_000, "a@b." * 25_000],
)
def test_scrubbing_is_linear_on_hostile_text(hostile: str) -> None:
    started = time.perf_counter()
    scrub(hostile)
    assert time.perf_counter() - started < 0.5  # "eyJ" x 30,000 took ~4 s before


def test_scrubbing_masks_tokens_addresses_and_database_echoes() -> None:
    assert scrub(
        "DETAIL:  Key (tenant_id, email_key)=(tnt_1, ada@example.test) already exists.\n"
        "to <ada@example.test>, bob.x@mail.example.org; Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIi.x"
    ) == ("DETAIL:  Key (tenant_id, email_key)=(...)\nto <[email]>, [email]; Bearer [token]")
