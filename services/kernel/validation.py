"""Syntax rules shared by contracts (to report every bad field at once) and domain code.

Text rules (checked once, by `services/contracts/base.py` for every request, and by the CSV
reader for every cell):

- NUL is refused everywhere: PostgreSQL cannot store it, and no person types it.
- Other control characters (C0 but tab, line feed and carriage return; DEL; C1) are refused
  everywhere too, and so are tab and line breaks in single-line text (names, emails, slugs, ids,
  titles, cells): they make no sense there, and in a mail header or a calendar line they would
  start a new line. Multi-line text (note bodies, objectives, descriptions: fields marked
  `MULTI_LINE`) keeps tab and line breaks. Secrets (`OPAQUE`: passwords) refuse only NUL, so a
  password chosen before this rule still signs in.
- Lone surrogates are refused everywhere: they cannot be encoded in UTF-8.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from services.kernel.errors import FieldViolation, InvalidArgument, Problem
from services.kernel.i18n import N_

# An email address as people type it: something@domain.tld, no spaces, at most one '@', a dot in
# the domain with at least two characters after it. Written so that a backtracking engine (the
# domain's `re`) stays linear: the domain's run before its first dot holds no dot, so no split
# is tried twice (`[^@\s]+\.[^@\s]{2,}` took 11 s on a 60,000-character cell). Check the
# length (MAX_EMAIL_LENGTH) before matching anyway.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s][^@\s.]*\.[^@\s]{2,}$"
MAX_EMAIL_LENGTH = 254
# A tenant's short name: lowercase letters, digits and inner hyphens.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$"

# What to tell a person whose input does not match a pattern above (msgids of the catalogue).
PATTERN_HINTS = {
    EMAIL_PATTERN: N_("must be an email address such as name@example.com"),
    SLUG_PATTERN: N_("2 to 40 lowercase letters, digits or inner hyphens, such as acme-france"),
}

_EMAIL = re.compile(EMAIL_PATTERN)

# The validation context key of a request that came from outside: contracts check its text and
# dates (services/contracts/base.py); views built from stored data are not re-checked.
INCOMING = "incoming"


def looks_like_email(text: str) -> bool:
    """The syntax check of an email address, its length first (linear either way)."""
    return len(text) <= MAX_EMAIL_LENGTH and _EMAIL.match(text) is not None


# ---------------------------------------------------------------- text


class TextKind:
    """A marker in a field's `Annotated[...]`: how much a string field may hold."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"TextKind({self.name})"


MULTI_LINE = TextKind("multi_line")  # tab, line feed and carriage return allowed
OPAQUE = TextKind("opaque")  # secrets compared as given: only NUL and surrogates refused

_NEVER = "\x00\ud800-\udfff"
_CONTROLS = "\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BAD = {
    None: re.compile(f"[{_NEVER}{_CONTROLS}\t\n\r]"),
    MULTI_LINE: re.compile(f"[{_NEVER}{_CONTROLS}]"),
    OPAQUE: re.compile(f"[{_NEVER}]"),
}


def text_problem(text: str, kind: TextKind | None = None) -> Problem | None:
    """Why `text` cannot be accepted as `kind` (None: single-line), or None when it can."""
    found = _BAD.get(kind, _BAD[None]).search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        why = N_("must not contain a NUL character (U+%(code)s at position %(position)s)")
    elif char in "\t\n\r":
        why = N_("must not contain a tab or line break (U+%(code)s at position %(position)s)")
    elif "\ud800" <= char <= "\udfff":
        why = N_("must not contain an unpaired surrogate (U+%(code)s at position %(position)s)")
    else:
        why = N_("must not contain a control character (U+%(code)s at position %(position)s)")
    return Problem(why, code=f"{ord(char):04X}", position=found.start())


# ---------------------------------------------------------------- dates and times

