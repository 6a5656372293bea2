"""Booking: one session, a series, or the next one. The space is locked while its sessions are
counted against the engagement; the database's exclusion constraint refuses taken time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.contracts import scheduling as c
from services.kernel.caller import Caller, PersonClaims, member_of
from services.kernel.ids import new_id

from ..domain.model import (
    COACHEE,
    EngagementUse,
    Session,
    SpaceCopy,
    TimeTaken,
    check_start,
    session_not_found,
    slot_taken,
)
from ..domain.recurrence import expand, next_after, place, wall_time
from ..storage.unit import Db, SchedulingUnit
from .access import coach_availability, space_for
from .views import session_event, session_view, utc


def _check_remaining(
    uow: SchedulingUnit, space: SpaceCopy, asked: int, *, added: bool = False
) -> None:
    """Refuse `asked` sessions beyond the engagement's (`EngagementUse.check_room_for`);
    `added` when they are already stored in this transaction (and so counted)."""
    used = uow.sessions.used(space.tenant_id, space.space_id) - (asked if added else 0)
    EngagementUse(planned=space.sessions_planned, used=used).check_room_for(asked)


def _insert(uow: SchedulingUnit, booked: list[Session], buffer_minutes: int) -> None:
    try:
        uow.sessions.add(booked, buffer_minutes)
    except TimeTaken:
        raise slot_taken() from None


def _book_one(
    uow: SchedulingUnit,
    who: PersonClaims,
    space: SpaceCopy,
    relation: str,
    starts_at: datetime,
    minutes: int | None,
) -> Session:
    now = uow.clock.now()
    space.check_active()
    found = coach_availability(uow, space)
    length = found.length(minutes)
    starts_at = utc(starts_at)
    check_start(starts_at, now)
    if relation == COACHEE:  # the coach books as they please, never over anyone's time
        found.check_bookable(starts_at, starts_at + timedelta(minutes=length), now)
    zone = found.zone
    session = Session.book(
        space,
        starts_at,
        length,
        found.time_zone,
        wall_time(starts_at, zone),
        False,
        who.person_id,
        now,
    )
    # The time first, then the count (the space's lock keeps it exact either way): in a race
    # for one slot, the losers are refused before counting anything.
    _insert(uow, [session], found.buffer_minutes)
    _check_remaining(uow, space, 1, added=True)
    uow.record(session_event(c.SessionBooked, session))
    return session


def book_session(db: Db, caller: Caller, request: c.BookSessionRequest) -> c.Session:
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        # Time already taken is refused in one query, without a transaction or a lock: in a
        # race for one slot, everyone who comes after the winner's commit is answered so. Only
        # for a participant of an active space asking a future time (the query checks the
        # rest), so it tells nobody else anything, and nothing is refused that would be booked.
        starts_at = utc(request.starts_at)
        if starts_at > uow.clock.now() and uow.sessions.taken_in_space(
            request.tenant_id, request.space_id, who.person_id, starts_at, request.minutes
        ):
            raise slot_taken()
    with db.unit_of_work() as uow:
        space, relation = space_for(uow, who, request.tenant_id, request.space_id)
        session = _book_one(uow, who, space, relation, request.starts_at, request.minutes)
    return session_view(session)


def book_series(db: Db, caller: Caller, request: c.BookSeriesRequest) -> c.BookSeriesResponse:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        space, relation = space_for(uow, who, request.tenant_id, request.space_id)
        space.check_active()
        found = coach_availability(uow, space)
        length = found.length(request.minutes)
        zone = found.zone
        first = utc(request.starts_at)
        check_start(first, now)
        occurrences = expand(
            wall_time(first, zone),
            zone,
            request.frequency,
            count=request.count,
            until=request.until,
            limit=c.MAX_SERIES,
        )
        span = timedelta(minutes=length)
        intervals = [(o.starts_at, o.starts_at + span) for o in occurrences]
        if relation == COACHEE:
            found.check_bookable(intervals[0][0], intervals[0][1], now)
            found.check_all_within(
                [(o.starts_at, o.starts_at + span, o.local.date().isoformat()) for o in occurrences]
            )
        _check_remaining(uow, space, len(occurrences))
        clashes = uow.sessions.conflicts(
            space.people(), intervals, found.buffer_minutes, space.coach_person_id
        )
        if clashes:
            raise slot_taken([occurrences[i].local.date().isoformat() for i in clashes])
        series_id = new_id("ser")
        uow.sessions.add_series(
            series_id,
            space.tenant_id,
            space.space_id,
            request.frequency,
            found.time_zone,
            request.count,
            request.until,
            who.person_id,
            now,
        )
        booked = [
            Session.book(
                space,
                o.starts_at,
                length,
                found.time_zone,
                o.local,
                o.shifted,
                who.person_id,
                now,
                series_id=series_id,
            )
            for o in occurrences
        ]
        _insert(uow, booked, found.buffer_minutes)
        uow.record_many([session_event(c.SessionBooked, s) for s in booked])
    return c.BookSeriesResponse(series_id=series_id, sessions=[session_view(s) for s in booked])


def book_next(db: Db, caller: Caller, request: c.BookNextRequest) -> c.Session:
    """The session after this one, in one step: one cadence later at the same wall time."""
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        current = uow.sessions.get(request.tenant_id, request.session_id)
        if current is None:
            raise session_not_found()
        space = uow.spaces.get(current.tenant_id, current.space_id, for_update=True)
        if space is None or space.relation_of(who.person_id) is None:
            raise session_not_found()
        relation = space.participant(who.person_id)
        if request.starts_at is not None:
            starts_at = request.starts_at
        else:
            frequency = (
                uow.sessions.frequency_of(current.series_id) if current.series_id else None
            ) or space.cadence
            local = next_after(current.local_start, frequency)
            starts_at = place(local, ZoneInfo(current.time_zone)).starts_at
        session = _book_one(uow, who, space, relation, starts_at, current.minutes)
    return session_view(session)
