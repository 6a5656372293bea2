"""Kernel core: errors over the wire, the test clock, JSON logs, localized messages."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from datetime import timedelta
from pathlib import Path

from services.kernel import context
from services.kernel.clock import (
    OffsetFileClock,
    SystemClock,
    acks_dir,
    clock_for,
    set_test_offset,
    unacknowledged,
)
from services.kernel.errors import (
    FieldViolation,
    Internal,
    InvalidArgument,
    NotFound,
    from_remote,
    from_wire,
    invalid,
)
from services.kernel.logs import JsonFormatter
from services.kernel.messages import MESSAGES, localize
from tests.support.clock import move_test_clock


def test_errors_survive_the_wire_with_their_details() -> None:
    error = invalid(email="must be an email", roles="at least one")
    back = from_wire(error.to_wire())
    assert isinstance(back, InvalidArgument)
    assert back.fields == (
        FieldViolation("email", "must be an email"),
        FieldViolation("roles", "at least one"),
    )
    nameko_style = {
        "exc_type": "NotFound",
        "exc_path": "services.kernel.errors.NotFound",
        "exc_args": [NotFound("gone", reason="MEMBER_NOT_FOUND").to_wire()],
        "value": "...",
    }
    again = from_remote(nameko_style)
    assert isinstance(again, NotFound) and again.reason == "MEMBER_NOT_FOUND"


def test_foreign_exceptions_never_leak_their_text() -> None:
    error = from_remote(
        {"exc_type": "KeyError", "exc_path": "builtins.KeyError", "value": "secret-note"}
    )
    assert isinstance(error, Internal)
    assert "secret-note" not in error.message


def test_the_test_clock_moves_every_process_by_one_shared_offset(tmp_path: Path) -> None:
    path = tmp_path / "test-clock"
    clock, other = OffsetFileClock(path), OffsetFileClock(path)
    before = SystemClock().now()
    assert clock.now() < before + timedelta(seconds=60)  # this process now watches the file
    move_test_clock(path, 3600)  # returns once this process acknowledged the offset
    assert (acks_dir(path) / str(os.getpid())).read_text() == "3600.0"
    assert (clock.now() - before).total_seconds() >= 3600
    assert (other.now() - before).total_seconds() >= 3600  # one offset per process
    assert isinstance(clock_for("production", path), SystemClock)
    assert isinstance(clock_for("test", path), OffsetFileClock)


def test_moving_the_test_clock_waits_for_every_live_process_that_uses_it(tmp_path: Path) -> None:
    path = tmp_path / "test-clock"
    set_test_offset(path, 60)
    acks_dir(path).mkdir()
    (acks_dir(path) / str(os.getppid())).write_text("0.0")  # alive, still on the old offset
    gone = subprocess.Popen(["true"])
    gone.wait()
    (acks_dir(path) / str(gone.pid)).write_text("0.0")  # exited: it reads no clock any more
    (acks_dir(path) / "9.tmp").write_text("")  # half-written acks are not processes
    assert unacknowledged(path, 60) == [os.getppid()]
    (acks_dir(path) / str(os.getppid())).write_text("60.0")
    assert unacknowledged(path, 60) == []


def test_json_logs_carry_the_request_id_and_never_a_token() -> None:
    formatter = JsonFormatter("identity")
    token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJwZXJfMSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sign in with %s", (token,), None)
    record.password = "hunter2-hunter2"  # type: ignore[attr-defined]
    record.method = "sign_in"  # type: ignore[attr-defined]
    with context.request_scope("req-123", None):
        line = json.loads(formatter.format(record))
    assert line["request_id"] == "req-123"
    assert line["service"] == "identity"
    assert line["method"] == "sign_in"
    assert token not in json.dumps(line)
    assert "password" not in line


def test_every_message_exists_in_french_and_english() -> None:
    for reason, msgid in MESSAGES.items():
        assert localize(reason, "INTERNAL", "en") == ("en", msgid)
        lang, french = localize(reason, "INTERNAL", "fr")
        assert lang == "fr" and french and french != msgid, reason
    assert localize("INVALID_CREDENTIALS", "UNAUTHENTICATED", "fr-FR") == (
        "fr",
        "L'adresse e-mail ou le mot de passe est incorrect.",
    )
    assert localize("NO_SUCH_REASON", "NOT_FOUND", "en") == ("en", MESSAGES["NOT_FOUND"])
    assert localize("NO_SUCH_REASON", "NOT_FOUND", "de-DE") == ("en", MESSAGES["NOT_FOUND"])
