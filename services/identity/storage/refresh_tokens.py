"""Sessions: refresh tokens, one family per sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from ..domain.sessions import RefreshToken
from .rows import jsonable
from .tables import refresh_tokens


class RefreshTokens:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, token: RefreshToken) -> None:
        row = {k: v for k, v in vars(token).items() if k != "secret"}
        self.session.execute(insert(refresh_tokens).values(**row))

    def get_for_update(self, token_id: str) -> RefreshToken | None:
        row = self.session.execute(
            select(refresh_tokens).where(refresh_tokens.c.id == token_id).with_for_update()
        ).first()
        return RefreshToken(**row._mapping) if row else None

    def mark_used(self, token: RefreshToken, now: datetime) -> None:
        token.used_at = now
        self.session.execute(
            update(refresh_tokens).where(refresh_tokens.c.id == token.id).values(used_at=now)
        )

    def sessions_of(self, person_id: str) -> list[dict[str, Any]]:
        """Each session (family) of the person: when it started, its tenant now, its state."""
        rows = self.session.execute(
            select(
                refresh_tokens.c.family_id,
                func.min(refresh_tokens.c.created_at).label("started_at"),
                func.max(refresh_tokens.c.created_at).label("last_used_at"),
                func.max(refresh_tokens.c.revoked_at).label("ended_at"),
            )
            .where(refresh_tokens.c.person_id == person_id)
            .group_by(refresh_tokens.c.family_id)
            .order_by(func.min(refresh_tokens.c.created_at))
        ).all()
        return [jsonable(r._mapping) for r in rows]

    def delete_person(self, person_id: str) -> None:
        self.session.execute(refresh_tokens.delete().where(refresh_tokens.c.person_id == person_id))

    def revoke_family(self, family_id: str, now: datetime) -> int:
        return self._revoke(refresh_tokens.c.family_id == family_id, now)

    def revoke_person(self, person_id: str, now: datetime, keep_family: str | None = None) -> int:
        """Every session of the person ("sign out everywhere", a password reset), but
        `keep_family` (a password change keeps the session it was made in)."""
        where = refresh_tokens.c.person_id == person_id
        if keep_family is not None:
            where = and_(where, refresh_tokens.c.family_id != keep_family)
        return self._revoke(where, now)

    def revoke_membership(self, person_id: str, tenant_id: str, now: datetime) -> int:
        return self._revoke(
            and_(refresh_tokens.c.person_id == person_id, refresh_tokens.c.tenant_id == tenant_id),
            now,
        )

    def _revoke(self, where: Any, now: datetime) -> int:
        result = self.session.execute(
            update(refresh_tokens)
            .where(where, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)

    def prune_person(self, person_id: str, before: datetime) -> None:
        """Forgets the person's tokens that expired or were revoked before `before`. Used tokens
        stay until they expire: presenting one again must still revoke its family."""
        self.session.execute(
            refresh_tokens.delete().where(
                refresh_tokens.c.person_id == person_id,
                (refresh_tokens.c.expires_at < before) | (refresh_tokens.c.revoked_at < before),
            )
        )
