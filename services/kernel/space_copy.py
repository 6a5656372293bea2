"""Who is in a space, as a service that keeps a copy of it from spaces' events knows it (the
kernel's `runtime/space_copies.py` keeps the copy; this is the plain value and its one rule).
Plain Python: domain code imports it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .errors import NotFound

ACTIVE = "active"
# Where an erased person's id stood.
ERASED_PERSON = "erased"


class Relation(StrEnum):
    COACHEE = "coachee"
    COACH = "coach"  # the space's coach or co-coach


@dataclass(frozen=True)
class SpaceCopy:
    """A space's people and status, the newest the service has heard of."""

    space_id: str
    tenant_id: str
    status: str
    coachee_person_id: str
    coach_person_id: str
    co_coach_person_id: str | None
    updated_at: datetime

    def relation_of(self, tenant_id: str | None, person_id: str) -> Relation | None:
        """The person's part in the space today, or None (another tenant, a former coach,
        anyone else)."""
        if tenant_id != self.tenant_id:
            return None
        if person_id == self.coachee_person_id:
            return Relation.COACHEE
        if person_id in (self.coach_person_id, self.co_coach_person_id):
            return Relation.COACH
        return None


def space_not_found() -> NotFound:
    return NotFound("No such space.", reason="SPACE_NOT_FOUND")


def participant(space: SpaceCopy | None, tenant_id: str | None, person_id: str) -> Relation:
    """The person's part in the space, or NOT_FOUND (SPACE_NOT_FOUND) for anyone not in it
    today, as for a space that does not exist (rule 6)."""
    relation = space.relation_of(tenant_id, person_id) if space else None
    if relation is None:
        raise space_not_found()
    return relation
