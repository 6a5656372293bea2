"""Who may reach what (rule 5): a session, space or request is found for its participants
only; anyone else, a tenant admin included, gets NOT_FOUND. Shared by the handler modules."""

from __future__ import annotations

from services.kernel.caller import PersonClaims
from services.kernel.errors import FailedPrecondition

from ..domain.availability import Availability
from ..domain.model import Session, SpaceCopy, session_not_found, space_not_found
from ..storage.unit import SchedulingUnit


def coach_availability(uow: SchedulingUnit, space: SpaceCopy) -> Availability:
    found = uow.availability.get(space.coach_person_id)
    if found is None:
        raise FailedPrecondition(
            "The coach has not set their availability yet.", reason="NO_AVAILABILITY"
        )
    return found


def space_for(
    uow: SchedulingUnit, who: PersonClaims, tenant_id: str, space_id: str
) -> tuple[SpaceCopy, str]:
    """The space, locked (bookings of one space queue here: the engagement's count holds under
    races), and the caller's relation to it."""
    space = uow.spaces.get(tenant_id, space_id, for_update=True)
    if space is None:
        raise space_not_found()
    return space, space.participant(who.person_id)


def session_for(
    uow: SchedulingUnit,
    who: PersonClaims,
    tenant_id: str,
    session_id: str,
    *,
    for_update: bool = False,
) -> tuple[Session, SpaceCopy, str]:
    """The session, its space and the caller's relation to the space now; NOT_FOUND for
    anyone else (a previous coach included)."""
    session = uow.sessions.get(tenant_id, session_id, for_update=for_update)
    if session is None:
        raise session_not_found()
    space = uow.spaces.get(tenant_id, session.space_id, for_update=for_update)
    relation = space.relation_of(who.person_id) if space else None
    if space is None or relation is None:
        raise session_not_found()
    return session, space, relation
