"""JSON logs, one object per line, carrying the request id of the call being served.

Never a token, password or free text: known secret-bearing keys are dropped from `extra`, and
anything shaped like a JWT or an email address, and the values a database error echoes, are
masked in every message and traceback as a last line of defence.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from .context import current_request_id

_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
SECRET_KEYS = frozenset(
    {"password", "token", "access_token", "authorization", "secret", "refresh_token", "body"}
)
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message"}


# What a database error's text echoes of the values it was given (a bound email or name):
# PostgreSQL's `Key (email)=(ada@...)` detail, its `... for type integer: "value"` complaint, and
# psycopg2's `LINE 1: SELECT ... 'value' ...` excerpt (it sends values as literals).
# SQLAlchemy's own `[parameters: ...]` is off (engines are made with hide_parameters).
_DB_ECHOES = (
    (re.compile(r"^(DETAIL:\s+Key \([^)\n]{0,200}\)=).*$", re.M), r"\1(...)"),
    (re.compile(r'(for type [\w ]{1,40}: )"[^"\n]*"'), r'\1"..."'),
    (re.compile(r"^(\s*LINE \d+: ).*$", re.M), r"\1..."),
)
# Linear on any text: a match starts only where a run of address characters starts.
_ADDRESS_CHARS = r"[^\s@'\"<>()\[\],;:=]"
_EMAIL = re.compile(rf"(?<!{_ADDRESS_CHARS}){_ADDRESS_CHARS}+@{_ADDRESS_CHARS}+\.[A-Za-z]{{2,}}")


# Each pattern above needs one of these in the text: a text without any is returned as it is,
# without running five regular expressions over it (most log values: methods, outcomes, ids).
_MARKS = ("eyJ", "@", "Key (", "for type ", "LINE ")


def scrub(text: str) -> str:
    """`text` without tokens, email addresses, or the values a database error echoes."""
    if not any(mark in text for mark in _MARKS):
        return text
    return scrub_all(text)


def scrub_all(text: str) -> str:
    """`scrub` without its shortcut (the benchmark of the per-call log line compares them)."""
    text = _JWT.sub("[token]", text)
    for pattern, replacement in _DB_ECHOES:
        text = pattern.sub(replacement, text)
    return _EMAIL.sub("[email]", text)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        rid = getattr(record, "request_id", None) or current_request_id()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_") or key == "request_id":
                continue
            if key.lower() in SECRET_KEYS:
                continue
            entry[key] = (
                value if isinstance(value, int | float | bool | None) else scrub(str(value))
            )
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(service: str, level: str = "INFO") -> None:
    """Route the root logger to stderr as JSON lines (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The JSON line names no source line, thread or process: skip what logging gathers for
    # them on every record (its findCaller walks the stack), as the logging HOWTO's
    # "Optimization" section describes. One per-call line each in the gateway and the services.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for noisy in ("kombu", "amqp", "nameko", "alembic", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # nameko logs every expected (domain) error with a traceback; our own line per call says it.
    logging.getLogger("nameko.containers").setLevel(logging.ERROR)
