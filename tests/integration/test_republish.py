"""Republishing (ADR 0022) on each service's real database: a snapshot event of each aggregate
recorded in the outbox with the aggregate's next sequence and its current state, in batches,
optionally for one tenant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import eventlet
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.assessment.handlers import assignments
from services.assessment.handlers import republish as assessment_republish
from services.assessment.handlers import spaces as assessment_spaces
from services.assessment.storage.unit import AssessmentUnit
from services.content.handlers import modules
from services.content.handlers import republish as content_republish
from services.content.handlers import spaces as content_spaces
from services.content.storage.unit import ContentUnit
from services.contracts import assessment as ac
from services.contracts import content as cc
from services.contracts import scheduling as sc
from services.contracts import spaces as spc
from services.contracts.base import RepublishRequest
from services.kernel.clock import FixedClock
from services.kernel.config import settings
from services.kernel.crypto import master_key_from
from services.kernel.ids import new_id
from services.kernel.runtime.outbox import outbox
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from services.kernel.space_copy import SpaceCopy as AssessmentSpace
from services.scheduling.domain.model import Session, SpaceCopy
from services.scheduling.handlers import republish as scheduling_republish
from services.scheduling.handlers.views import session_event
from services.scheduling.storage.unit import SchedulingUnit
from services.spaces.domain.goals import Goal
from services.spaces.domain.toolbox import Rule
from services.spaces.handlers import republish as spaces_republish
from services.spaces.handlers.toolbox import tool_event
from services.spaces.storage.unit import SpacesUnit
from tests.integration.test_assessment_service import WHEEL, person, space_event
from tests.integration.test_content_modules import DEPLOYMENT as CONTENT_DEPLOYMENT
from tests.integration.test_content_modules import OPERATOR as CONTENT_OPERATOR
from tests.integration.test_content_modules import folder
from tests.integration.test_content_modules import person as content_person
from tests.integration.test_toolbox_storage import a_space, add
from tests.support.waiting import wait_for

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

        report = scheduling_republish.republish_state(db, RepublishRequest(tenant_id=tenant))
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


def test_a_snapshot_waits_for_a_live_change_in_flight_and_follows_it(
    scheduling_engine: Engine,
) -> None:
    """The live change recorded its event (sequence 2) but has not committed: the republish
    waits for it, then reads the state it committed and records sequence 3."""
    db = WorkerDatabase(scheduling_engine, FixedClock(NOW), unit=SchedulingUnit)
    live = WorkerDatabase(scheduling_engine, FixedClock(NOW), unit=SchedulingUnit)
    tenant = new_id("tnt")
    session = a_session(tenant, 0)
    try:
        with db.unit_of_work() as uow:
            uow.sessions.add([session], 0)
            uow.record(session_event(sc.SessionBooked, session))
        with live.unit_of_work() as uow:
            session.mark("held", session.coach_person_id, NOW)
            uow.sessions.save(session)
            uow.record(session_event(sc.SessionHeld, session))
            republishing = eventlet.spawn(
                scheduling_republish.republish_state, db, RepublishRequest(tenant_id=tenant)
            )
            wait_for(lambda: waiting_on_a_lock(scheduling_engine), 10, "the republish to wait")
        report = republishing.wait()
    finally:
        db.close()
        live.close()
    assert report.recorded == {"scheduling.session_snapshot": 1}
    rows = outbox_rows(scheduling_engine, [session.id])[session.id]
    assert [(e["type"], e["sequence"]) for e in rows] == [
        ("scheduling.session_booked", 1),
        ("scheduling.session_held", 2),
        ("scheduling.session_snapshot", 3),
    ]
    assert rows[-1]["payload"]["status"] == "held"


def waiting_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO event_sequences%'"
                )
            ).scalar()
        )


# ---------------------------------------------------------------- spaces


def test_spaces_republishes_spaces_goals_and_tools_after_their_live_events() -> None:

    engine = make_engine(settings().database_url_for("spaces"), pool_size=2)
    db = WorkerDatabase(engine, FixedClock(NOW), unit=SpacesUnit)
    master = master_key_from(settings())
    try:
        space = a_space(db, master)
        tool = add(db, master, space, Rule(by_hand=True))
        with db.unit_of_work() as uow:
            uow.record(tool_event(spc.ToolAdded, tool))
        goals = []
        with db.unit_of_work() as uow:
            repo = uow.spaces.unlocked(master)
            for progress in (40, 100):
                goal = Goal.create(
                    space.id,
                    space.tenant_id,
                    {"title": "SECRET goal", "progress": progress},
                    space.set_up.coach.person_id,
                    NOW,
                )
                goal.achieved_now(NOW)
                repo.goals_of(space).add(goal, {})
                goals.append(goal)
        report = spaces_republish.republish_state(db, RepublishRequest(tenant_id=space.tenant_id))
        rows = outbox_rows(engine, [space.id, tool.id, *(g.id for g in goals)])
    finally:
        db.close()
        engine.dispose()
    assert report.recorded == {
        "spaces.space_snapshot": 1,
        "spaces.goal_snapshot": 2,
        "spaces.tool_snapshot": 1,
    }
    assert rows[space.id][-1]["payload"]["status"] == "active"
    *live, snapshot = rows[tool.id]
    assert [(e["type"], e["sequence"]) for e in live] == [("spaces.tool_added", 1)]
    assert (snapshot["type"], snapshot["sequence"]) == ("spaces.tool_snapshot", 2)
    assert snapshot["payload"]["state"] == "locked"
    open_goal, achieved = (rows[g.id][-1]["payload"] for g in goals)
    assert (open_goal["status"], open_goal["achieved_at"]) == ("open", None)
    assert achieved["status"] == "achieved"
    assert datetime.fromisoformat(achieved["achieved_at"]) == NOW
    assert "SECRET" not in str(rows)  # never a goal's words


# ---------------------------------------------------------------- assessment


def test_assessment_republishes_an_assignment_with_its_submissions_never_answers_nor_scores() -> (
    None
):
    engine = make_engine(settings().database_url_for("assessment"), pool_size=2)
    db = WorkerDatabase(engine, FixedClock(START), unit=AssessmentUnit)
    master = master_key_from(settings())
    tenant = new_id("tnt")
    coach, coachee = (
        person(new_id("per"), tenant, "coach"),
        person(new_id("per"), tenant, "coachee"),
    )
    copy = AssessmentSpace(
        new_id("spc"), tenant, "active", coachee.person_id, coach.person_id, None, START
    )
    try:
        with db.unit_of_work() as uow:
            assessment_spaces.record_space(uow, space_event(spc.SpaceActivated, copy))
        assigned = assignments.assign_instrument(
            db,
            master,
            coach,
            ac.AssignInstrumentRequest(space_id=copy.space_id, instrument_id="wheel-of-life"),
        )
        assignments.submit_attempt(
            db,
            master,
            coachee,
            ac.AnswersRequest(assignment_id=assigned.assignment_id, answers=WHEEL),
        )
        report = assessment_republish.republish_state(db, RepublishRequest(tenant_id=tenant))
        rows = outbox_rows(engine, [assigned.assignment_id])[assigned.assignment_id]
    finally:
        db.close()
        engine.dispose()
    assert report.recorded == {"assessment.assignment_snapshot": 1}
    assert [(e["type"], e["sequence"]) for e in rows] == [
        ("assessment.assignment_created", 1),
        ("assessment.attempt_submitted", 2),
        ("assessment.assignment_snapshot", 3),
    ]
    snapshot = rows[-1]["payload"]
    assert (snapshot["status"], snapshot["attempts_submitted"]) == ("submitted", 1)
    assert len(snapshot["submitted_at"]) == 1
    assert not {"answers", "scores", "results"} & set(snapshot)


# ---------------------------------------------------------------- content


def test_content_republishes_each_started_module_s_progress() -> None:
    engine = make_engine(settings().database_url_for("content"), pool_size=2)
    clock = FixedClock(START)
    db = WorkerDatabase(engine, clock, unit=ContentUnit)
    slug = "republish-" + new_id("x")[4:14]
    tenant, space_id = new_id("tnt"), new_id("spc")
    coach = content_person(new_id("per"), tenant, "coach")
    coachee = content_person(new_id("per"), tenant, "coachee")
    copy = AssessmentSpace(
        space_id, tenant, "active", coachee.person_id, coach.person_id, None, START
    )
    try:
        modules.import_module(db, CONTENT_OPERATOR, folder(slug, 1, "First"))
        modules.import_module(db, CONTENT_OPERATOR, folder(slug + "-b", 1, "Other"))
        with db.unit_of_work() as uow:
            content_spaces.record_space(uow, space_event(spc.SpaceActivated, copy))
        started = modules.assign_module(
            db, coach, cc.AssignModuleRequest(space_id=space_id, slug=slug)
        )
        modules.assign_module(
            db, coach, cc.AssignModuleRequest(space_id=space_id, slug=slug + "-b")
        )
        first = modules.open_lesson(
            db, coachee, cc.LessonRequest(assignment_id=started.assignment_id)
        )
        clock.advance(timedelta(minutes=2))
        modules.complete_lesson(
            db,
            CONTENT_DEPLOYMENT,
            coachee,
            cc.LessonRequest(assignment_id=started.assignment_id, lesson=first.lessons[0]),
        )
        report = content_republish.republish_state(db, RepublishRequest(tenant_id=tenant))
        rows = outbox_rows(engine, [started.assignment_id])[started.assignment_id]
    finally:
        db.close()
        engine.dispose()
    assert report.recorded == {"content.module_snapshot": 1}  # the module not started: none
    assert [(e["type"], e["sequence"]) for e in rows] == [
        ("content.module_started", 1),
        ("content.lesson_completed", 2),
        ("content.module_snapshot", 3),
    ]
    snapshot = rows[-1]["payload"]
    assert (snapshot["status"], snapshot["lessons_completed"], snapshot["seconds"]) == (
        "started",
        1,
        120,
    )
    assert snapshot["completed_at"] is None and snapshot["started_at"]
