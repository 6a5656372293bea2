"""Reading a CSV of spaces to open: plain Python, no infrastructure.

Columns (any order and case; kernel/csvtable.py reads the file): `coachee_email`,
`coach_email`, `cadence` (weekly, every_two_weeks, every_four_weeks, monthly), `sessions`
(1 to 200) and `start_date` (YYYY-MM-DD) are required; `co_coach_email` and `end_date` are
optional. Each good row becomes a draft; each bad one is reported with its line and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.kernel.csvtable import Cell, read_rows, why
from services.kernel.errors import DomainError, Problem, invalid
from services.kernel.validation import date_problem, looks_like_email

from .model import CADENCES, MAX_SESSIONS

REQUIRED = ("coachee_email", "coach_email", "cadence", "sessions", "start_date")
OPTIONAL = ("co_coach_email", "end_date")
ALIASES = {"coachee": "coachee_email", "coach": "coach_email", "co_coach": "co_coach_email"}
MAX_ROWS = 2_000


@dataclass(frozen=True)
class SpaceRow:
    line: int
    coachee_email: str
    coach_email: str
    co_coach_email: str | None
    cadence: str
    sessions: int
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


def _email(cell: Cell, name: str) -> str:
    value = cell(name)
    if not looks_like_email(value):
        raise invalid(**{name: "must be an email address"})
    return value


def _date(cell: Cell, name: str) -> date:
    try:
        value = date.fromisoformat(cell(name))
    except ValueError:
        raise invalid(**{name: "must be a date: YYYY-MM-DD"}) from None
    problem = date_problem(value)
    if problem:
        raise invalid(**{name: problem})
    return value


def _row(line: int, cell: Cell) -> SpaceRow:
    cadence = cell("cadence").lower()
    if cadence not in CADENCES:
        raise invalid(cadence="weekly, every_two_weeks, every_four_weeks or monthly")
    try:
        sessions = int(cell("sessions"))
    except ValueError:
        sessions = 0
    if not 1 <= sessions <= MAX_SESSIONS:
        raise invalid(sessions=Problem("a number from 1 to %(n)s", n=MAX_SESSIONS))
    return SpaceRow(
        line,
        _email(cell, "coachee_email"),
        _email(cell, "coach_email"),
        _email(cell, "co_coach_email") if cell("co_coach_email") else None,
        cadence,
        sessions,
        _date(cell, "start_date"),
        _date(cell, "end_date") if cell("end_date") else None,
    )


def parse_space_rows(data: bytes) -> tuple[list[SpaceRow], list[RejectedRow]]:
    rows: list[SpaceRow] = []
    rejected: list[RejectedRow] = []
    for line, cell in read_rows(
        data, required=REQUIRED, optional=OPTIONAL, aliases=ALIASES, max_rows=MAX_ROWS
    ):
        try:
            rows.append(_row(line, cell))
        except DomainError as exc:
            rejected.append(RejectedRow(line, why(exc)))
    return rows, rejected


def rejected_for(line: int, exc: DomainError) -> RejectedRow:
    return RejectedRow(line, why(exc))
