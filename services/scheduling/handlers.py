"""The scheduling service's use cases: one function per command or query, each in a unit of work.

Who may do what is decided by relationship to the space (rule 5): its coachee, coach or
co-coach; anyone else, a tenant admin included, sees no session (NOT_FOUND). Tenant admins set
the tenant's policy. Everything a person sees of another tenant is their own sessions; a coach's
busy time in other tenants only removes slots, and a coachee's shapes only the slots the coachee
sees (never their coach's view: issue 19).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from services.contracts import identity as ic
from services.contracts import scheduling as c
from services.contracts import spaces as sc
from services.kernel.caller import Caller, PersonClaims, require_person
from services.kernel.errors import FailedPrecondition, NotFound, PermissionDenied, Problem, invalid
from services.kernel.ids import new_id
from services.kernel.personal_data import completion_event
from services.kernel.runtime.sql import UnitOfWork, WorkerDatabase

from .domain.availability import Availability, as_input
from .domain.model import (
    APPROVED,
    COACH,
    COACHEE,
    DECLINED,
    EXPIRED,
    NO_SHOW_COACH,
    SYSTEM,
    TO_MARK_AFTER,
    ChangeRequest,
    EngagementUse,
    Session,
    SpaceCopy,
    coach_only,
    request_not_found,
    session_not_found,
    slot_taken,
    space_not_found,
)
from .domain.policy import FREE, REQUEST, Policy
from .domain.recurrence import expand, next_after, place, wall_time
from .domain.rooms import CLOSES_AFTER_MINUTES, OPENS_BEFORE_MINUTES, RoomWindow
from .storage import (
    Availabilities,
    ChangeRequests,
    Feeds,
    Policies,
    Reminders,
    Sessions,
    Spaces,
    TimeTaken,
    anonymise_video_settings,
    forget_calendar,
    room_windows,
)

MAX_MY_RANGE = timedelta(days=366)
# A space's status that cancels its future sessions, and the reason recorded.
CLOSING_STATUSES = {
    "paused": "space_paused",
    "completed": "space_completed",
    "archived": "space_archived",
}


@dataclass
class Repos:
    spaces: Spaces
    policies: Policies
    availability: Availabilities
    sessions: Sessions
    requests: ChangeRequests

    @classmethod
    def of(cls, connection: Connection) -> Repos:
        return cls(
            Spaces(connection),
            Policies(connection),
            Availabilities(connection),
            Sessions(connection),
            ChangeRequests(connection),
        )


def _member_of(caller: Caller, tenant_id: str) -> PersonClaims:
    who = require_person(caller)
    if who.tenant_id != tenant_id:
        raise NotFound("No such tenant.", reason="TENANT_NOT_FOUND")
    return who


def _admin_of(caller: Caller, tenant_id: str, what: str) -> PersonClaims:
    """The caller, a tenant admin of `tenant_id` (`what`: what only an admin does)."""
    who = _member_of(caller, tenant_id)
    if not who.has_role("tenant_admin"):
        raise PermissionDenied(f"Only a tenant admin {what}.", reason="TENANT_ADMIN_ONLY")
    return who


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def _iso_local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat()


# ---------------------------------------------------------------- views and events


def _session_state(s: Session) -> dict[str, Any]:
    """What both the API's view and the events say of a session."""
    return {
        "session_id": s.id,
        "tenant_id": s.tenant_id,
        "space_id": s.space_id,
        "series_id": s.series_id,
        "status": s.status,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "time_zone": s.time_zone,
        "coachee_person_id": s.coachee_person_id,
        "coach_person_id": s.coach_person_id,
        "co_coach_person_id": s.co_coach_person_id,
        "uses_session": s.uses_session,
        "sequence": s.sequence,
        "updated_at": s.updated_at,
    }


def session_view(s: Session) -> c.Session:
    return c.Session(
        **_session_state(s),
        local_start=s.local_start.isoformat(timespec="minutes"),
        shifted_by_gap=s.shifted,
        booked_by_person_id=s.booked_by,
        cancelled_at=s.cancelled_at,
        cancelled_by=s.cancelled_by,
        cancel_reason=s.cancel_reason,
        late=s.late,
        marked_at=s.marked_at,
        pending_request_id=s.pending_request_id,
        created_at=s.created_at,
    )


