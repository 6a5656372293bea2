"""HR's reports, computed from one tenant's facts: counts by month and by cohort, shown only
under the disclosure rule (disclosure.py). Plain Python: no I/O, no clock.

The population of a report is the distinct coachees after every filter: members counted as
coachees (facts.Member.counts_as_coachee) whose cohort attributes match the filters, with a
space (not a draft) whose engagement dates overlap the month range. Every figure is about that
population only, so a filter that leaves fewer than MIN_GROUP people shows nothing at all.

Months are UTC calendar months, `YYYY-MM`. A row whose month is "" covers the whole range.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from .disclosure import disclose
from .facts import Member, Space, TenantFacts

WHOLE_RANGE = ""

# Group kinds: the total, one value of the grouping attribute, the members without one, and
# "others" (the groups merged by the disclosure rule).
TOTAL = "total"
VALUE = "value"
NOT_SET = "not_set"
OTHERS = "others"


@dataclass(frozen=True)
class Kind:
    """A report: its metrics, whether they are given per month (besides the whole range), and
    the facts it reads besides members and spaces (TenantFacts' fields)."""

    name: str
    metrics: tuple[str, ...]
    monthly: bool
    reads: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("seats", ("seats", "active_coachees"), monthly=True, reads=("sessions",)),
        Kind(
            "spaces",
            ("spaces_active", "spaces_paused", "spaces_completed", "spaces_archived"),
            monthly=False,
        ),
        Kind(
            "sessions",
            ("held", "cancelled_late", "cancelled_in_time", "no_show_coachee", "no_show_coach"),
            monthly=True,
            reads=("sessions",),
        ),
        Kind(
            "engagement",
            (
                "sessions_planned",
                "sessions_used",
                "sessions_held",
                "tools_total",
                "tools_open",
                "tools_done",
            ),
            monthly=False,
            reads=("sessions", "tools"),
        ),
        Kind("goals", ("goals_achieved",), monthly=True, reads=("goals",)),
        Kind(
            "assessments",
            ("assigned", "submitted", "coachees_assigned", "coachees_submitted"),
            monthly=True,
            reads=("assessments",),
        ),
        Kind(
            "modules",
            ("modules_started", "modules_completed", "coachees_started", "coachees_completed"),
            monthly=True,
            reads=("modules",),
        ),
    )
}


@dataclass(frozen=True)
class Query:
    kind: str
    from_month: str
    to_month: str
    # attribute -> the values kept (an attribute not named, or named with no value, keeps all)
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    group_by: str | None = None


@dataclass(frozen=True)
class Group:
    kind: str  # TOTAL, VALUE, NOT_SET, OTHERS
    label: str  # the attribute's value for VALUE, else ""
    population: int


@dataclass(frozen=True)
class Row:
    group_kind: str
    group_label: str
    month: str  # YYYY-MM, or WHOLE_RANGE
    metric: str
    value: int


@dataclass(frozen=True)
class Report:
    kind: str
    from_month: str
    to_month: str
    group_by: str | None
    disclosed: bool  # False: fewer than MIN_GROUP people after the filters; nothing is shown
    groups: tuple[Group, ...] = ()
    rows: tuple[Row, ...] = ()


# ---------------------------------------------------------------- months


def month_of(instant: datetime | date) -> str:
    return f"{instant.year:04d}-{instant.month:02d}"


def months_between(from_month: str, to_month: str) -> list[str]:
    """Every month from `from_month` to `to_month`, both included."""
    year, month = int(from_month[:4]), int(from_month[5:])
    months = []
    while (current := f"{year:04d}-{month:02d}") <= to_month:
        months.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:]), 1)


def last_day(month: str) -> date:
    year, number = int(month[:4]), int(month[5:])
    following = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def overlaps(space: Space, start: date, end: date) -> bool:
    return space.starts_on <= end and (space.ends_on is None or space.ends_on >= start)


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Contribution:
    """What one coachee adds to a metric in a month: `amount`, counted once per `key` (a
    session id, a space id, or the person themselves for counts of people)."""

    person: str
    month: str
    metric: str
    key: str
    amount: int = 1


