"""Signed webhooks, the runtime part (ADR 0023): the tables a service's migration creates, the
subscription and delivery records, and the deliverer that POSTs them.

A service that sends webhooks (reporting) wires it as:

- its migration calls `create_webhook_tables(bind)` (beside `create_keyring_tables`: secrets are
  sealed with the tenant's keys);
- a tenant admin's RPC `subscribe(...)` returns the secret once (`NewSubscription.secret`), which
  is stored sealed and never shown again; `deactivate(...)` stops it; `deliveries_of(...)` lists
  what was sent, for the admin;
- the use case that builds an aggregate calls `enqueue(...)` in its unit of work (one delivery
  per active subscription of the tenant, checked to carry aggregates only);
- a timer calls `WebhookDeliverer.run_once()`.

The deliverer works like the outbox relay (rule 4): it claims due deliveries by lease (an `UPDATE`
of `claimed_by, claimed_until` over rows picked `FOR UPDATE SKIP LOCKED`, committed), POSTs each
one outside any transaction, then records the outcome only if the lease is still its own. Several
instances never send one delivery at the same time; the lease (2 minutes) outlasts the POST's
timeouts, so an expired lease means its deliverer died, and another sends it again (a receiver
dedupes by `ecoach-delivery-id`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from ..clock import Clock
from ..crypto import MasterKey
from ..ids import new_id
from ..webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Delivery,
    DeliveryState,
    RetrySchedule,
    check_aggregates,
    delivery_body,
    error_class,
    is_success,
    new_delivery,
    new_secret,
    signature_header,
)
from .keyring import KeyRing
from .outbox import relay_owner_id
from .pagination import keyset_page
from .safe_http import (
    WEB_SCHEMES,
    AddressPolicy,
    Network,
    Resolver,
    Unresolved,
    Unsafe,
    pinned_client,
    pinned_request,
    resolve,
)

log = logging.getLogger(__name__)

USER_AGENT = "ecoach-webhooks/1.0"

WEBHOOK_METADATA = MetaData()
TZ = DateTime(timezone=True)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    WEBHOOK_METADATA,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("data_key", Text, nullable=False),  # wrapped by the tenant's key (keyring)
    Column("secret", Text, nullable=False),  # sealed by data_key
    Column("active", Boolean, nullable=False),
    Column("created_at", TZ, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    WEBHOOK_METADATA,
    Column("id", String(40), primary_key=True),
    Column(
        "subscription_id",
        String(40),
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("tenant_id", String(40), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("payload", JSONB, nullable=False),  # aggregates only (check_aggregates)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("next_attempt_at", TZ),
    Column("last_status", Integer),
    Column("last_error", String(64)),  # an error class, never the receiver's answer
    Column("delivered_at", TZ),
    Column("claimed_by", String(80)),
    Column("claimed_until", TZ),
    Index(
        "webhook_deliveries_due",
        "next_attempt_at",
        postgresql_where=text("state = 'pending'"),
    ),
    Index("webhook_deliveries_by_tenant", "tenant_id", "created_at"),
)


def create_webhook_tables(bind: Connection) -> None:
    """For a service's migration: the subscription and delivery tables (version 1)."""
    WEBHOOK_METADATA.create_all(bind)


def drop_webhook_tables(bind: Connection) -> None:
    WEBHOOK_METADATA.drop_all(bind)


def _secret_context(subscription_id: str) -> str:
    return f"webhook_secret.{subscription_id}"


# ------------------------------------------------------------ records (inside a unit of work)


@dataclass(frozen=True)
class NewSubscription:
    id: str
    secret: str  # shown once to the admin; only its sealed form is stored


def subscribe(
    connection: Connection, master: MasterKey, tenant_id: str, url: str, now: datetime
) -> NewSubscription:
    """A new active subscription of the tenant to `url` (validated by the caller's contract;
    the deliverer checks the address at every attempt), with a new secret."""
    key, wrapped = KeyRing(connection, master).new_data_key(tenant_id, now)
    subscription = NewSubscription(new_id("whs"), new_secret())
    connection.execute(
        webhook_subscriptions.insert().values(
            id=subscription.id,
            tenant_id=tenant_id,
            url=url,
            data_key=wrapped,
            secret=key.seal_text(subscription.secret, _secret_context(subscription.id)),
            active=True,
            created_at=now,
        )
    )
    return subscription