def _request_state(r: ChangeRequest) -> dict[str, Any]:
    return {
        "request_id": r.id,
        "tenant_id": r.tenant_id,
        "space_id": r.space_id,
        "session_id": r.session_id,
        "status": r.status,
        "original_starts_at": r.original_starts_at,
        "proposed_starts_at": r.proposed_starts_at,
        "proposed_ends_at": r.proposed_ends_at,
        "expires_at": r.expires_at,
    }


def request_view(r: ChangeRequest) -> c.ChangeRequest:
    return c.ChangeRequest(
        **_request_state(r),
        requested_by_person_id=r.requested_by,
        created_at=r.created_at,
        decided_at=r.decided_at,
    )


def _event(model: type[c.SessionEvent], s: Session, **more: Any) -> c.SessionEvent:
    return model(**more, **_session_state(s))


def _request_event(model: type[c.RescheduleRequested], r: ChangeRequest) -> c.RescheduleRequested:
    return model(**_request_state(r))


# ---------------------------------------------------------------- availability


def _availability_view(a: Availability) -> c.Availability:
    return c.Availability(coach_person_id=a.coach_person_id, updated_at=a.updated_at, **as_input(a))


def get_my_availability(db: WorkerDatabase, caller: Caller) -> c.Availability:
    who = require_person(caller)
    with db.read_only() as uow:
        found = Availabilities(uow.connection).get(who.person_id)
    if found is None:
        found = Availability(who.person_id, "UTC", min_notice_minutes=720)
        found.updated_at = None
    return _availability_view(found)


def update_my_availability(
    db: WorkerDatabase, caller: Caller, request: c.UpdateAvailabilityRequest
) -> c.Availability:
    who = require_person(caller)
    if not who.has_role("coach"):
        raise PermissionDenied("Only a coach has availability.", reason="COACH_ONLY")
    with db.unit_of_work() as uow:
        given = Availability.from_input(
            who.person_id, request.availability.model_dump(), uow.clock.now()
        )
        Availabilities(uow.connection).save(given)
    return _availability_view(given)


def _coach_availability(r: Repos, space: SpaceCopy) -> Availability:
    found = r.availability.get(space.coach_person_id)
    if found is None:
        raise FailedPrecondition(
            "The coach has not set their availability yet.", reason="NO_AVAILABILITY"
        )
    return found


def list_slots(db: WorkerDatabase, caller: Caller, request: c.SlotsRequest) -> c.SlotList:
    who = _member_of(caller, request.tenant_id)
    if request.to_date < request.from_date:
        raise invalid(to_date="must not be before from_date")
    if (request.to_date - request.from_date).days >= c.MAX_RANGE_DAYS:
        raise invalid(to_date=Problem("at most %(n)s days after from_date", n=c.MAX_RANGE_DAYS))
    with db.read_only() as uow:
        r = Repos.of(uow.connection)
        space = r.spaces.get(request.tenant_id, request.space_id)
        if space is None:
            raise space_not_found()
        space.participant(who.person_id)
        now = uow.clock.now()
        found = r.availability.get(space.coach_person_id)
        zone = ZoneInfo(request.time_zone or (found.time_zone if found else "UTC"))
        if found is None or space.status != "active":
            return c.SlotList(time_zone=zone.key, minutes=request.minutes or 60, slots=[])
        minutes = found.length(request.minutes)
        from_at = place(datetime.combine(request.from_date, time()), zone).starts_at
        to_at = place(datetime.combine(request.to_date + timedelta(days=1), time()), zone).starts_at
        margin = timedelta(minutes=minutes + found.buffer_minutes)
        everywhere, here_only = space.busy_shown_to(who.person_id)
        taken = r.sessions.busy_of(
            everywhere,
            from_at - margin,
            to_at + margin,
            here_only=here_only,
            tenant_id=space.tenant_id,
        )
        slots = found.slots(from_at, to_at, minutes, taken, now)
    return c.SlotList(
        time_zone=zone.key,
        minutes=minutes,
        slots=[
            c.Slot(
                starts_at=s,
                ends_at=e,
                local_start=_iso_local(s, zone),
                local_end=_iso_local(e, zone),
            )
            for s, e in slots
        ],
    )


# ---------------------------------------------------------------- booking


def _space_for(r: Repos, who: PersonClaims, tenant_id: str, space_id: str) -> tuple[SpaceCopy, str]:
    """The space, locked (bookings of one space queue here: the engagement's count holds under
    races), and the caller's relation to it."""
    space = r.spaces.get(tenant_id, space_id, for_update=True)
    if space is None:
        raise space_not_found()
    return space, space.participant(who.person_id)


