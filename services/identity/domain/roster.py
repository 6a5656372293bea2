"""Reading a CSV of people to add to a tenant: plain Python, no infrastructure.

The file is UTF-8, with or without a byte-order mark; fields are separated by `,` or `;` (read
from the header line); lines end in CRLF or LF. The header names the columns, in any order and
any case: `email` and `role` are required, `name`, `locale` and `time_zone` optional (empty
cells take the tenant's defaults). A role is `tenant_admin`, `coach` or `coachee`; several roles
are separated by `|`. Every bad row is reported with its line number and why; the others are
imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from services.kernel.errors import DomainError, invalid

from .model import LOCALES, check_email, check_roles, check_time_zone, normalize_email

MAX_CSV_BYTES = 1_048_576  # 1 MiB: about 10,000 rows
MAX_ROWS = 10_000
REQUIRED = ("email", "role")
OPTIONAL = ("name", "locale", "time_zone")
Cell = Callable[[str], str]
ALIASES = {"display_name": "name", "roles": "role", "timezone": "time_zone", "language": "locale"}


@dataclass(frozen=True)
class RosterRow:
    line: int
    email: str
    roles: tuple[str, ...]
    name: str
    locale: str | None
    time_zone: str | None

    @property
    def email_key(self) -> str:
        return normalize_email(self.email)


@dataclass(frozen=True)
class Rejected:
    line: int
    email: str
    reason: str


def parse_roster(data: bytes) -> tuple[list[RosterRow], list[Rejected]]:
    """The good rows and the rejected ones. A file that cannot be read at all (size, encoding,
    header) raises InvalidArgument on `csv`."""
    if len(data) > MAX_CSV_BYTES:
        raise invalid(csv=f"is larger than {MAX_CSV_BYTES // 1024} KiB; split the file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid(csv=f"is not UTF-8 (byte {exc.start}); save it as UTF-8 CSV") from None
    if not text.strip():
        raise invalid(csv="is empty")
    header_line = text.splitlines()[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in next(reader)]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise invalid(csv=f"has no column {', '.join(missing)} (its header: {', '.join(header)})")
    index = {name: header.index(name) for name in (*REQUIRED, *OPTIONAL) if name in header}
    rows: list[RosterRow] = []
    rejected: list[Rejected] = []
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are not rows
        if len(rows) + len(rejected) >= MAX_ROWS:
            raise invalid(csv=f"has more than {MAX_ROWS} rows; split the file")

        def cell(name: str, cells: list[str] = cells) -> str:
            at = index.get(name)
            return cells[at].strip() if at is not None and at < len(cells) else ""

        email = cell("email")
        try:
            rows.append(_row(line, cell, seen))
        except DomainError as exc:
            rejected.append(Rejected(line, email, _why(exc)))
    return rows, rejected


def _row(line: int, cell: Cell, seen: dict[str, int]) -> RosterRow:
    email = check_email(cell("email"))
    key = normalize_email(email)
    if key in seen:
        raise invalid(email=f"appears again (first on line {seen[key]})")
    raw_roles = [r.strip().lower() for r in cell("role").split("|") if r.strip()]
    roles = check_roles(raw_roles, "role")
    locale = cell("locale").lower() or None
    if locale is not None and locale not in LOCALES:
        raise invalid(locale="must be fr or en")
    time_zone = cell("time_zone") or None
    if time_zone is not None:
        check_time_zone(time_zone)
    name = cell("name")
    if len(name) > 200:
        raise invalid(name="has more than 200 characters")
    seen[key] = line
    return RosterRow(line, email, roles, name, locale, time_zone)


def _why(exc: DomainError) -> str:
    if exc.fields:
        return "; ".join(f"{f.field} {f.description}" for f in exc.fields)
    return exc.message
