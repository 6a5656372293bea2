"""Sign-in throttling: plain Python, no infrastructure.

Two counters per attempt, both keyed by hashes (an unknown email is counted like a known one,
and the table keeps no address): one per (account, source address), one per account.

- Per (account, source): the first `pair_free` failures in a window cost nothing; each further
  one doubles the wait before the next attempt from that source, up to `pair_max`.
- Per account, whatever the source: past `account_free` failures in a window, each further one
  doubles a wait capped at `account_max` (seconds, not hours): a distributed guesser is slowed
  to a crawl, and the real person still gets in after a short wait. Nothing locks an account.

Every attempt is counted before its password is hashed (`reserve`), in the transaction that
checks the wait, under the counters' row locks: concurrent guesses queue on the lock and each
sees the ones before it, so no burst slips past a check made before any of them was counted.
A right password then takes its attempt back (`refund`) from the account counter and clears its
(account, source) counter; the account counter otherwise runs out with its window.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limit:
    free: int  # failures in a window before any wait
    base: timedelta  # the first wait; each further failure doubles it
    cap: timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    window: timedelta = timedelta(minutes=15)
    pair: Limit = Limit(free=5, base=timedelta(seconds=2), cap=timedelta(minutes=15))
    account: Limit = Limit(free=20, base=timedelta(seconds=1), cap=timedelta(seconds=30))


@dataclass
class Counter:
    key: str
    failures: int
    window_start: datetime
    blocked_until: datetime | None = None

    def wait(self, now: datetime) -> timedelta:
        """How long until the next attempt is allowed (zero: now)."""
        if self.blocked_until is None or self.blocked_until <= now:
            return timedelta(0)
        return self.blocked_until - now

    def fail(self, now: datetime, limit: Limit, window: timedelta) -> None:
        if now - self.window_start >= window:
            self.failures, self.window_start = 0, now
        self.failures += 1
        over = self.failures - limit.free
        if over > 0:
            delay = min(limit.base * (2 ** min(over - 1, 30)), limit.cap)
            self.blocked_until = now + delay


@dataclass(frozen=True)
class Reservation:
    """An attempt counted ahead of its outcome: what it changed, so a success can give it back."""

    key: str
    blocked_before: datetime | None  # the counter's wait before this attempt
    blocked_after: datetime | None  # the wait this attempt set (or kept)


def reserve(counter: Counter, now: datetime, limit: Limit, window: timedelta) -> Reservation:
    """Counts an attempt whose outcome is not known yet (the caller checked `wait` first)."""
    before = counter.blocked_until
    counter.fail(now, limit, window)
    return Reservation(counter.key, before, counter.blocked_until)


def refund(counter: Counter, reservation: Reservation) -> None:
    """Takes back an attempt that succeeded. The wait it set is lifted unless a later attempt has
    set another one since."""
    counter.failures = max(0, counter.failures - 1)
    if counter.blocked_until == reservation.blocked_after:
        counter.blocked_until = reservation.blocked_before


def wait_for_cap(sent: list[datetime], cap: int, window: timedelta, now: datetime) -> timedelta:
    """How long until one more may be sent when at most `cap` may go in any `window` (zero: now),
    given when the earlier ones were sent, oldest first."""
    recent = [at for at in sent if at > now - window]
    if len(recent) < cap:
        return timedelta(0)
    return recent[-cap] + window - now


def pair_key(email_key: str, source: str) -> str:
    return "p:" + hashlib.sha256(f"{email_key}\n{source}".encode()).hexdigest()[:40]


def account_key(email_key: str) -> str:
    return "a:" + hashlib.sha256(email_key.encode()).hexdigest()[:40]