def _check_remaining(r: Repos, space: SpaceCopy, asked: int, *, added: bool = False) -> None:
    """Refuse `asked` sessions beyond the engagement's; `added` when they are already stored
    in this transaction (and so counted)."""
    used = r.sessions.used(space.tenant_id, space.space_id) - (asked if added else 0)
    left = EngagementUse(planned=space.sessions_planned, used=used).left
    if asked > left:
        raise FailedPrecondition(
            f"The engagement has {left} sessions left; {asked} asked.",
            reason="ENGAGEMENT_EXHAUSTED",
            metadata={"sessions_left": str(left), "asked": str(asked)},
        )


def _check_start(starts_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise FailedPrecondition("The time asked is in the past.", reason="IN_THE_PAST")


def _insert(r: Repos, booked: list[Session], buffer_minutes: int) -> None:
    try:
        r.sessions.add(booked, buffer_minutes)
    except TimeTaken:
        raise slot_taken() from None


def _book_one(
    r: Repos,
    uow: UnitOfWork,
    who: PersonClaims,
    space: SpaceCopy,
    relation: str,
    starts_at: datetime,
    minutes: int | None,
) -> Session:
    now = uow.clock.now()
    space.check_active()
    found = _coach_availability(r, space)
    length = found.length(minutes)
    starts_at = _utc(starts_at)
    _check_start(starts_at, now)
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
    _insert(r, [session], found.buffer_minutes)
    _check_remaining(r, space, 1, added=True)
    uow.record(_event(c.SessionBooked, session))
    return session


def book_session(db: WorkerDatabase, caller: Caller, request: c.BookSessionRequest) -> c.Session:
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        # Time already taken is refused in one query, without a transaction or a lock: in a
        # race for one slot, everyone who comes after the winner's commit is answered so. Only
        # for a participant of an active space asking a future time (the query checks the
        # rest), so it tells nobody else anything, and nothing is refused that would be booked.
        starts_at = _utc(request.starts_at)
        if starts_at > uow.clock.now() and Sessions(uow.connection).taken_in_space(
            request.tenant_id, request.space_id, who.person_id, starts_at, request.minutes
        ):
            raise slot_taken()
    with db.unit_of_work() as uow:
        r = Repos.of(uow.connection)
        space, relation = _space_for(r, who, request.tenant_id, request.space_id)
        session = _book_one(r, uow, who, space, relation, request.starts_at, request.minutes)
    return session_view(session)


def book_series(
    db: WorkerDatabase, caller: Caller, request: c.BookSeriesRequest
) -> c.BookSeriesResponse:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        r = Repos.of(uow.connection)
        space, relation = _space_for(r, who, request.tenant_id, request.space_id)
        space.check_active()
        found = _coach_availability(r, space)
        length = found.length(request.minutes)
        zone = found.zone
        first = _utc(request.starts_at)
        _check_start(first, now)
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
            outside = [
                o.local.date().isoformat()
                for o in occurrences
                if not found.within_hours(o.starts_at, o.starts_at + span)
            ]
            if outside:
                raise FailedPrecondition(
                    "The coach is not available on " + ", ".join(outside) + ".",
                    reason="OUTSIDE_AVAILABILITY",
                    metadata={"conflicts": ",".join(outside)},
                )
        _check_remaining(r, space, len(occurrences))
        clashes = r.sessions.conflicts(
            space.people(), intervals, found.buffer_minutes, space.coach_person_id
        )
        if clashes:
            raise slot_taken([occurrences[i].local.date().isoformat() for i in clashes])
        series_id = new_id("ser")
        r.sessions.add_series(
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
        _insert(r, booked, found.buffer_minutes)
        uow.record_many([_event(c.SessionBooked, s) for s in booked])
    return c.BookSeriesResponse(series_id=series_id, sessions=[session_view(s) for s in booked])


def book_next(db: WorkerDatabase, caller: Caller, request: c.BookNextRequest) -> c.Session:
    """The session after this one, in one step: one cadence later at the same wall time."""
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        r = Repos.of(uow.connection)
        current = r.sessions.get(request.tenant_id, request.session_id)
        if current is None:
            raise session_not_found()
        space = r.spaces.get(current.tenant_id, current.space_id, for_update=True)
        if space is None or space.relation_of(who.person_id) is None:
            raise session_not_found()
        relation = space.participant(who.person_id)
        if request.starts_at is not None:
            starts_at = request.starts_at
        else:
            frequency = (
                r.sessions.frequency_of(current.series_id) if current.series_id else None
            ) or space.cadence
            local = next_after(current.local_start, frequency)
            starts_at = place(local, ZoneInfo(current.time_zone)).starts_at
        session = _book_one(r, uow, who, space, relation, starts_at, current.minutes)
    return session_view(session)


# ---------------------------------------------------------------- reading sessions


def _session_for(
    r: Repos, who: PersonClaims, tenant_id: str, session_id: str, *, for_update: bool = False
) -> tuple[Session, SpaceCopy, str]:
    """The session, its space and the caller's relation to the space now; NOT_FOUND for
    anyone else (a previous coach included)."""
    session = r.sessions.get(tenant_id, session_id, for_update=for_update)
    if session is None:
        raise session_not_found()
    space = r.spaces.get(tenant_id, session.space_id, for_update=for_update)
    relation = space.relation_of(who.person_id) if space else None
    if space is None or relation is None:
        raise session_not_found()
    return session, space, relation


def get_session(db: WorkerDatabase, caller: Caller, request: c.SessionRef) -> c.Session:
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        session, _, _ = _session_for(
            Repos.of(uow.connection), who, request.tenant_id, request.session_id
        )
    return session_view(session)


def list_space_sessions(
    db: WorkerDatabase, caller: Caller, request: c.ListSpaceSessionsRequest
) -> c.SessionList:
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        r = Repos.of(uow.connection)
        space = r.spaces.get(request.tenant_id, request.space_id)
        if space is None:
            raise space_not_found()
        space.participant(who.person_id)
        found, token = r.sessions.page_of_space(
            request.tenant_id, request.space_id, request.effective_page_size(), request.page_token
        )
    return c.SessionList(sessions=[session_view(s) for s in found], next_page_token=token)


def list_my_sessions(
    db: WorkerDatabase, caller: Caller, request: c.ListMySessionsRequest
) -> c.SessionList:
    """The caller's own sessions in every tenant (the one cross-tenant read of sessions)."""
    who = require_person(caller)
    if request.to_time <= request.from_time:
        raise invalid(to_time="must be after from_time")
    if request.to_time - request.from_time > MAX_MY_RANGE:
        raise invalid(to_time="at most 366 days after from_time")
    with db.read_only() as uow:
        found = Sessions(uow.connection).of_person(
            who.person_id, _utc(request.from_time), _utc(request.to_time)
        )
    return c.SessionList(sessions=[session_view(s) for s in found])


def _engagement_view(use: EngagementUse) -> c.EngagementUse:
    return c.EngagementUse(
        sessions_planned=use.planned,
        sessions_used=use.used,
        sessions_held=use.held,
        sessions_booked=use.booked,
        sessions_left=use.left,
    )


def get_dashboard(
    db: WorkerDatabase, caller: Caller, request: c.DashboardRequest
) -> c.SchedulingDashboard:
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        now = uow.clock.now()
        r = Repos.of(uow.connection)
        mine = r.spaces.of_person(request.tenant_id, who.person_id)
        upcoming = r.sessions.next_of_spaces(
            request.tenant_id, [s.space_id for s in mine], now, request.per_space
        )
        coaching = [s.space_id for s in mine if s.relation_of(who.person_id) != COACHEE]
        to_mark = (
            r.sessions.to_mark(request.tenant_id, who.person_id, now - TO_MARK_AFTER)
            if coaching
            else []
        )
        waiting = r.requests.pending_for(request.tenant_id, coaching)
        windows = room_windows(uow.connection, {request.tenant_id})
        counts = r.sessions.use_of_spaces(request.tenant_id, [s.space_id for s in mine])
        unmarked = r.sessions.to_mark_counts(
            request.tenant_id, who.person_id, coaching, now - TO_MARK_AFTER
        )
    before, after = windows.get(request.tenant_id, (OPENS_BEFORE_MINUTES, CLOSES_AFTER_MINUTES))
    per_space: dict[str, list[c.Session]] = {s.space_id: [] for s in mine}
    for s in upcoming:
        w = RoomWindow.of(s.starts_at, s.ends_at, before, after)
        room = c.RoomState(opens_at=w.opens_at, closes_at=w.closes_at, open=w.is_open(now))
        per_space[s.space_id].append(session_view(s).model_copy(update={"room": room}))
    return c.SchedulingDashboard(
        spaces=[
            c.SpaceSessions(
                space_id=s.space_id,
                next_sessions=per_space[s.space_id],
                engagement=_engagement_view(
                    EngagementUse(planned=s.sessions_planned, **counts.get(s.space_id, {}))
                ),
                to_mark=unmarked.get(s.space_id, 0),
            )
            for s in mine
        ],
        to_mark=[session_view(s) for s in to_mark],
        requests=[request_view(q) for q in waiting if q.expires_at > now],
    )


# ---------------------------------------------------------------- changing sessions


def _move(r: Repos, uow: UnitOfWork, moves: list[tuple[Session, Session]], buffer: int) -> None:
    """Sessions to new times: their old time released, the new one taken (the exclusion
    constraint decides), the events recorded."""
    r.sessions.release_time([old.id for old, _ in moves])
    try:
        r.sessions.hold_time([new for _, new in moves], buffer)
    except TimeTaken:
        raise slot_taken() from None
    for old, new in moves:
        r.sessions.save(new)
        uow.record(
            _event(
                c.SessionRescheduled,
                new,
                previous_starts_at=old.starts_at,
                previous_ends_at=old.ends_at,
            )
        )


def _close_requests(r: Repos, uow: UnitOfWork, session_ids: list[str], now: datetime) -> None:
    """Pending requests of sessions that moved or were cancelled lapse; their holds go."""
    for q in r.requests.pending_of(session_ids):
        q.close(EXPIRED, None, now)
        r.requests.save(q)
        r.sessions.release_time([], holds_only=q.id)
        uow.record(_request_event(c.RescheduleRequestClosed, q))


def reschedule_session(
    db: WorkerDatabase, caller: Caller, request: c.RescheduleRequest
) -> c.RescheduleResponse:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        r = Repos.of(uow.connection)
        session, space, relation = _session_for(
            r, who, request.tenant_id, request.session_id, for_update=True
        )
        session.check_open(now)
        space.check_active()
        found = _coach_availability(r, space)
        zone = ZoneInfo(session.time_zone)
        new_start = _utc(request.starts_at)
        _check_start(new_start, now)
        new_end = new_start + (session.ends_at - session.starts_at)
        following = request.scope == "this_and_following" and session.series_id is not None
        window = FREE
        if relation == COACHEE:
            window = r.policies.get(session.tenant_id).coachee_reschedule(
                session.starts_at, now, one=not following
            )
            found.check_bookable(new_start, new_end, now)

        if window == REQUEST:
            if session.pending_request_id:
                raise FailedPrecondition(
                    "A request to move this session is already waiting for the coach.",
                    reason="REQUEST_PENDING",
                )
            asked = ChangeRequest.ask(
                session, new_start, wall_time(new_start, zone), False, who.person_id, now
            )
            try:
                r.sessions.hold_time(
                    [session], found.buffer_minutes, request_id=asked.id, at=[(new_start, new_end)]
                )
            except TimeTaken:
                raise slot_taken() from None
            r.requests.add(asked)
            session.pending_request_id = asked.id
            r.sessions.save(session)
            uow.record(_request_event(c.RescheduleRequested, asked))
            return c.RescheduleResponse(
                outcome="requested", sessions=[session_view(session)], request=request_view(asked)
            )

        if not following:
            moves = [(session, session.moved(new_start, wall_time(new_start, zone), False, now))]
        else:
            moves = _split_series(r, session, wall_time(new_start, zone), zone, who, now)
            if relation == COACHEE:
                outside = [
                    new.local_start.date().isoformat()
                    for _, new in moves
                    if not found.within_hours(new.starts_at, new.ends_at)
                ]
                if outside:
                    raise FailedPrecondition(
                        "The coach is not available on " + ", ".join(outside) + ".",
                        reason="OUTSIDE_AVAILABILITY",
                        metadata={"conflicts": ",".join(outside)},
                    )
        clashes = r.sessions.conflicts(
            space.people(),
            [(new.starts_at, new.ends_at) for _, new in moves],
            found.buffer_minutes,
            space.coach_person_id,
            ignore=[old.id for old, _ in moves],
        )
        if clashes:
            raise slot_taken([moves[i][1].local_start.date().isoformat() for i in clashes])
        _close_requests(r, uow, [old.id for old, _ in moves], now)
        _move(r, uow, moves, found.buffer_minutes)
    return c.RescheduleResponse(outcome="rescheduled", sessions=[session_view(n) for _, n in moves])


def _split_series(
    r: Repos,
    session: Session,
    new_local: datetime,
    zone: ZoneInfo,
    who: PersonClaims,
    now: datetime,
) -> list[tuple[Session, Session]]:
    """ "This and all following": the series ends before this occurrence and a new one starts
    with it, every later occurrence shifted by the same wall-clock difference."""
    group = r.sessions.following(session)
    assert session.series_id is not None
    delta = new_local - session.local_start
    frequency = r.sessions.frequency_of(session.series_id) or "weekly"
    series_id = new_id("ser")
    r.sessions.add_series(
        series_id,
        session.tenant_id,
        session.space_id,
        frequency,
        session.time_zone,
        len(group),
        None,
        who.person_id,
        now,
        follows=session.series_id,
    )
    r.sessions.end_series(
        session.series_id, (session.occurrence or session.local_start).date() - timedelta(days=1)
    )
    moves = []
    for old in group:
        placed = place(old.local_start + delta, zone)
        new = old.moved(placed.starts_at, placed.local, placed.shifted, now)
        new.series_id = series_id
        # The new series' rule gives each its old occurrence moved by the same shift.
        new.occurrence = (old.occurrence or old.local_start) + delta
        moves.append((old, new))
    return moves


def cancel_session(
    db: WorkerDatabase, caller: Caller, request: c.CancelSessionRequest
) -> c.CancelResponse:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        r = Repos.of(uow.connection)
        session, _, relation = _session_for(
            r, who, request.tenant_id, request.session_id, for_update=True
        )
        session.check_open(now)
        if relation != COACHEE and request.reason not in c.COACH_REASONS:
            raise invalid(
                reason=Problem(
                    "a coach gives a reason: %(reasons)s",
                    reasons=", ".join("REASON_" + r.upper() for r in c.COACH_REASONS),
                )
            )
        if (
            relation == COACHEE
            and request.reason is not None
            and request.reason not in c.COACH_REASONS
        ):
            raise invalid(reason="not a reason a person gives")
        group = [session]
        if request.scope == "this_and_following" and session.series_id:
            group = r.sessions.following(session)
            # The series ends before this occurrence (calendars get its new end).
            r.sessions.end_series(
                session.series_id,
                (session.occurrence or session.local_start).date() - timedelta(days=1),
            )
        policy = r.policies.get(session.tenant_id)
        for s in group:
            if relation == COACHEE:
                late, uses = policy.coachee_cancel(s.starts_at, now)
                s.cancel(COACHEE, request.reason, late, uses, now)
            else:
                s.cancel(COACH, request.reason, False, False, now)
        _cancelled(r, uow, group, now)
    return c.CancelResponse(sessions=[session_view(s) for s in group])


def _cancelled(
    r: Repos, uow: UnitOfWork, group: list[Session], now: datetime, *, whole: bool = False
) -> None:
    """`whole`: the platform cancelled them together; a series losing several occurrences is
    sent to calendars whole again (one message, its EXDATEs), not one CANCEL per occurrence."""
    ids = [s.id for s in group]
    if whole:
        counted = Counter(s.series_id for s in group if s.series_id)
        r.sessions.raise_series(sorted(i for i, n in counted.items() if n > 1))
    _close_requests(r, uow, ids, now)
    r.sessions.release_time(ids)
    for s in group:
        r.sessions.save(s)
    uow.record_many(
        [
            _event(
                c.SessionCancelled,
                s,
                cancelled_by=s.cancelled_by,
                late=s.late,
                reason=s.cancel_reason,
            )
            for s in group
        ]
    )


def mark_attendance(
    db: WorkerDatabase, caller: Caller, request: c.MarkAttendanceRequest
) -> c.Session:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        r = Repos.of(uow.connection)
        session, _, relation = _session_for(
            r, who, request.tenant_id, request.session_id, for_update=True
        )
        if relation == COACHEE:
            raise coach_only("mark attendance")
        was = session.status
        session.mark(request.attendance, who.person_id, now)
        r.sessions.save(session)
        if was == "booked":
            _close_requests(r, uow, [session.id], now)
            r.sessions.release_time([], holds_only=session.pending_request_id or "")
        if session.status == "held":
            uow.record(_event(c.SessionHeld, session))
        else:
            absent = "coach" if session.status == NO_SHOW_COACH else "coachee"
            uow.record(_event(c.SessionNoShow, session, absent=absent))
    return session_view(session)


# ---------------------------------------------------------------- reschedule requests


def list_change_requests(
    db: WorkerDatabase, caller: Caller, request: c.ListChangeRequestsRequest
) -> c.ChangeRequestList:
    who = _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        r = Repos.of(uow.connection)
        mine = [s.space_id for s in r.spaces.of_person(request.tenant_id, who.person_id)]
        found, token = r.requests.page(
            request.tenant_id,
            mine,
            request.status,
            request.effective_page_size(),
            request.page_token,
        )
    return c.ChangeRequestList(requests=[request_view(q) for q in found], next_page_token=token)


def _request_for(
    r: Repos, who: PersonClaims, tenant_id: str, request_id: str
) -> tuple[ChangeRequest, Session, SpaceCopy]:
    asked = r.requests.get(tenant_id, request_id, for_update=True)
    if asked is None:
        raise request_not_found()
    space = r.spaces.get(tenant_id, asked.space_id, for_update=True)
    relation = space.relation_of(who.person_id) if space else None
    if space is None or relation is None:
        raise request_not_found()
    if relation == COACHEE:
        raise coach_only("answer a reschedule request")
    session = r.sessions.get(tenant_id, asked.session_id, for_update=True)
    assert session is not None
    return asked, session, space


def approve_change_request(
    db: WorkerDatabase, caller: Caller, request: c.ChangeRequestRef
) -> c.RescheduleResponse:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        r = Repos.of(uow.connection)
        asked, session, _ = _request_for(r, who, request.tenant_id, request.request_id)
        asked.close(APPROVED, who.person_id, now)
        moved = session.moved(
            asked.proposed_starts_at, asked.proposed_local, asked.proposed_shifted, now
        )
        r.sessions.promote_hold(asked.id, session.id)
        r.sessions.save(moved)
        r.requests.save(asked)
        uow.record(
            _event(
                c.SessionRescheduled,
                moved,
                previous_starts_at=session.starts_at,
                previous_ends_at=session.ends_at,
            )
        )
        uow.record(_request_event(c.RescheduleRequestClosed, asked))
    return c.RescheduleResponse(
        outcome="rescheduled", sessions=[session_view(moved)], request=request_view(asked)
    )


def decline_change_request(
    db: WorkerDatabase, caller: Caller, request: c.ChangeRequestRef
) -> c.ChangeRequest:
    who = _member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        r = Repos.of(uow.connection)
        asked, session, _ = _request_for(r, who, request.tenant_id, request.request_id)
        asked.close(DECLINED, who.person_id, now)
        _lapse(r, uow, asked, session)
    return request_view(asked)


def _lapse(r: Repos, uow: UnitOfWork, asked: ChangeRequest, session: Session) -> None:
    r.requests.save(asked)
    r.sessions.release_time([], holds_only=asked.id)
    session.pending_request_id = None
    r.sessions.save(session)
    uow.record(_request_event(c.RescheduleRequestClosed, asked))


def expire_requests(db: WorkerDatabase) -> int:
    """The timer's sweep: unanswered requests lapse when their session starts (the original
    stands) and their held slot is freed. Safe with several instances (SKIP LOCKED)."""
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        r = Repos.of(uow.connection)
        lapsed = r.requests.lapsed(now)
        for asked in lapsed:
            asked.close(EXPIRED, None, now)
            session = r.sessions.get(asked.tenant_id, asked.session_id, for_update=True)
            assert session is not None
            _lapse(r, uow, asked, session)
    return len(lapsed)


# ---------------------------------------------------------------- policy


def _policy_view(p: Policy, now: datetime) -> c.Policy:
    return c.Policy(
        tenant_id=p.tenant_id,
        free_hours=p.free_hours,
        request_hours=p.request_hours,
        late_cancel_uses_session=p.late_cancel_uses_session,
        updated_at=p.updated_at or now,
        updated_by_person_id=p.updated_by,
    )


def get_policy(db: WorkerDatabase, caller: Caller, request: c.TenantRef) -> c.Policy:
    """Every member of the tenant may read it: it is shown to whoever books."""
    _member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        found = Policies(uow.connection).get(request.tenant_id)
        now = uow.clock.now()
    return _policy_view(found, now)


def update_policy(db: WorkerDatabase, caller: Caller, request: c.UpdatePolicyRequest) -> c.Policy:
    who = _admin_of(caller, request.tenant_id, "sets the policy")
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        policy = Policy(
            tenant_id=request.tenant_id,
            free_hours=request.policy.free_hours,
            request_hours=request.policy.request_hours,
            late_cancel_uses_session=request.policy.late_cancel_uses_session,
            updated_at=now,
            updated_by=who.person_id,
        ).check()
        Policies(uow.connection).save(policy)
    return _policy_view(policy, now)


def create_default_policy(uow: UnitOfWork, event: ic.TenantCreated) -> None:
    Policies(uow.connection).create_default(event.tenant_id, uow.clock.now())


# ---------------------------------------------------------------- spaces' events


def record_space(uow: UnitOfWork, event: sc.SpaceEvent) -> None:
    """Keep the space's copy; a space that stops (paused, completed, archived) has its future
    sessions cancelled without penalty, and a coach change cancels the previous coach's; a
    co-coach change moves their busy time to the new co-coach where they are free."""
    now = uow.clock.now()
    r = Repos.of(uow.connection)
    copy = SpaceCopy(
        space_id=event.space_id,
        tenant_id=event.tenant_id,
        status=str(event.status),
        coachee_person_id=event.coachee_person_id,
        coach_person_id=event.coach_person_id,
        co_coach_person_id=event.co_coach_person_id,
        cadence=event.cadence,
        sessions_planned=event.sessions_planned,
        updated_at=event.updated_at,
    )
    previous = r.spaces.apply(copy)
    if previous is copy:
        return  # a newer state is kept already
    group: list[Session] = []
    reason = CLOSING_STATUSES.get(copy.status)
    if reason is not None:
        group = r.sessions.future_of_space(copy.space_id, now)
    elif isinstance(event, sc.CoachChanged):
        reason = "coach_changed"
        group = r.sessions.future_of_space(
            copy.space_id, now, coach_person_id=event.previous_coach_person_id
        )
    elif isinstance(event, sc.CoCoachChanged):
        for s in r.sessions.replace_person(
            copy.space_id,
            "co_coach_person_id",
            event.previous_co_coach_person_id,
            event.co_coach_person_id,
            now,
        ):
            uow.record(
                _event(
                    c.SessionRescheduled,
                    s,
                    previous_starts_at=s.starts_at,
                    previous_ends_at=s.ends_at,
                )
            )
    for s in group:
        s.cancel(SYSTEM, reason, False, False, now)
    if group:
        _cancelled(r, uow, group, now, whole=True)


# ---------------------------------------------------------------- personal data


def export_personal_data(db: WorkerDatabase, caller: Caller) -> ic.PersonalDataExport:
    who = require_person(caller)
    with db.read_only() as uow:
        r = Repos.of(uow.connection)
        found = r.availability.get(who.person_id)
        sessions = r.sessions.all_of_person(who.person_id)
        requests = r.requests.of_person(who.person_id)
        reminders = Reminders(uow.connection).choices({who.person_id})[who.person_id]
        feed = Feeds(uow.connection).created_at(who.person_id)
        now = uow.clock.now()
    data = {
        "availability": _availability_view(found).model_dump(mode="json") if found else None,
        "sessions": [session_view(s).model_dump(mode="json") for s in sessions],
        "reschedule_requests": [request_view(q).model_dump(mode="json") for q in requests],
        "reminders": {
            "off": reminders.off,
            "minutes_before": list(reminders.minutes),
            "chosen_at": reminders.updated_at.isoformat() if reminders.updated_at else None,
        },
        "calendar_feed_created_at": feed.isoformat() if feed else None,
    }
    return ic.PersonalDataExport(service=c.SERVICE, exported_at=now, data=data)


def erase_personal_data(uow: UnitOfWork, event: ic.PersonErased) -> None:
    """The person's availability goes; their future sessions are cancelled (the others are told
    by the events); the past ones keep their times, with the person's id replaced."""
    now = uow.clock.now()
    r = Repos.of(uow.connection)
    person = event.person_id
    r.availability.delete(person)
    group = r.sessions.future_of_person(person, now)
    for s in group:
        s.cancel(SYSTEM, "person_erased", False, False, now)
    if group:
        _cancelled(r, uow, group, now, whole=True)
    r.sessions.anonymise(person)
    r.requests.anonymise(person)
    r.spaces.anonymise(person)
    r.policies.anonymise(person)
    anonymise_video_settings(uow.connection, person)
    forget_calendar(uow.connection, person)
    Reminders(uow.connection).forget(person)
    Feeds(uow.connection).delete(person)
    uow.record(completion_event(c.SERVICE)(erasure_id=event.erasure_id, person_id=person))
