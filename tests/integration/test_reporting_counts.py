"""Reporting's report counts on real PostgreSQL (storage/reports.py) agree with the domain's own
count of the same facts (domain.reports.count_facts, the reference): for every report kind,
whole, grouped by each attribute and filtered, over a tenant whose facts cover the edge cases
(pending, deactivated and erased members, unset attributes, draft and out-of-range spaces,
sessions outside the months, late cancellations, removed tools, unsubmitted assessments, a
second tenant that must not count), and again after facts change (a late cancellation corrected
to held, a session moved to another month, an assessment submitted, a tool removed, a goal
open again), after a coachee's erasure and after a rebuild's reset: the counts kept per space
(migration 0004's triggers) follow every change, and so do the participation counts mirrored per
space and year (migration 0005)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from services.contracts import identity as ic
from services.kernel.clock import FixedClock
from services.kernel.config import settings
from services.kernel.ids import new_id
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from services.reporting.domain.facts import TenantFacts
from services.reporting.domain.reports import KINDS, Query, assemble, build_report, count_facts
from services.reporting.handlers.personal_data import erase_personal_data
from services.reporting.storage.tables import PARTICIPATION
from services.reporting.storage.unit import ReportingUnit

NOW = datetime(2027, 6, 1, tzinfo=UTC)


@pytest.fixture
def db() -> Iterator[WorkerDatabase[ReportingUnit]]:
    engine = make_engine(settings().database_url_for("reporting"), pool_size=2)
    database = WorkerDatabase(engine, FixedClock(NOW), unit=ReportingUnit)
    yield database
    database.close()
    engine.dispose()


def tenant_facts(uow: ReportingUnit, tenant: str, coachees: int, rng: random.Random) -> None:
    """Facts of every kind for `coachees` people, with the edge cases reports must handle."""
    sequence = 1
    for n in range(coachees):
        person = new_id("per")
        uow.members.apply(
            new_id("mem"),
            sequence,
            {
                "tenant_id": tenant,
                "person_id": person,
                "roles": ["coachee"] if n % 13 else ["coach"],
                "status": rng.choice(["active"] * 6 + ["deactivated", "pending", "erased"]),
                "department": rng.choice(["sales", "ops", "hr", None]),
                "site": rng.choice(["paris", "lyon", None]),
                "programme": rng.choice(["leaders", "talents"]),
            },
        )
        for _ in range(rng.choice([1, 1, 2])):
            space = new_id("spc")
            starts_on = date(2026, 6, 1) + timedelta(days=rng.randrange(0, 500))
            ends_on = rng.choice([None, starts_on + timedelta(days=rng.randrange(10, 200))])
            uow.spaces.apply(
                space,
                sequence,
                {
                    "tenant_id": tenant,
                    "coachee_person_id": person,
                    "status": rng.choice(["active", "active", "paused", "completed", "draft"]),
                    "sessions_planned": rng.randrange(0, 12),
                    "starts_on": starts_on,
                    "ends_on": ends_on,
                },
            )
            at = datetime.combine(starts_on, datetime.min.time(), UTC)
            for s in range(rng.randrange(0, 8)):
                status = rng.choice(
                    ["held", "held", "cancelled", "booked", "no_show_coachee", "no_show_coach"]
                )
                uow.sessions.apply(
                    new_id("ses"),
                    sequence,
                    {
                        "tenant_id": tenant,
                        "space_id": space,
                        "coachee_person_id": person,
                        "status": status,
                        "starts_at": at + timedelta(days=14 * s, hours=rng.randrange(0, 24)),
                        "late": status == "cancelled" and rng.random() < 0.5,
                        "uses_session": rng.random() < 0.9,
                    },
                )
            for g in range(rng.randrange(0, 3)):
                achieved = rng.choice([None, at + timedelta(days=30 * (g + 1))])
                values = {"tenant_id": tenant, "space_id": space, "achieved_at": achieved}
                uow.goals.apply(new_id("gol"), sequence, values)
            for _ in range(rng.randrange(0, 4)):
                values = {
                    "tenant_id": tenant,
                    "space_id": space,
                    "state": rng.choice(["locked", "unlocked", "removed"]),
                    "done": rng.random() < 0.4,
                }
                uow.tools.apply(new_id("tol"), sequence, values)
            for a in range(rng.randrange(0, 3)):
                assigned = at + timedelta(days=20 * a)
                submitted = rng.choice([None, assigned + timedelta(days=rng.randrange(1, 60))])
                values = {
                    "tenant_id": tenant,
                    "space_id": space,
                    "status": "submitted" if submitted else "assigned",
                    "assigned_at": assigned,
                    "submitted_at": submitted,
                }
                uow.assessments.apply(new_id("asg"), sequence, values)
            for m in range(rng.randrange(0, 3)):
                started = rng.choice([None, at + timedelta(days=10 * m)])
                completed = started and rng.choice([None, started + timedelta(days=40)])
                values = {
                    "tenant_id": tenant,
                    "space_id": space,
                    "coachee_person_id": person,
                    "status": "completed" if completed else "started" if started else "not_started",
                    "started_at": started,
                    "completed_at": completed,
                }
                uow.modules.apply(new_id("mas"), sequence, values)


def loaded(uow: ReportingUnit, tenant: str) -> TenantFacts:
    return TenantFacts(
        members=tuple(uow.members.of_tenant(tenant)),
        spaces=tuple(uow.spaces.of_tenant(tenant)),
        sessions=tuple(uow.sessions.of_tenant(tenant)),
        goals=tuple(uow.goals.of_tenant(tenant)),
        tools=tuple(uow.tools.of_tenant(tenant)),
        assessments=tuple(uow.assessments.of_tenant(tenant)),
        modules=tuple(uow.modules.of_tenant(tenant)),
    )


QUERIES = [
    ({}, None),
    ({}, "department"),
    ({}, "site"),
    ({}, "programme"),
    ({"department": frozenset({"sales", "ops"})}, "site"),
    ({"site": frozenset({"paris"}), "programme": frozenset({"leaders"})}, None),
    ({"department": frozenset({"hr"})}, "department"),
]


def changed_facts(uow: ReportingUnit, tenant: str, rng: random.Random) -> None:
    """Newer states of some of the tenant's facts (sequence 2), as corrections and later
    events bring them."""
    for s in uow.sessions.of_tenant(tenant):
        if rng.random() < 0.3:
            status = "held" if s.status == "cancelled" else rng.choice(["cancelled", "held"])
            values = {
                "tenant_id": s.tenant_id,
                "space_id": s.space_id,
                "coachee_person_id": s.coachee_person_id,
                "status": status,
                "starts_at": s.starts_at + timedelta(days=rng.choice([0, 20, -40])),
                "late": status == "cancelled" and rng.random() < 0.5,
                "uses_session": s.uses_session,
            }
            uow.sessions.apply(s.session_id, 2, values)
    for a in uow.assessments.of_tenant(tenant):
        if a.submitted_at is None and rng.random() < 0.5:
            values = {
                "tenant_id": a.tenant_id,
                "space_id": a.space_id,
                "status": "submitted",
                "assigned_at": a.assigned_at,
                "submitted_at": a.assigned_at + timedelta(days=45),
            }
            uow.assessments.apply(a.assignment_id, 2, values)
    for t in uow.tools.of_tenant(tenant):
        if rng.random() < 0.3:
            values = {"tenant_id": t.tenant_id, "space_id": t.space_id, "state": "removed"}
            uow.tools.apply(t.tool_id, 2, {**values, "done": t.done})
    for g in uow.goals.of_tenant(tenant):
        if g.achieved_at is not None and rng.random() < 0.3:
            values = {"tenant_id": g.tenant_id, "space_id": g.space_id, "achieved_at": None}
            uow.goals.apply(g.goal_id, 2, values)


def assert_counts_agree(uow: ReportingUnit, tenant: str) -> None:
    facts = loaded(uow, tenant)
    compared = 0
    for kind in KINDS:
        # a year, a month, and the longest range (36 months: seats use a bit per month)
        for months in (("2026-09", "2027-08"), ("2027-02", "2027-02"), ("2025-09", "2028-08")):
            for filters, group_by in QUERIES:
                query = Query(kind, *months, filters, group_by)
                populations, cells = uow.report_counts.of_tenant(tenant, query)
                want_populations, want_cells = count_facts(query, facts)
                assert populations == want_populations, (kind, months, filters, group_by)
                assert cells == want_cells, (kind, months, filters, group_by)
                assert assemble(query, populations, cells) == build_report(query, facts)
                compared += 1
    assert compared == len(KINDS) * 3 * len(QUERIES)
    assert_years_mirror_months(uow, tenant)


def assert_years_mirror_months(uow: ReportingUnit, tenant: str) -> None:
    """space_years (migration 0005) holds each space_months row's participation counts in its
    year's arrays, their masks the months where a count is not zero, and nothing else."""
    months: dict[tuple[str, int], dict[str, list[int]]] = {}
    for r in uow.space_months.rows_of(tenant):
        if not any(getattr(r, n) for n in PARTICIPATION):
            continue  # a month without participation counts writes no year's row
        year = months.setdefault((r.space_id, r.month.year), {n: [0] * 12 for n in PARTICIPATION})
        for n in PARTICIPATION:
            year[n][r.month.month - 1] = getattr(r, n)
    years = {(r.space_id, r.year): r for r in uow.space_years.rows_of(tenant)}
    assert set(months) <= set(years)
    for key, r in years.items():
        want = months.get(key, {n: [0] * 12 for n in PARTICIPATION})
        for n in PARTICIPATION:
            assert list(getattr(r, n)) == want[n], (key, n)
            assert getattr(r, f"{n}_mask") == sum(1 << i for i, v in enumerate(want[n]) if v)


