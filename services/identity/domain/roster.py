"""Reading a CSV of people to add to a tenant: plain Python, no infrastructure.

The file is UTF-8, with or without a byte-order mark; fields are separated by `,` or `;` (read
from the header line); lines end in CRLF or LF. The header names the columns, in any order and
any case: `email` and `role` are required, `name`, `locale` and `time_zone` optional (empty
cells take the tenant's defaults), and so are the cohort attributes `department`, `site` and
`programme` (labels of at most 80 characters; empty: unset). A role is `tenant_admin`, `coach`
or `coachee`; several roles are separated by `|`. Every bad row is reported with its line number
and why; the others are imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.kernel.csvtable import MAX_BYTES, Cell, read_rows, why
from services.kernel.errors import DomainError, Problem, invalid
from services.kernel.timezones import check_time_zone

from .model import (
    COHORT_ATTRIBUTES,
    LOCALES,
    check_cohort_label,
    check_email,
    check_roles,
    normalize_email,
)

MAX_CSV_BYTES = MAX_BYTES  # 1 MiB: about 10,000 rows
MAX_ROWS = 10_000
REQUIRED = ("email", "role")
OPTIONAL = ("name", "locale", "time_zone", *COHORT_ATTRIBUTES)
ALIASES = {"display_name": "name", "roles": "role", "timezone": "time_zone", "language": "locale"}


@dataclass(frozen=True)
class RosterRow:
    line: int
    email: str
    roles: tuple[str, ...]
    name: str
    locale: str | None
    time_zone: str | None
    # The cohort attributes, in the order of COHORT_ATTRIBUTES (None: unset).
    cohort: tuple[str | None, str | None, str | None] = (None, None, None)

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
    rows: list[RosterRow] = []
    rejected: list[Rejected] = []
    seen: dict[str, int] = {}
    for line, cell in read_rows(
        data,
        required=REQUIRED,
        optional=OPTIONAL,
        aliases=ALIASES,
        max_bytes=MAX_CSV_BYTES,
        max_rows=MAX_ROWS,
    ):
        try:
            rows.append(_row(line, cell, seen))
        except DomainError as exc:
            rejected.append(Rejected(line, cell.shown("email"), why(exc)))
    return rows, rejected


def _row(line: int, cell: Cell, seen: dict[str, int]) -> RosterRow:
    email = check_email(cell("email"))
    key = normalize_email(email)
    if key in seen:
        raise invalid(email=Problem("appears again (first on line %(line)s)", line=seen[key]))
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
    department, site, programme = (check_cohort_label(cell(a), a) for a in COHORT_ATTRIBUTES)
    seen[key] = line
    return RosterRow(line, email, roles, name, locale, time_zone, (department, site, programme))
