"""Tenant key rotation: each recommendation's data key moves under the tenant's new key
(services/kernel/runtime/keyring.py: `rotate_tenant_key`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from services.contracts import content as c
from services.kernel.caller import Caller, require_operator
from services.kernel.crypto import MasterKey
from services.kernel.runtime import keyring

from ..storage.unit import Db


def rotate_tenant_key(
    db: Db, master: MasterKey, caller: Caller, request: c.TenantRef
) -> c.TenantKeyRotation:
    """Operators only."""
    require_operator(caller)

    @contextmanager
    def unit() -> Iterator[tuple[keyring.WrappedKeys, datetime]]:
        with db.unit_of_work() as uow:
            yield uow.recommendations.unlocked(master).wrapped_keys(), uow.clock.now()

    return keyring.rotate_tenant_key(unit, request.tenant_id)
