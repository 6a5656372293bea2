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

from services.kernel.errors import Problem
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
