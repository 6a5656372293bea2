"""Republishing every started module's progress for consumers that start late (ADR 0022):
ids, version and counts, as the live progress events, never what the coachee wrote."""

from __future__ import annotations

from services.contracts import content as c
from services.contracts.base import RepublishReport, RepublishRequest
from services.kernel.runtime.republish import Snapshots, republish

from ..storage.unit import ContentUnit, Db
from .modules import progress_event


def module_snapshots(uow: ContentUnit, assignment_ids: list[str]) -> list[c.ModuleProgressEvent]:
    progress = uow.module_progress.of_assignments(assignment_ids)
    return [
        progress_event(
            c.ModuleSnapshot,
            a,
            p,
            p.last_seen_at,
            started_at=p.started_at,
            completed_at=p.completed_at,
        )
        for a in uow.module_assignments.get_many(assignment_ids)
        if (p := progress.get(a.id)) is not None
    ]


SNAPSHOTS: tuple[Snapshots[ContentUnit], ...] = (
    Snapshots(
        page=lambda uow, tenant_id, after, limit: uow.module_progress.ids_after(
            tenant_id, after, limit
        ),
        snapshots=module_snapshots,
    ),
)


def republish_state(db: Db, request: RepublishRequest) -> RepublishReport:
    """A snapshot of every started module (of one tenant, when named), in batches."""
    return RepublishReport(recorded=republish(db, SNAPSHOTS, request.tenant_id))
