"""Scheduling's busy-time table on its real database: one exclusion constraint refuses a person
in two overlapping intervals, whatever the tenant, except a session's own held proposal; a
cancelled session's time is free again; the coach's buffer counts; racing bookings of one slot
(or of overlapping slots) leave exactly one; the pre-check that answers a race's late comers
sees taken time only for a participant of an active space."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import eventlet
import pytest

from services.kernel.clock import SystemClock
from services.kernel.config import settings
from services.kernel.ids import new_id
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from services.scheduling.domain.availability import Availability
from services.scheduling.domain.model import Session, SpaceCopy, TimeTaken
from services.scheduling.storage.availability import Availabilities
from services.scheduling.storage.sessions import Sessions
from services.scheduling.storage.spaces import Spaces

START = datetime(2027, 3, 1, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def engine():  # type: ignore[no-untyped-def]
    engine = make_engine(settings().database_url_for("scheduling"), pool_size=60, green=True)
    yield engine
    engine.dispose()


def space(coach: str, coachee: str | None = None, tenant: str | None = None) -> SpaceCopy:
    return SpaceCopy(
        new_id("spc"),
        tenant or new_id("tnt"),
        "active",
        coachee or new_id("per"),
        coach,
        None,
        "weekly",
        10,
        START,
    )


def session(s: SpaceCopy, start: datetime, minutes: int = 60) -> Session:
    return Session.book(
        s,
        start,
        minutes,
        "Europe/Paris",
        start.replace(tzinfo=None),
        False,
        s.coachee_person_id,
        START,
    )


def book(engine, booked: Session, buffer: int = 0) -> bool:  # type: ignore[no-untyped-def]
    db = WorkerDatabase(engine, SystemClock())
    try:
        with db.unit_of_work() as uow:
            Sessions(uow.connection).add([booked], buffer)
        return True
    except TimeTaken:  # already taken, or refused by the exclusion constraint
        return False
    finally:
        db.close()


def test_a_coach_is_never_in_two_sessions_at_once_across_tenants(engine) -> None:  # type: ignore[no-untyped-def]
    coach = new_id("per")
    assert book(engine, session(space(coach), START))
    # Another tenant, another coachee, the same coach, overlapping by 30 minutes: refused.
    assert not book(engine, session(space(coach), START + timedelta(minutes=30)))
    # Back to back is fine.
    assert book(engine, session(space(coach), START + timedelta(hours=1)))


def test_the_coach_buffer_runs_after_each_session(engine) -> None:  # type: ignore[no-untyped-def]
    coach = new_id("per")
    assert book(engine, session(space(coach), START), buffer=15)
    assert not book(engine, session(space(coach), START + timedelta(minutes=70)))
    assert book(engine, session(space(coach), START + timedelta(minutes=75)))


def test_a_held_proposal_may_overlap_its_own_session_and_cancelled_time_is_free(engine) -> None:  # type: ignore[no-untyped-def]
    coach = new_id("per")
    first = session(space(coach), START)
    assert book(engine, first)
    db = WorkerDatabase(engine, SystemClock())
    with db.unit_of_work() as uow:
        repo = Sessions(uow.connection)
        # The session's own proposal 30 minutes later overlaps it: allowed.
        repo.hold_time(
            [first],
            0,
            request_id="rrq_1",
            at=[(START + timedelta(minutes=30), START + timedelta(minutes=90))],
        )
    # Someone else in the held proposal's time: refused.
    assert not book(engine, session(space(coach), START + timedelta(minutes=60)))
    with db.unit_of_work() as uow:
        repo = Sessions(uow.connection)
        repo.release_time([], holds_only="rrq_1")
        repo.release_time([first.id])
    db.close()
    assert book(engine, session(space(coach), START + timedelta(minutes=15)))


def race(engine, bookings: list[Session]) -> list[bool]:  # type: ignore[no-untyped-def]
    pool = eventlet.GreenPool(len(bookings))
    return list(pool.imap(lambda b: book(engine, b), bookings))


def test_fifty_simultaneous_bookings_of_one_slot_leave_exactly_one(engine) -> None:  # type: ignore[no-untyped-def]
    # Fifty coachees of one coach, ten times: besides the one winner, each loser must get the
    # constraint's refusal, never a deadlock (book() lets any other error through).
    for _ in range(10):
        coach = new_id("per")
        results = race(engine, [session(space(coach), START) for _ in range(50)])
        assert results.count(True) == 1


def test_two_partially_overlapping_bookings_racing_leave_exactly_one(engine) -> None:  # type: ignore[no-untyped-def]
    for _ in range(10):
        coach = new_id("per")
        results = race(
            engine,
            [session(space(coach), START), session(space(coach), START + timedelta(minutes=45))],
        )
        assert results.count(True) == 1


def test_two_events_of_a_new_space_applied_at_once_keep_the_newest(engine) -> None:  # type: ignore[no-untyped-def]
    # space_created and space_activated handled by two workers at once: neither may fail on the
    # primary key, and the newer state stays whichever commits first. Ten rounds each way.
    def apply(copy: SpaceCopy) -> SpaceCopy | None:
        db = WorkerDatabase(engine, SystemClock())
        try:
            with db.unit_of_work() as uow:
                replaced = Spaces(uow.connection).apply(copy)
                eventlet.sleep(0.01)  # hold the transaction open while the other one runs
                return replaced
        finally:
            db.close()

    for round_ in range(20):
        created = replace(space(new_id("per")), status="draft")
        activated = replace(created, status="active", updated_at=START + timedelta(seconds=1))
        first, second = (created, activated) if round_ % 2 else (activated, created)
        pool = eventlet.GreenPool(2)
        results = list(pool.imap(apply, [first, second]))
        assert results.count(None) == 1  # one inserted; the other replaced or was stale
        db = WorkerDatabase(engine, SystemClock())
        with db.unit_of_work() as uow:
            stored = Spaces(uow.connection).get(created.tenant_id, created.space_id)
        db.close()
        assert stored is not None and stored.status == "active"


def test_the_pre_check_sees_taken_time_only_for_a_participant_of_an_active_space(engine) -> None:  # type: ignore[no-untyped-def]
    coach = new_id("per")
    db = WorkerDatabase(engine, SystemClock())
    here, elsewhere = space(coach), space(coach)
    with db.unit_of_work() as uow:
        Availabilities(uow.connection).save(
            Availability(
                coach, "Europe/Paris", session_minutes=[60, 30], buffer_minutes=15, updated_at=START
            )
        )
        for s in (here, elsewhere):
            Spaces(uow.connection).apply(s)
    assert book(engine, session(elsewhere, START), buffer=15)  # another space, the same coach

    def taken(at: datetime, minutes: int | None = None, who: str = here.coachee_person_id) -> bool:
        with db.read_only() as uow:
            return Sessions(uow.connection).taken_in_space(
                here.tenant_id, here.space_id, who, at, minutes
            )

    try:
        assert taken(START + timedelta(minutes=30))  # overlaps the coach's session
        assert taken(START + timedelta(minutes=70))  # in the coach's buffer after it
        assert not taken(START + timedelta(minutes=75))
        assert taken(START - timedelta(minutes=59))  # the default length: 60 minutes
        assert taken(START - timedelta(minutes=30), minutes=30)  # its buffer runs into it
        assert not taken(START - timedelta(minutes=45), minutes=30)  # a length offered
        assert not taken(START + timedelta(minutes=30), minutes=45)  # not offered: no answer
        assert taken(START, who=coach)  # the coach asking
        assert not taken(START, who=new_id("per"))  # anyone else learns nothing
        with db.unit_of_work() as uow:
            Spaces(uow.connection).apply(replace(here, status="paused", updated_at=START + HOUR))
        assert not taken(START)  # not active: the booking's own checks answer
    finally:
        db.close()
