"""Scheduling's main rules through its handlers, on in-memory fakes (tests/unit/fakes): booking
decisions, the engagement's remaining sessions, reschedule decisions (free, a request, refused)
and the calendar feed's one link. No database: the whole module runs in well under 2 s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.contracts import scheduling as c
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.crypto import token_hash
from services.kernel.errors import DomainError
from services.scheduling.domain.availability import Availability
from services.scheduling.domain.model import SpaceCopy
from services.scheduling.handlers import booking, calendar, changes, requests
from tests.unit.fakes import FakeDatabase
from tests.unit.fakes.scheduling import SchedulingState, scheduling_db

NOW = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # a Monday
TENANT, SPACE = "ten_1", "spc_1"
COACHEE, COACH, OUTSIDER = "per_coachee", "per_coach", "per_outsider"


def person(person_id: str, tenant_id: str = TENANT) -> PersonClaims:
    return PersonClaims(person_id, tenant_id, ("member",), False, "tok", NOW, NOW + timedelta(1))


def fresh(planned: int = 5) -> FakeDatabase[SchedulingState]:
    db = scheduling_db(FixedClock(NOW))
    db.state.spaces[SPACE] = SpaceCopy(
        space_id=SPACE,
        tenant_id=TENANT,
        status="active",
        coachee_person_id=COACHEE,
        coach_person_id=COACH,
        co_coach_person_id=None,
        cadence="weekly",
        sessions_planned=planned,
        updated_at=NOW,
    )
    hours = [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(1, 8)]
    db.state.availability[COACH] = Availability.from_input(
        COACH, {"time_zone": "UTC", "weekly": hours, "min_notice_minutes": 0}, NOW
    )
    return db


def at(days: float, hour: int = 10) -> datetime:
    return (NOW + timedelta(days=days)).replace(hour=hour, minute=0)


def book(db: FakeDatabase[SchedulingState], when: datetime, who: str = COACHEE) -> c.Session:
    asked = c.BookSessionRequest(tenant_id=TENANT, space_id=SPACE, starts_at=when)
    return booking.book_session(db, person(who), asked)  # type: ignore[arg-type]


def refused(reason: str, call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.reason == reason, caught.value
    return caught.value


# ---------------------------------------------------------------- booking


def test_a_booking_is_stored_with_its_event_and_its_time_is_then_taken() -> None:
    db = fresh()
    booked = book(db, at(3))
    assert booked.status == "booked" and booked.booked_by_person_id == COACHEE
    assert [type(e) for e in db.events] == [c.SessionBooked]
    refused("SLOT_TAKEN", book, db, at(3))
    refused("SLOT_TAKEN", book, db, at(3) + timedelta(minutes=30), COACH)  # overlaps too
    assert len(db.state.sessions) == 1 and len(db.events) == 1  # the refusals left nothing


def test_only_the_space_s_participants_book_it() -> None:
    db = fresh()
    refused("SPACE_NOT_FOUND", book, db, at(3), OUTSIDER)
    asked = c.BookSessionRequest(tenant_id=TENANT, space_id=SPACE, starts_at=at(3))
    refused("TENANT_NOT_FOUND", booking.book_session, db, person(COACHEE, "ten_2"), asked)
    assert not db.state.sessions


def test_the_coachee_books_within_the_coach_s_hours_the_coach_anywhere() -> None:
    db = fresh()
    refused("OUTSIDE_AVAILABILITY", book, db, at(3, hour=21))
    assert book(db, at(3, hour=21), COACH).status == "booked"
    refused("IN_THE_PAST", book, db, NOW - timedelta(hours=1), COACH)


# ---------------------------------------------------------------- remaining sessions


def test_bookings_stop_at_the_engagement_s_sessions_and_a_cancelled_one_gives_one_back() -> None:
    db = fresh(planned=2)
    first = book(db, at(3))
    book(db, at(4))
    error = refused("ENGAGEMENT_EXHAUSTED", book, db, at(5))
    assert error.metadata == {"sessions_left": "0", "asked": "1"}
    assert len(db.state.sessions) == 2 and not any(b.starts_at == at(5) for b in db.state.busy)
    cancel = c.CancelSessionRequest(tenant_id=TENANT, session_id=first.session_id)
    changes.cancel_session(db, person(COACHEE), cancel)  # type: ignore[arg-type]
    assert book(db, at(5)).status == "booked"


def test_a_series_longer_than_what_is_left_is_refused_whole() -> None:
    db = fresh(planned=3)
    asked = c.BookSeriesRequest(
        tenant_id=TENANT, space_id=SPACE, starts_at=at(3), frequency="weekly", count=4
    )
    error = refused("ENGAGEMENT_EXHAUSTED", booking.book_series, db, person(COACHEE), asked)
    assert error.metadata == {"sessions_left": "3", "asked": "4"}
    assert not db.state.sessions and not db.state.series and not db.events
    three = asked.model_copy(update={"count": 3})
    done = booking.book_series(db, person(COACHEE), three)  # type: ignore[arg-type]
    assert len(done.sessions) == 3 and len(db.events_of(c.SessionBooked)) == 3


# ---------------------------------------------------------------- reschedule decisions


def move(db: FakeDatabase[SchedulingState], s: c.Session, to: datetime, who: str = COACHEE):  # type: ignore[no-untyped-def]
    asked = c.RescheduleRequest(tenant_id=TENANT, session_id=s.session_id, starts_at=to)
    return changes.reschedule_session(db, person(who), asked)  # type: ignore[arg-type]


def test_well_ahead_the_coachee_moves_a_session_at_once() -> None:
    db = fresh()
    s = book(db, at(5))
    done = move(db, s, at(6))
    assert done.outcome == "rescheduled" and done.sessions[0].starts_at == at(6)
    assert done.sessions[0].sequence == s.sequence + 1
    assert [b.starts_at for b in db.state.busy if b.person_id == COACHEE] == [at(6)]
    assert isinstance(db.events[-1], c.SessionRescheduled)


def test_inside_the_request_window_a_move_is_asked_of_the_coach_who_approves_it() -> None:
    db = fresh()
    s = book(db, at(1, hour=18))  # 34 hours ahead: between request_hours 24 and free_hours 48
    asked = move(db, s, at(3))
    assert asked.outcome == "requested" and asked.request is not None
    assert db.state.sessions[s.session_id].starts_at == at(1, hour=18)  # unchanged meanwhile
    refused("SLOT_TAKEN", book, db, at(3), COACH)  # the proposal's time is held
    refused("REQUEST_PENDING", move, db, s, at(4))
    ref = c.ChangeRequestRef(tenant_id=TENANT, request_id=asked.request.request_id)
    refused("COACH_ONLY", requests.approve_change_request, db, person(COACHEE), ref)
    done = requests.approve_change_request(db, person(COACH), ref)  # type: ignore[arg-type]
    assert done.sessions[0].starts_at == at(3) and done.request.status == "approved"  # type: ignore[union-attr]
    assert {b.starts_at for b in db.state.busy} == {at(3)}


def test_a_declined_request_frees_the_held_time_and_the_original_stands() -> None:
    db = fresh()
    s = book(db, at(1, hour=18))
    asked = move(db, s, at(3))
    ref = c.ChangeRequestRef(tenant_id=TENANT, request_id=asked.request.request_id)
    requests.decline_change_request(db, person(COACH), ref)  # type: ignore[arg-type]
    assert {b.starts_at for b in db.state.busy} == {at(1, hour=18)}
    assert db.state.sessions[s.session_id].pending_request_id is None


def test_late_or_started_moves_are_refused_but_the_coach_still_moves_late() -> None:
    db = fresh()
    s = book(db, at(0, hour=20), COACH)  # 12 hours ahead
    refused("POLICY_LATE_RESCHEDULE", move, db, s, at(3))
    assert move(db, s, at(3), COACH).outcome == "rescheduled"
    refused("SESSION_NOT_FOUND", move, db, s, at(4), OUTSIDER)


# ---------------------------------------------------------------- the calendar feed's link


def test_one_feed_link_a_person_a_new_one_replaces_the_old_and_deleting_revokes_it() -> None:
    db = fresh()
    first = calendar.create_calendar_feed(db, "https://ecoach.test", person(COACHEE))  # type: ignore[arg-type]
    second = calendar.create_calendar_feed(db, "https://ecoach.test", person(COACHEE))  # type: ignore[arg-type]
    token = second.url.rsplit("/", 1)[1].removesuffix(".ics")
    assert first.url != second.url
    assert db.state.feeds == {COACHEE: (token_hash(token), NOW)}  # only the newest works
    calendar.delete_calendar_feed(db, person(COACHEE))  # type: ignore[arg-type]
    refused("FEED_NOT_FOUND", calendar.delete_calendar_feed, db, person(COACHEE))
    old = c.FeedRequest(token=token)
    refused("FEED_NOT_FOUND", calendar.get_calendar_feed, db, lambda ids: [], "ecoach.test", old)
