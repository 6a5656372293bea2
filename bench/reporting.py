"""`make bench`, reporting (issue 25): building reporting's facts from a million events, and HR's
report query over 10,000 coachees.

In-process, on a scratch database of its own on `ECOACH_DATABASE_URL` (created with reporting's
own migrations, dropped afterwards unless `--keep-db`); no broker, no nameko worker.

1. Building the facts: one tenant of `--coachees` coachees (departments, sites, programmes, a
   few left unset; pending then active memberships, a few deactivated), each with a space
   (created, activated, some completed), ~20 sessions (booked, often rescheduled, then held,
   cancelled in time or late, or a no-show; some late cancellations corrected to held, each
   change re-emitting the session's whole state with a higher sequence), goals achieved,
   assessments assigned and submitted, modules started and completed, toolbox tools unlocked
   and done; then more sessions in their spaces, beyond the plan, until exactly `--events`
   events in all, each as the envelope JSON its publisher's relay sends.
   Each event goes through what reporting's `@on_event` handler does with it after the
   signature check: the envelope validated and its payload parsed, then, in one unit of work
   (a `ReportingUnit` on a real connection), the inbox claimed and the fact applied by the
   handler's own function (`handlers/facts.py`); the fact tables' triggers keep the report
   counts per space (migration 0004), and space_months' trigger the participation counts per
   space and year (0005), in the same statement.
   - `--sample` events (the first ones) one per transaction, as the handler does: events/s,
     and the time a million would take so (extrapolated: this path runs at a few hundred
     events/s on the 2-core machine, so a million would take about an hour).
   - The rest read the same way and given to the same functions, whose `uow.<facts>.apply`
     calls fold them in memory by `FactStore.apply`'s rule (the newest sequence wins, the
     `keep_first` columns keep their first value), then inserted in bulk: the facts a million
     events leave, in minutes (its events/s is that of a bulk rebuild, not of the handler).
   The Ed25519 signature check of each delivery (~0.1 ms) and the broker are not included.
2. The report query: first, each report's counts as PostgreSQL counts them are checked
   against the domain's own count of the same facts (`domain.reports.build_report`, all fact
   rows loaded: the former query path, timed too, `--reference-calls` calls each); then
   `handlers/reports.get_report` as the service calls it (the tenant admin's
   claims, the real database), for each report kind, whole and `group_by` department, and
   filtered to three departments grouped by site; over 12 months; `--calls` calls each after 3
   of warm-up: p50 and p95. Target: p50 under 100 ms.

Results: `var/bench/reporting-<UTC time>.json`, `var/bench/reporting-latest.json`, and a table.
`--database NAME` measures the queries again on a database kept by an earlier `--keep-db` run.
"""

from __future__ import annotations

import os
import random
import secrets
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from alembic import command
from sqlalchemy import Connection, func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url

from services.contracts import assessment as ac
from services.contracts import content as cc
from services.contracts import identity as ic
from services.contracts import reporting as c
from services.contracts import scheduling as sch
from services.contracts import spaces as sc
from services.kernel.caller import PersonClaims
from services.kernel.clock import SystemClock
from services.kernel.events import Envelope, EventPayload
from services.kernel.ids import new_id
from services.kernel.runtime.migrations import alembic_config, create_database, drop_database
from services.kernel.runtime.outbox import claim_inbox
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from services.reporting.domain.facts import TenantFacts
from services.reporting.domain.reports import KINDS, Query, build_report
from services.reporting.handlers import facts
from services.reporting.handlers.reports import get_report
from services.reporting.storage.facts import (
    Assessments,
    FactStore,
    Goals,
    Members,
    Modules,
    Sessions,
    Spaces,
    Tools,
)
from services.reporting.storage.unit import ReportingUnit
from tests.support.events import envelope_of

from . import benchkit
from .benchkit import arguments, machine, quantiles_ms, server_version, write_report

TARGET_MS = 100.0
FROM_MONTH, TO_MONTH = "2026-01", "2026-12"
DEPARTMENTS = ["sales", "ops", "finance", "hr", "it", "legal", "marketing", "research", "audit"]
SITES = ["paris", "lyon", "lille", "nantes", "bordeaux"]
PROGRAMMES = ["leaders", "managers", "newcomers", "talents"]
BASE = datetime(2026, 1, 5, 9, tzinfo=UTC)

