"""A report's counts, counted by PostgreSQL: each group's population and, per (group, month,
metric), its value, as `domain.reports.count_facts` counts them from the facts (the reference:
tests/integration/test_reporting_counts.py checks that both agree). No fact row leaves the
database; the disclosure rule stays in the domain (`domain.reports.assemble`).

One statement per report: the kept coachees (filters), their spaces (not drafts) and which of
them overlap the range, the population (distinct coachees with such a space, with their
group) and their spaces, then the report kind's contributions (group, person, month, metric,
amount, whether it counts people or objects): objects summed per group, per month and over the
whole range (GROUPING SETS, hashed), people counted as distinct coachees per group and month
and over the whole range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from ..domain.reports import (
    NOT_SET,
    TOTAL,
    VALUE,
    WHOLE_RANGE,
    Cells,
    GroupKey,
    Query,
    first_day,
    last_day,
)

GROUPABLE = ("department", "site", "programme")
SETTINGS = text("SELECT set_config('jit', 'off', false), set_config('work_mem', '32MB', false)")

MONTH = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM')"
IN_RANGE = "{0} >= :start_at AND {0} < :end_at"

# Each kind's contributions: (grp, person, month, metric, amount, per_person). `spaces_kept`:
# the spaces (not drafts) of the population's coachees, with their group, `in_range` telling
# those that overlap the range.
CONTRIBUTIONS = {
    "seats": f"""
        SELECT grp, person, to_char(m, 'YYYY-MM') AS month, 'seats' AS metric, 1 AS amount,
               true AS per_person
        FROM spaces_kept,
             generate_series(
                 date_trunc('month', greatest(starts_on, CAST(:start AS date))),
                 date_trunc('month', least(coalesce(ends_on, CAST(:end AS date)),
                                           CAST(:end AS date))),
                 interval '1 month') AS m
        WHERE in_range
        UNION ALL
        SELECT p.grp, s.coachee_person_id, {MONTH.format("s.starts_at")}, 'active_coachees', 1,
               true
        FROM sessions s JOIN spaces_kept sp ON sp.space_id = s.space_id AND sp.in_range
        JOIN population p ON p.person = s.coachee_person_id
        WHERE s.tenant_id = :tenant AND s.status = 'held' AND {IN_RANGE.format("s.starts_at")}
    """,  # noqa: S608 (fixed texts only: no value is formatted into a statement)
    "spaces": """
        SELECT grp, person, '' AS month, 'spaces_' || status AS metric, 1 AS amount,
               false AS per_person
        FROM spaces_kept WHERE in_range
    """,
    "sessions": f"""
        SELECT sp.grp, sp.person, {MONTH.format("s.starts_at")} AS month,
               CASE WHEN s.status <> 'cancelled' THEN s.status
                    WHEN s.late THEN 'cancelled_late' ELSE 'cancelled_in_time' END AS metric,
               1 AS amount, false AS per_person
        FROM sessions s JOIN spaces_kept sp ON sp.space_id = s.space_id
        WHERE s.tenant_id = :tenant
          AND s.status IN ('held', 'cancelled', 'no_show_coachee', 'no_show_coach')
          AND {IN_RANGE.format("s.starts_at")}
    """,  # noqa: S608
    "engagement": """
        SELECT grp, person, '' AS month, 'sessions_planned' AS metric, sessions_planned AS amount,
               false AS per_person
        FROM spaces_kept WHERE in_range
        UNION ALL
        SELECT sp.grp, sp.person, '', x.metric, 1, false
        FROM sessions s JOIN spaces_kept sp ON sp.space_id = s.space_id AND sp.in_range
        CROSS JOIN LATERAL (VALUES
            (CASE WHEN s.uses_session AND (s.status IN ('held', 'no_show_coachee')
                       OR (s.status = 'cancelled' AND s.late)) THEN 'sessions_used' END),
            (CASE WHEN s.status = 'held' THEN 'sessions_held' END)) AS x(metric)
        WHERE s.tenant_id = :tenant AND x.metric IS NOT NULL
        UNION ALL
        SELECT sp.grp, sp.person, '', x.metric, 1, false
        FROM tools t JOIN spaces_kept sp ON sp.space_id = t.space_id AND sp.in_range
        CROSS JOIN LATERAL (VALUES
            ('tools_total'),
            (CASE WHEN t.state = 'unlocked' THEN 'tools_open' END),
            (CASE WHEN t.done THEN 'tools_done' END)) AS x(metric)
        WHERE t.tenant_id = :tenant AND t.state <> 'removed' AND x.metric IS NOT NULL
    """,
    "goals": f"""
        SELECT sp.grp, sp.person, {MONTH.format("g.achieved_at")} AS month,
               'goals_achieved' AS metric, 1 AS amount, false AS per_person
        FROM goals g JOIN spaces_kept sp ON sp.space_id = g.space_id
        WHERE g.tenant_id = :tenant AND {IN_RANGE.format("g.achieved_at")}
    """,  # noqa: S608
}


def _twice(table: str, at: str, objects: str, people: str) -> str:
    """An object per month and metric, and its coachee in the people's metric."""
    return f"""
        SELECT sp.grp, sp.person, {MONTH.format(f"o.{at}")} AS month, x.metric, 1 AS amount,
               x.per_person
        FROM {table} o JOIN spaces_kept sp ON sp.space_id = o.space_id
        CROSS JOIN (VALUES ('{objects}', false), ('{people}', true)) AS x(metric, per_person)
        WHERE o.tenant_id = :tenant AND {IN_RANGE.format(f"o.{at}")}
    """  # noqa: S608