@dataclass(frozen=True)
class Subscription:
    """A subscription as its admin sees it: never its secret."""

    id: str
    tenant_id: str
    url: str
    active: bool
    created_at: datetime


def subscriptions_of(connection: Connection, tenant_id: str) -> list[Subscription]:
    """The tenant's subscriptions, active and not, newest first."""
    t = webhook_subscriptions
    rows = connection.execute(
        select(t.c.id, t.c.tenant_id, t.c.url, t.c.active, t.c.created_at)
        .where(t.c.tenant_id == tenant_id)
        .order_by(t.c.created_at.desc(), t.c.id)
    ).all()
    return [Subscription(r.id, r.tenant_id, r.url, r.active, r.created_at) for r in rows]


def subscription_of(
    connection: Connection, tenant_id: str, subscription_id: str
) -> Subscription | None:
    """One subscription of the tenant (None: none such in this tenant)."""
    t = webhook_subscriptions
    row = connection.execute(
        select(t.c.id, t.c.tenant_id, t.c.url, t.c.active, t.c.created_at).where(
            t.c.tenant_id == tenant_id, t.c.id == subscription_id
        )
    ).first()
    return Subscription(row.id, row.tenant_id, row.url, row.active, row.created_at) if row else None


def deactivate(connection: Connection, tenant_id: str, subscription_id: str) -> bool:
    """Stops a subscription (False: no such subscription in this tenant). Its pending deliveries
    fail at their next attempt, with `subscription_inactive`."""
    t = webhook_subscriptions
    result = connection.execute(
        update(t).where(t.c.id == subscription_id, t.c.tenant_id == tenant_id).values(active=False)
    )
    return bool(result.rowcount)


def enqueue(
    connection: Connection,
    tenant_id: str,
    kind: str,
    payload: Mapping[str, Any],
    now: datetime,
    *,
    only: str | None = None,
) -> list[str]:
    """One delivery of `payload` per active subscription of the tenant (or to the one `only`
    names, if active: a test delivery), due now; their ids. `NotAnAggregate` if the payload
    carries anything but aggregates."""
    check_aggregates(payload)
    t = webhook_subscriptions
    query = select(t.c.id).where(t.c.tenant_id == tenant_id, t.c.active)
    if only is not None:
        query = query.where(t.c.id == only)
    subscription_ids = connection.execute(query.order_by(t.c.id)).scalars()
    ids = []
    for subscription_id in subscription_ids:
        delivery = new_delivery(new_id("whd"), subscription_id, tenant_id, kind, now)
        connection.execute(webhook_deliveries.insert().values(**_row(delivery), payload=payload))
        ids.append(delivery.id)
    return ids


def prune_deliveries(connection: Connection, before: datetime) -> int:
    """Delete the deliveries that ended (delivered or failed) and were made before `before`;
    pending ones are kept whatever their age. How many went."""
    d = webhook_deliveries
    done = d.c.state.in_(("delivered", "failed"))
    return connection.execute(delete(d).where(done, d.c.created_at < before)).rowcount or 0


def delivery_of(connection: Connection, tenant_id: str, delivery_id: str) -> Delivery | None:
    """One of the tenant's deliveries, by its id (None: not the tenant's, or none)."""
    d = webhook_deliveries
    row = connection.execute(
        select(d).where(d.c.tenant_id == tenant_id, d.c.id == delivery_id)
    ).first()
    return _delivery(row._mapping) if row is not None else None


