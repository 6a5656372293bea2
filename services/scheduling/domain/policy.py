"""The cancel/reschedule policy the platform enforces, one per tenant.

For the coachee, by how long before the session's start the change is asked:

| before the start            | cancel                     | reschedule                         |
|-----------------------------|----------------------------|------------------------------------|
| more than `free_hours`      | free                       | free                               |
| `request_hours`-`free_hours`| free                       | a request to the coach (held slot) |
| under `request_hours`       | late (uses up a session if | refused                            |
|                             | the tenant says so)        |                                    |
| after the start             | refused                    | refused                            |

The coach may always cancel (with a reason) or move a session before it starts; that never uses
up a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.kernel.errors import FailedPrecondition, invalid

FREE, REQUEST, LATE, STARTED = "free", "request", "late", "started"


@dataclass
class Policy:
    tenant_id: str
    free_hours: int = 48
    request_hours: int = 24
    late_cancel_uses_session: bool = True
    updated_at: datetime | None = None
    updated_by: str | None = None

    def check(self) -> Policy:
        if self.request_hours > self.free_hours:
            raise invalid(request_hours="must not exceed free_hours")
        return self

    def window(self, starts_at: datetime, now: datetime) -> str:
        ahead = starts_at - now
        if ahead <= timedelta(0):
            return STARTED
        if ahead > timedelta(hours=self.free_hours):
            return FREE
        if ahead >= timedelta(hours=self.request_hours):
            return REQUEST
        return LATE

    def coachee_cancel(self, starts_at: datetime, now: datetime) -> tuple[bool, bool]:
        """(late, uses_session) of a coachee's cancellation, or the refusal."""
        window = self.window(starts_at, now)
        if window == STARTED:
            raise started()
        if window == LATE:
            return True, self.late_cancel_uses_session
        return False, False

    def coachee_reschedule(self, starts_at: datetime, now: datetime, *, one: bool) -> str:
        """FREE (moved at once) or REQUEST (asked of the coach), or the refusal."""
        window = self.window(starts_at, now)
        if window == STARTED:
            raise started()
        if window == LATE:
            raise FailedPrecondition(
                f"Less than {self.request_hours} hours before a session, it can only be cancelled.",
                reason="POLICY_LATE_RESCHEDULE",
                metadata={"request_hours": str(self.request_hours)},
            )
        if window == REQUEST and not one:
            raise FailedPrecondition(
                f"Less than {self.free_hours} hours before, ask the coach to move this session "
                "only.",
                reason="POLICY_REQUEST_ONE_SESSION",
                metadata={"free_hours": str(self.free_hours)},
            )
        return window


def started() -> FailedPrecondition:
    return FailedPrecondition("The session has already started.", reason="SESSION_STARTED")