def two_tenants(
    db: WorkerDatabase[ReportingUnit], rng: random.Random, coachees: int
) -> tuple[str, str]:
    """A tenant of `coachees` people and another of a quarter as many, which must not count."""
    tenant, other = new_id("tnt"), new_id("tnt")
    with db.unit_of_work() as uow:
        tenant_facts(uow, tenant, coachees, rng)
        tenant_facts(uow, other, coachees // 4, rng)
    return tenant, other


def test_kept_counts_follow_corrections_erasure_and_reset(
    db: WorkerDatabase[ReportingUnit],
) -> None:
    rng = random.Random(7)
    tenant, other = two_tenants(db, rng, 40)
    with db.unit_of_work() as uow:
        changed_facts(uow, tenant, rng)
    with db.read_only() as uow:
        assert_counts_agree(uow, tenant)
        erased = next(
            m.person_id
            for m in uow.members.of_tenant(tenant)
            if m.counts_as_coachee and uow.spaces.count_of_coachee(m.person_id)
        )
    with db.unit_of_work() as uow:
        erasure = ic.PersonErased(erasure_id=new_id("era"), person_id=erased, requested_at=NOW)
        erase_personal_data(uow, erasure)
    with db.read_only() as uow:
        assert erased not in {s.coachee_person_id for s in uow.spaces.of_tenant(tenant)}
        assert_counts_agree(uow, tenant)
    with db.unit_of_work() as uow:
        for store in uow.fact_stores().values():
            store.clear(tenant)
    with db.read_only() as uow:
        for store in (uow.space_months, uow.space_tools, uow.space_years):
            assert list(store.rows_of(tenant)) == []
        assert list(uow.space_months.rows_of(other)) != []
        assert_counts_agree(uow, other)


def test_sql_counts_agree_with_the_domain_s_for_every_kind(
    db: WorkerDatabase[ReportingUnit],
) -> None:
    tenant, _ = two_tenants(db, random.Random(25), 60)
    with db.read_only() as uow:
        assert_counts_agree(uow, tenant)
