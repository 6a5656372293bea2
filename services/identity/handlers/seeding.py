"""Seeding (no caller: trusted code, the demo seed and test set-up)."""

from __future__ import annotations

from services.kernel.crypto import MasterKey

from ..adapters.passwords import Passwords
from ..domain import mfa
from ..domain.model import Person, normalize_email
from ..domain.sealing import totp_context
from ..storage.unit import Db


def ensure_person_with_password(
    db: Db,
    passwords: Passwords,
    *,
    email: str,
    display_name: str,
    password: str,
    locale: str = "en",
    time_zone: str = "Europe/Paris",
    platform_admin: bool = False,
) -> Person:
    with db.unit_of_work() as uow:
        uow.persons.lock_email(normalize_email(email))
        person = uow.persons.by_email_key(normalize_email(email))
        if person is None:
            person = Person.create(
                email=email,
                display_name=display_name,
                locale=locale,
                time_zone=time_zone,
                now=uow.clock.now(),
                platform_admin=platform_admin,
            )
            person.password_hash = passwords.hash(password)
            uow.persons.add(person)
    return person


def ensure_totp(db: Db, master: MasterKey, person_id: str, secret: str) -> bool:
    """Trusted code (the demo seed, test set-up): enrols `secret` as the person's confirmed
    authenticator unless they have one. True if it did."""
    with db.unit_of_work() as uow:
        factor = uow.mfa.factor(person_id, for_update=True)
        if factor is not None and factor.confirmed_at is not None:
            return False
        now = uow.clock.now()
        uow.mfa.start_factor(person_id, master.wrap(secret.encode(), totp_context(person_id)), now)
        uow.mfa.confirm_factor(person_id, mfa.step_of(now) - mfa.DRIFT_STEPS - 1, now)
    return True