CONTRIBUTIONS["assessments"] = " UNION ALL ".join(
    (
        _twice("assessments", "assigned_at", "assigned", "coachees_assigned"),
        _twice("assessments", "submitted_at", "submitted", "coachees_submitted"),
    )
)
CONTRIBUTIONS["modules"] = " UNION ALL ".join(
    (
        _twice("modules", "started_at", "modules_started", "coachees_started"),
        _twice("modules", "completed_at", "modules_completed", "coachees_completed"),
    )
)


# The kinds with counts of people (distinct coachees) besides counts of objects.
WITH_PEOPLE = ("seats", "assessments", "modules")


def _statement(kind: str, group_by: str | None) -> str:
    group = f"m.{group_by}" if group_by in GROUPABLE else "NULL"
    filters = " ".join(
        f"AND (CAST(:{a} AS text[]) IS NULL OR m.{a} = ANY(CAST(:{a} AS text[])))"
        for a in GROUPABLE
    )
    if kind in WITH_PEOPLE:
        counted = """
        )
        SELECT 'cell', grp, month, metric, sum(amount) FROM contributions WHERE NOT per_person
        GROUP BY GROUPING SETS ((grp, month, metric), (grp, metric))
        UNION ALL
        SELECT 'cell', grp, month, metric, count(*) FROM (
            SELECT grp, month, metric FROM contributions WHERE per_person
            GROUP BY grp, month, metric, person) AS people
        GROUP BY grp, month, metric
        UNION ALL
        SELECT 'cell', grp, NULL, metric, count(*) FROM (
            SELECT grp, metric FROM contributions WHERE per_person
            GROUP BY grp, metric, person) AS people
        GROUP BY grp, metric
        """
        materialized = "NOT MATERIALIZED"
    else:  # summed in one pass over the contributions, hashed
        counted = """
        )
        SELECT 'cell', grp, month, metric, sum(amount) FROM contributions
        GROUP BY GROUPING SETS ((grp, month, metric), (grp, metric))
        """
        materialized = ""
    return f"""
        WITH coachees AS MATERIALIZED (
            SELECT m.person_id, {group} AS grp FROM members m
            WHERE m.tenant_id = :tenant AND 'coachee' = ANY(m.roles)
              AND m.status IN ('active', 'deactivated') {filters}
        ), spaces_all AS MATERIALIZED (
            SELECT s.space_id, s.coachee_person_id AS person, c.grp, s.status,
                   s.sessions_planned, s.starts_on, s.ends_on,
                   (s.starts_on <= CAST(:end AS date)
                    AND (s.ends_on IS NULL OR s.ends_on >= CAST(:start AS date))) AS in_range
            FROM spaces s JOIN coachees c ON c.person_id = s.coachee_person_id
            WHERE s.tenant_id = :tenant AND s.status <> 'draft'
        ), population AS MATERIALIZED (
            SELECT DISTINCT person, grp FROM spaces_all WHERE in_range
        ), spaces_kept AS MATERIALIZED (
            SELECT * FROM spaces_all WHERE person IN (SELECT person FROM population)
        ), contributions AS {materialized} (
            {CONTRIBUTIONS[kind]}
        {counted}
        UNION ALL
        SELECT 'population' AS part, grp, NULL AS month, NULL AS metric, count(*) AS value
        FROM population GROUP BY grp
    """  # noqa: S608 (only the kind's and the attribute's fixed texts are formatted in)


class ReportCounts:
    """A report's counts for one tenant (the `uow.report_counts` repository)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def of_tenant(self, tenant_id: str, query: Query) -> tuple[dict[GroupKey, int], Cells]:
        start, end = first_day(query.from_month), last_day(query.to_month)
        params: dict[str, Any] = {
            "tenant": tenant_id,
            "start": start,
            "end": end,
            "start_at": datetime(start.year, start.month, start.day, tzinfo=UTC),
            "end_at": datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1),
        }
        for attribute in GROUPABLE:
            values = query.filters.get(attribute)
            params[attribute] = sorted(values) if values else None
        populations: dict[GroupKey, int] = {}
        cells: dict[tuple[GroupKey, str, str], int] = {}
        # Session settings of reporting's own connection, one round trip: no JIT compilation
        # (its estimates of these CTEs' rows are far too high: it compiled for 1.7 s to save
        # nothing), and sorts and hashes of a large tenant's facts kept in memory.
        self.connection.execute(SETTINGS)
        rows = self.connection.execute(text(_statement(query.kind, query.group_by)), params)
        for part, grp, month, metric, value in rows:
            if query.group_by is None:
                group: GroupKey = (TOTAL, "")
            else:
                group = (VALUE, grp) if grp is not None else (NOT_SET, "")
            if part == "population":
                populations[group] = int(value)
            elif month is None:  # the whole range (a metric counted only over it is given
                cells[(group, WHOLE_RANGE, metric)] = int(value)  # twice: once is kept)
            elif month != WHOLE_RANGE:
                cells[(group, month, metric)] = int(value)
        return populations, cells
