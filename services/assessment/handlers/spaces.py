"""Who coaches whom: the copy of each space kept from spaces' events (as scheduling does)."""

from __future__ import annotations

from services.contracts import spaces as sc
from services.kernel.runtime.space_copies import copy_of

from ..storage.unit import AssessmentUnit


def record_space(uow: AssessmentUnit, event: sc.SpaceEvent) -> None:
    """Keep the space's newest state: its coachee, coach and co-coach (a former coach loses
    access with the change), and its status (assignments need an active space)."""
    uow.spaces.apply(copy_of(event))