# The counts a report is made of, before the disclosure rule: each group's population
# (distinct coachees) and, per (group, month, metric), the value of that group's own coachees.
# A group is (TOTAL, "") without group_by, else (VALUE, label) or (NOT_SET, ""); the groups
# partition the population, and every counted object (or person) belongs to one coachee, so a
# shown group's value is its own and "others" and the total are sums of groups' values.
GroupKey = tuple[str, str]
Cells = Mapping[tuple[GroupKey, str, str], int]


def build_report(query: Query, facts: TenantFacts) -> Report:
    """The report from one tenant's facts (the reference the storage's SQL counts agree with)."""
    populations, cells = count_facts(query, facts)
    return assemble(query, populations, cells)


def count_facts(query: Query, facts: TenantFacts) -> tuple[dict[GroupKey, int], Cells]:
    """Each group's population and cells, counted from the facts."""
    kind = KINDS[query.kind]
    start, end = first_day(query.from_month), last_day(query.to_month)
    coachees = {m.person_id: m for m in facts.members if m.counts_as_coachee and _kept(m, query)}
    spaces = [s for s in facts.spaces if s.status != "draft" and s.coachee_person_id in coachees]
    in_range = [s for s in spaces if overlaps(s, start, end)]
    population = {s.coachee_person_id for s in in_range}

    def group_of(person: str) -> GroupKey:
        if query.group_by is None:
            return (TOTAL, "")
        value = coachees[person].attribute(query.group_by)
        return (VALUE, value) if value is not None else (NOT_SET, "")

    populations: dict[GroupKey, int] = defaultdict(int)
    for person in population:
        populations[group_of(person)] += 1
    tally: dict[tuple[GroupKey, str, str], dict[str, int]] = defaultdict(dict)
    allowed = set(months_between(query.from_month, query.to_month))
    for c in _contributions(kind.name, facts, in_range, spaces, (start, end)):
        if c.person not in population or (c.month and c.month not in allowed):
            continue
        for month in (c.month, WHOLE_RANGE) if c.month else (WHOLE_RANGE,):
            tally[(group_of(c.person), month, c.metric)][c.key] = c.amount
    return dict(populations), {cell: sum(keys.values()) for cell, keys in tally.items()}


def assemble(query: Query, populations: Mapping[GroupKey, int], cells: Cells) -> Report:
    """The report shown from the groups' counts: the disclosure rule (disclosure.py) decides
    which groups are shown and which merge into "others"; nothing at all under MIN_GROUP."""
    kind = KINDS[query.kind]
    shown = disclose(populations)
    if not shown.disclosed:
        return Report(query.kind, query.from_month, query.to_month, query.group_by, False)
    groups = [Group(TOTAL, "", shown.total)]
    if query.group_by is not None:
        groups += [Group(k, label, n) for (k, label), n in shown.shown.items()]
        if shown.others:
            groups.append(Group(OTHERS, "", shown.others_population))
    totals: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for (group, month, metric), value in cells.items():
        if populations.get(group, 0) <= 0:
            continue  # no one of the population: nothing to count (the SQL never gives one)
        totals[(TOTAL, "", month, metric)] += value
        if query.group_by is not None:
            target = shown.shown_as(group) or (OTHERS, "")
            totals[(*target, month, metric)] += value
    months = months_between(query.from_month, query.to_month)
    columns = [*months, WHOLE_RANGE] if kind.monthly else [WHOLE_RANGE]
    rows = [
        Row(g.kind, g.label, month, metric, totals.get((g.kind, g.label, month, metric), 0))
        for g in groups
        for month in columns
        for metric in kind.metrics
    ]
    return Report(
        query.kind,
        query.from_month,
        query.to_month,
        query.group_by,
        True,
        tuple(groups),
        tuple(rows),
    )


def _kept(member: Member, query: Query) -> bool:
    for attribute, values in query.filters.items():
        if values and member.attribute(attribute) not in values:
            return False
    return True