# Each event type: the handler's name (inbox) and its function in handlers/facts.py.
HANDLERS: dict[type[EventPayload], tuple[str, Any]] = {
    ic.MembershipChanged: ("on_identity_membership_changed", facts.record_membership),
    sc.SpaceCreated: ("on_spaces_space_created", facts.record_space),
    sc.SpaceActivated: ("on_spaces_space_activated", facts.record_space),
    sc.SpaceCompleted: ("on_spaces_space_completed", facts.record_space),
    sc.GoalAchieved: ("on_spaces_goal_achieved", facts.record_goal),
    sc.ToolUnlocked: ("on_spaces_tool_unlocked", facts.record_tool),
    sc.ToolDone: ("on_spaces_tool_done", facts.record_tool),
    sch.SessionBooked: ("on_scheduling_session_booked", facts.record_session),
    sch.SessionRescheduled: ("on_scheduling_session_rescheduled", facts.record_session),
    sch.SessionCancelled: ("on_scheduling_session_cancelled", facts.record_session),
    sch.SessionHeld: ("on_scheduling_session_held", facts.record_session),
    sch.SessionNoShow: ("on_scheduling_session_no_show", facts.record_session),
    ac.AssignmentCreated: ("on_assessment_assignment_created", facts.record_assessment),
    ac.AttemptSubmitted: ("on_assessment_attempt_submitted", facts.record_assessment),
    cc.ModuleStarted: ("on_content_module_started", facts.record_module),
    cc.ModuleCompleted: ("on_content_module_completed", facts.record_module),
}

Wire = tuple[type[EventPayload], dict[str, Any]]  # (model, the envelope's JSON)


def wire(event: EventPayload, sequence: int, at: datetime) -> Wire:
    """`event` as its relay sends it: the envelope's JSON."""
    return type(event), envelope_of(event, sequence, at).model_dump(mode="json")


