"""Refresh tokens and their families: plain Python, no infrastructure.

A sign-in starts a *family* (one session of one device). Each refresh token is used once: using
it marks it used and issues the next token of the same family. Presenting a used token again
means it was copied: the whole family is revoked, so the thief and the victim both sign in
again. Two tabs of one browser refreshing at once present the same token within a second or
two: inside a short grace after its first use, a used token still gets a new pair (the family
lives on).

The token a client holds is `rt1.<id>.<secret>`; only the SHA-256 of the secret is stored.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from services.kernel.crypto import token_hash as secret_hash
from services.kernel.ids import new_id

PREFIX = "rt1"


def parse(token: str, prefix: str = PREFIX) -> tuple[str, str] | None:
    """(row id, secret) of a well-formed `<prefix>.<id>.<secret>` token, else None."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != prefix or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


@dataclass
class RefreshToken:
    id: str
    family_id: str
    person_id: str
    tenant_id: str | None
    secret_hash: str
    amr: list[str]
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    secret: str = field(default="", repr=False, compare=False)  # only on a new token

    @classmethod
    def issue(
        cls,
        *,
        person_id: str,
        tenant_id: str | None,
        amr: Sequence[str],
        now: datetime,
        ttl: timedelta,
        family_id: str | None = None,
    ) -> RefreshToken:
        secret = secrets.token_urlsafe(32)
        return cls(
            id=new_id("rt"),
            family_id=family_id or new_id("fam"),
            person_id=person_id,
            tenant_id=tenant_id,
            secret_hash=secret_hash(secret),
            amr=list(amr),
            created_at=now,
            expires_at=now + ttl,
            secret=secret,
        )

    @property
    def token(self) -> str:
        assert self.secret, "only a newly issued token can be given out"
        return f"{PREFIX}.{self.id}.{self.secret}"

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, secret_hash(secret))

    def successor(
        self, now: datetime, ttl: timedelta, tenant_id: str | None = None
    ) -> RefreshToken:
        """The next token of this family (for `tenant_id` when switching tenant)."""
        return RefreshToken.issue(
            person_id=self.person_id,
            tenant_id=self.tenant_id if tenant_id is None else tenant_id,
            amr=self.amr,
            now=now,
            ttl=ttl,
            family_id=self.family_id,
        )


class Verdict(Enum):
    ROTATE = "rotate"  # first use: mark used, issue the next token
    GRACE = "grace"  # used moments ago (two tabs): issue a next token too
    REUSED = "reused"  # used before the grace: revoke the family
    REVOKED = "revoked"
    EXPIRED = "expired"


def judge(token: RefreshToken, now: datetime, grace: timedelta) -> Verdict:
    """What presenting this (matching) token at `now` means."""
    if token.revoked_at is not None:
        return Verdict.REVOKED
    if token.used_at is not None:
        return Verdict.GRACE if now - token.used_at <= grace else Verdict.REUSED
    if now >= token.expires_at:
        return Verdict.EXPIRED
    return Verdict.ROTATE
