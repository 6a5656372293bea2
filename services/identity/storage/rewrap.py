"""The re-wrap step after a master-key rotation (services/kernel/registry.py names it)."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from services.kernel.crypto import MasterKey

from ..domain.sealing import seal_context, totp_context
from .tables import mfa_factors, service_secrets, signing_keys


def rewrap_master_key(connection: Connection, master: MasterKey) -> int:
    """After a master-key rotation: identity's sealed values (signing keys, the link key, TOTP
    secrets) wrapped again under the current master key. Returns how many changed."""
    sealed = [
        (signing_keys, signing_keys.c.kid, signing_keys.c.sealed_private_key, seal_context),
        (service_secrets, service_secrets.c.name, service_secrets.c.wrapped, lambda name: name),
        (mfa_factors, mfa_factors.c.person_id, mfa_factors.c.sealed_secret, totp_context),
    ]
    changed = 0
    for table, key, column, context in sealed:
        for row_key, wrapped in connection.execute(select(key, column)).all():
            new = master.rewrapped(wrapped, context(row_key))
            if new is not None:
                connection.execute(
                    update(table)
                    .where(key == row_key, column == wrapped)
                    .values({column.name: new})
                )
                changed += 1
    return changed
