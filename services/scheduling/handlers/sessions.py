"""Reading sessions: one, a space's, the caller's own across tenants, and the dashboard."""

from __future__ import annotations

from datetime import timedelta

from services.contracts import scheduling as c
from services.kernel.caller import Caller, member_of, require_person
from services.kernel.errors import invalid

from ..domain.model import COACHEE, TO_MARK_AFTER, EngagementUse, space_not_found
from ..domain.rooms import CLOSES_AFTER_MINUTES, OPENS_BEFORE_MINUTES, RoomWindow
from ..storage.unit import Db
from .access import session_for
from .views import request_view, session_view, utc

MAX_MY_RANGE = timedelta(days=366)


def get_session(db: Db, caller: Caller, request: c.SessionRef) -> c.Session:
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        session, _, _ = session_for(uow, who, request.tenant_id, request.session_id)
    return session_view(session)


def list_space_sessions(
    db: Db, caller: Caller, request: c.ListSpaceSessionsRequest
) -> c.SessionList:
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        space = uow.spaces.get(request.tenant_id, request.space_id)
        if space is None:
            raise space_not_found()
        space.participant(who.person_id)
        found, token = uow.sessions.page_of_space(
            request.tenant_id, request.space_id, request.effective_page_size(), request.page_token
        )
    return c.SessionList(sessions=[session_view(s) for s in found], next_page_token=token)


def list_my_sessions(db: Db, caller: Caller, request: c.ListMySessionsRequest) -> c.SessionList:
    """The caller's own sessions in every tenant (the one cross-tenant read of sessions)."""
    who = require_person(caller)
    if request.to_time <= request.from_time:
        raise invalid(to_time="must be after from_time")
    if request.to_time - request.from_time > MAX_MY_RANGE:
        raise invalid(to_time="at most 366 days after from_time")
    with db.read_only() as uow:
        found = uow.sessions.of_person(who.person_id, utc(request.from_time), utc(request.to_time))
    return c.SessionList(sessions=[session_view(s) for s in found])


def _engagement_view(use: EngagementUse) -> c.EngagementUse:
    return c.EngagementUse(
        sessions_planned=use.planned,
        sessions_used=use.used,
        sessions_held=use.held,
        sessions_booked=use.booked,
        sessions_left=use.left,
    )


def get_dashboard(db: Db, caller: Caller, request: c.DashboardRequest) -> c.SchedulingDashboard:
    who = member_of(caller, request.tenant_id)
    with db.snapshot() as uow:  # the lists and the counts beside them agree
        now = uow.clock.now()
        mine = uow.spaces.of_person(request.tenant_id, who.person_id)
        upcoming = uow.sessions.next_of_spaces(
            request.tenant_id, [s.space_id for s in mine], now, request.per_space
        )
        coaching = [s.space_id for s in mine if s.relation_of(who.person_id) != COACHEE]
        to_mark = (
            uow.sessions.to_mark(request.tenant_id, who.person_id, now - TO_MARK_AFTER)
            if coaching
            else []
        )
        waiting = uow.requests.pending_for(request.tenant_id, coaching)
        windows = uow.video.windows({request.tenant_id})
        counts = uow.sessions.use_of_spaces(request.tenant_id, [s.space_id for s in mine])
        unmarked = uow.sessions.to_mark_counts(
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
