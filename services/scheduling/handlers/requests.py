"""Reschedule requests: listed, approved or declined by the coach; lapsed by the timer."""

from __future__ import annotations

from services.contracts import scheduling as c
from services.kernel.caller import Caller, PersonClaims, member_of

from ..domain.model import (
    APPROVED,
    COACHEE,
    DECLINED,
    EXPIRED,
    ChangeRequest,
    Session,
    SpaceCopy,
    coach_only,
    request_not_found,
)
from ..storage.unit import Db, SchedulingUnit
from .views import request_event, request_view, session_event, session_view


def list_change_requests(
    db: Db, caller: Caller, request: c.ListChangeRequestsRequest
) -> c.ChangeRequestList:
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        mine = [s.space_id for s in uow.spaces.of_person(request.tenant_id, who.person_id)]
        found, token = uow.requests.page(
            request.tenant_id,
            mine,
            request.status,
            request.effective_page_size(),
            request.page_token,
        )
    return c.ChangeRequestList(requests=[request_view(q) for q in found], next_page_token=token)


def _request_for(
    uow: SchedulingUnit, who: PersonClaims, tenant_id: str, request_id: str
) -> tuple[ChangeRequest, Session, SpaceCopy]:
    asked = uow.requests.get(tenant_id, request_id, for_update=True)
    if asked is None:
        raise request_not_found()
    space = uow.spaces.get(tenant_id, asked.space_id, for_update=True)
    relation = space.relation_of(who.person_id) if space else None
    if space is None or relation is None:
        raise request_not_found()
    if relation == COACHEE:
        raise coach_only("answer a reschedule request")
    session = uow.sessions.get(tenant_id, asked.session_id, for_update=True)
    assert session is not None
    return asked, session, space


def approve_change_request(
    db: Db, caller: Caller, request: c.ChangeRequestRef
) -> c.RescheduleResponse:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        asked, session, _ = _request_for(uow, who, request.tenant_id, request.request_id)
        asked.close(APPROVED, who.person_id, now)
        moved = session.moved(
            asked.proposed_starts_at, asked.proposed_local, asked.proposed_shifted, now
        )
        uow.sessions.promote_hold(asked.id, session.id)
        uow.sessions.save(moved)
        uow.requests.save(asked)
        uow.record(
            session_event(
                c.SessionRescheduled,
                moved,
                previous_starts_at=session.starts_at,
                previous_ends_at=session.ends_at,
            )
        )
        uow.record(request_event(c.RescheduleRequestClosed, asked))
    return c.RescheduleResponse(
        outcome="rescheduled", sessions=[session_view(moved)], request=request_view(asked)
    )


def decline_change_request(db: Db, caller: Caller, request: c.ChangeRequestRef) -> c.ChangeRequest:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        asked, session, _ = _request_for(uow, who, request.tenant_id, request.request_id)
        asked.close(DECLINED, who.person_id, now)
        _lapse(uow, asked, session)
    return request_view(asked)


def _lapse(uow: SchedulingUnit, asked: ChangeRequest, session: Session) -> None:
    uow.requests.save(asked)
    uow.sessions.release_time([], holds_only=asked.id)
    session.pending_request_id = None
    uow.sessions.save(session)
    uow.record(request_event(c.RescheduleRequestClosed, asked))


def expire_requests(db: Db) -> int:
    """The timer's sweep: unanswered requests lapse when their session starts (the original
    stands) and their held slot is freed. Safe with several instances (SKIP LOCKED)."""
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        lapsed = uow.requests.lapsed(now)
        for asked in lapsed:
            asked.close(EXPIRED, None, now)
            session = uow.sessions.get(asked.tenant_id, asked.session_id, for_update=True)
            assert session is not None
            _lapse(uow, asked, session)
    return len(lapsed)
