"""Republishing every membership's current state for consumers that start late (ADR 0022):
`identity.membership_changed` with the change `republished`, built as the live events are (so
it carries whatever they carry). Nothing but the future reporting service consumes it."""

from __future__ import annotations

from services.contracts import identity as c
from services.contracts.base import RepublishReport, RepublishRequest
from services.kernel.runtime.republish import Snapshots, republish

from ..storage.unit import Db, IdentityUnit
from .views import membership_changed

SNAPSHOTS: tuple[Snapshots[IdentityUnit], ...] = (
    Snapshots(
        page=lambda uow, tenant_id, after, limit: uow.memberships.ids_after(
            tenant_id, after, limit
        ),
        snapshots=lambda uow, ids: [
            membership_changed(m, c.MembershipChange.REPUBLISHED)
            for m in uow.memberships.by_ids(ids)
        ],
    ),
)


def republish_state(db: Db, request: RepublishRequest) -> RepublishReport:
    """A `republished` membership_changed of every membership (of one tenant, when named)."""
    return RepublishReport(recorded=republish(db, SNAPSHOTS, request.tenant_id))
