"""Republishing every assignment's current state for consumers that start late (ADR 0022):
ids, status and the dates of its submitted attempts, never answers nor scores."""

from __future__ import annotations

from services.contracts import assessment as c
from services.contracts.base import RepublishReport, RepublishRequest
from services.kernel.runtime.republish import Snapshots, republish

from ..domain.assignments import SUBMITTED, Assignment
from ..storage.unit import AssessmentUnit, Db
from .views import event_of


def assignment_snapshot(a: Assignment) -> c.AssignmentEvent:
    submitted = [t.submitted_at for t in a.attempts if t.status == SUBMITTED and t.submitted_at]
    return event_of(
        c.AssignmentSnapshot, a, attempts_submitted=len(submitted), submitted_at=submitted
    )


SNAPSHOTS: tuple[Snapshots[AssessmentUnit], ...] = (
    Snapshots(
        page=lambda uow, tenant_id, after, limit: uow.assignments.ids_after(
            tenant_id, after, limit
        ),
        snapshots=lambda uow, ids: [assignment_snapshot(a) for a in uow.assignments.get_many(ids)],
    ),
)


def republish_state(db: Db, request: RepublishRequest) -> RepublishReport:
    """A snapshot of every assignment (of one tenant, when named), in batches."""
    return RepublishReport(recorded=republish(db, SNAPSHOTS, request.tenant_id))
