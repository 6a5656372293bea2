"""Password hashing with argon2id, run off the event loop (a C call would block every worker)."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")
Runner = Callable[..., Any]


def _inline(fn: Callable[..., T], *args: Any) -> T:
    return fn(*args)


# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 30 ms of one core
# here, so a 2-core machine signs in about 60 people a second (RFC 9106's 64 MiB, 3 passes,
# 4 lanes took 140 ms of both cores: 8 a second). Raise them with ECOACH_ARGON2_MEMORY_KIB and
# ECOACH_ARGON2_TIME_COST; hashes made with other parameters are redone at the next sign-in.
DEFAULT_MEMORY_KIB = 19 * 1024
DEFAULT_TIME_COST = 2


def hasher(
    memory_kib: int = DEFAULT_MEMORY_KIB, time_cost: int = DEFAULT_TIME_COST
) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


class Passwords:
    def __init__(self, run: Runner = _inline, hasher: PasswordHasher | None = None) -> None:
        self._run = run
        self._hasher = hasher or globals()["hasher"]()
        # Verified when the email is unknown, so that case costs what a wrong password costs.
        self._dummy = self._hasher.hash("ecoach dummy password for unknown accounts")

    @property
    def parameters(self) -> dict[str, int]:
        h = self._hasher
        return {"time_cost": h.time_cost, "memory_kib": h.memory_cost, "parallelism": h.parallelism}

    def needs_rehash(self, password_hash: str) -> bool:
        """Made with other parameters than today's (checked after a right password)."""
        try:
            return bool(self._hasher.check_needs_rehash(password_hash))
        except InvalidHashError:
            return True

    def hash(self, password: str) -> str:
        result: str = self._run(self._hasher.hash, password)
        return result

    def verify(self, password_hash: str | None, password: str) -> bool:
        target = password_hash or self._dummy
        try:
            ok = bool(self._run(self._hasher.verify, target, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        return ok and password_hash is not None


def off_the_loop(slots: int) -> Runner:
    """A runner for a nameko service: each hash in a real thread (argon2 would block every green
    thread), `slots` at a time, so a flood of sign-ins queues here instead of taking every core
    from the other requests; each thread lowered (nice 10) first, so under load the hashing
    core serves the other requests first, and sign-ins, which take tens of milliseconds anyway,
    wait."""
    import eventlet.patcher
    import eventlet.semaphore
    from eventlet import tpool

    real_threading = eventlet.patcher.original("threading")
    semaphore = eventlet.semaphore.Semaphore(slots)

    def at_low_priority(fn: Callable[..., T], *args: Any) -> T:
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, real_threading.get_native_id(), 10)
        return fn(*args)

    def run(fn: Callable[..., T], *args: Any) -> T:
        with semaphore:
            result: T = tpool.execute(at_low_priority, fn, *args)
            return result

    return run


def hash_slots(wanted: int) -> int:
    """How many hashes run at once: `wanted` (ECOACH_PASSWORD_HASH_CONCURRENCY), or all the
    cores but one."""
    return wanted or max(1, (os.cpu_count() or 2) - 1)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords, from zxcvbn's pinned data (lowercased)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"])
