"""The sign-in throttle's counters around every password check."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..adapters.passwords import Passwords
from ..domain import throttle
from ..domain.model import Person
from ..domain.throttle import ThrottlePolicy, account_key, pair_key
from ..storage.unit import Db, IdentityUnit
from .common import audit, throttled


def reserve_attempt(
    uow: IdentityUnit, pair: str, account: str, now: datetime, policy: ThrottlePolicy
) -> list[throttle.Reservation]:
    """Checks the waits and counts this attempt in one step, under the counters' row locks and
    before any password is hashed: concurrent guesses each see the ones counted before them.
    A wait refuses even the right password: guessing must not go on."""
    counters = uow.throttle.locked([pair, account], now)
    wait = max(counter.wait(now) for counter in counters.values())
    if wait > timedelta(0):
        raise throttled(wait)
    reserved = [
        throttle.reserve(counters[pair], now, policy.pair, policy.window),
        throttle.reserve(counters[account], now, policy.account, policy.window),
    ]
    uow.throttle.save(list(counters.values()))
    return reserved


def refund_attempt(uow: IdentityUnit, reserved: list[throttle.Reservation], now: datetime) -> None:
    """A right password takes back the attempt its check counted ahead."""
    counters = uow.throttle.locked([r.key for r in reserved], now)
    for reservation in reserved:
        throttle.refund(counters[reservation.key], reservation)
    uow.throttle.save(list(counters.values()))


def password_matches(
    db: Db,
    passwords: Passwords,
    person: Person,
    password: str,
    source: str,
    policy: ThrottlePolicy,
) -> bool:
    """A password check outside sign-in (accepting an invitation with an existing account,
    changing the password, erasing one's data): the same counters as sign-in's, so that none of
    them is a way round its throttling."""
    pair, account = pair_key(person.email_key, source or "unknown"), account_key(person.email_key)
    with db.unit_of_work() as uow:
        reserved = reserve_attempt(uow, pair, account, uow.clock.now(), policy)
    if passwords.verify(person.password_hash, password):
        with db.unit_of_work() as uow:
            refund_attempt(uow, reserved, uow.clock.now())
        return True
    with db.unit_of_work() as uow:  # the attempt was counted when it was reserved
        audit(uow, "password.failed", None, None, person.id, source=source)
    return False
