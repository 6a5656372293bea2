"""Revocation everywhere (rule 5): access tokens stop working within seconds, not at expiry.

Identity records a revocation (a person, a person in one tenant, one session of a person, every
session of a person but one, or a whole tenant, and the instant before which their tokens no
longer count) and publishes `identity.access_revoked`.
Every process, each service instance and the gateway, keeps a `RevocationList` that its token
verification consults on every call (never cached), fed by a `RevocationFeed`:

- an exclusive, auto-delete queue of the process's own, bound to `identity.events` for
  `identity.access_revoked` (so every process gets every revocation; the migration step does
  not declare these queues);
- a broadcast counts only if identity signed it (`events.check_signature`, as for every event:
  the broker is a trust boundary); anything else is logged and dropped;
- once that queue is bound, at start and after every broker reconnect, it fetches the
  revocations of the last access-token lifetime, so nothing published while it was away is
  missed; only then is the process ready to serve.

Entries older than the horizon (the access tokens' lifetime plus leeway) are dropped: every
token they could refuse has expired anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import kombu as _kombu

from .caller import PersonClaims
from .clock import Clock
from .consumer import consume_forever
from .events import ForgedEvent, check_signature
from .tokens import SigningKey, issue_service_token

# kombu has no type hints (mypy checks this module: the gateway imports it).
kombu = cast(Any, _kombu)

log = logging.getLogger(__name__)

EVENT_TYPE = "identity.access_revoked"
EXCHANGE = "identity.events"


@dataclass(frozen=True)
class Revocation:
    """Tokens of `person_id` (in `tenant_id` only, if set), or of everyone in `tenant_id` when
    `person_id` is None, issued before `not_before`, are refused. With `session_id`, only the
    tokens of that session (their `sid`); with `except_session_id`, all but that session's (a
    password change keeps the device it was made on signed in)."""

    not_before: datetime
    person_id: str | None = None
    tenant_id: str | None = None
    session_id: str | None = None
    except_session_id: str | None = None

    @classmethod
    def of(cls, payload: dict[str, Any]) -> Revocation:
        not_before = payload["not_before"]
        if isinstance(not_before, str):
            not_before = datetime.fromisoformat(not_before)
        return cls(
            not_before,
            payload.get("person_id") or None,
            payload.get("tenant_id") or None,
            payload.get("session_id") or None,
            payload.get("except_session_id") or None,
        )

    def covers(self, claims: PersonClaims) -> bool:
        if claims.issued_at >= self.not_before:
            return False
        if self.person_id is not None and self.person_id != claims.person_id:
            return False
        if self.session_id is not None and self.session_id != claims.session_id:
            return False
        if self.except_session_id is not None and self.except_session_id == claims.session_id:
            return False
        return self.tenant_id is None or self.tenant_id == claims.tenant_id


class RevocationList:
    """The revocations a process knows of, by person and by tenant. Thread-safe."""

    def __init__(self, clock: Clock, horizon: timedelta) -> None:
        self._clock = clock
        self._horizon = horizon
        self._lock = threading.Lock()
        self._by_person: dict[str, list[Revocation]] = {}
        self._by_tenant: dict[str, list[Revocation]] = {}  # tenant-wide ones only
        self._pruned_at = 0.0

    def add(self, revocations: Iterable[Revocation]) -> None:
        with self._lock:
            for r in revocations:
                if r.person_id is not None:
                    bucket = self._by_person.setdefault(r.person_id, [])
                elif r.tenant_id is not None:
                    bucket = self._by_tenant.setdefault(r.tenant_id, [])
                else:
                    continue  # names no one
                if r not in bucket:
                    bucket.append(r)
            self._prune_if_due()

    def is_revoked(self, claims: PersonClaims) -> bool:
        with self._lock:
            found = self._by_person.get(claims.person_id, ())
            if any(r.covers(claims) for r in found):
                return True
            if claims.tenant_id is not None:
                return any(r.covers(claims) for r in self._by_tenant.get(claims.tenant_id, ()))
        return False

    def __len__(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._by_person.values()) + sum(
                len(v) for v in self._by_tenant.values()
            )

    def since(self) -> datetime:
        """How far back a fresh process must fetch."""
        return self._clock.now() - self._horizon

    def _prune_if_due(self) -> None:
        now = time.monotonic()
        if now - self._pruned_at < 60:
            return
        self._pruned_at = now
        oldest = self.since()
        for index in (self._by_person, self._by_tenant):
            for key in list(index):
                kept = [r for r in index[key] if r.not_before >= oldest]
                if kept:
                    index[key] = kept
                else:
                    del index[key]


Fetch = Callable[[datetime], list[Revocation]]
# Sends identity's `list_access_revocations` the payload with a service token; its answer.
Ask = Callable[[dict[str, Any], str], dict[str, Any]]


def fetch_from_identity(ask: Ask, key: SigningKey, service: str, clock: Clock) -> Fetch:
    """The recent revocations from identity, asked over any transport with `service`'s own
    token (a minute long): the same wire contract for every process."""

    def fetch(since: datetime) -> list[Revocation]:
        token = issue_service_token(
            key, service=service, audience="identity", clock=clock, ttl=timedelta(seconds=60)
        )
        answer = ask({"since": since.isoformat()}, token)
        return [Revocation.of(r) for r in answer["revocations"]]

    return fetch


# A service's public key by its name (None if unknown): who may sign the broadcasts.
PublicKeys = Callable[[str], Any]


class RevocationFeed:
    """Keeps a RevocationList current from the broadcast, in a thread of its own (a green
    thread under eventlet). `ready` is set once the queue is bound and the recent revocations
    are fetched; it is cleared while the broker is away."""

    def __init__(
        self,
        amqp_uri: str,
        revocations: RevocationList,
        fetch: Fetch,
        *,
        name: str,
        public_key: PublicKeys,
        connect_timeout: float = 5.0,
    ) -> None:
        self._uri = amqp_uri
        self._public_key = public_key
        self.revocations = revocations
        self._fetch = fetch
        self._name = name
        self._connect_timeout = connect_timeout
        self.ready = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.received = 0

    def start(self, wait: float | None = 30.0) -> RevocationFeed:
        """Starts the thread and, unless `wait` is None, waits that long for `ready`."""
        self._thread = threading.Thread(
            target=self._run, name=f"revocations-{self._name}", daemon=True
        )
        self._thread.start()
        if wait is not None and not self.ready.wait(wait):
            raise RuntimeError("the revocation feed is not ready (broker or identity away?)")
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _on_message(self, body: Any, message: Any) -> None:
        raw = message.body if isinstance(message.body, bytes) else str(message.body).encode()
        try:
            check_signature(raw, EVENT_TYPE, message.headers or {}, self._public_key)
        except ForgedEvent as exc:
            log.error("refused a revocation broadcast: %s", exc)
            return
        try:
            payload = body["payload"] if isinstance(body, dict) and "payload" in body else body
            self.revocations.add([Revocation.of(payload)])
            self.received += 1
        except Exception:  # a malformed broadcast must not stop the feed
            log.warning("ignored a malformed revocation broadcast")

    def _run(self) -> None:
        exchange = kombu.Exchange(EXCHANGE, type="topic", durable=True, auto_delete=False)
        queue = kombu.Queue(
            f"revocations-{self._name}-{id(self):x}-{time.monotonic_ns():x}",
            exchange=exchange,
            routing_key=EVENT_TYPE,
            exclusive=True,
            auto_delete=True,
            durable=False,
        )

        def fetch_missed() -> None:
            # Bound first, then fetched: a revocation published in between is in both, and
            # adding it twice changes nothing.
            self.revocations.add(self._fetch(self.revocations.since()))

        consume_forever(
            self._uri,
            queue,
            self._on_message,
            ready=self.ready,
            stopping=self._stopping,
            what="revocation feed",
            on_bound=fetch_missed,
            connect_timeout=self._connect_timeout,
        )
