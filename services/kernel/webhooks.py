"""Signed webhooks, the pure part (ADR 0023): signatures, the retry schedule, what a delivery
record holds and how it moves, and what a payload may carry. No I/O here; the tables and the
deliverer that POSTs are in `runtime/webhooks.py`.

The signature (Stripe-style), sent with every delivery:

    ecoach-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body bytes)>

The HMAC's key is the subscription's secret exactly as shown to the tenant admin
(`whsec_...`, its UTF-8 bytes); the signed text is the timestamp in decimal, a dot, then the
request body's raw bytes. A receiver recomputes it over the body it received (before any JSON
parsing), compares in constant time, and refuses a timestamp more than the tolerance (300 s)
away from its own clock: a captured delivery cannot be replayed later. Several `v1=` entries may
appear (one per secret while a secret is being replaced); one that matches is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

SIGNATURE_HEADER = "ecoach-signature"
DELIVERY_HEADER = "ecoach-delivery-id"
TIMESTAMP_HEADER = "ecoach-timestamp"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
DEFAULT_TOLERANCE = timedelta(seconds=300)


# ------------------------------------------------------------------------------------- secrets


def new_secret() -> str:
    """A subscription's signing secret: 32 random bytes, shown once to the admin, stored sealed."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# ---------------------------------------------------------------------------------- signatures


class InvalidSignature(ValueError):
    """A delivery's signature does not hold (the message says why, for the receiver's logs)."""


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" under `secret`."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, at: datetime) -> str:
    """The `ecoach-signature` header's value for `body` sent at `at`."""
    timestamp = int(at.timestamp())
    return f"t={timestamp},v1={signature(secret, body, timestamp)}"


def verify(
    secret: str,
    body: bytes,
    header: str,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> int:
    """The delivery's timestamp if `header` signs `body` with `secret` within `tolerance` of `now`;
    otherwise `InvalidSignature`."""
    timestamps: list[str] = []
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            candidates.append(value)
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        raise InvalidSignature("not one timestamp (t=) in the signature header")
    timestamp = int(timestamps[0])
    if not candidates:
        raise InvalidSignature("no v1 signature in the signature header")
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        raise InvalidSignature("the timestamp is outside the tolerance window")
    expected = signature(secret, body, timestamp)
    # Every candidate is compared (no early exit that would tell which one was close).
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise InvalidSignature("no signature matches the body")
    return timestamp


# ------------------------------------------------------------------------------------ payloads


class NotAnAggregate(ValueError):
    """A payload carries something other than aggregates (the message names where)."""


# Keys and string values: short identifiers, periods, ids and codes; never sentences.
_TOKEN = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
MAX_PAYLOAD_BYTES = 64 * 1024


def check_aggregates(payload: Mapping[str, Any]) -> None:
    """A payload may carry aggregates only: numbers, booleans, nulls, and short identifier-like
    strings (ids, codes, periods such as `2026-11`), in objects and lists, at most 64 KiB. Free
    text cannot pass (a space is refused), so nothing a person wrote leaves through a webhook."""

    def walk(value: Any, where: str) -> None:
        if value is None or isinstance(value, bool | int | float):
            return
        if isinstance(value, str):
            if not _TOKEN.match(value):
                raise NotAnAggregate(f"{where}: only short identifiers may be strings")
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str) or not _TOKEN.match(key):
                    raise NotAnAggregate(f"{where}: a key must be a short identifier")
                walk(item, f"{where}.{key}")
            return
        if isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")
            return
        raise NotAnAggregate(f"{where}: {type(value).__name__} is not an aggregate value")

    if not isinstance(payload, Mapping):
        raise NotAnAggregate("payload: must be an object")
    walk(payload, "payload")
    if len(canonical_json(payload)) > MAX_PAYLOAD_BYTES:
        raise NotAnAggregate(f"payload: larger than {MAX_PAYLOAD_BYTES // 1024} KiB")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def delivery_body(
    delivery_id: str, kind: str, tenant_id: str, created_at: datetime, data: Any
) -> bytes:
    """The exact bytes POSTed (and signed): `{"id", "kind", "tenant_id", "created_at", "data"}`."""
    return canonical_json(
        {
            "id": delivery_id,
            "kind": kind,
            "tenant_id": tenant_id,
            "created_at": created_at.isoformat(),
            "data": data,
        }
    )


# ------------------------------------------------------------------------------ retry schedule


@dataclass(frozen=True)
class RetrySchedule:
    """After the n-th failed attempt, wait `delays[n-1]` (± `jitter` of it) and try again; after
    the last delay's attempt fails too, give up. The jitter spreads the retries of many deliveries
    that failed together (a receiver down) so that they do not all return at once."""

    delays: tuple[timedelta, ...] = (
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(hours=1),
        timedelta(hours=6),
    )
    jitter: float = 0.1

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def next_attempt(
        self, failed_attempts: int, now: datetime, random: Callable[[], float]
    ) -> datetime | None:
        """When to try again after `failed_attempts` failures (None: give up). `random` gives a
        float in [0, 1) (the runtime passes `secrets.SystemRandom().random`)."""
        if failed_attempts < 1:
            raise ValueError("next_attempt is asked after a failed attempt")
        if failed_attempts > len(self.delays):
            return None
        delay = self.delays[failed_attempts - 1]
        spread = self.jitter * (2 * random() - 1)  # in [-jitter, +jitter)
        return now + delay * (1 + spread)


# ---------------------------------------------------------------------------------- deliveries


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """One report sent to one subscription. `last_status` is the receiver's last HTTP status and
    `last_error` the class of the last failure (`http_500`, `timeout`, `unreachable`,
    `refused_unsafe`, ...): never the response's body, which is the receiver's and may hold
    anything."""

    id: str
    subscription_id: str
    tenant_id: str
    kind: str
    created_at: datetime
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None

    def succeeded(self, status: int, at: datetime) -> Delivery:
        """An attempt answered 2xx."""
        return replace(
            self,
            state=DeliveryState.DELIVERED,
            attempts=self.attempts + 1,
            last_status=status,
            last_error=None,
            next_attempt_at=None,
            delivered_at=at,
        )

    def attempt_failed(
        self,
        status: int | None,
        error: str,
        at: datetime,
        schedule: RetrySchedule,
        random: Callable[[], float],
    ) -> Delivery:
        """An attempt failed: retried later by the schedule, or failed for good."""
        attempts = self.attempts + 1
        later = schedule.next_attempt(attempts, at, random)
        return replace(
            self,
            state=DeliveryState.PENDING if later else DeliveryState.FAILED,
            attempts=attempts,
            last_status=status,
            last_error=error,
            next_attempt_at=later,
        )


def is_success(status: int) -> bool:
    return 200 <= status < 300


def error_class(status: int) -> str:
    """The `last_error` of an answer that is not 2xx (a redirect is a failure: never followed)."""
    return f"http_{status}"


def new_delivery(
    delivery_id: str, subscription_id: str, tenant_id: str, kind: str, now: datetime
) -> Delivery:
    """A delivery due at once."""
    if not _TOKEN.match(kind):
        raise NotAnAggregate("kind: must be a short identifier")
    return Delivery(delivery_id, subscription_id, tenant_id, kind, now, next_attempt_at=now)
