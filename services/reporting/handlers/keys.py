"""Tenant key rotation: each webhook subscription's data key (which seals its signing secret)
moves under the tenant's new key (services/kernel/runtime/keyring.py: `rotate_tenant_key`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from services.contracts.base import TenantKeyRotation, TenantRef
from services.kernel.caller import Caller, require_operator
from services.kernel.crypto import MasterKey
from services.kernel.runtime import keyring
from services.kernel.runtime.webhooks import webhook_subscriptions

from ..storage.unit import Db


def rotate_tenant_key(
    db: Db, master: MasterKey, caller: Caller, request: TenantRef
) -> TenantKeyRotation:
    """Operators only."""
    require_operator(caller)

    @contextmanager
    def unit() -> Iterator[tuple[keyring.WrappedKeys, datetime]]:
        with db.unit_of_work() as uow:
            ring = keyring.KeyRing(uow.connection, master)
            yield keyring.WrappedKeys(ring, webhook_subscriptions), uow.clock.now()

    return keyring.rotate_tenant_key(unit, request.tenant_id)