class Stream:
    """The events of one tenant, coachee by coachee (what a replay in order of the publishers'
    outboxes per object gives; reporting orders by each object's sequence only)."""

    def __init__(self, tenant_id: str, coachees: int, sessions: int, seed: int = 25) -> None:
        self.tenant_id, self.coachees, self.sessions = tenant_id, coachees, sessions
        self.rng = random.Random(seed)
        self.coach = new_id("per")
        self.admin = new_id("per")
        self.spaces: list[tuple[str, str, datetime]] = []  # each coachee's space and first week

    def membership(self, person: str, roles: list[str], n: int, **attrs: Any) -> Iterator[Wire]:
        member_id, at = new_id("mem"), BASE - timedelta(days=30) + timedelta(minutes=n)
        common = {
            "member_id": member_id,
            "tenant_id": self.tenant_id,
            "person_id": person,
            "roles": roles,
            "created_at": at,
            **attrs,
        }
        yield wire(
            ic.MembershipChanged(change="pending", status="pending", updated_at=at, **common), 1, at
        )
        yield wire(
            ic.MembershipChanged(
                change="accepted", status="active", updated_at=at, accepted_at=at, **common
            ),
            2,
            at,
        )
        if self.rng.random() < 0.03:
            later = at + timedelta(days=200)
            yield wire(
                ic.MembershipChanged(
                    change="deactivated",
                    status="deactivated",
                    updated_at=later,
                    accepted_at=at,
                    **common,
                ),
                3,
                later,
            )

    def __iter__(self) -> Iterator[Wire]:
        """Every coachee's history, then (without end: `build` stops at its count) more
        sessions in the coachees' spaces, beyond the plan, one coachee after another: so a
        count of events is reached exactly whatever the random histories add up to, with the
        population unchanged."""
        yield from self.membership(self.admin, ["tenant_admin"], 0)
        self.spaces.clear()
        for n in range(self.coachees):
            yield from self.coachee(n)
        extra = 0
        while self.spaces:
            for space_id, person, first in self.spaces:
                yield from self.session(
                    space_id, person, first + timedelta(weeks=self.sessions + extra)
                )
            extra += 1

    def coachee(self, n: int) -> Iterator[Wire]:
        rng, tenant = self.rng, self.tenant_id
        person = new_id("per")
        attrs = {
            "department": DEPARTMENTS[min(int(rng.expovariate(0.5)), len(DEPARTMENTS) - 1)],
            "site": rng.choice(SITES) if rng.random() < 0.95 else None,
            "programme": rng.choice(PROGRAMMES) if rng.random() < 0.9 else None,
        }
        yield from self.membership(person, ["coachee"], n, **attrs)
        space_id = new_id("spc")
        starts_on = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 300))
        space = {
            "space_id": space_id,
            "tenant_id": tenant,
            "coachee_person_id": person,
            "coach_person_id": self.coach,
            "cadence": "weekly",
            "sessions_planned": self.sessions,
            "starts_on": starts_on,
        }
        opened = datetime.combine(starts_on, BASE.timetz()) - timedelta(days=7)
        yield wire(sc.SpaceCreated(status="draft", updated_at=opened, **space), 1, opened)
        yield wire(sc.SpaceActivated(status="active", updated_at=opened, **space), 2, opened)
        first = datetime.combine(starts_on, BASE.timetz())
        self.spaces.append((space_id, person, first))
        for s in range(self.sessions):
            yield from self.session(space_id, person, first + timedelta(weeks=s))
        if rng.random() < 0.3:
            ends_on = starts_on + timedelta(weeks=self.sessions)
            done = datetime.combine(ends_on, BASE.timetz())
            yield wire(
                sc.SpaceCompleted(status="completed", updated_at=done, ends_on=ends_on, **space),
                3,
                done,
            )
        for g in range(3):
            at = first + timedelta(weeks=4 * (g + 1))
            goal = sc.GoalAchieved(
                goal_id=new_id("gol"), space_id=space_id, tenant_id=tenant, achieved_at=at
            )
            yield wire(goal, 1, at)
        for a in range(2):
            yield from self.assessment(space_id, first + timedelta(weeks=8 * a))
        for m in range(8):
            yield from self.module(space_id, person, first + timedelta(weeks=2 * m))
        for t in range(6):
            yield from self.tool(space_id, first + timedelta(weeks=3 * t))

    def session(self, space_id: str, person: str, starts: datetime) -> Iterator[Wire]:
        rng = self.rng
        session_id, sequence = new_id("ses"), 1
        state = {
            "session_id": session_id,
            "tenant_id": self.tenant_id,
            "space_id": space_id,
            "time_zone": "Europe/Paris",
            "coachee_person_id": person,
            "coach_person_id": self.coach,
            "uses_session": True,
        }

        def at(model: type[sch.SessionEvent], status: str, **extra: Any) -> Wire:
            when = starts - timedelta(days=3) if status in ("booked", "cancelled") else starts
            event = model(
                status=status,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                sequence=sequence,
                updated_at=when,
                **state,
                **extra,
            )
            return wire(event, sequence, when)

        yield at(sch.SessionBooked, "booked")
        while rng.random() < 0.6:  # rescheduled, sometimes more than once
            sequence += 1
            previous = {
                "previous_starts_at": starts,
                "previous_ends_at": starts + timedelta(hours=1),
            }
            starts += timedelta(days=rng.choice((-1, 1, 2)), hours=rng.choice((-2, 0, 3)))
            yield at(sch.SessionRescheduled, "booked", **previous)
        sequence += 1
        roll = rng.random()
        if roll < 0.72:
            yield at(sch.SessionHeld, "held")
        elif roll < 0.90:
            late = rng.random() < 0.35
            yield at(sch.SessionCancelled, "cancelled", cancelled_by="coachee", late=late)
            if late and rng.random() < 0.3:  # the late cancellation corrected: held after all
                sequence += 1
                yield at(sch.SessionHeld, "held")
        elif roll < 0.96:
            yield at(sch.SessionNoShow, "no_show_coachee", absent="coachee")
        else:
            pass  # still booked (in the future)

    def assessment(self, space_id: str, at: datetime) -> Iterator[Wire]:
        state = {
            "assignment_id": new_id("asg"),
            "tenant_id": self.tenant_id,
            "space_id": space_id,
            "instrument_id": "ins_wheel",
            "instrument_slug": "wheel-of-life",
            "instrument_version": 1,
            "attempts_allowed": 1,
        }
        yield wire(ac.AssignmentCreated(status="assigned", updated_at=at, **state), 1, at)
        if self.rng.random() < 0.7:
            done = at + timedelta(days=4)
            submitted = ac.AttemptSubmitted(
                status="submitted", updated_at=done, attempt_number=1, **state
            )
            yield wire(submitted, 2, done)

    def module(self, space_id: str, person: str, at: datetime) -> Iterator[Wire]:
        if self.rng.random() >= 0.8:
            return
        state = {
            "assignment_id": new_id("mas"),
            "tenant_id": self.tenant_id,
            "space_id": space_id,
            "coachee_person_id": person,
            "slug": "listening",
            "version": 1,
            "lesson_count": 4,
            "seconds": 600,
        }
        yield wire(
            cc.ModuleStarted(status="started", lessons_completed=1, updated_at=at, **state), 1, at
        )
        if self.rng.random() < 0.6:
            done = at + timedelta(days=5)
            yield wire(
                cc.ModuleCompleted(
                    status="completed", lessons_completed=4, updated_at=done, **state
                ),
                2,
                done,
            )

    def tool(self, space_id: str, at: datetime) -> Iterator[Wire]:
        state = {
            "tool_id": new_id("tol"),
            "space_id": space_id,
            "tenant_id": self.tenant_id,
            "kind": "resource",
            "target_id": new_id("res"),
        }
        yield wire(sc.ToolUnlocked(state="unlocked", updated_at=at, **state), 1, at)
        if self.rng.random() < 0.5:
            done = at + timedelta(days=2)
            yield wire(sc.ToolDone(state="unlocked", done=True, updated_at=done, **state), 2, done)


