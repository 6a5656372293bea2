"""Changing booked sessions: reschedule (moved at once, asked of the coach, or refused:
`domain.changes.reschedule_decision`), cancel, mark attendance."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.contracts import scheduling as c
from services.kernel.caller import Caller, PersonClaims, member_of
from services.kernel.ids import new_id

from ..domain import changes
from ..domain.model import (
    COACHEE,
    EXPIRED,
    NO_SHOW_COACH,
    ChangeRequest,
    Session,
    TimeTaken,
    check_start,
    coach_only,
    slot_taken,
)
from ..domain.policy import REQUEST
from ..domain.recurrence import place, wall_time
from ..storage.unit import Db, SchedulingUnit
from .access import coach_availability, session_for
from .views import request_event, request_view, session_event, session_view, utc


def _move(uow: SchedulingUnit, moves: list[tuple[Session, Session]], buffer: int) -> None:
    """Sessions to new times: their old time released, the new one taken (the exclusion
    constraint decides), the events recorded."""
    uow.sessions.release_time([old.id for old, _ in moves])
    try:
        uow.sessions.hold_time([new for _, new in moves], buffer)
    except TimeTaken:
        raise slot_taken() from None
    for old, new in moves:
        uow.sessions.save(new)
        uow.record(
            session_event(
                c.SessionRescheduled,
                new,
                previous_starts_at=old.starts_at,
                previous_ends_at=old.ends_at,
            )
        )


def close_requests(uow: SchedulingUnit, session_ids: list[str], now: datetime) -> None:
    """Pending requests of sessions that moved or were cancelled lapse; their holds go."""
    for q in uow.requests.pending_of(session_ids):
        q.close(EXPIRED, None, now)
        uow.requests.save(q)
        uow.sessions.release_time([], holds_only=q.id)
        uow.record(request_event(c.RescheduleRequestClosed, q))


def reschedule_session(
    db: Db, caller: Caller, request: c.RescheduleRequest
) -> c.RescheduleResponse:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        session, space, relation = session_for(
            uow, who, request.tenant_id, request.session_id, for_update=True
        )
        session.check_open(now)
        space.check_active()
        found = coach_availability(uow, space)
        zone = ZoneInfo(session.time_zone)
        new_start = utc(request.starts_at)
        check_start(new_start, now)
        new_end = new_start + (session.ends_at - session.starts_at)
        following = request.scope == "this_and_following" and session.series_id is not None
        window = changes.reschedule_decision(
            relation,
            uow.policies.get(session.tenant_id),
            found,
            session,
            new_start,
            new_end,
            now,
            following=following,
        )
        if window == REQUEST:
            asked = ChangeRequest.ask(
                session, new_start, wall_time(new_start, zone), False, who.person_id, now
            )
            try:
                uow.sessions.hold_time(
                    [session], found.buffer_minutes, request_id=asked.id, at=[(new_start, new_end)]
                )
            except TimeTaken:
                raise slot_taken() from None
            uow.requests.add(asked)
            session.pending_request_id = asked.id
            uow.sessions.save(session)
            uow.record(request_event(c.RescheduleRequested, asked))
            return c.RescheduleResponse(
                outcome="requested", sessions=[session_view(session)], request=request_view(asked)
            )

        if not following:
            moves = [(session, session.moved(new_start, wall_time(new_start, zone), False, now))]
        else:
            moves = _split_series(uow, session, wall_time(new_start, zone), zone, who, now)
            if relation == COACHEE:
                found.check_all_within(
                    [(n.starts_at, n.ends_at, n.local_start.date().isoformat()) for _, n in moves]
                )
        clashes = uow.sessions.conflicts(
            space.people(),
            [(new.starts_at, new.ends_at) for _, new in moves],
            found.buffer_minutes,
            space.coach_person_id,
            ignore=[old.id for old, _ in moves],
        )
        if clashes:
            raise slot_taken([moves[i][1].local_start.date().isoformat() for i in clashes])
        close_requests(uow, [old.id for old, _ in moves], now)
        _move(uow, moves, found.buffer_minutes)
    return c.RescheduleResponse(outcome="rescheduled", sessions=[session_view(n) for _, n in moves])


def _split_series(
    uow: SchedulingUnit,
    session: Session,
    new_local: datetime,
    zone: ZoneInfo,
    who: PersonClaims,
    now: datetime,
) -> list[tuple[Session, Session]]:
    """ "This and all following": the series ends before this occurrence and a new one starts
    with it, every later occurrence shifted by the same wall-clock difference."""
    group = uow.sessions.following(session)
    assert session.series_id is not None
    delta = new_local - session.local_start
    frequency = uow.sessions.frequency_of(session.series_id) or "weekly"
    series_id = new_id("ser")
    uow.sessions.add_series(
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
    uow.sessions.end_series(
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


def cancel_session(db: Db, caller: Caller, request: c.CancelSessionRequest) -> c.CancelResponse:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        session, _, relation = session_for(
            uow, who, request.tenant_id, request.session_id, for_update=True
        )
        session.check_open(now)
        changes.check_cancel_reason(relation, request.reason, c.COACH_REASONS)
        group = [session]
        if request.scope == "this_and_following" and session.series_id:
            group = uow.sessions.following(session)
            # The series ends before this occurrence (calendars get its new end).
            uow.sessions.end_series(
                session.series_id,
                (session.occurrence or session.local_start).date() - timedelta(days=1),
            )
        policy = uow.policies.get(session.tenant_id)
        for s in group:
            changes.cancel(s, relation, request.reason, policy, now)
        cancelled(uow, group, now)
    return c.CancelResponse(sessions=[session_view(s) for s in group])


def cancelled(
    uow: SchedulingUnit, group: list[Session], now: datetime, *, whole: bool = False
) -> None:
    """`whole`: the platform cancelled them together; a series losing several occurrences is
    sent to calendars whole again (one message, its EXDATEs), not one CANCEL per occurrence."""
    ids = [s.id for s in group]
    if whole:
        counted = Counter(s.series_id for s in group if s.series_id)
        uow.sessions.raise_series(sorted(i for i, n in counted.items() if n > 1))
    close_requests(uow, ids, now)
    uow.sessions.release_time(ids)
    for s in group:
        uow.sessions.save(s)
    uow.record_many(
        [
            session_event(
                c.SessionCancelled,
                s,
                cancelled_by=s.cancelled_by,
                late=s.late,
                reason=s.cancel_reason,
            )
            for s in group
        ]
    )


def mark_attendance(db: Db, caller: Caller, request: c.MarkAttendanceRequest) -> c.Session:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        session, _, relation = session_for(
            uow, who, request.tenant_id, request.session_id, for_update=True
        )
        if relation == COACHEE:
            raise coach_only("mark attendance")
        was = session.status
        if session.mark(request.attendance, who.person_id, now):
            # A cancellation corrected: the session takes its time back (no buffer: it is
            # over), unless another session has taken it since.
            try:
                uow.sessions.hold_time([session], 0)
            except TimeTaken:
                raise slot_taken() from None
        uow.sessions.save(session)
        if was == "booked":
            close_requests(uow, [session.id], now)
            uow.sessions.release_time([], holds_only=session.pending_request_id or "")
        if session.status == "held":
            uow.record(session_event(c.SessionHeld, session))
        else:
            absent = "coach" if session.status == NO_SHOW_COACH else "coachee"
            uow.record(session_event(c.SessionNoShow, session, absent=absent))
    return session_view(session)
