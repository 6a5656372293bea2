"""Sessions, the space copy they are booked in, and reschedule requests."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.kernel.errors import FailedPrecondition, NotFound, PermissionDenied, invalid
from services.kernel.ids import new_id

BOOKED, CANCELLED, HELD = "booked", "cancelled", "held"
NO_SHOW_COACHEE, NO_SHOW_COACH = "no_show_coachee", "no_show_coach"
ATTENDANCE = (HELD, NO_SHOW_COACHEE, NO_SHOW_COACH)
COACHEE, COACH, CO_COACH, SYSTEM = "coachee", "coach", "co_coach", "system"
ACTIVE = "active"
PENDING, APPROVED, DECLINED, EXPIRED = "pending", "approved", "declined", "expired"
# Unmarked this long after its end, a session is listed "to mark" on the coach's dashboard.
TO_MARK_AFTER = timedelta(hours=2)
# Where an erased person's id stood.
ERASED_PERSON = "erased"


@dataclass
class SpaceCopy:
    """What scheduling keeps of a space, from the spaces events (the newest wins)."""

    space_id: str
    tenant_id: str
    status: str
    coachee_person_id: str
    coach_person_id: str
    co_coach_person_id: str | None
    cadence: str
    sessions_planned: int
    updated_at: datetime

    def relation_of(self, person_id: str) -> str | None:
        if person_id == self.coachee_person_id:
            return COACHEE
        if person_id == self.coach_person_id:
            return COACH
        if self.co_coach_person_id and person_id == self.co_coach_person_id:
            return CO_COACH
        return None

    def busy_shown_to(self, person_id: str) -> tuple[list[str], tuple[str, ...]]:
        """Whose busy time shapes the slots `person_id` sees: (people busy in any tenant,
        people busy in this tenant only). The coaches' is theirs, across tenants (a coach's
        busy intervals reveal nothing of another tenant's sessions); the coachee's counts
        across tenants only in the coachee's own view, so that a coach never reads from the
        slots when the coachee is busy elsewhere."""
        coaches = [p for p in (self.coach_person_id, self.co_coach_person_id) if p]
        if person_id == self.coachee_person_id:
            return [*coaches, self.coachee_person_id], ()
        return coaches, (self.coachee_person_id,)

    def participant(self, person_id: str) -> str:
        """The caller's relation to the space, or NOT_FOUND (rule 6: no hint it exists)."""
        relation = self.relation_of(person_id)
        if relation is None:
            raise space_not_found()
        return relation

    def check_active(self) -> None:
        if self.status != ACTIVE:
            raise FailedPrecondition(
                f"Sessions are booked only in an active space (this one is {self.status}).",
                reason="SPACE_NOT_ACTIVE",
                metadata={"status": self.status},
            )

    def people(self) -> list[str]:
        return [
            p for p in (self.coachee_person_id, self.coach_person_id, self.co_coach_person_id) if p
        ]


@dataclass
class Session:
    id: str
    tenant_id: str
    space_id: str
    series_id: str | None
    status: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    local_start: datetime  # naive wall time in time_zone
    shifted: bool
    coachee_person_id: str
    coach_person_id: str
    co_coach_person_id: str | None
    booked_by: str
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    late: bool = False
    uses_session: bool = True
    marked_at: datetime | None = None
    marked_by: str | None = None
    sequence: int = 0
    pending_request_id: str | None = None
    # In a series: the wall time the series' rule gives this occurrence (iCalendar's
    # RECURRENCE-ID), kept when the occurrence alone moves.
    occurrence: datetime | None = None

    @classmethod
    def book(
        cls,
        space: SpaceCopy,
        starts_at: datetime,
        minutes: int,
        time_zone: str,
        local_start: datetime,
        shifted: bool,
        booked_by: str,
        now: datetime,
        series_id: str | None = None,
    ) -> Session:
        return cls(
            id=new_id("ses"),
            tenant_id=space.tenant_id,
            space_id=space.space_id,
            series_id=series_id,
            status=BOOKED,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            time_zone=time_zone,
            local_start=local_start,
            shifted=shifted,
            coachee_person_id=space.coachee_person_id,
            coach_person_id=space.coach_person_id,
            co_coach_person_id=space.co_coach_person_id,
            booked_by=booked_by,
            created_at=now,
            updated_at=now,
            occurrence=local_start if series_id else None,
        )

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def people(self) -> list[str]:
        return [
            p for p in (self.coachee_person_id, self.coach_person_id, self.co_coach_person_id) if p
        ]

    def side_of(self, person_id: str) -> str | None:
        if person_id == self.coachee_person_id:
            return COACHEE
        if person_id in (self.coach_person_id, self.co_coach_person_id):
            return COACH
        return None

    def check_open(self, now: datetime) -> None:
        if self.status != BOOKED:
            raise FailedPrecondition(
                f"The session is {self.status.replace('_', ' ')}.",
                reason="SESSION_NOT_BOOKED",
                metadata={"status": self.status},
            )
        if now >= self.starts_at:
            raise FailedPrecondition("The session has already started.", reason="SESSION_STARTED")

    def moved(
        self, starts_at: datetime, local_start: datetime, shifted: bool, now: datetime
    ) -> Session:
        return replace(
            self,
            starts_at=starts_at,
            ends_at=starts_at + (self.ends_at - self.starts_at),
            local_start=local_start,
            shifted=shifted,
            sequence=self.sequence + 1,
            updated_at=now,
            pending_request_id=None,
        )

    def cancel(
        self, by: str, reason: str | None, late: bool, uses_session: bool, now: datetime
    ) -> None:
        self.status = CANCELLED
        self.cancelled_at = now
        self.cancelled_by = by
        self.cancel_reason = reason
        self.late = late
        self.uses_session = uses_session
        self.sequence += 1
        self.updated_at = now
        self.pending_request_id = None

    def mark(self, attendance: str, by: str, now: datetime) -> bool:
        """Attendance, once the session has started; marking again corrects it. A cancelled
        session that took place after all is corrected the same way: its cancellation is gone
        (the caller must take its time back first, which another session may have taken),
        unless the platform cancelled it. True if it was a cancelled session."""
        if attendance not in ATTENDANCE:
            raise invalid(attendance="HELD, NO_SHOW_COACHEE or NO_SHOW_COACH")
        if now < self.starts_at:
            raise FailedPrecondition(
                "Attendance is marked once the session has started.", reason="SESSION_NOT_STARTED"
            )
        was_cancelled = self.status == CANCELLED
        if was_cancelled and self.cancelled_by not in (COACHEE, COACH):
            # The platform cancelled it (a coach change, an erasure): nothing to correct.
            raise FailedPrecondition(
                "A cancelled session has no attendance.", reason="SESSION_CANCELLED"
            )
        if was_cancelled:
            self.cancelled_at = self.cancelled_by = self.cancel_reason = None
            self.late = False
        self.status = attendance
        # A coach who did not come never costs the coachee a session.
        self.uses_session = attendance != NO_SHOW_COACH
        self.marked_at = now
        self.marked_by = by
        self.updated_at = now
        return was_cancelled

    def to_mark(self, now: datetime) -> bool:
        return self.status == BOOKED and self.ends_at + TO_MARK_AFTER <= now

    def change_co_coach(self, new: str | None, now: datetime) -> None:
        """The space's co-coach changed: the session is theirs now, and calendars get a new
        version (its sequence is raised)."""
        self.co_coach_person_id = new
        self.sequence += 1
        self.updated_at = now


