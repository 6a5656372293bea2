"""The request context that travels with a call: request id, deadline, caller's language.

The gateway creates it; nameko carries it as `nameko.*` message headers (context data) to every
service the request touches, nested calls included. Logs read the request id from here.
"""

from __future__ import annotations

import contextvars
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

REQUEST_ID = "request_id"
DEADLINE = "deadline"  # absolute, seconds since the epoch (wall clock, shared by processes)
AUTHORIZATION = "authorization"
LOCALE = "locale"
# The client's network address as the gateway saw it (x-forwarded-for only from trusted
# proxies); identity throttles sign-ins by it.
CLIENT_ADDRESS = "client_address"
# Set by the receiving RPC entrypoint from the AMQP message itself, never from its headers
# (services/kernel/runtime/replies.py): the call's correlation id, the same on every delivery
# of one call, and whether the broker is delivering it again. Not forwarded to nested calls.
DELIVERY = "ecoach_delivery"
REDELIVERED = "ecoach_redelivered"

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


def new_request_id() -> str:
    return secrets.token_hex(8)


def current_request_id() -> str | None:
    return _request_id.get()


def remaining_seconds(deadline: float | None, default: float) -> float:
    """Seconds left before `deadline` (never negative), or `default` when there is none."""
    if deadline is None:
        return default
    return max(0.0, deadline - time.time())


@dataclass(frozen=True)
class RequestScope:
    request_id: str
    deadline: float | None


@contextmanager
def request_scope(request_id: str | None, deadline: float | None) -> Iterator[RequestScope]:
    rid = request_id or new_request_id()
    t1 = _request_id.set(rid)
    t2 = _deadline.set(deadline)
    try:
        yield RequestScope(rid, deadline)
    finally:
        _request_id.reset(t1)
        _deadline.reset(t2)


@dataclass(frozen=True)
class Delivery:
    """The RPC call a worker serves (services/kernel/runtime/receipts.py): `call` is its
    correlation id, `worker` this worker's own id (another delivery of the same call has
    another), `method` for the record."""

    call: str
    worker: str
    method: str


_delivery: contextvars.ContextVar[Delivery | None] = contextvars.ContextVar(
    "delivery", default=None
)


def current_delivery() -> Delivery | None:
    return _delivery.get()


@contextmanager
def delivery_scope(call: str | None, method: str) -> Iterator[Delivery | None]:
    """While an RPC worker runs: its units of work record the call's receipt when they write."""
    delivery = Delivery(call, secrets.token_hex(8), method) if call else None
    token = _delivery.set(delivery)
    try:
        yield delivery
    finally:
        _delivery.reset(token)