def take(uow: ReportingUnit, item: Wire) -> None:
    """What reporting's `@on_event` handler does with a delivery once its signature is checked,
    inside `uow`: read the envelope, claim the inbox, apply the fact."""
    model, body = item
    envelope = Envelope.model_validate(body)
    event = envelope.parse(model)
    name, record = HANDLERS[model]
    if claim_inbox(uow.connection, f"reporting.{name}", envelope.id, uow.clock.now()):
        record(uow, event, envelope)


class Fold:
    """One fact table folded in memory by the rule of `FactStore.apply` (the newest sequence
    wins; `keep_first` columns keep their first value once set): what applying the events one
    by one into an empty table leaves, inserted afterwards in bulk."""

    def __init__(self, store: type[FactStore]) -> None:
        self.store = store
        self.rows: dict[str, tuple[int, dict[str, Any]]] = {}

    def apply(self, key: str, sequence: int, values: Mapping[str, Any]) -> bool:
        stored = self.rows.get(key)
        if stored is None:
            self.rows[key] = (sequence, dict(values))
            return True
        if sequence <= stored[0]:
            return False
        kept = {n: stored[1].get(n) for n in self.store.keep_first if stored[1].get(n) is not None}
        self.rows[key] = (sequence, {**values, **kept})
        return True

    def insert(self, connection: Connection, chunk: int = 5000) -> None:
        table = self.store.table
        (key_column,) = table.primary_key.columns
        rows = [{key_column.name: k, "sequence": s, **v} for k, (s, v) in self.rows.items()]
        for i in range(0, len(rows), chunk):
            # Upserted by the same rule: the sample applied one by one may hold some of them.
            statement = pg_insert(table).values(rows[i : i + chunk])
            changes = {
                name: (
                    func.coalesce(table.c[name], statement.excluded[name])
                    if name in self.store.keep_first
                    else statement.excluded[name]
                )
                for name in rows[0]
                if name != key_column.name
            }
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[key_column],
                    set_=changes,
                    where=table.c.sequence < statement.excluded.sequence,
                )
            )


class FoldingUnit:
    """Stands for a ReportingUnit to the handlers' functions: their `uow.<facts>.apply` calls
    fold in memory."""

    def __init__(self) -> None:
        self.members = Fold(Members)
        self.spaces = Fold(Spaces)
        self.sessions = Fold(Sessions)
        self.goals = Fold(Goals)
        self.tools = Fold(Tools)
        self.assessments = Fold(Assessments)
        self.modules = Fold(Modules)

    def insert(self, connection: Connection) -> None:
        for fold in vars(self).values():
            fold.insert(connection)


