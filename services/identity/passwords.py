"""Password hashing with argon2id, run off the event loop (a C call would block every worker)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")
Runner = Callable[..., Any]


def _inline(fn: Callable[..., T], *args: Any) -> T:
    return fn(*args)


class Passwords:
    def __init__(self, run: Runner = _inline, hasher: PasswordHasher | None = None) -> None:
        self._run = run
        self._hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        # Verified when the email is unknown, so that case costs what a wrong password costs.
        self._dummy = self._hasher.hash("ecoach dummy password for unknown accounts")

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


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords, from zxcvbn's pinned data (lowercased)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"])
