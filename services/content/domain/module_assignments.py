"""A module assigned to a space: the space's coach (or co-coach) assigns a module of the
catalogue to an active space, once per module; its coachee takes it (domain/progress.py), in the
version that is the latest when they start. Plain Python.

The catalogue is the modules shipped with ecoach (services/content/modules) and those operators
import; every coach and coachee of every tenant reads it (a named cross-tenant read, as
assessment's built-in instruments). An assignment and its progress are the space's people's
only: anyone else, a former coach included, learns nothing (NOT_FOUND).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.kernel.errors import AlreadyExists, NotFound, PermissionDenied

SHIPPED, IMPORTED = "shipped", "imported"


@dataclass(frozen=True)
class ModuleAssignment:
    id: str
    tenant_id: str
    space_id: str
    coachee_person_id: str
    slug: str
    assigned_by_person_id: str
    created_at: datetime


def module_not_found() -> NotFound:
    return NotFound("No module has this slug and version.", reason="MODULE_NOT_FOUND")


def assignment_not_found() -> NotFound:
    return NotFound("No such module assignment.", reason="MODULE_ASSIGNMENT_NOT_FOUND")


def already_assigned() -> AlreadyExists:
    return AlreadyExists(
        "This module is already assigned in this space.", reason="MODULE_ALREADY_ASSIGNED"
    )


def learner_only() -> PermissionDenied:
    return PermissionDenied(
        "Only the space's coachee takes the module.", reason="SPACE_COACHEE_ONLY"
    )