def deliveries_of(
    connection: Connection,
    tenant_id: str,
    *,
    subscription_id: str | None = None,
    limit: int = 50,
    before: datetime | None = None,
) -> list[Delivery]:
    """The tenant's deliveries, newest first (what its admin sees; never another tenant's)."""
    d = webhook_deliveries
    query = select(d).where(d.c.tenant_id == tenant_id)
    if subscription_id is not None:
        query = query.where(d.c.subscription_id == subscription_id)
    if before is not None:
        query = query.where(d.c.created_at < before)
    rows = connection.execute(query.order_by(d.c.created_at.desc(), d.c.id).limit(limit)).all()
    return [_delivery(r._mapping) for r in rows]


def delivery_page(
    connection: Connection,
    tenant_id: str,
    size: int,
    token: str,
    *,
    subscription_id: str | None = None,
) -> tuple[list[Delivery], str]:
    """One page of the tenant's deliveries, newest first, and the next page's token ("" on the
    last): keyset pagination (kernel/runtime/pagination.py), stable while deliveries are added."""
    d = webhook_deliveries
    query = select(d).where(d.c.tenant_id == tenant_id)
    if subscription_id is not None:
        query = query.where(d.c.subscription_id == subscription_id)
    return keyset_page(
        connection, d, query, size, token, lambda r: _delivery(r._mapping), newest_first=True
    )


def _row(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "subscription_id": delivery.subscription_id,
        "tenant_id": delivery.tenant_id,
        "kind": delivery.kind,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "delivered_at": delivery.delivered_at,
    }


