"""Tenant key rotation: the assignments' data keys move under the tenant's new key."""

from __future__ import annotations

from services.contracts import assessment as c
from services.kernel.caller import Caller, require_operator
from services.kernel.crypto import MasterKey

from ..storage.unit import Db


def rotate_tenant_key(
    db: Db, master: MasterKey, caller: Caller, request: c.TenantRef
) -> c.TenantKeyRotation:
    """Operators: a new key for the tenant, every assignment's data key re-wrapped under it in
    batches (the answers themselves are not touched), then the older tenant keys deleted."""
    require_operator(caller)
    with db.unit_of_work() as uow:
        repo = uow.assignments.unlocked(master)
        key_id = repo.keys.rotate_tenant(request.tenant_id, uow.clock.now())
    rewrapped = 0
    while True:
        with db.unit_of_work() as uow:
            moved = uow.assignments.unlocked(master).rewrap_batch(
                request.tenant_id, uow.clock.now()
            )
        rewrapped += moved
        if moved == 0:
            break
    with db.unit_of_work() as uow:
        repo = uow.assignments.unlocked(master)
        in_use = repo.key_ids_in_use(request.tenant_id)
        retired = repo.keys.retire_unused(request.tenant_id, in_use)
    return c.TenantKeyRotation(key_id=key_id, rewrapped=rewrapped, retired=retired)
