"""Token signing keys: the cache of the one that signs, rotation and retirement."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from services.contracts import identity as c
from services.kernel.caller import Caller
from services.kernel.crypto import MasterKey
from services.kernel.errors import FailedPrecondition, NotFound
from services.kernel.tokens import LEEWAY, SigningKey

from ..domain import access
from ..domain.sealing import seal_context
from ..storage.unit import Db, IdentityUnit
from .common import TokenSettings, audit


class SigningKeyCache:
    """The key that signs, loaded from the database (unsealed with the master key) at most every
    `REFRESH_SECONDS` per process, so every identity instance signs with a new key soon after a
    rotation; created on first need. A new key signs only `PUBLISH_SECONDS` after its creation:
    by then any process that meets a token it signed has been allowed to fetch it (an unknown key
    id triggers a fetch at most once a second), so no fresh token is refused."""

    REFRESH_SECONDS = 15.0
    PUBLISH_SECONDS = 2.0

    def __init__(self, master: MasterKey | None = None) -> None:
        self._master = master
        self._key: SigningKey | None = None
        self._valid_until = float("-inf")  # monotonic

    def current(self, db: Db) -> SigningKey:
        if self._key is not None and time.monotonic() < self._valid_until:
            return self._key
        master = self.master_key()
        publish = timedelta(seconds=self.PUBLISH_SECONDS)
        with db.unit_of_work() as uow:
            now = uow.clock.now()
            found = uow.signing_keys.signing(now, publish)
            if found is None:
                uow.signing_keys.lock()  # two instances starting at once create one key
                found = uow.signing_keys.signing(now, publish)
            if found is None:
                key, switch_at = _new_signing_key(uow, master, now), None
            else:
                kid, sealed, switch_at = found
                key = SigningKey.from_private_bytes(master.unwrap(sealed, seal_context(kid)))
        hold = self.REFRESH_SECONDS
        if switch_at is not None:  # a newer key takes over before then
            hold = min(hold, max(0.0, (switch_at - now).total_seconds()))
        self._key, self._valid_until = key, time.monotonic() + hold
        return key

    def forget(self) -> None:
        """Read the keys again at the next token (after a rotation in this process)."""
        self._key = None

    def master_key(self) -> MasterKey:
        if self._master is None:
            raise RuntimeError("the signing-key cache needs the master key")
        return self._master


def _new_signing_key(uow: IdentityUnit, master: MasterKey, now: datetime) -> SigningKey:
    key = SigningKey.generate()
    sealed = master.wrap(key.private_bytes(), seal_context(key.kid))
    uow.signing_keys.add(key.kid, sealed, key.public_jwk(), now)
    return key


def signing_keys(db: Db, keys: SigningKeyCache) -> c.SigningKeysResponse:
    keys.current(db)  # there is always at least one key to publish
    with db.read_only() as uow:
        jwks = uow.signing_keys.public_jwks(uow.clock.now())
    return c.SigningKeysResponse(keys=jwks)


def list_signing_keys(db: Db, caller: Caller) -> c.SigningKeyList:
    access.require_operator(caller)
    with db.read_only() as uow:
        rows = uow.signing_keys.all()
        now = uow.clock.now()
        found = uow.signing_keys.signing(now, timedelta(seconds=SigningKeyCache.PUBLISH_SECONDS))
    signing = found[0] if found else None
    return c.SigningKeyList(
        keys=[
            c.SigningKeyInfo(
                kid=r["kid"],
                created_at=r["created_at"],
                retire_at=r["retire_at"],
                state=(
                    "signing"
                    if r["kid"] == signing
                    else "verifying"
                    if r["retire_at"] is None or r["retire_at"] > now
                    else "retired"
                ),
            )
            for r in rows
        ]
    )


def rotate_signing_key(
    db: Db, keys: SigningKeyCache, tokens: TokenSettings, caller: Caller
) -> c.SigningKeyList:
    """A new key signs from now on; the others still verify the tokens they signed until those
    expire (the access-token lifetime, plus the other identity instances' cache and leeway),
    then retire: no token is refused because of a rotation."""
    access.require_operator(caller)
    master = keys.master_key()
    with db.unit_of_work() as uow:
        uow.signing_keys.lock()
        now = uow.clock.now()
        key = _new_signing_key(uow, master, now)
        grace = tokens.ttl + 2 * LEEWAY + timedelta(seconds=SigningKeyCache.REFRESH_SECONDS)
        uow.signing_keys.retire_all_but(key.kid, now + grace)
        audit(uow, "key.rotated", None, access.person(caller).person_id, key.kid)
    keys.forget()
    return list_signing_keys(db, caller)


def retire_signing_key(
    db: Db, keys: SigningKeyCache, caller: Caller, request: c.SigningKeyRef
) -> c.SigningKeyList:
    """Retires a key at once (it leaked): tokens it signed are refused everywhere within
    ECOACH_SIGNING_KEYS_REFRESH_SECONDS. The key that signs cannot be retired: rotate first."""
    access.require_operator(caller)
    with db.unit_of_work() as uow:
        uow.signing_keys.lock()
        known = {r["kid"]: r for r in uow.signing_keys.all()}
        if request.kid not in known:
            raise NotFound("There is no signing key with this id.", reason="KEY_NOT_FOUND")
        now = uow.clock.now()
        signing = uow.signing_keys.signing(now, timedelta(seconds=SigningKeyCache.PUBLISH_SECONDS))
        newest = max(known.values(), key=lambda r: r["created_at"])
        if (signing is not None and signing[0] == request.kid) or newest["kid"] == request.kid:
            raise FailedPrecondition(
                "This key signs the new tokens: rotate first, then retire it.",
                reason="KEY_IN_USE",
            )
        uow.signing_keys.retire(request.kid, now)
        audit(uow, "key.retired", None, access.person(caller).person_id, request.kid)
    keys.forget()
    return list_signing_keys(db, caller)


def public_jwks(db: Db) -> list[dict[str, Any]]:
    """The public keys that verify tokens now: identity's own verification reads them here."""
    with db.unit_of_work() as uow:
        return uow.signing_keys.public_jwks(uow.clock.now())
