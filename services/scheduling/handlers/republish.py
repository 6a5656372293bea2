"""Republishing every session's current state for consumers that start late (ADR 0022)."""

from __future__ import annotations

from services.contracts.base import RepublishReport, RepublishRequest
from services.kernel.runtime.republish import Snapshots, republish

from ..storage.unit import Db, SchedulingUnit
from .views import session_snapshot

SNAPSHOTS: tuple[Snapshots[SchedulingUnit], ...] = (
    Snapshots(
        page=lambda uow, tenant_id, after, limit: uow.sessions.ids_after(tenant_id, after, limit),
        snapshots=lambda uow, ids: [session_snapshot(s) for s in uow.sessions.get_many(ids)],
    ),
)


def republish_state(db: Db, request: RepublishRequest) -> RepublishReport:
    """A snapshot of every session (of one tenant, when named), in batches."""
    return RepublishReport(recorded=republish(db, SNAPSHOTS, request.tenant_id))
