"""Recommendations: a coach (or co-coach) recommends a resource they may read into an active
space, with a note of their own; the space's coachee reads it and says whether it helped.
Plain Python.

The resource is copied into the recommendation as it is then: the coachee reads what their
coach chose, whatever its owner later changes or deletes, and never needs to read the library
(a coach's private resource included). The note is the coach's words to the coachee: sealed at
rest, never in an event. Everyone but the space's people learns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.kernel.errors import FailedPrecondition, NotFound, PermissionDenied
from services.kernel.space_copy import ACTIVE, SpaceCopy
from services.kernel.space_copy import space_not_found as space_not_found

from .resources import Resource

NEW, READ = "new", "read"


@dataclass(frozen=True)
class RecommendedResource:
    kind: str
    title: str
    url: str
    author: str
    language: str
    minutes: int
    tags: tuple[str, ...]
    why: str

    @classmethod
    def of(cls, r: Resource) -> RecommendedResource:
        return cls(r.kind, r.title, r.url, r.author, r.language, r.minutes, r.tags, r.why)


@dataclass
class Recommendation:
    id: str
    tenant_id: str
    space_id: str
    resource_id: str
    resource: RecommendedResource
    note: str
    recommended_by_person_id: str
    created_at: datetime
    updated_at: datetime
    status: str = NEW
    useful: bool | None = None
    data_key: str = ""

    def mark(self, read: bool, useful: bool | None, now: datetime) -> bool:
        """The coachee's marks; whether anything changed."""
        status = READ if read else NEW
        if (status, useful) == (self.status, self.useful):
            return False
        self.status, self.useful, self.updated_at = status, useful, now
        return True


def not_found() -> NotFound:
    return NotFound("No such recommendation.", reason="RECOMMENDATION_NOT_FOUND")


def require_active(space: SpaceCopy) -> None:
    if space.status != ACTIVE:
        raise FailedPrecondition("The space is not active.", reason="SPACE_NOT_ACTIVE")


def coach_only() -> PermissionDenied:
    return PermissionDenied("Only the space's coach may do this.", reason="SPACE_COACH_ONLY")


def coachee_only() -> PermissionDenied:
    return PermissionDenied(
        "Only the space's coachee marks what they read.", reason="SPACE_COACHEE_ONLY"
    )
