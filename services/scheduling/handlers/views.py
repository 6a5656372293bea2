"""What the API answers and the events say of sessions and reschedule requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.contracts import scheduling as c

from ..domain.model import CANCELLED, NO_SHOW_COACH, NO_SHOW_COACHEE, ChangeRequest, Session


def session_state(s: Session) -> dict[str, Any]:
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
        **session_state(s),
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


def request_state(r: ChangeRequest) -> dict[str, Any]:
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
        **request_state(r),
        requested_by_person_id=r.requested_by,
        created_at=r.created_at,
        decided_at=r.decided_at,
    )


def session_event(model: type[c.SessionEvent], s: Session, **more: Any) -> c.SessionEvent:
    return model(**more, **session_state(s))


def session_snapshot(s: Session) -> c.SessionEvent:
    """The session's current state with what its cancellation or no-show said (ADR 0022)."""
    more: dict[str, Any] = {}
    if s.status == CANCELLED:
        more = {"cancelled_by": s.cancelled_by, "late": s.late, "reason": s.cancel_reason}
    elif s.status in (NO_SHOW_COACHEE, NO_SHOW_COACH):
        more = {"absent": "coach" if s.status == NO_SHOW_COACH else "coachee"}
    return session_event(c.SessionSnapshot, s, **more)


def request_event(model: type[c.RescheduleRequested], r: ChangeRequest) -> c.RescheduleRequested:
    return model(**request_state(r))


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
