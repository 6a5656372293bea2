"""What a change asked of booked sessions becomes: the reschedule decision tree, the reasons a
cancellation may give, and what a space's change does to its future sessions.

Pure rules, the handlers (`handlers/changes.py`, `handlers/spaces.py`) apply them.
"""

from __future__ import annotations

from datetime import datetime

from services.kernel.errors import FailedPrecondition, Problem, invalid

from .availability import Availability
from .model import COACH, COACHEE, Session
from .policy import FREE, REQUEST, Policy

# Why a coach cancels (the API's REASON_*); a coachee may give one of them too, or none.
# A space's status that cancels its future sessions, and the reason recorded.
CLOSING_STATUSES = {
    "paused": "space_paused",
    "completed": "space_completed",
    "archived": "space_archived",
}
COACH_CHANGED = "coach_changed"
PERSON_ERASED = "person_erased"


def reschedule_decision(
    relation: str,
    policy: Policy,
    availability: Availability,
    session: Session,
    new_start: datetime,
    new_end: datetime,
    now: datetime,
    *,
    following: bool,
) -> str:
    """FREE: the session moves at once; REQUEST: the coach is asked, the new time held meanwhile.

    The coach (or co-coach) moves a session freely, anywhere the participants are free. The
    coachee's move is decided by the tenant's policy (free, a request, or refused: late or
    started; a request moves one session only), must fit the coach's bookable hours, and only
    one request per session waits at a time."""
    if relation != COACHEE:
        return FREE
    window = policy.coachee_reschedule(session.starts_at, now, one=not following)
    availability.check_bookable(new_start, new_end, now)
    if window == REQUEST and session.pending_request_id:
        raise FailedPrecondition(
            "A request to move this session is already waiting for the coach.",
            reason="REQUEST_PENDING",
        )
    return window


def check_cancel_reason(relation: str, reason: str | None, coach_reasons: tuple[str, ...]) -> None:
    """A coach gives one of `coach_reasons`; a coachee gives none or one of them."""
    if relation != COACHEE and reason not in coach_reasons:
        raise invalid(
            reason=Problem(
                "a coach gives a reason: %(reasons)s",
                reasons=", ".join("REASON_" + r.upper() for r in coach_reasons),
            )
        )
    if relation == COACHEE and reason is not None and reason not in coach_reasons:
        raise invalid(reason="not a reason a person gives")


def cancel(
    session: Session, relation: str, reason: str | None, policy: Policy, now: datetime
) -> None:
    """A participant's cancellation: the coachee's is late (and may use up a session) by the
    tenant's policy, refused once started; the coach's never uses a session."""
    if relation == COACHEE:
        late, uses = policy.coachee_cancel(session.starts_at, now)
        session.cancel(COACHEE, reason, late, uses, now)
    else:
        session.cancel(COACH, reason, False, False, now)
