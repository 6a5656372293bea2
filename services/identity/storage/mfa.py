"""Authenticators, recovery codes and sign-in challenges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..domain.mfa import Challenge
from .tables import mfa_factors, mfa_recovery_codes, sign_in_challenges


class Mfa:
    """Authenticators, recovery codes and sign-in challenges."""

    def __init__(self, session: Connection) -> None:
        self.session = session

    def factor(self, person_id: str, *, for_update: bool = False) -> Any:
        query = select(mfa_factors).where(mfa_factors.c.person_id == person_id)
        return self.session.execute(query.with_for_update() if for_update else query).first()

    def start_factor(self, person_id: str, sealed_secret: str, now: datetime) -> None:
        """A new, unconfirmed authenticator (replacing an enrolment left unfinished)."""
        upsert = pg_insert(mfa_factors).values(
            person_id=person_id, sealed_secret=sealed_secret, created_at=now
        )
        self.session.execute(
            upsert.on_conflict_do_update(
                index_elements=[mfa_factors.c.person_id],
                set_={"sealed_secret": sealed_secret, "created_at": now, "last_step": None},
                where=mfa_factors.c.confirmed_at.is_(None),
            )
        )

    def confirm_factor(self, person_id: str, step: int, now: datetime) -> None:
        self.session.execute(
            update(mfa_factors)
            .where(mfa_factors.c.person_id == person_id)
            .values(confirmed_at=now, last_step=step, reset_at=None)
        )

    def reset(self, person_id: str, now: datetime) -> bool:
        """An operator's reset: the authenticator and recovery codes are void, and the row stays,
        marked, so that the next sign-in enrols a new one. False if there was none to reset."""
        self.session.execute(
            mfa_recovery_codes.delete().where(mfa_recovery_codes.c.person_id == person_id)
        )
        self.session.execute(
            sign_in_challenges.delete().where(sign_in_challenges.c.person_id == person_id)
        )
        done = self.session.execute(
            update(mfa_factors)
            .where(mfa_factors.c.person_id == person_id)
            .values(sealed_secret="", confirmed_at=None, last_step=None, reset_at=now)
        )
        return bool(done.rowcount)

    def set_last_step(self, person_id: str, step: int) -> None:
        self.session.execute(
            update(mfa_factors).where(mfa_factors.c.person_id == person_id).values(last_step=step)
        )

    def replace_recovery_codes(self, person_id: str, hashes: Sequence[str], now: datetime) -> None:
        self.session.execute(
            mfa_recovery_codes.delete().where(mfa_recovery_codes.c.person_id == person_id)
        )
        self.session.execute(
            insert(mfa_recovery_codes),
            [{"code_hash": h, "person_id": person_id, "created_at": now} for h in hashes],
        )

    def use_recovery_code(self, person_id: str, code_hash: str, now: datetime) -> bool:
        """Spends the code if it is one of the person's and unused."""
        spent = self.session.execute(
            update(mfa_recovery_codes)
            .where(
                mfa_recovery_codes.c.code_hash == code_hash,
                mfa_recovery_codes.c.person_id == person_id,
                mfa_recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return bool(spent.rowcount)

    def summary(self, person_id: str) -> dict[str, Any] | None:
        """For the person's own export: when they enrolled and how many codes are left."""
        factor = self.factor(person_id)
        if factor is None or factor.confirmed_at is None:
            return None
        left = self.session.execute(
            select(func.count())
            .select_from(mfa_recovery_codes)
            .where(
                mfa_recovery_codes.c.person_id == person_id,
                mfa_recovery_codes.c.used_at.is_(None),
            )
        ).scalar_one()
        return {"enrolled_at": factor.confirmed_at.isoformat(), "recovery_codes_left": left}

    def add_challenge(self, challenge: Challenge) -> None:
        row = {k: v for k, v in vars(challenge).items() if k != "secret"}
        self.session.execute(insert(sign_in_challenges).values(row))
        self.session.execute(  # a person's spent and expired challenges go as new ones come
            sign_in_challenges.delete().where(
                sign_in_challenges.c.person_id == challenge.person_id,
                sign_in_challenges.c.expires_at < challenge.created_at - timedelta(days=1),
            )
        )

    def challenge_for_update(self, challenge_id: str) -> Challenge | None:
        row = self.session.execute(
            select(sign_in_challenges)
            .where(sign_in_challenges.c.id == challenge_id)
            .with_for_update()
        ).first()
        return Challenge(**row._mapping) if row else None

    def save_challenge(self, challenge: Challenge) -> None:
        self.session.execute(
            update(sign_in_challenges)
            .where(sign_in_challenges.c.id == challenge.id)
            .values(used_at=challenge.used_at, failures=challenge.failures)
        )

    def delete_person(self, person_id: str) -> None:
        """Erasure: the authenticator, its codes and challenges go."""
        for table in (sign_in_challenges, mfa_recovery_codes, mfa_factors):
            self.session.execute(table.delete().where(table.c.person_id == person_id))