@dataclass(frozen=True)
class EngagementUse:
    """How much of a space's engagement its sessions use (`check_room_for`: what a booking
    checks)."""

    planned: int
    used: int = 0  # booked, held, no-shows and late cancellations that use a session
    held: int = 0
    booked: int = 0  # booked and not marked yet

    @property
    def left(self) -> int:
        return max(self.planned - self.used, 0)

    def check_room_for(self, asked: int) -> None:
        """Refuse `asked` more sessions beyond what the engagement has left."""
        if asked > self.left:
            raise FailedPrecondition(
                f"The engagement has {self.left} sessions left; {asked} asked.",
                reason="ENGAGEMENT_EXHAUSTED",
                metadata={"sessions_left": str(self.left), "asked": str(asked)},
            )


@dataclass
class ChangeRequest:
    id: str
    tenant_id: str
    space_id: str
    session_id: str
    status: str
    original_starts_at: datetime
    proposed_starts_at: datetime
    proposed_ends_at: datetime
    proposed_local: datetime
    proposed_shifted: bool
    requested_by: str
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None

    @classmethod
    def ask(
        cls,
        session: Session,
        starts_at: datetime,
        local: datetime,
        shifted: bool,
        by: str,
        now: datetime,
    ) -> ChangeRequest:
        return cls(
            id=new_id("rrq"),
            tenant_id=session.tenant_id,
            space_id=session.space_id,
            session_id=session.id,
            status=PENDING,
            original_starts_at=session.starts_at,
            proposed_starts_at=starts_at,
            proposed_ends_at=starts_at + (session.ends_at - session.starts_at),
            proposed_local=local,
            proposed_shifted=shifted,
            requested_by=by,
            created_at=now,
            # Unanswered, it lapses when the original session starts: the original stands.
            expires_at=session.starts_at,
        )

    def close(self, status: str, by: str | None, now: datetime) -> None:
        if self.status != PENDING:
            raise FailedPrecondition(
                f"The request is already {self.status}.",
                reason="REQUEST_CLOSED",
                metadata={"status": self.status},
            )
        if status != EXPIRED and now >= self.expires_at:
            raise FailedPrecondition(
                "The request expired when the session started.", reason="REQUEST_EXPIRED"
            )
        self.status = status
        self.decided_at = now
        self.decided_by = by


class TimeTaken(Exception):
    """Someone's busy time overlaps what a booking, move or held proposal asks (raised by the
    sessions repository: the database's exclusion constraint, or a fake's own check)."""


def check_start(starts_at: datetime, now: datetime) -> None:
    """A session is booked or moved to a future time only."""
    if starts_at <= now:
        raise FailedPrecondition("The time asked is in the past.", reason="IN_THE_PAST")


def space_not_found() -> NotFound:
    return NotFound("No such space.", reason="SPACE_NOT_FOUND")


def session_not_found() -> NotFound:
    return NotFound("No such session.", reason="SESSION_NOT_FOUND")


def request_not_found() -> NotFound:
    return NotFound("No such reschedule request.", reason="REQUEST_NOT_FOUND")


def coach_only(action: str) -> PermissionDenied:
    return PermissionDenied(f"Only the coach may {action}.", reason="COACH_ONLY")


def slot_taken(conflicts: list[str] | None = None) -> FailedPrecondition:
    metadata = {"conflicts": ",".join(conflicts)} if conflicts else {}
    return FailedPrecondition(
        "A participant is already busy then."
        + (f" Conflicting dates: {', '.join(conflicts)}." if conflicts else ""),
        reason="SLOT_TAKEN",
        metadata=metadata,
    )
