"""Who may reach an assignment: the people of its space today (its coachee, coach and
co-coach), as assessment's copy of the space knows them (the `spaces.space_*` events); anyone
else, a former coach included, is told it does not exist. The coachee is also refused an
assignment a locked tool of its space's toolbox holds (TOOL_LOCKED: the `spaces.tool_*` events,
docs/adr/0019-toolbox-gates.md); the coaches never are."""

from __future__ import annotations

from services.kernel.caller import PersonClaims
from services.kernel.crypto import MasterKey
from services.kernel.errors import PermissionDenied
from services.kernel.space_copy import Relation, participant
from services.kernel.tool_copy import require_unlocked

from ..domain.assignments import Assignment, not_found
from ..storage.unit import AssessmentUnit
from .tools import KIND


def coach_only() -> PermissionDenied:
    return PermissionDenied("Only the space's coach may do this.", reason="SPACE_COACH_ONLY")


def coachee_only() -> PermissionDenied:
    return PermissionDenied("Only the space's coachee answers.", reason="SPACE_COACHEE_ONLY")


def space_relation(uow: AssessmentUnit, who: PersonClaims, space_id: str) -> Relation:
    return participant(uow.spaces.get(space_id), who.tenant_id, who.person_id)


def access(
    uow: AssessmentUnit,
    master: MasterKey,
    who: PersonClaims,
    assignment_id: str,
    *,
    for_update: bool = False,
    attempts: bool = True,
) -> tuple[Assignment, Relation]:
    """The assignment and the caller's relation to its space, or NOT_FOUND for anyone who is
    not in the space today (a former coach included), FAILED_PRECONDITION (TOOL_LOCKED) for its
    coachee while a tool holds it locked; its attempts without their answers
    (`uow.assignments.attempt_of` opens one attempt's), or none without `attempts`."""
    found = uow.assignments.unlocked(master).get(
        assignment_id, for_update=for_update, attempts=attempts
    )
    if found is None or found.tenant_id != who.tenant_id:
        raise not_found()
    space = uow.spaces.get(found.space_id)
    relation = space.relation_of(who.tenant_id, who.person_id) if space else None
    if relation is None:
        raise not_found()
    require_unlocked(uow.tools.of_target(KIND, found.id), found.space_id, relation)
    return found, relation
