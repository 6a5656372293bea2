"""The reporting service's contract: HR's reports (aggregates over groups of at least five
coachees, never a person), their CSV export, and its method table (`ReportingApi`).

Reporting publishes no event of its own but its part of an erasure (`reporting.person_erased`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from services.kernel.events import EventPayload
from services.kernel.i18n import N_
from services.kernel.personal_data import completion_event

from . import personal_data as pd
from .base import Api, Contract, Empty, Id, Method, PingResponse

SERVICE = "reporting"

ReportKind = Literal["seats", "spaces", "sessions", "engagement", "goals", "assessments", "modules"]
CohortAttribute = Literal["department", "site", "programme"]
GroupKind = Literal["total", "value", "not_set", "others"]
Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
# A cohort label as identity keeps it (department, site, programme: ADR 0024): one line, at
# most 80 characters.
Label = Annotated[str, StringConstraints(min_length=1, max_length=80)]

# A report spans at most three years of months.
MAX_MONTHS = 36


def _month_number(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:]) - 1


class CohortFilters(Contract):
    """Keep only the coachees whose attribute is one of the values given (none given: all)."""

    department: list[Label] = Field(default=[], max_length=20)
    site: list[Label] = Field(default=[], max_length=20)
    programme: list[Label] = Field(default=[], max_length=20)


class ReportRequest(Contract):
    tenant_id: Id
    kind: ReportKind
    from_month: Month
    to_month: Month
    filters: CohortFilters = CohortFilters()
    group_by: CohortAttribute | None = None

    @field_validator("to_month")
    @classmethod
    def _range(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("from_month")
        if start is None:
            return value
        if value < start:
            problem = N_("must not be before from_month")
            raise PydanticCustomError("text_or_date", problem, {"template": problem})
        if _month_number(value) - _month_number(start) >= MAX_MONTHS:
            problem = N_("must be at most 36 months after from_month")
            raise PydanticCustomError("text_or_date", problem, {"template": problem})
        return value


class ReportGroup(Contract):
    """A group shown: the total, one value of the grouping attribute, the coachees without one
    (`not_set`), or `others`: groups merged because they, or what subtracting them from the
    total would reveal, hold fewer than five coachees. `population`: its distinct coachees."""

    kind: GroupKind
    label: str  # the attribute's value for `value`, else ""
    population: int


class ReportRow(Contract):
    group_kind: GroupKind
    group_label: str
    month: str  # YYYY-MM, or "" for the whole range
    metric: str
    value: int


class Report(Contract):
    tenant_id: str
    kind: ReportKind
    from_month: str
    to_month: str
    group_by: CohortAttribute | None = None
    # False: fewer than five coachees after the filters; nothing at all is shown.
    disclosed: bool
    min_group: int
    groups: list[ReportGroup]
    rows: list[ReportRow]


class ReportCsv(Contract):
    """The report as CSV (UTF-8, comma, header line): group_kind, group_label, month, metric,
    value; no row when nothing may be shown."""

    filename: str
    csv: str


class ResetFactsRequest(Contract):
    """Empty reporting's fact tables, of one tenant or (no tenant) of every tenant, before a
    republish rebuilds them (`ecoach-ops rebuild-reporting`, docs/operations/republish.md)."""

    tenant_id: Id | None = None


class ResetFactsReport(Contract):
    """How many facts were deleted from each table."""

    deleted: dict[str, int]


EVENTS: tuple[type[EventPayload], ...] = (
    completion_event(SERVICE),  # reporting.person_erased: its part of an erasure is done
)


class ReportingApi(Api):
    """What the reporting service serves (its `@rpc` methods, in the order of its service.py)."""

    service = SERVICE

    ping = Method(Empty, PingResponse)
    get_report = Method(ReportRequest, Report)
    export_report = Method(ReportRequest, ReportCsv)
    export_personal_data = Method(Empty, pd.PersonalDataExport)
    reset_facts = Method(ResetFactsRequest, ResetFactsReport)
