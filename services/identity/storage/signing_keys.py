"""The token signing keys, sealed by the master key."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from .tables import signing_keys


class SigningKeys:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def signing(self, now: datetime, publish: timedelta) -> tuple[str, str, datetime | None] | None:
        """(kid, sealed private key, when a newer key takes over) of the key that signs now: the
        newest in service created at least `publish` ago (every process had the time to fetch
        its public half), else the oldest in service (the very first key, or the one a rotation
        moments after it is replacing)."""
        rows = self.session.execute(
            select(signing_keys.c.kid, signing_keys.c.sealed_private_key, signing_keys.c.created_at)
            .where((signing_keys.c.retire_at.is_(None)) | (signing_keys.c.retire_at > now))
            .order_by(signing_keys.c.created_at.desc())
        ).all()
        if not rows:
            return None
        due = [r for r in rows if r.created_at <= now - publish]
        chosen = due[0] if due else rows[-1]  # none published long enough: the oldest
        newer = [r for r in rows if r.created_at > chosen.created_at]
        switch_at = min(r.created_at for r in newer) + publish if newer else None
        return chosen.kid, chosen.sealed_private_key, switch_at

    def add(self, kid: str, sealed: str, public_jwk: dict[str, str], now: datetime) -> None:
        self.session.execute(
            insert(signing_keys).values(
                kid=kid,
                sealed_private_key=sealed,
                public_jwk=json.dumps(public_jwk),
                created_at=now,
            )
        )

    def retire_all_but(self, kid: str, at: datetime) -> None:
        """Every other key still in service stops verifying at `at`."""
        self.session.execute(
            update(signing_keys)
            .where(signing_keys.c.kid != kid, signing_keys.c.retire_at.is_(None))
            .values(retire_at=at)
        )
        self.session.execute(
            update(signing_keys)
            .where(signing_keys.c.kid != kid, signing_keys.c.retire_at > at)
            .values(retire_at=at)
        )

    def retire(self, kid: str, at: datetime) -> None:
        self.session.execute(
            update(signing_keys)
            .where(
                signing_keys.c.kid == kid,
                (signing_keys.c.retire_at.is_(None)) | (signing_keys.c.retire_at > at),
            )
            .values(retire_at=at)
        )

    def all(self) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(
                signing_keys.c.kid, signing_keys.c.created_at, signing_keys.c.retire_at
            ).order_by(signing_keys.c.created_at)
        ).all()
        return [dict(r._mapping) for r in rows]

    def public_jwks(self, now: datetime) -> list[dict[str, Any]]:
        """The keys that still verify, each being retired with its `retire_at` (epoch seconds)."""
        rows = self.session.execute(
            select(signing_keys.c.public_jwk, signing_keys.c.retire_at)
            .where((signing_keys.c.retire_at.is_(None)) | (signing_keys.c.retire_at > now))
            .order_by(signing_keys.c.created_at)
        )
        jwks = []
        for r in rows:
            jwk = json.loads(r.public_jwk)
            if r.retire_at is not None:
                jwk["retire_at"] = r.retire_at.timestamp()
            jwks.append(jwk)
        return jwks

    def lock(self) -> None:
        self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))")
        )
