"""A report's counts, counted by PostgreSQL: each group's population and, per (group, month,
metric), its value, as `domain.reports.count_facts` counts them from the facts (the reference:
tests/integration/test_reporting_counts.py checks that both agree). No fact row leaves the
database; the disclosure rule stays in the domain (`domain.reports.assemble`).

One statement per report: the population's spaces (not drafts) with their coachee's group (the
kept coachees' memberships joined in one pass), which of them overlap the range, the population
(distinct coachees with such a space) and all their spaces; then the kind's values, read from the
counts kept per space and month (`space_months`), per space (`space_tools`) and, for modules and
assessments, per space and year (`space_years`) rather than from the facts (migrations 0004 and
0005: a few rows per coachee instead of every session): each count summed per group and month
and over the whole range, and each count of people (distinct coachees with a non-zero count)
from month bit masks merged per coachee; one row per non-zero value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    months_between,
)

GROUPABLE = ("department", "site", "programme")
SETTINGS = text("SELECT set_config('jit', 'off', false), set_config('work_mem', '32MB', false)")

IN_RANGE = "c.month BETWEEN CAST(:start AS date) AND CAST(:end AS date)"


@dataclass(frozen=True)
class Shape:
    """A kind's rows: `rows` gives grp, person, month (a date, NULL if the kind is not monthly)
    and a column per name of `objects`, summed per group and month unless `values` counts them
    otherwise; `people` maps a count of people (distinct coachees), which only `values` counts,
    to the count of objects it follows. `always`: metrics given even when zero (a sum over the
    population's spaces, as the reference gives them)."""

    rows: str
    objects: tuple[str, ...] = ()
    people: dict[str, str] = field(default_factory=dict)
    always: tuple[str, ...] = ()
    # the values per group and month, if not the usual sums and counts (a function: of the
    # number of months of the range)
    values: str | Callable[[int], str] = ""


def month_index(column: str) -> str:
    """The month of `column` (a date) as its place in the range, 0 for the first."""
    return (
        f"(CAST(date_part('year', {column}) AS int) * 12"
        f" + CAST(date_part('month', {column}) AS int) - :base)"
    )


# A space's first and last month of seat in the range (the last before the first: none).
SEAT_FIRST = f"greatest({month_index('starts_on')}, 0)"
SEAT_LAST = f"least(coalesce({month_index('ends_on')}, :last), :last)"


def _months(columns: tuple[str, ...], where: str = "") -> str:
    """The population's spaces' counts per month in the range, `columns` of space_months."""
    return f"""
        SELECT sp.grp, sp.person, c.month, {", ".join(f"c.{n}" for n in columns)}
        FROM space_months c JOIN spaces_kept sp ON sp.space_id = c.space_id
        WHERE c.tenant_id = :tenant AND {IN_RANGE} {where}
    """  # noqa: S608 (fixed texts only: no value is formatted into a statement)


def _participation(*counts: tuple[str, str]) -> Shape:
    """Objects and the distinct coachees they belong to (assessments, modules), read from the
    counts kept per space and year (`space_years`, migration 0005: one row per space and year,
    each count an array of its months and a mask of its non-zero months). The objects: each
    month's array element summed per group; the coachees: each space's masks shifted to the
    range's bits and merged per coachee, then counted per group and masks (a few hundred rows)
    and per month, as seats are."""

    def values(months: int) -> str:
        objects = ", ".join(
            f"coalesce(sum(y.{n}[:m{i}]) FILTER (WHERE y.year = :y{i}), 0) AS {n}_{i}"
            for n, _ in counts
            for i in range(months)
        )
        # A year's bit 0 (January) is the range's bit year * 12 + 1 - base (negative: before).
        shift = "(y.year * 12 + 1 - :base)"
        masks = ", ".join(
            f"""bit_or(CASE WHEN {shift} >= 0 THEN CAST(y.{n}_mask AS bigint) << {shift}
                            ELSE CAST(y.{n}_mask AS bigint) >> -{shift} END) & :full AS {n}"""
            for n, _ in counts
        )
        names = [n for n, _ in counts]
        zeros = ", ".join("0" for _ in names)
        per_month = ", ".join(
            "("
            + ", ".join((f"(CAST(:months AS date[]))[{i + 1}]", *(f"{n}_{i}" for n in names)))
            + ")"
            for i in range(months)
        )
        whole = ", ".join(" + ".join(f"{n}_{i}" for i in range(months)) for n in names)
        people = [p for _, p in counts]
        return f"""
            years AS (
                SELECT sp.grp, sp.person, y.*
                FROM space_years y JOIN spaces_kept sp ON sp.space_id = y.space_id
                WHERE y.tenant_id = :tenant AND y.year BETWEEN :first_year AND :last_year
            ), objects AS (
                SELECT y.grp, {objects} FROM years y GROUP BY y.grp
            ), masks AS (
                SELECT grp, {", ".join(names)}, CAST(count(*) AS int) AS coachees FROM (
                    SELECT y.grp, y.person, {masks} FROM years y GROUP BY y.grp, y.person
                ) AS persons
                GROUP BY grp, {", ".join(names)}
            ), kind_values AS (
                SELECT grp, month, {", ".join(f"sum({c}) AS {c}" for c in (*names, *people))}
                FROM (
                    SELECT o.grp, x.month, {", ".join(f"x.{n}" for n in names)}, {zeros}
                    FROM objects o CROSS JOIN LATERAL (VALUES {per_month},
                                                              (NULL, {whole}))
                        AS x(month, {", ".join(names)})
                    UNION ALL
                    SELECT grp, m.month, {zeros}, {
            ", ".join(f"sum(coachees) FILTER (WHERE {n} & m.bit <> 0)" for n in names)
        }
                    FROM masks
                    CROSS JOIN unnest(CAST(:months AS date[]), CAST(:bits AS bigint[]))
                        AS m(month, bit)
                    GROUP BY grp, m.month
                    UNION ALL
                    SELECT grp, NULL, {zeros}, {
            ", ".join(f"sum(coachees) FILTER (WHERE {n} <> 0)" for n in names)
        }
                    FROM masks GROUP BY grp
                ) AS v (grp, month, {", ".join((*names, *people))})
                GROUP BY grp, month
            )"""  # noqa: S608 (the kind's fixed names and numbers only)

    return Shape(
        "", objects=tuple(n for n, _ in counts), people={p: n for n, p in counts}, values=values
    )


SESSIONS = ("held", "cancelled_late", "cancelled_in_time", "no_show_coachee", "no_show_coach")
SPACE_STATUSES = ("active", "paused", "completed", "archived")
ENGAGEMENT = (
    "sessions_planned",
    "sessions_used",
    "sessions_held",
    "tools_total",
    "tools_open",
    "tools_done",
)

SHAPES = {
    # One row per space, its months as bits of a bigint (a range has at most 36 months): its
    # seat months a run of bits, its months with a held session a bit each; merged per coachee,
    # then the coachees counted per group and pair of masks (a few hundred rows), and per month.
    "seats": Shape(
        f"""
        SELECT sp.grp, sp.person, CASE WHEN {SEAT_FIRST} > {SEAT_LAST} THEN 0
                                 ELSE (CAST(1 AS bigint) << ({SEAT_LAST} + 1))
                                      - (CAST(1 AS bigint) << {SEAT_FIRST}) END AS seat,
               coalesce(held.active, 0) AS active
        FROM spaces_kept sp LEFT JOIN (
            SELECT c.space_id, bit_or(CAST(1 AS bigint) << {month_index("c.month")}) AS active
            FROM space_months c
            WHERE c.tenant_id = :tenant AND c.held > 0 AND {IN_RANGE}
            GROUP BY c.space_id) AS held ON held.space_id = sp.space_id
        WHERE sp.in_range
        """,  # noqa: S608 (fixed texts only)
        people={"seats": "seat", "active_coachees": "active"},
        values="""
            masks AS (
                SELECT grp, seat, active, CAST(count(*) AS int) AS coachees FROM (
                    SELECT grp, person, bit_or(seat) AS seat, bit_or(active) AS active
                    FROM kind_rows GROUP BY grp, person) AS persons
                GROUP BY grp, seat, active
            ), kind_values AS (
                SELECT grp, m.month, sum(coachees) FILTER (WHERE seat & m.bit <> 0) AS seats,
                       sum(coachees) FILTER (WHERE active & m.bit <> 0) AS active_coachees
                FROM masks
                CROSS JOIN unnest(CAST(:months AS date[]), CAST(:bits AS bigint[])) AS m(month, bit)
                GROUP BY grp, m.month
                UNION ALL
                SELECT grp, NULL, sum(coachees) FILTER (WHERE seat <> 0),
                       sum(coachees) FILTER (WHERE active <> 0)
                FROM masks GROUP BY grp
            )""",
    ),
    "spaces": Shape(
        f"""SELECT grp, person, CAST(NULL AS date) AS month, {
            ", ".join(f"CAST(status = '{s}' AS int) AS spaces_{s}" for s in SPACE_STATUSES)
        } FROM spaces_kept WHERE in_range""",  # noqa: S608 (fixed texts)
        objects=tuple(f"spaces_{s}" for s in SPACE_STATUSES),
    ),
    "sessions": Shape(_months(SESSIONS), objects=SESSIONS),
    "engagement": Shape(
        """
        SELECT grp, person, CAST(NULL AS date) AS month, sessions_planned, 0 AS sessions_used,
               0 AS sessions_held, 0 AS tools_total, 0 AS tools_open, 0 AS tools_done
        FROM spaces_kept WHERE in_range
        UNION ALL
        SELECT sp.grp, sp.person, NULL, 0, c.sessions_used, c.held, 0, 0, 0
        FROM (
            -- summed per space before the join: one row per space, not one per month
            SELECT space_id, sum(sessions_used) AS sessions_used, sum(held) AS held
            FROM space_months
            WHERE tenant_id = :tenant AND (sessions_used <> 0 OR held <> 0)
            GROUP BY space_id
        ) AS c JOIN spaces_kept sp ON sp.space_id = c.space_id AND sp.in_range
        UNION ALL
        SELECT sp.grp, sp.person, NULL, 0, 0, 0, t.tools_total, t.tools_open, t.tools_done
        FROM space_tools t JOIN spaces_kept sp ON sp.space_id = t.space_id AND sp.in_range
        WHERE t.tenant_id = :tenant
        """,
        objects=ENGAGEMENT,
        always=("sessions_planned",),
    ),
    "goals": Shape(_months(("goals_achieved",), "AND c.goals_achieved <> 0"), ("goals_achieved",)),
    "assessments": _participation(
        ("assigned", "coachees_assigned"), ("submitted", "coachees_submitted")
    ),
    "modules": _participation(
        ("modules_started", "coachees_started"), ("modules_completed", "coachees_completed")
    ),
}


def _counted(shape: Shape, months: int) -> str:
    """The kind's values per group and month, and per group over the whole range (month NULL),
    one row per metric."""
    summed = [f"sum({n}) AS {n}" for n in shape.objects]
    if callable(shape.values):
        values = shape.values(months)
    elif shape.values:
        values = shape.values
    else:
        values = f"""
            kind_values AS (
                SELECT grp, month, {", ".join(summed)} FROM kind_rows
                GROUP BY GROUPING SETS ((grp, month), (grp))
                HAVING month IS NOT NULL OR GROUPING(month) = 1
            )"""  # noqa: S608
    metrics = (*shape.objects, *shape.people)
    pairs = ", ".join(f"('{m}', {m})" for m in metrics)
    kept = " OR ".join(("x.value > 0", *(f"x.metric = '{m}'" for m in shape.always)))
    return f"""{values}
        SELECT 'cell' AS part, grp, to_char(month, 'YYYY-MM') AS month, x.metric, x.value
        FROM kind_values CROSS JOIN LATERAL (VALUES {pairs}) AS x(metric, value)
        WHERE {kept}
    """  # noqa: S608


def _statement(kind: str, group_by: str | None, months: int) -> str:
    group = f"m.{group_by}" if group_by in GROUPABLE else "NULL"
    filters = " ".join(
        f"AND (CAST(:{a} AS text[]) IS NULL OR m.{a} = ANY(CAST(:{a} AS text[])))"
        for a in GROUPABLE
    )
    shape = SHAPES[kind]
    return f"""
        WITH spaces_all AS MATERIALIZED (
            SELECT s.space_id, s.coachee_person_id AS person, {group} AS grp, s.status,
                   s.sessions_planned, s.starts_on, s.ends_on,
                   (s.starts_on <= CAST(:end AS date)
                    AND (s.ends_on IS NULL OR s.ends_on >= CAST(:start AS date))) AS in_range
            FROM spaces s JOIN members m ON m.person_id = s.coachee_person_id
            WHERE s.tenant_id = :tenant AND s.status <> 'draft'
              AND m.tenant_id = :tenant AND 'coachee' = ANY(m.roles)
              AND m.status IN ('active', 'deactivated') {filters}
        ), population AS MATERIALIZED (
            SELECT person, grp FROM spaces_all WHERE in_range GROUP BY person, grp
        ), spaces_kept AS MATERIALIZED (
            SELECT * FROM spaces_all
            WHERE in_range OR person IN (SELECT person FROM population)
        ), {f"kind_rows AS ({shape.rows}), " if shape.rows else ""}{_counted(shape, months)}
        UNION ALL
        SELECT 'population', grp, NULL, NULL, count(*) FROM population GROUP BY grp
    """  # noqa: S608 (only the kind's and the attribute's fixed texts are formatted in)


class ReportCounts:
    """A report's counts for one tenant (the `uow.report_counts` repository)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def of_tenant(self, tenant_id: str, query: Query) -> tuple[dict[GroupKey, int], Cells]:
        start, end = first_day(query.from_month), last_day(query.to_month)
        months = months_between(query.from_month, query.to_month)
        params: dict[str, Any] = {
            "tenant": tenant_id,
            "start": start,
            "end": end,
            # The range's months as an array constant, whose length the planner knows (with
            # generate_series it reckoned 1,000 rows a space and sorted instead of hashing).
            "months": [first_day(m) for m in months],
            # seats: the months as bits (month_index), the first month's number, the last's place
            "bits": [1 << i for i in range(len(months))],
            "full": (1 << len(months)) - 1,
            "base": start.year * 12 + start.month,
            "last": len(months) - 1,
            # modules, assessments: each month's year and place in it (1 to 12)
            **{f"y{i}": int(m[:4]) for i, m in enumerate(months)},
            **{f"m{i}": int(m[5:]) for i, m in enumerate(months)},
            "first_year": int(months[0][:4]),
            "last_year": int(months[-1][:4]),
        }
        for attribute in GROUPABLE:
            values = query.filters.get(attribute)
            params[attribute] = sorted(values) if values else None
        populations: dict[GroupKey, int] = {}
        cells: dict[tuple[GroupKey, str, str], int] = {}
        # Session settings of reporting's own connection, one round trip: no JIT compilation
        # (its estimates of these CTEs' rows are far too high: it compiled for 1.7 s to save
        # nothing), and sorts and hashes of a large tenant's counts kept in memory.
        self.connection.execute(SETTINGS)
        rows = self.connection.execute(
            text(_statement(query.kind, query.group_by, len(months))), params
        )
        for part, grp, month, metric, value in rows:
            if query.group_by is None:
                group: GroupKey = (TOTAL, "")
            else:
                group = (VALUE, grp) if grp is not None else (NOT_SET, "")
            if part == "population":
                populations[group] = int(value)
            else:  # month None: the whole range
                cells[(group, month or WHOLE_RANGE, metric)] = int(value)
        return populations, cells
