"""HR's reports from facts (services/reporting/domain/reports.py), who may read them
(domain/access.py) and the request contract (services/contracts/reporting.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.contracts import reporting as c
from services.kernel.caller import PersonClaims
from services.kernel.errors import NotFound, PermissionDenied
from services.kernel.validation import validation_error
from services.reporting.domain.access import require_report_reader
from services.reporting.domain.disclosure import MIN_GROUP
from services.reporting.domain.facts import Member, Session, Space, TenantFacts
from services.reporting.domain.reports import (
    KINDS,
    OTHERS,
    TOTAL,
    VALUE,
    Query,
    Report,
    build_report,
    months_between,
)

T = "ten_1"


def coachee(n: int, department: str | None, site: str | None = "paris") -> Member:
    return Member(f"mem_{n}", T, f"per_{n}", ("coachee",), "active", department, site)


def space(n: int, starts_on: date = date(2026, 1, 5), status: str = "active") -> Space:
    return Space(f"spa_{n}", T, f"per_{n}", status, 10, starts_on, None)


def held(n: int, k: int, month: int = 2) -> Session:
    at = datetime(2026, month, 10, 9, tzinfo=UTC) + timedelta(days=k)
    return Session(f"ses_{n}_{k}", T, f"spa_{n}", f"per_{n}", "held", at, False, True)


def twelve() -> TenantFacts:
    """12 coachees: 7 in sales, 5 in ops; in ops, one works in Lyon."""
    members = [coachee(n, "sales") for n in range(7)]
    members += [coachee(n, "ops", "lyon" if n == 7 else "paris") for n in range(7, 12)]
    return TenantFacts(
        members=tuple(members),
        spaces=tuple(space(n) for n in range(12)),
        sessions=tuple(held(n, k) for n in range(12) for k in range(2)),
    )


def value(report: Report, kind: str, label: str, month: str, metric: str) -> int:
    (row,) = [
        r
        for r in report.rows
        if (r.group_kind, r.group_label, r.month, r.metric) == (kind, label, month, metric)
    ]
    return row.value


def query(kind: str = "sessions", **kwargs: object) -> Query:
    return Query(kind, "2026-01", "2026-03", **kwargs)  # type: ignore[arg-type]


def test_totals_and_both_departments_of_twelve_coachees() -> None:
    report = build_report(query(group_by="department"), twelve())
    assert report.disclosed
    populations = {(g.kind, g.label): g.population for g in report.groups}
    assert populations == {(TOTAL, ""): 12, (VALUE, "sales"): 7, (VALUE, "ops"): 5}
    assert value(report, TOTAL, "", "2026-02", "held") == 24
    assert value(report, VALUE, "sales", "2026-02", "held") == 14
    assert value(report, VALUE, "ops", "", "held") == 10
    assert value(report, TOTAL, "", "2026-01", "held") == 0


def test_a_filter_that_leaves_four_in_a_department_hides_it() -> None:
    report = build_report(
        query(group_by="department", filters={"site": frozenset({"paris"})}), twelve()
    )
    populations = {(g.kind, g.label): g.population for g in report.groups}
    # ops keeps 4 in Paris: merged into others with sales, the smallest shown, so that 11 - 7
    # never reveals it.
    assert populations == {(TOTAL, ""): 11, (OTHERS, ""): 11}
    assert all(r.group_label != "ops" for r in report.rows)


def test_a_filter_that_leaves_four_shows_nothing_at_all() -> None:
    report = build_report(
        query(filters={"department": frozenset({"ops"}), "site": frozenset({"paris"})}), twelve()
    )
    assert not report.disclosed
    assert report.groups == () and report.rows == ()


def test_a_month_range_before_their_spaces_started_hides_everyone() -> None:
    facts = twelve()
    later = TenantFacts(
        members=facts.members,
        spaces=tuple(space(n, date(2026, 3, 1) if n >= 4 else date(2026, 1, 5)) for n in range(12)),
        sessions=facts.sessions,
    )
    assert not build_report(Query("seats", "2026-01", "2026-02"), later).disclosed
    report = build_report(Query("seats", "2026-01", "2026-03"), later)
    assert value(report, TOTAL, "", "2026-01", "seats") == 4
    assert value(report, TOTAL, "", "2026-03", "seats") == 12
    assert value(report, TOTAL, "", "", "seats") == 12
    assert value(report, TOTAL, "", "2026-02", "active_coachees") == 12  # all held one then


def test_drafts_pending_and_other_roles_are_not_counted() -> None:
    facts = twelve()
    coach = Member("mem_c", T, "per_c", ("coach",), "active", "sales")
    pending = Member("mem_p", T, "per_p", ("coachee",), "pending", "sales")
    drafts = (Space("spa_c", T, "per_c", "active", 5, date(2026, 1, 1)), space(99, status="draft"))
    report = build_report(
        query("spaces"),
        TenantFacts(
            members=(*facts.members, coach, pending, coachee(99, "sales")),
            spaces=(
                *facts.spaces,
                *drafts,
                Space("spa_p", T, "per_p", "active", 5, date(2026, 1, 1)),
            ),
        ),
    )
    assert report.groups[0].population == 12
    assert value(report, TOTAL, "", "", "spaces_active") == 12


def test_cancellations_late_or_not_and_no_shows() -> None:
    facts = twelve()
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    extra = (
        Session("ses_a", T, "spa_0", "per_0", "cancelled", at, True, True),
        Session("ses_b", T, "spa_1", "per_1", "cancelled", at, False, True),
        Session("ses_c", T, "spa_2", "per_2", "no_show_coachee", at, False, True),
        Session("ses_d", T, "spa_3", "per_3", "booked", at, False, True),
    )
    report = build_report(
        query(), TenantFacts(facts.members, facts.spaces, (*facts.sessions, *extra))
    )
    assert value(report, TOTAL, "", "2026-03", "cancelled_late") == 1
    assert value(report, TOTAL, "", "2026-03", "cancelled_in_time") == 1
    assert value(report, TOTAL, "", "2026-03", "no_show_coachee") == 1
    engagement = build_report(
        query("engagement"), TenantFacts(facts.members, facts.spaces, (*facts.sessions, *extra))
    )
    assert value(engagement, TOTAL, "", "", "sessions_planned") == 120
    # 24 held, the late cancellation and the no-show use a session; the rest do not
    assert value(engagement, TOTAL, "", "", "sessions_used") == 26


def test_months_between() -> None:
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months_between("2026-02", "2026-02") == ["2026-02"]


# ---------------------------------------------------------------- properties


departments = st.sampled_from(["a", "b", "c", "d", None])


@st.composite
def tenants(draw: st.DrawFn) -> TenantFacts:
    n = draw(st.integers(0, 30))
    members = [coachee(i, draw(departments), draw(st.sampled_from(["x", "y"]))) for i in range(n)]
    spaces = [space(i, date(2026, draw(st.integers(1, 6)), 1)) for i in range(n)]
    sessions = [
        held(i, k, draw(st.integers(1, 6)))
        for i in range(n)
        for k in range(draw(st.integers(0, 3)))
    ]
    return TenantFacts(tuple(members), tuple(spaces), tuple(sessions))


@settings(max_examples=80, deadline=None)
@given(
    tenants(),
    st.sampled_from(["department", "site", None]),
    st.sampled_from([None, "x", "y"]),
    st.sampled_from([("2026-01", "2026-06"), ("2026-03", "2026-04"), ("2026-06", "2026-06")]),
)
def test_no_report_shows_a_group_of_fewer_than_five(
    facts: TenantFacts, group_by: str | None, site: str | None, months: tuple[str, str]
) -> None:
    filters = {"site": frozenset({site})} if site else {}
    report = build_report(Query("sessions", *months, filters, group_by), facts)
    if not report.disclosed:
        assert report.rows == () and report.groups == ()
        return
    total, *groups = report.groups
    assert total.kind == TOTAL and total.population >= MIN_GROUP
    assert all(g.population >= MIN_GROUP for g in groups)
    if groups:
        assert sum(g.population for g in groups) == total.population
        for month in [*months_between(*months), ""]:
            held_total = value(report, TOTAL, "", month, "held")
            assert sum(value(report, g.kind, g.label, month, "held") for g in groups) == held_total


def test_every_kind_builds() -> None:
    for kind in KINDS:
        assert build_report(query(kind, group_by="department"), twelve()).disclosed


# ---------------------------------------------------------------- who may read


def claims(tenant: str | None, roles: tuple[str, ...], operator: bool = False) -> PersonClaims:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return PersonClaims("per_a", tenant, roles, operator, "tok", now, now)


ADMIN = Member("mem_a", T, "per_a", ("tenant_admin",), "active")


def test_the_tenant_admin_reads_the_reports() -> None:
    require_report_reader(claims(T, ("tenant_admin",)), T, ADMIN)


@pytest.mark.parametrize(
    ("who", "member", "refusal"),
    [
        (claims("ten_2", ("tenant_admin",)), None, NotFound),  # another tenant's admin
        (claims(None, (), operator=True), None, PermissionDenied),  # the operator
        (
            claims(T, ("coachee",)),
            Member("mem_a", T, "per_a", ("coachee",), "active"),
            PermissionDenied,
        ),
        (
            claims(T, ("coach",)),
            Member("mem_a", T, "per_a", ("coach",), "active"),
            PermissionDenied,
        ),
        # a token minted before a demotion: the stored membership decides
        (
            claims(T, ("tenant_admin",)),
            Member("mem_a", T, "per_a", ("coach",), "active"),
            PermissionDenied,
        ),
        (
            claims(T, ("tenant_admin",)),
            Member("mem_a", T, "per_a", ("tenant_admin",), "deactivated"),
            PermissionDenied,
        ),
        (claims(T, ("tenant_admin",)), None, PermissionDenied),  # not known here yet
        (claims(T, ("coach",)), ADMIN, PermissionDenied),  # the token must say so too
    ],
)
def test_anyone_else_is_refused(who: PersonClaims, member: Member | None, refusal: type) -> None:
    with pytest.raises(refusal):
        require_report_reader(who, T, member)


# ---------------------------------------------------------------- the contract


def problem_fields(data: dict[str, object]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        c.ReportRequest.from_request(data)
    return {f.field for f in validation_error(caught.value).fields}


GOOD = {"tenant_id": "ten_1a", "kind": "sessions", "from_month": "2026-01", "to_month": "2026-03"}


def test_a_good_request_is_read() -> None:
    request = c.ReportRequest.from_request(
        {**GOOD, "group_by": "site", "filters": {"department": ["Sales"]}}
    )
    assert request.filters.department == ["Sales"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "salaries"}, "kind"),
        ({"from_month": "2026-13"}, "from_month"),
        ({"to_month": "2026-1"}, "to_month"),
        ({"to_month": "2025-12"}, "to_month"),  # before from_month
        ({"to_month": "2029-01"}, "to_month"),  # more than 36 months
        ({"group_by": "salary"}, "group_by"),
        ({"filters": {"site": ["Paris\nLyon"]}}, "filters.site"),
        ({"filters": {"site": ["x" * 81]}}, "filters.site.0"),
        ({"filters": {"site": [""]}}, "filters.site.0"),
        ({"filters": {"team": ["a"]}}, "filters.team"),
        ({"tenant_id": "acme"}, "tenant_id"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, object], field: str) -> None:
    assert problem_fields({**GOOD, **change}) == {field}
