"""HR's reports as the page shows them (hr_reports.py): a report's words (kinds, metrics,
groups) in the page's language, its default month range, and the tables built from a Report
(one per group shown, the total first: rows are the metrics, columns the months and then the
whole range). No I/O: the page calls reporting and renders these.

The metrics are reporting's (protos/ecoach/v1/reporting.proto, ReportKind);
tests/unit/test_web_report_tables.py checks they are the reporting service's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.api.pb import reporting_pb2 as rpb

from .i18n import _

# The kinds a page offers, in the form's order: the query's word and the proto's value.
KINDS: dict[str, int] = {
    "sessions": rpb.REPORT_SESSIONS,
    "seats": rpb.REPORT_SEATS,
    "spaces": rpb.REPORT_SPACES,
    "engagement": rpb.REPORT_ENGAGEMENT,
    "goals": rpb.REPORT_GOALS,
    "assessments": rpb.REPORT_ASSESSMENTS,
    "modules": rpb.REPORT_MODULES,
}
# Each kind's metrics, in the rows' order (reporting's order).
METRICS: dict[str, tuple[str, ...]] = {
    "seats": ("seats", "active_coachees"),
    "spaces": ("spaces_active", "spaces_paused", "spaces_completed", "spaces_archived"),
    "sessions": ("held", "cancelled_late", "cancelled_in_time", "no_show_coachee", "no_show_coach"),
    "engagement": (
        "sessions_planned",
        "sessions_used",
        "sessions_held",
        "tools_total",
        "tools_open",
        "tools_done",
    ),
    "goals": ("goals_achieved",),
    "assessments": ("assigned", "submitted", "coachees_assigned", "coachees_submitted"),
    "modules": ("modules_started", "modules_completed", "coachees_started", "coachees_completed"),
}
# Grouping: the query's word and the proto's value ("" : the total only).
GROUP_BY: dict[str, int] = {
    "": rpb.COHORT_ATTRIBUTE_UNSPECIFIED,
    "department": rpb.COHORT_DEPARTMENT,
    "site": rpb.COHORT_SITE,
    "programme": rpb.COHORT_PROGRAMME,
}
# The default range: this month and the five before it.
DEFAULT_MONTHS = 6


def kind_label(kind: str) -> str:
    return {
        "seats": _("Seats and active coachees"),
        "spaces": _("Spaces by status"),
        "sessions": _("Sessions"),
        "engagement": _("Engagement progress"),
        "goals": _("Goals achieved"),
        "assessments": _("Assessment participation"),
        "modules": _("E-learning module completion"),
    }.get(kind, kind)


def metric_label(metric: str) -> str:
    """A metric's row heading; one reporting adds later shows as its name until translated."""
    return {
        "seats": _("Coachees with a space running"),
        "active_coachees": _("Coachees with a session held"),
        "spaces_active": _("Active spaces"),
        "spaces_paused": _("Paused spaces"),
        "spaces_completed": _("Completed spaces"),
        "spaces_archived": _("Archived spaces"),
        "held": _("Sessions held"),
        "cancelled_late": _("Sessions cancelled late"),
        "cancelled_in_time": _("Sessions cancelled in time"),
        "no_show_coachee": _("Sessions missed by the coachee"),
        "no_show_coach": _("Sessions missed by the coach"),
        "sessions_planned": _("Sessions planned"),
        "sessions_used": _("Sessions used"),
        "sessions_held": _("Sessions held"),
        "tools_total": _("Tools in the toolboxes"),
        "tools_open": _("Tools unlocked"),
        "tools_done": _("Tools done"),
        "goals_achieved": _("Goals achieved"),
        "assigned": _("Assessments assigned"),
        "submitted": _("Assessments submitted"),
        "coachees_assigned": _("Coachees assigned an assessment"),
        "coachees_submitted": _("Coachees who submitted an assessment"),
        "modules_started": _("Modules started"),
        "modules_completed": _("Modules completed"),
        "coachees_started": _("Coachees who started a module"),
        "coachees_completed": _("Coachees who completed a module"),
    }.get(metric, metric)


def group_by_label(attribute: str) -> str:
    return {
        "": _("No grouping (the total only)"),
        "department": _("Department"),
        "site": _("Site"),
        "programme": _("Programme"),
    }.get(attribute, attribute)


def group_heading(kind: int, label: str) -> str:
    return {
        rpb.GROUP_TOTAL: _("Everyone in the report"),
        rpb.GROUP_VALUE: label,
        rpb.GROUP_NOT_SET: _("Not set"),
        rpb.GROUP_OTHERS: _("Others (smaller groups together)"),
    }.get(kind, label)


def month_label(month: str) -> str:
    return month or _("Whole range")


def month_number(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:]) - 1


def month_of(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def default_range(now: datetime) -> tuple[str, str]:
    """The last DEFAULT_MONTHS months, this month (UTC, as reporting's months) included."""
    this = now.year * 12 + now.month - 1
    return month_of(this - DEFAULT_MONTHS + 1), month_of(this)


@dataclass
class Line:
    metric: str
    label: str
    values: list[int]


@dataclass
class Table:
    """One group shown: its heading, its population, its columns (months, "" the whole
    range) and one line per metric."""

    kind: int
    heading: str
    population: int
    months: list[str]
    key: str  # the page's id: total, others, not-set, group-N (N from 1, in order)
    lines: list[Line] = field(default_factory=list)


def columns(report: rpb.Report) -> list[str]:
    """The months the rows cover, in order, then the whole range ("")."""
    months = sorted({row.month for row in report.rows if row.month})
    return [*months, ""] if any(not row.month for row in report.rows) else months


def tables(report: rpb.Report, kind: str) -> list[Table]:
    """The report's tables in the groups' order (total, groups, others); none when nothing may
    be shown. A value missing from the rows reads 0 (reporting gives zeros anyway)."""
    if not report.disclosed:
        return []
    months = columns(report)
    metrics = list(METRICS.get(kind, ()))
    metrics += sorted({r.metric for r in report.rows} - set(metrics))
    values = {(r.group_kind, r.group_label, r.month, r.metric): r.value for r in report.rows}
    built = []
    for n, group in enumerate(report.groups, 1):
        key = {rpb.GROUP_TOTAL: "total", rpb.GROUP_OTHERS: "others", rpb.GROUP_NOT_SET: "not-set"}
        table = Table(
            group.kind,
            group_heading(group.kind, group.label),
            group.population,
            months,
            key.get(group.kind, f"group-{n}"),
        )
        for metric in metrics:
            cells = [values.get((group.kind, group.label, m, metric), 0) for m in months]
            table.lines.append(Line(metric, metric_label(metric), cells))
        built.append(table)
    return built
