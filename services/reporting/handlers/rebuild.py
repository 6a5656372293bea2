"""Rebuilding reporting from scratch (`ecoach-ops rebuild-reporting`): empty the fact tables of
one tenant, or of every tenant, in one transaction; the operator's tool then asks each
publishing service to republish its state (ADR 0022), and the snapshots refill the facts.

Why this converges (docs/operations/republish.md, "Rebuilding reporting"): every event already
recorded when the facts are emptied, in flight or not, carries an older sequence than the
snapshot of its aggregate recorded after, so whatever order they arrive in, each fact ends at
the snapshot's state or at a newer live event's."""

from __future__ import annotations

from services.contracts import reporting as c

from ..storage.unit import Db


def reset_facts(db: Db, request: c.ResetFactsRequest) -> c.ResetFactsReport:
    """Only the operator's tool calls this (the service's `@rpc` says so)."""
    with db.unit_of_work() as uow:
        deleted = {
            name: store.clear(request.tenant_id) for name, store in uow.fact_stores().items()
        }
    return c.ResetFactsReport(deleted=deleted)
