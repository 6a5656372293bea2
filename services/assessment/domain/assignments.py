"""Assignments and their attempts: who may do what, and an assignment's state. Plain Python.

A space's coach (or co-coach) assigns an instrument version to an active space; its coachee
saves drafts and submits; each submission is an attempt, scored with the version assigned. The
coach allows a retake: one more attempt. Everyone else (a tenant admin, another coach, a former
coach, another tenant) learns nothing, not even that the assignment exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.kernel.errors import FailedPrecondition, NotFound
from services.kernel.space_copy import ACTIVE, SpaceCopy
from services.kernel.space_copy import space_not_found as space_not_found

from .instruments import Instrument

DRAFT = "draft"
SUBMITTED = "submitted"


def not_found() -> NotFound:
    return NotFound("No such assignment.", reason="ASSIGNMENT_NOT_FOUND")


@dataclass
class Attempt:
    number: int
    status: str
    answers: dict[str, Any]
    started_at: datetime
    updated_at: datetime
    scores: list[dict[str, Any]] | None = None  # once submitted
    submitted_at: datetime | None = None


@dataclass
class Assignment:
    id: str
    tenant_id: str
    space_id: str
    coachee_person_id: str
    instrument_id: str
    instrument: Instrument
    attempts_allowed: int
    assigned_by_person_id: str
    created_at: datetime
    updated_at: datetime
    data_key: str = ""
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def status(self) -> str:
        """assigned (nothing saved yet), in_progress (a draft), submitted (no attempt left),
        retake_allowed (every attempt submitted, one more allowed)."""
        if not self.attempts:
            return "assigned"
        if self.attempts[-1].status == DRAFT:
            return "in_progress"
        return "retake_allowed" if len(self.attempts) < self.attempts_allowed else "submitted"

    def open_attempt(self, now: datetime) -> Attempt:
        """The draft to write the coachee's answers into: the current one, or a new attempt when
        one is left; FAILED_PRECONDITION when every allowed attempt is submitted."""
        if self.attempts and self.attempts[-1].status == DRAFT:
            return self.attempts[-1]
        if len(self.attempts) >= self.attempts_allowed:
            raise FailedPrecondition(
                "Every attempt allowed is submitted: the coach may allow a retake.",
                reason="NO_ATTEMPT_LEFT",
            )
        attempt = Attempt(len(self.attempts) + 1, DRAFT, {}, now, now)
        self.attempts.append(attempt)
        return attempt

    def allow_retake(self, now: datetime) -> None:
        if self.status != "submitted":
            raise FailedPrecondition(
                "A retake is allowed once every attempt allowed is submitted.",
                reason="RETAKE_NOT_NEEDED",
            )
        self.attempts_allowed += 1
        self.updated_at = now

    def submitted(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status == SUBMITTED]


def require_active(space: SpaceCopy) -> None:
    if space.status != ACTIVE:
        raise FailedPrecondition("The space is not active.", reason="SPACE_NOT_ACTIVE")
