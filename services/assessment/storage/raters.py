"""360 feedback raters. The address and the answers are sealed with the assignment's data key
(handlers pass it: `uow.assignments.unlocked(master).key_of(assignment)`); the link's token is
kept as its hash only."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from services.kernel.crypto import SecretKey

from ..domain.raters import EXPIRED, INVITED, Rater
from .tables import assignments, raters


def _email_context(rater_id: str) -> str:
    return f"assessment.rater.email.{rater_id}"


def _answers_context(rater_id: str) -> str:
    return f"assessment.rater.answers.{rater_id}"


class Raters:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, r: Rater, key: SecretKey) -> None:
        self.connection.execute(
            raters.insert().values(
                id=r.id,
                assignment_id=r.assignment_id,
                tenant_id=r.tenant_id,
                rater_group=r.group,
                locale=r.locale,
                nonce=r.nonce,
                token_hash=r.token_hash,
                status=r.status,
                email_sealed=(
                    key.seal_text(r.email, _email_context(r.id)) if r.email is not None else None
                ),
                answers_sealed=None,
                invited_at=r.invited_at,
                expires_at=r.expires_at,
            )
        )

    def get(self, rater_id: str) -> Rater | None:
        row = self.connection.execute(select(raters).where(raters.c.id == rater_id)).first()
        return self._rater(row) if row is not None else None

    def by_token_hash(self, hashed: str, *, for_update: bool = False) -> Rater | None:
        query = select(raters).where(raters.c.token_hash == hashed)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return self._rater(row) if row is not None else None

    def of_assignment(self, assignment_id: str, key: SecretKey | None = None) -> list[Rater]:
        """The assignment's raters, oldest first; their answers opened when given the key."""
        rows = self.connection.execute(
            select(raters)
            .where(raters.c.assignment_id == assignment_id)
            .order_by(raters.c.invited_at, raters.c.id)
        ).all()
        found = []
        for row in rows:
            r = self._rater(row)
            if key is not None and row.answers_sealed is not None:
                r.answers = json.loads(key.open_text(row.answers_sealed, _answers_context(r.id)))
            found.append(r)
        return found

    def count_of(self, assignment_id: str) -> int:
        return int(
            self.connection.execute(
                select(func.count())
                .select_from(raters)
                .where(raters.c.assignment_id == assignment_id)
            ).scalar_one()
        )

    def email_of(self, rater_id: str, key: SecretKey) -> str | None:
        sealed = self.connection.execute(
            select(raters.c.email_sealed).where(raters.c.id == rater_id)
        ).scalar_one_or_none()
        return key.open_text(sealed, _email_context(rater_id)) if sealed else None

    def save(self, r: Rater, key: SecretKey) -> None:
        """The rater's state; the address deleted once the domain let go of it."""
        values: dict[str, Any] = {
            "status": r.status,
            "answered_at": r.answered_at,
            "answers_sealed": (
                key.seal_text(json.dumps(r.answers), _answers_context(r.id))
                if r.answers is not None
                else None
            ),
        }
        if r.email is None:
            values["email_sealed"] = None
        self.connection.execute(update(raters).where(raters.c.id == r.id).values(**values))

    def expire(self, now: datetime, batch: int = 500) -> list[tuple[str, str, str, str]]:
        """Up to `batch` links past their expiry and unanswered: expired, their addresses
        deleted. Returns the (rater, assignment, tenant, space) ids of each."""
        due = (
            select(raters.c.id)
            .where(raters.c.status == INVITED, raters.c.expires_at <= now)
            .order_by(raters.c.expires_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        rows = self.connection.execute(
            update(raters)
            .where(raters.c.id.in_(due))
            .values(status=EXPIRED, email_sealed=None)
            .returning(raters.c.id, raters.c.assignment_id, raters.c.tenant_id)
        ).all()
        if not rows:
            return []
        spaces: dict[str, str] = {
            a.id: a.space_id
            for a in self.connection.execute(
                select(assignments.c.id, assignments.c.space_id).where(
                    assignments.c.id.in_({r.assignment_id for r in rows})
                )
            )
        }
        return [(r.id, r.assignment_id, r.tenant_id, spaces.get(r.assignment_id, "")) for r in rows]

    def _rater(self, row: Any) -> Rater:
        return Rater(
            id=row.id,
            assignment_id=row.assignment_id,
            tenant_id=row.tenant_id,
            group=row.rater_group,
            locale=row.locale,
            nonce=row.nonce,
            status=row.status,
            invited_at=row.invited_at,
            expires_at=row.expires_at,
            email=None,  # opened only to send the mail (email_of)
            token_hash=row.token_hash,
            answered_at=row.answered_at,
        )