def build(
    db: WorkerDatabase[ReportingUnit], stream: Stream, events: int, sample: int
) -> dict[str, Any]:
    """Applies the stream's first `events` events: `sample` through the handler's path, one
    per transaction; the rest folded in memory by the handlers' own functions and inserted in
    bulk. Only the applying is timed (not making the events)."""
    per_event = folding = 0.0
    applied = 0
    folded = FoldingUnit()
    last_print = time.monotonic()
    for item in stream:
        if applied >= events:
            break
        began = time.perf_counter()
        if applied < sample:
            with db.unit_of_work() as uow:
                take(uow, item)
            per_event += time.perf_counter() - began
        else:
            model, body = item
            envelope = Envelope.model_validate(body)
            HANDLERS[model][1](cast(Any, folded), envelope.parse(model), envelope)
            folding += time.perf_counter() - began
        applied += 1
        if time.monotonic() - last_print > 30:
            last_print = time.monotonic()
            print(f"bench: {applied} events applied, load {os.getloadavg()[0]:.2f}", flush=True)
    began = time.perf_counter()
    with db.unit_of_work() as uow:
        folded.insert(uow.connection)
    inserting = time.perf_counter() - began
    sampled = min(sample, applied)
    rest = applied - sampled
    bulk = folding + inserting
    return {
        "events": applied,
        "coachees": stream.coachees,
        "one_per_transaction": {
            "events": sampled,
            "seconds": round(per_event, 2),
            "events_per_s": round(sampled / per_event) if per_event else None,
            "extrapolated_1m_s": round(1_000_000 * per_event / sampled) if sampled else None,
        },
        "folded_then_bulk_insert": {
            "events": rest,
            "fold_seconds": round(folding, 2),
            "insert_seconds": round(inserting, 2),
            "events_per_s": round(rest / bulk) if bulk else None,
        },
    }


def variants() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("whole", {}),
        ("by department", {"group_by": "department"}),
        (
            "3 departments, by site",
            {
                "group_by": "site",
                "filters": c.CohortFilters(department=["sales", "ops", "finance"]),
            },
        ),
    ]


def reference(db: WorkerDatabase[ReportingUnit], request: c.ReportRequest) -> Any:
    """The report as the domain counts it from every fact row of the tenant (the query path
    before the counting moved into SQL)."""
    tenant = request.tenant_id
    with db.read_only() as uow:
        reads = {
            name: tuple(getattr(uow, name).of_tenant(tenant)) for name in KINDS[request.kind].reads
        }
        facts = TenantFacts(
            members=tuple(uow.members.of_tenant(tenant)),
            spaces=tuple(uow.spaces.of_tenant(tenant)),
            **reads,
        )
    filters = {
        n: frozenset(getattr(request.filters, n)) for n in ("department", "site", "programme")
    }
    query = Query(request.kind, request.from_month, request.to_month, filters, request.group_by)
    return build_report(query, facts)


def shape(report: Any) -> tuple[Any, ...]:
    """What a report shows, to compare two."""
    return (
        report.disclosed,
        tuple((g.kind, g.label, g.population) for g in report.groups),
        tuple((r.group_kind, r.group_label, r.month, r.metric, r.value) for r in report.rows),
    )


def measure(
    db: WorkerDatabase[ReportingUnit], tenant_id: str, admin: str, calls: int, reference_calls: int
) -> dict[str, Any]:
    now = datetime.now(UTC)
    caller = PersonClaims(admin, tenant_id, ("tenant_admin",), False, "tok", now, now)
    results: dict[str, Any] = {}
    for kind in ("seats", "spaces", "sessions", "engagement", "goals", "assessments", "modules"):
        for label, fields in variants():
            request = c.ReportRequest(
                tenant_id=tenant_id, kind=kind, from_month=FROM_MONTH, to_month=TO_MONTH, **fields
            )
            times = []
            for i in range(3 + calls):
                began = time.perf_counter()
                report = get_report(db, caller, request)
                if i >= 3:
                    times.append((time.perf_counter() - began) * 1000)
            times.sort()
            former = []
            for _ in range(reference_calls):
                began = time.perf_counter()
                expected = reference(db, request)
                former.append((time.perf_counter() - began) * 1000)
            if reference_calls and shape(expected) != shape(report):
                raise AssertionError(f"{kind} {label}: SQL counts differ from the domain's")
            total = next(g.population for g in report.groups if g.kind == "total")
            name = f"{kind} / {label}"
            results[name] = {
                **quantiles_ms(times, 0.5, 0.95),
                "former_p50_ms": quantiles_ms(sorted(former), 0.5)["p50_ms"] if former else None,
                "calls": len(times),
                "population": total,
                "groups": len(report.groups),
                "rows": len(report.rows),
                "load_1m": round(os.getloadavg()[0], 2),
            }
            r = results[name]
            print(
                f"bench: {name:40} p50 {r['p50_ms']:8.2f} ms  p95 {r['p95_ms']:8.2f} ms  "
                f"former p50 {r['former_p50_ms']} ms "
                f"(population {total}, {len(report.groups)} groups, load {r['load_1m']})",
                flush=True,
            )
    return results


