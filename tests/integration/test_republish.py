"""Republishing (ADR 0022) on each service's real database: a snapshot event of each aggregate
recorded in the outbox with the aggregate's next sequence and its current state, in batches,
optionally for one tenant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.contracts import scheduling as sc
from services.kernel.clock import FixedClock
from services.kernel.config import settings
from services.kernel.ids import new_id
from services.kernel.runtime.outbox import outbox
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from services.scheduling.domain.model import Session, SpaceCopy
from services.scheduling.handlers import republish as scheduling_republish
from services.scheduling.handlers.views import session_event
from services.scheduling.storage.unit import SchedulingUnit

START = datetime(2027, 3, 1, 9, tzinfo=UTC)
NOW = START + timedelta(hours=2)


def engine_of(service: str) -> Iterator[Engine]:
    engine = make_engine(settings().database_url_for(service), pool_size=5, green=True)
    yield engine
    engine.dispose()


@pytest.fixture
def scheduling_engine() -> Iterator[Engine]:
    yield from engine_of("scheduling")


def outbox_rows(engine: Engine, aggregate_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each aggregate's outbox envelopes, in sequence order."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(outbox.c.envelope)
            .where(outbox.c.aggregate_id.in_(aggregate_ids))
            .order_by(outbox.c.aggregate_id, outbox.c.sequence)
        ).all()
    found: dict[str, list[dict[str, Any]]] = {a: [] for a in aggregate_ids}
    for (envelope,) in rows:
        found[envelope["aggregate_id"]].append(envelope)
    return found


# ---------------------------------------------------------------- scheduling


def a_session(tenant_id: str, hour: int) -> Session:
    space = SpaceCopy(
        new_id("spc"), tenant_id, "active", new_id("per"), new_id("per"), None, "weekly", 10, START
    )
    at = START + timedelta(hours=hour)
    return Session.book(
        space,
        at,
        60,
        "Europe/Paris",
        at.replace(tzinfo=None),
        False,
        space.coachee_person_id,
        START,
    )


def test_scheduling_republishes_each_session_s_state_after_its_live_events(
    scheduling_engine: Engine,
) -> None:
    db = WorkerDatabase(scheduling_engine, FixedClock(NOW), unit=SchedulingUnit)
    tenant, other_tenant = new_id("tnt"), new_id("tnt")
    held, cancelled, elsewhere = (
        a_session(tenant, 0),
        a_session(tenant, 3),
        a_session(other_tenant, 0),
    )
    try:
        with db.unit_of_work() as uow:
            uow.sessions.add([held, cancelled, elsewhere], 0)
            uow.record_many(
                [session_event(sc.SessionBooked, s) for s in (held, cancelled, elsewhere)]
            )
        with db.unit_of_work() as uow:
            cancelled.cancel("coachee", "illness", True, True, NOW)
            uow.sessions.save(cancelled)
            uow.record(
                session_event(
                    sc.SessionCancelled,
                    cancelled,
                    cancelled_by="coachee",
                    late=True,
                    reason="illness",
                )
            )
            held.mark("held", held.coach_person_id, NOW)
            uow.sessions.save(held)
            uow.record(session_event(sc.SessionHeld, held))

        report = scheduling_republish.republish_state(db, sc.RepublishRequest(tenant_id=tenant))
    finally:
        db.close()

    assert report.recorded == {"scheduling.session_snapshot": 2}
    rows = outbox_rows(scheduling_engine, [held.id, cancelled.id, elsewhere.id])
    assert [(e["type"], e["sequence"]) for e in rows[held.id]] == [
        ("scheduling.session_booked", 1),
        ("scheduling.session_held", 2),
        ("scheduling.session_snapshot", 3),
    ]
    snapshot = rows[held.id][-1]["payload"]
    assert snapshot["status"] == "held"
    assert snapshot["absent"] is None and snapshot["cancelled_by"] is None
    late = rows[cancelled.id][-1]
    assert (late["type"], late["sequence"]) == ("scheduling.session_snapshot", 3)
    assert late["payload"]["status"] == "cancelled"
    assert (late["payload"]["cancelled_by"], late["payload"]["late"]) == ("coachee", True)
    assert late["payload"]["reason"] == "illness"
    # Another tenant's session is left alone when one tenant is named.
    assert [e["type"] for e in rows[elsewhere.id]] == ["scheduling.session_booked"]


def test_scheduling_republishes_in_batches(scheduling_engine: Engine) -> None:
    db = WorkerDatabase(scheduling_engine, FixedClock(NOW), unit=SchedulingUnit)
    tenant = new_id("tnt")
    booked = [a_session(tenant, 2 * i) for i in range(5)]
    try:
        with db.unit_of_work() as uow:
            uow.sessions.add(booked, 0)
        recorded = scheduling_republish.republish(
            db, scheduling_republish.SNAPSHOTS, tenant, batch_size=2
        )
    finally:
        db.close()
    assert recorded == {"scheduling.session_snapshot": 5}  # in batches of 2, 2 and 1
    rows = outbox_rows(scheduling_engine, [s.id for s in booked])
    assert all(
        [(e["type"], e["sequence"]) for e in events] == [("scheduling.session_snapshot", 1)]
        for events in rows.values()
    )