def _delivery(row: Mapping[str, Any]) -> Delivery:
    return Delivery(
        id=row["id"],
        subscription_id=row["subscription_id"],
        tenant_id=row["tenant_id"],
        kind=row["kind"],
        created_at=row["created_at"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
    )


# ------------------------------------------------------------------------------- the HTTP part


class Undeliverable(Exception):
    """An attempt that got no HTTP answer: `error` is its class (`refused_unsafe`, `unreachable`,
    `timeout`), `detail` says why in English, for the logs."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error


class WebhookPoster:
    """POSTs one body to one receiver through the kernel's SSRF rules (runtime/safe_http.py): the
    address checked and pinned, no redirect followed (a 3xx is a failed attempt), no proxy, a
    timeout on each phase, the answer's body never read. `https_only` is what production passes;
    `allow` is for tests (safe_http's docstring) and no setting reaches it."""

    def __init__(
        self,
        *,
        https_only: bool = True,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        resolver: Resolver = resolve,
        transport: httpx.BaseTransport | None = None,
        allow: Iterable[str | Network] = (),
    ) -> None:
        schemes = {"https"} if https_only else WEB_SCHEMES
        self._policy = AddressPolicy(schemes=schemes, resolver=resolver, allow=allow)
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._transport = transport

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """The receiver's status code; `Undeliverable` when there is none."""
        try:
            target = self._policy.target(url)
            address = self._policy.address(target)
        except Unsafe as unsafe:
            raise Undeliverable("refused_unsafe", str(unsafe)) from None
        except Unresolved as unresolved:
            raise Undeliverable("unreachable", str(unresolved)) from None
        with pinned_client(self._transport, {"User-Agent": USER_AGENT}) as client:
            request = pinned_request(
                client, "POST", target, address, self._timeout, headers=headers, content=body
            )
            try:
                response = client.send(request, stream=True)
                response.close()  # the body is the receiver's business: never read
            except httpx.TimeoutException:
                raise Undeliverable("timeout", "the receiver did not answer in time") from None
            except httpx.TransportError as error:
                raise Undeliverable("unreachable", type(error).__name__) from None
        return response.status_code


# ------------------------------------------------------------------------------- the deliverer


@dataclass(frozen=True)
class _Claimed:
    delivery: Delivery
    payload: Any
    url: str | None  # None: the subscription is inactive
    secret: str | None


_d = webhook_deliveries
_pick = (
    select(_d.c.id)
    .where(
        _d.c.state == DeliveryState.PENDING.value,
        _d.c.next_attempt_at <= bindparam("now"),
        _d.c.claimed_until.is_(None) | (_d.c.claimed_until < bindparam("now")),
    )
    .order_by(_d.c.next_attempt_at, _d.c.id)
    .limit(bindparam("batch"))
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_claim = (
    update(_d)
    .where(_d.c.id.in_(_pick))
    .values(claimed_by=bindparam("owner"), claimed_until=bindparam("until"))
    .returning(*_d.c)
)


class WebhookDeliverer:
    """Sends due deliveries. `run_once` does one claim-send-record cycle; a service's timer calls
    it. Usable from plain threads as well (the tests run two at once)."""

    def __init__(
        self,
        service: str,
        engine: Engine,
        master: MasterKey,
        clock: Clock,
        poster: WebhookPoster,
        *,
        schedule: RetrySchedule | None = None,
        batch: int = 20,
        lease: timedelta = timedelta(minutes=2),
        owner: str | None = None,
        random: Callable[[], float] = secrets.SystemRandom().random,
    ) -> None:
        self.engine = engine
        self.master = master
        self.clock = clock
        self.poster = poster
        self.schedule = schedule or RetrySchedule()
        self.batch = batch
        self.lease = lease
        self.owner = owner or relay_owner_id(service)  # host, process, random
        self.random = random

    def claim(self) -> list[_Claimed]:
        """Leases up to `batch` due deliveries to this deliverer (committed before any POST)."""
        now = self.clock.now()
        with self.engine.begin() as connection:
            rows = connection.execute(
                _claim,
                {"now": now, "batch": self.batch, "owner": self.owner, "until": now + self.lease},
            ).all()
            if not rows:
                return []
            s = webhook_subscriptions
            subscriptions = {
                r.id: r
                for r in connection.execute(
                    select(s).where(s.c.id.in_({r.subscription_id for r in rows}))
                ).all()
            }
            ring = KeyRing(connection, self.master)
            claimed = []
            for row in sorted(rows, key=lambda r: (r.next_attempt_at, r.id)):
                sub = subscriptions.get(row.subscription_id)
                url = secret = None
                if sub is not None and sub.active:
                    key = ring.data_key(sub.tenant_id, sub.data_key)
                    url, secret = sub.url, key.open_text(sub.secret, _secret_context(sub.id))
                claimed.append(_Claimed(_delivery(row._mapping), row.payload, url, secret))
        return claimed

    def run_once(self) -> int:
        """Attempts what is due now; the number of attempts made."""
        claimed = self.claim()
        for item in claimed:
            self._record(self._attempt(item))
        return len(claimed)

    def _attempt(self, item: _Claimed) -> Delivery:
        delivery = item.delivery
        now = self.clock.now()
        if item.url is None or item.secret is None:
            return delivery.attempt_failed(
                None, "subscription_inactive", now, RetrySchedule(delays=()), self.random
            )
        body = delivery_body(
            delivery.id, delivery.kind, delivery.tenant_id, delivery.created_at, item.payload
        )
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(item.secret, body, now),
            DELIVERY_HEADER: delivery.id,
            TIMESTAMP_HEADER: str(int(now.timestamp())),
        }
        try:
            status = self.poster.post(item.url, body, headers)
        except Undeliverable as failure:
            log.info(
                "webhook delivery %s attempt failed: %s (%s)", delivery.id, failure.error, failure
            )
            return delivery.attempt_failed(
                None, failure.error, self.clock.now(), self.schedule, self.random
            )
        if is_success(status):
            return delivery.succeeded(status, self.clock.now())
        log.info("webhook delivery %s answered %s", delivery.id, status)
        return delivery.attempt_failed(
            status, error_class(status), self.clock.now(), self.schedule, self.random
        )

    def _record(self, delivery: Delivery) -> None:
        """The attempt's outcome, only if the lease is still ours (else another deliverer holds
        the delivery now and its outcome counts)."""
        row = _row(delivery)
        with self.engine.begin() as connection:
            connection.execute(
                update(_d)
                .where(_d.c.id == delivery.id, _d.c.claimed_by == self.owner)
                .values(
                    state=row["state"],
                    attempts=row["attempts"],
                    next_attempt_at=row["next_attempt_at"],
                    last_status=row["last_status"],
                    last_error=row["last_error"],
                    delivered_at=row["delivered_at"],
                    claimed_until=None,
                )
            )
