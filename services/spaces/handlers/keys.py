"""Tenant key rotation: the spaces' data keys move under the tenant's new key."""

from __future__ import annotations

from services.contracts import spaces as c
from services.kernel.caller import Caller, require_operator
from services.kernel.crypto import MasterKey

from ..storage.unit import Db


def rotate_tenant_key(
    db: Db, master: MasterKey, caller: Caller, request: c.TenantRef
) -> c.TenantKeyRotation:
    """Operators: a new key for the tenant, every space's data key re-wrapped under it in
    batches (the content itself is not touched, so nothing waits and no edit is lost), then the
    older tenant keys deleted."""
    require_operator(caller)
    with db.unit_of_work() as uow:
        key_id = uow.spaces.unlocked(master).keys.rotate_tenant(request.tenant_id, uow.clock.now())
    rewrapped = 0
    while True:
        with db.unit_of_work() as uow:
            moved = uow.spaces.unlocked(master).rewrap_batch(request.tenant_id, uow.clock.now())
        rewrapped += moved
        if moved == 0:
            break
    with db.unit_of_work() as uow:
        repo = uow.spaces.unlocked(master)
        in_use = repo.key_ids_in_use(request.tenant_id)
        retired = repo.keys.retire_unused(request.tenant_id, in_use)
    return c.TenantKeyRotation(key_id=key_id, rewrapped=rewrapped, retired=retired)
