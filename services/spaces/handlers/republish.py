"""Republishing every space's, goal's and tool's current state for consumers that start late
(ADR 0022). Nothing sealed is read: set-ups, statuses and times only."""

from __future__ import annotations

from typing import Any

from services.contracts import spaces as c
from services.contracts.base import RepublishReport, RepublishRequest
from services.kernel.runtime.republish import Snapshots, republish

from ..storage.unit import Db, SpacesUnit
from .toolbox import tool_event
from .views import space_event


def goal_snapshot(row: Any) -> c.GoalSnapshot:
    """A goal's row (`Spaces.goal_states`) as its snapshot."""
    return c.GoalSnapshot(
        goal_id=row.id,
        space_id=row.space_id,
        tenant_id=row.tenant_id,
        status=row.status,
        achieved_at=row.achieved_at,
        updated_at=row.updated_at,
    )


SNAPSHOTS: tuple[Snapshots[SpacesUnit], ...] = (
    Snapshots(
        page=lambda uow, tenant_id, after, limit: uow.spaces.ids_after(tenant_id, after, limit),
        snapshots=lambda uow, ids: [
            space_event(c.SpaceSnapshot, s) for s in uow.spaces.get_many(ids)
        ],
    ),
    Snapshots(
        page=lambda uow, tenant_id, after, limit: uow.spaces.goal_ids_after(
            tenant_id, after, limit
        ),
        snapshots=lambda uow, ids: [goal_snapshot(r) for r in uow.spaces.goal_states(ids)],
    ),
    Snapshots(
        page=lambda uow, tenant_id, after, limit: uow.tools.ids_after(tenant_id, after, limit),
        snapshots=lambda uow, ids: [tool_event(c.ToolSnapshot, t) for t in uow.tools.get_many(ids)],
    ),
)


def republish_state(db: Db, request: RepublishRequest) -> RepublishReport:
    """A snapshot of every space, goal and tool (of one tenant, when named), in batches."""
    return RepublishReport(recorded=republish(db, SNAPSHOTS, request.tenant_id))
