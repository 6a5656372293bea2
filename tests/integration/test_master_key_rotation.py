"""Rotating the master key on the real databases: with the previous key still known, every
sealed value of identity and of spaces' key ring is wrapped again under the new one, after which
the new key alone opens them (and the old one none)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.identity.storage.rewrap import rewrap_master_key as identity_rewrap
from services.identity.storage.tables import service_secrets
from services.kernel.config import settings
from services.kernel.crypto import MasterKey, SecretKey, key_id_of, master_key_from
from services.kernel.runtime import keyring
from services.kernel.runtime.keyring import KeyRing, tenant_keys
from services.kernel.runtime.keyring import rewrap_master_key as keyring_rewrap
from services.kernel.runtime.sql import make_engine
from services.spaces.domain.model import new_id


def _all_wrapped(url: str) -> list[str]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            if "identity" in url:
                return list(conn.execute(select(service_secrets.c.wrapped)).scalars())
            return list(conn.execute(select(tenant_keys.c.wrapped_key)).scalars())
    finally:
        engine.dispose()


def test_a_rotation_rewraps_everything_and_can_be_undone() -> None:
    config = settings()
    current = master_key_from(config)
    new = SecretKey.generate()
    rotating = MasterKey(new.raw, previous=current)
    back = MasterKey(current.raw, previous=new)
    identity_url, spaces_url = (config.database_url_for(s) for s in ("identity", "spaces"))
    tenant = new_id("tnt")
    name = "rotation-test-" + new_id("sec")
    spaces_engine = make_engine(spaces_url, pool_size=1)
    identity_engine = make_engine(identity_url, pool_size=1)
    try:
        with spaces_engine.begin() as conn:
            _, wrapped_data_key = KeyRing(conn, current).new_data_key(tenant, _now())
        with identity_engine.begin() as conn:
            conn.execute(
                service_secrets.insert().values(
                    name=name, wrapped=current.wrap(b"a secret", name), created_at=_now()
                )
            )
        try:
            with identity_engine.begin() as conn:
                assert identity_rewrap(conn, rotating) >= 1
            with spaces_engine.begin() as conn:
                assert keyring_rewrap(conn, rotating) >= 1
            for url in (identity_url, spaces_url):
                assert {key_id_of(w) for w in _all_wrapped(url)} == {new.key_id}
            # The new key alone opens them; the old one no longer does.
            with identity_engine.connect() as conn:
                wrapped = conn.execute(
                    select(service_secrets.c.wrapped).where(service_secrets.c.name == name)
                ).scalar_one()
            assert MasterKey(new.raw).unwrap(wrapped, name) == b"a secret"
            with pytest.raises(ValueError):
                MasterKey(current.raw).unwrap(wrapped, name)
            with spaces_engine.connect() as conn:
                keyring._unwrapped.clear()  # as in a fresh process: nothing cached
                assert KeyRing(conn, MasterKey(new.raw)).data_key(tenant, wrapped_data_key).raw
            # Twice changes nothing.
            with identity_engine.begin() as conn:
                assert identity_rewrap(conn, rotating) == 0
        finally:  # back to the deployment's key, for the other tests
            with identity_engine.begin() as conn:
                identity_rewrap(conn, back)
                conn.execute(service_secrets.delete().where(service_secrets.c.name == name))
            with spaces_engine.begin() as conn:
                keyring_rewrap(conn, back)
    finally:
        spaces_engine.dispose()
        identity_engine.dispose()
    for url in (identity_url, spaces_url):
        assert {key_id_of(w) for w in _all_wrapped(url)} <= {current.key_id}


def _now() -> datetime:
    return datetime.now(UTC)