# Every date and instant a request carries lies within these bounds: far enough for any real
# engagement or history, and far enough from the calendar's own ends (years 1 and 9999) that
# adding a horizon of days or a time zone's offset can never overflow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def date_problem(value: date) -> Problem | None:
    """Why a date or instant is outside what the platform plans for, or None."""
    if isinstance(value, datetime):
        # A naive datetime is read as UTC for this check only (its field decides its meaning).
        instant = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        try:
            inside = _EARLIEST <= instant < _LATEST
        except OverflowError:  # an offset that pushes it past year 1 or 9999
            inside = False
        if inside:
            return None
    elif EARLIEST_DATE <= value <= LATEST_DATE:
        return None
    return Problem(
        "must be between %(earliest)s and %(latest)s",
        earliest=EARLIEST_DATE.isoformat(),
        latest=LATEST_DATE.isoformat(),
    )


# What to tell a person, by pydantic's error type: msgids of the kernel's catalogue, whose
# placeholders are pydantic's context values (services/kernel/i18n.py says them in French).
_FRIENDLY = {
    "string_pattern_mismatch": N_("has an invalid format"),
    "missing": N_("is required"),
    "extra_forbidden": N_("is not a field of this request"),
    "enum": N_("is not one of the accepted values"),
    "literal_error": N_("is not one of the accepted values"),
    "too_short": N_("needs at least %(min_length)s"),
    "too_long": N_("holds at most %(max_length)s items"),
    "string_too_short": N_("needs at least %(min_length)s characters"),
    "string_too_long": N_("has more than %(max_length)s characters"),
    "greater_than_equal": N_("must be %(ge)s or more"),
    "greater_than": N_("must be more than %(gt)s"),
    "less_than_equal": N_("must be %(le)s or less"),
    "less_than": N_("must be less than %(lt)s"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "string_type": N_("must be text"),
    "list_type": N_("must be a list"),
    "dict_type": N_("must be a set of names and values"),
    "model_type": N_("must be a set of names and values"),
    "date_type": N_("must be a date: YYYY-MM-DD"),
    "date_parsing": N_("must be a date: YYYY-MM-DD"),
    "date_from_datetime_parsing": N_("must be a date: YYYY-MM-DD"),
    "datetime_type": N_("must be a date and time with its offset, such as 2030-01-31T09:00:00Z"),
    "datetime_parsing": N_("must be a date and time with its offset, such as 2030-01-31T09:00:00Z"),
    "datetime_from_date_parsing": N_(
        "must be a date and time with its offset, such as 2030-01-31T09:00:00Z"
    ),
    "timezone_aware": N_("must be a date and time with its offset, such as 2030-01-31T09:00:00Z"),
    "uuid_type": N_("must be an identifier such as 0b9d6a5e-8f4c-4f7e-9a43-2f1b7f0c6d21"),
    "uuid_parsing": N_("must be an identifier such as 0b9d6a5e-8f4c-4f7e-9a43-2f1b7f0c6d21"),
}


def _field_problem(error: Any) -> str:
    """Why pydantic refused a field, as a msgid (a `Problem` when it holds values)."""
    ctx = error.get("ctx") or {}
    pattern = ctx.get("pattern")
    if pattern and pattern in PATTERN_HINTS:
        return PATTERN_HINTS[pattern]
    if error["type"] == "text_or_date" and "template" in ctx:  # services/contracts/base.py
        values = {k: v for k, v in ctx.items() if k != "template"}
        return Problem(str(ctx["template"]), **values)
    if error["type"] in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        return "must not be empty"
    template = _FRIENDLY.get(error["type"])
    if template is None:
        return str(error["msg"])  # said in English only; add its type above to translate it
    try:
        return Problem(template, **ctx) if "%(" in template else template
    except (KeyError, ValueError, TypeError):
        return str(error["msg"])


def validation_error(exc: ValidationError) -> InvalidArgument:
    fields = []
    for error in exc.errors():
        path = ".".join(str(p) for p in error["loc"]) or "request"
        fields.append(FieldViolation.of(path, _field_problem(error)))
    names = ", ".join(sorted({f.field for f in fields}))
    return InvalidArgument(f"Some fields are invalid: {names}", fields=fields)