def counts(db: WorkerDatabase[ReportingUnit]) -> dict[str, int]:
    with db.read_only() as uow:
        return {
            table: int(uow.connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
            for table in (
                "members",
                "spaces",
                "sessions",
                "goals",
                "tools",
                "assessments",
                "modules",
                "space_months",  # the counts kept per space (migration 0004)
                "space_tools",
                "space_years",  # the participation counts per space and year (migration 0005)
            )
        }


def main(argv: list[str]) -> int:
    parser = arguments("reporting", __doc__)
    parser.add_argument("--coachees", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=20, help="sessions per coachee")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--reference-calls", type=int, default=2)
    parser.add_argument("--keep-db", action="store_true", help="keep the scratch database")
    parser.add_argument("--database", default="", help="measure the queries on this kept database")
    args = benchkit.parse_args(
        parser,
        argv,
        quick={"coachees": 300, "events": 30_000, "sample": 2000, "calls": 5},
    )
    base = make_url(
        os.environ.get("ECOACH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    server = base.render_as_string(hide_password=False)
    name = args.database or f"bench_reporting_{secrets.token_hex(4)}"
    url = base.set(database=name).render_as_string(hide_password=False)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    began = time.monotonic()
    report: dict[str, Any] = {
        "benchmark": "Reporting",
        "started_at": started_at,
        "machine": machine(),
        "database": {"version": server_version(server), "scratch": name},
    }
    engine = make_engine(url, pool_size=2) if args.database else None
    try:
        if not args.database:
            create_database(server, name)
            command.upgrade(alembic_config("reporting", url), "head")
            engine = make_engine(url, pool_size=2)
        assert engine is not None
        db = WorkerDatabase(engine, SystemClock(), unit=ReportingUnit)
        if args.database:
            with db.read_only() as uow:
                tenant_id, admin = uow.connection.execute(
                    text(
                        "SELECT tenant_id, person_id FROM members WHERE 'tenant_admin' = ANY(roles)"
                    )
                ).one()
        else:
            stream = Stream(new_id("tnt"), args.coachees, args.sessions)
            tenant_id, admin = stream.tenant_id, stream.admin
            print(f"bench: applying {args.events} events ({args.sample} one per transaction)...")
            report["build"] = build(db, stream, args.events, args.sample)
            report["build"]["load_1m_after"] = round(os.getloadavg()[0], 2)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        report["facts"] = counts(db)
        print(f"bench: facts {report['facts']}", flush=True)
        print(f"bench: measuring the reports ({args.calls} calls each)...", flush=True)
        report["queries"] = measure(db, tenant_id, admin, args.calls, args.reference_calls)
        db.close()
    finally:
        if engine is not None:
            engine.dispose()
        if not args.keep_db and not args.database:
            drop_database(server, name)
        elif not args.database:
            print(f"bench: kept database {name}")
    report["machine"]["load_average_after"] = list(os.getloadavg())
    report["duration_s"] = round(time.monotonic() - began, 1)
    report["target_p50_ms"] = TARGET_MS
    if args.quick:
        report["quick"] = True
    build_ = report.get("build")
    if build_:
        one, bulk = build_["one_per_transaction"], build_["folded_then_bulk_insert"]
        print(
            f"\nbuilding: {build_['events']} events; one per transaction: {one['events']} at "
            f"{one['events_per_s']}/s (1M: ~{one['extrapolated_1m_s']} s); folded then inserted "
            f"in bulk: {bulk['events']} at {bulk['events_per_s']}/s"
        )
    print("\n| report | p50 ms | p95 ms | former p50 ms | population | groups |")
    print("|---|---|---|---|---|---|")
    for label, r in report["queries"].items():
        print(
            f"| {label} | {r['p50_ms']} | {r['p95_ms']} | {r['former_p50_ms']} "
            f"| {r['population']} | {r['groups']} |"
        )
    ok = all(r["p50_ms"] < TARGET_MS for r in report["queries"].values())
    print(f"\n{'PASS' if ok else 'FAIL'}  every p50 under {TARGET_MS} ms")
    out = benchkit.settings().var_dir / "bench" / ("quick" if args.quick else "")
    path = write_report(report, out, "reporting", "reporting-latest.json")
    print(f"bench: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