def _contributions(
    kind: str,
    facts: TenantFacts,
    in_range: list[Space],
    spaces: list[Space],
    span: tuple[date, date],
) -> Iterator[Contribution]:
    coachee_of = {s.space_id: s.coachee_person_id for s in spaces}
    if kind == "seats":
        yield from _seats(facts, in_range, span)
    elif kind == "spaces":
        for s in in_range:
            yield Contribution(s.coachee_person_id, WHOLE_RANGE, f"spaces_{s.status}", s.space_id)
    elif kind == "sessions":
        yield from _sessions(facts, coachee_of)
    elif kind == "engagement":
        yield from _engagement(facts, in_range)
    elif kind == "goals":
        for g in facts.goals:
            if g.space_id in coachee_of and g.achieved_at is not None:
                person = coachee_of[g.space_id]
                yield Contribution(person, month_of(g.achieved_at), "goals_achieved", g.goal_id)
    elif kind == "assessments":
        for a in facts.assessments:
            if a.space_id in coachee_of:
                person = coachee_of[a.space_id]
                yield from _twice(person, month_of(a.assigned_at), "assigned", a.assignment_id)
                if a.submitted_at is not None:
                    month = month_of(a.submitted_at)
                    yield from _twice(person, month, "submitted", a.assignment_id)
    elif kind == "modules":
        for m in facts.modules:
            if m.space_id in coachee_of:
                person = coachee_of[m.space_id]
                if m.started_at is not None:
                    month = month_of(m.started_at)
                    yield from _twice(person, month, "modules_started", m.assignment_id)
                if m.completed_at is not None:
                    month = month_of(m.completed_at)
                    yield from _twice(person, month, "modules_completed", m.assignment_id)


# The participation metrics: the objects, and the distinct coachees they belong to.
PEOPLE_METRIC = {
    "assigned": "coachees_assigned",
    "submitted": "coachees_submitted",
    "modules_started": "coachees_started",
    "modules_completed": "coachees_completed",
}


def _twice(person: str, month: str, metric: str, key: str) -> Iterable[Contribution]:
    yield Contribution(person, month, metric, key)
    yield Contribution(person, month, PEOPLE_METRIC[metric], person)


def _seats(
    facts: TenantFacts, in_range: list[Space], span: tuple[date, date]
) -> Iterator[Contribution]:
    for s in in_range:
        start = max(s.starts_on, span[0])
        end = min(s.ends_on or span[1], span[1])
        for month in months_between(month_of(start), month_of(end)):
            yield Contribution(s.coachee_person_id, month, "seats", s.coachee_person_id)
    spaces = {s.space_id for s in in_range}
    for session in facts.sessions:
        if session.space_id in spaces and session.status == "held":
            person = session.coachee_person_id
            yield Contribution(person, month_of(session.starts_at), "active_coachees", person)


SESSION_METRICS = {
    "held": "held",
    "no_show_coachee": "no_show_coachee",
    "no_show_coach": "no_show_coach",
}


def _sessions(facts: TenantFacts, coachee_of: Mapping[str, str]) -> Iterator[Contribution]:
    for s in facts.sessions:
        if s.space_id not in coachee_of:
            continue
        if s.status == "cancelled":
            metric = "cancelled_late" if s.late else "cancelled_in_time"
        elif s.status in SESSION_METRICS:
            metric = SESSION_METRICS[s.status]
        else:
            continue  # booked: not happened yet
        yield Contribution(coachee_of[s.space_id], month_of(s.starts_at), metric, s.session_id)


def _engagement(facts: TenantFacts, in_range: list[Space]) -> Iterator[Contribution]:
    coachee_of = {s.space_id: s.coachee_person_id for s in in_range}
    for s in in_range:
        person = s.coachee_person_id
        yield Contribution(person, WHOLE_RANGE, "sessions_planned", s.space_id, s.sessions_planned)
    for session in facts.sessions:
        person_of = coachee_of.get(session.space_id)
        if person_of is None:
            continue
        used = session.status in ("held", "no_show_coachee") or (
            session.status == "cancelled" and session.late
        )
        if used and session.uses_session:
            yield Contribution(person_of, WHOLE_RANGE, "sessions_used", session.session_id)
        if session.status == "held":
            yield Contribution(person_of, WHOLE_RANGE, "sessions_held", session.session_id)
    for tool in facts.tools:
        person_of = coachee_of.get(tool.space_id)
        if person_of is None or tool.state == "removed":
            continue
        yield Contribution(person_of, WHOLE_RANGE, "tools_total", tool.tool_id)
        if tool.state == "unlocked":
            yield Contribution(person_of, WHOLE_RANGE, "tools_open", tool.tool_id)
        if tool.done:
            yield Contribution(person_of, WHOLE_RANGE, "tools_done", tool.tool_id)
