"""Who coaches whom: the copy of each space kept from spaces' events (as scheduling does)."""

from __future__ import annotations

from services.contracts import spaces as sc

from ..domain.assignments import SpaceCopy
from ..storage.unit import AssessmentUnit


def record_space(uow: AssessmentUnit, event: sc.SpaceEvent) -> None:
    """Keep the space's newest state: its coachee, coach and co-coach (a former coach loses
    access with the change), and its status (assignments need an active space)."""
    uow.spaces.apply(
        SpaceCopy(
            space_id=event.space_id,
            tenant_id=event.tenant_id,
            status=str(event.status),
            coachee_person_id=event.coachee_person_id,
            coach_person_id=event.coach_person_id,
            co_coach_person_id=event.co_coach_person_id,
            updated_at=event.updated_at,
        )
    )
