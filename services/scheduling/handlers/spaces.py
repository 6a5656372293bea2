"""Spaces' events: scheduling's copy of each space, and what its changes do to sessions."""

from __future__ import annotations

from services.contracts import scheduling as c
from services.contracts import spaces as sc

from ..domain.changes import CLOSING_STATUSES, COACH_CHANGED
from ..domain.model import SYSTEM, Session, SpaceCopy
from ..storage.unit import SchedulingUnit
from .changes import cancelled
from .views import session_event


def record_space(uow: SchedulingUnit, event: sc.SpaceEvent) -> None:
    """Keep the space's copy; a space that stops (paused, completed, archived) has its future
    sessions cancelled without penalty, and a coach change cancels the previous coach's; a
    co-coach change moves their busy time to the new co-coach where they are free."""
    now = uow.clock.now()
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
    previous = uow.spaces.apply(copy)
    if previous is copy:
        return  # a newer state is kept already
    group: list[Session] = []
    reason = CLOSING_STATUSES.get(copy.status)
    if reason is not None:
        group = uow.sessions.future_of_space(copy.space_id, now)
    elif isinstance(event, sc.CoachChanged):
        reason = COACH_CHANGED
        group = uow.sessions.future_of_space(
            copy.space_id, now, coach_person_id=event.previous_coach_person_id
        )
    elif isinstance(event, sc.CoCoachChanged):
        old, new = event.previous_co_coach_person_id, event.co_coach_person_id
        for s in uow.sessions.future_of_space(copy.space_id, now):
            if s.co_coach_person_id != old:
                continue
            s.change_co_coach(new, now)
            uow.sessions.swap_person(s, old, new)
            uow.record(
                session_event(
                    c.SessionRescheduled,
                    s,
                    previous_starts_at=s.starts_at,
                    previous_ends_at=s.ends_at,
                )
            )
    for s in group:
        s.cancel(SYSTEM, reason, False, False, now)
    if group:
        cancelled(uow, group, now, whole=True)
