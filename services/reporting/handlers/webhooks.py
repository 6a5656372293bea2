"""Signed webhooks of HR's digest (ADR 0023 and its addendum): a tenant's active admins (the
reports' own access rule) subscribe receivers, list and delete them, list what was delivered,
and send a test delivery; a timer publishes each subscribed tenant's digest, as webhook
deliveries and as the public event `reporting.digest_published`, in one unit of work."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from services.contracts import reporting as c
from services.contracts.base import Empty, TenantRef
from services.kernel.caller import Caller, require_person
from services.kernel.crypto import MasterKey
from services.kernel.errors import NotFound, invalid
from services.kernel.i18n import N_
from services.kernel.ids import new_id
from services.kernel.runtime import webhooks as hooks
from services.kernel.webhooks import Delivery

from ..domain.access import require_report_reader
from ..domain.digest import (
    DIGEST_KIND,
    PING_KIND,
    digest_payload,
    headline_of,
    headline_queries,
    slot_of,
)
from ..domain.disclosure import MIN_GROUP
from ..domain.reports import assemble, month_of
from ..storage.unit import Db, ReportingUnit


def _require_admin(uow: ReportingUnit, caller: Caller, tenant_id: str) -> None:
    who = require_person(caller)
    require_report_reader(who, tenant_id, uow.members.of_person(tenant_id, who.person_id))


def _webhook(s: hooks.Subscription) -> c.Webhook:
    return c.Webhook(id=s.id, url=s.url, active=s.active, created_at=s.created_at)


def _delivery(d: Delivery) -> c.WebhookDelivery:
    return c.WebhookDelivery(
        id=d.id,
        webhook_id=d.subscription_id,
        kind=d.kind,
        state=d.state.value,
        attempts=d.attempts,
        created_at=d.created_at,
        next_attempt_at=d.next_attempt_at,
        last_status=d.last_status,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
    )


def _not_found() -> NotFound:
    return NotFound("No such webhook.", reason="WEBHOOK_NOT_FOUND")


def create_webhook(
    db: Db, master: MasterKey, production: bool, caller: Caller, request: c.CreateWebhookRequest
) -> c.NewWebhook:
    """A new subscription and its secret, shown this once. In production an http:// receiver is
    refused (the deliverer would refuse it anyway, at every attempt)."""
    if production and urlsplit(request.url).scheme != "https":
        raise invalid(url=N_("must be a web address starting with https://"))
    with db.unit_of_work() as uow:
        _require_admin(uow, caller, request.tenant_id)
        now = uow.clock.now()
        new = hooks.subscribe(uow.connection, master, request.tenant_id, request.url, now)
    webhook = c.Webhook(id=new.id, url=request.url, active=True, created_at=now)
    return c.NewWebhook(webhook=webhook, secret=new.secret)


def list_webhooks(db: Db, caller: Caller, request: TenantRef) -> c.WebhookList:
    with db.read_only() as uow:
        _require_admin(uow, caller, request.tenant_id)
        subscriptions = hooks.subscriptions_of(uow.connection, request.tenant_id)
    return c.WebhookList(webhooks=[_webhook(s) for s in subscriptions])


def delete_webhook(db: Db, caller: Caller, request: c.WebhookRef) -> Empty:
    """Deactivates it: nothing more is sent, its deliveries stay listed (pending ones fail at
    their next attempt, `subscription_inactive`). Another tenant's id: NOT_FOUND."""
    with db.unit_of_work() as uow:
        _require_admin(uow, caller, request.tenant_id)
        if not hooks.deactivate(uow.connection, request.tenant_id, request.webhook_id):
            raise _not_found()
    return Empty()


def list_webhook_deliveries(
    db: Db, caller: Caller, request: c.ListWebhookDeliveriesRequest
) -> c.WebhookDeliveryList:
    with db.read_only() as uow:
        _require_admin(uow, caller, request.tenant_id)
        if request.webhook_id is not None and not hooks.subscription_of(
            uow.connection, request.tenant_id, request.webhook_id
        ):
            raise _not_found()
        deliveries, token = hooks.delivery_page(
            uow.connection,
            request.tenant_id,
            request.effective_page_size(),
            request.page_token,
            subscription_id=request.webhook_id,
        )
    return c.WebhookDeliveryList(
        deliveries=[_delivery(d) for d in deliveries], next_page_token=token
    )


def send_test_delivery(db: Db, caller: Caller, request: c.WebhookRef) -> c.WebhookDelivery:
    """A ping (no figure at all) to one active webhook, for HR to check their receiver."""
    with db.unit_of_work() as uow:
        _require_admin(uow, caller, request.tenant_id)
        subscription = hooks.subscription_of(uow.connection, request.tenant_id, request.webhook_id)
        if subscription is None or not subscription.active:
            raise _not_found()
        now = uow.clock.now()
        payload = {"ping": True, "webhook_id": subscription.id}
        (delivery_id,) = hooks.enqueue(
            uow.connection, request.tenant_id, PING_KIND, payload, now, only=subscription.id
        )
        delivery = hooks.delivery_of(uow.connection, request.tenant_id, delivery_id)
    assert delivery is not None  # made in this unit of work
    return _delivery(delivery)


# How long a delivery that ended (delivered or failed) stays listed for the tenant's admins, and a
# digest's claim is kept.
KEPT = timedelta(days=90)


def prune(db: Db) -> tuple[int, int]:
    """Deliveries that ended and digest claims older than KEPT deleted: (deliveries, digests)."""
    with db.unit_of_work() as uow:
        before = uow.clock.now() - KEPT
        return hooks.prune_deliveries(uow.connection, before), uow.digests.prune(before)


def publish_digests(db: Db, interval_seconds: float) -> int:
    """For each tenant with an active webhook whose digest of the current slot is not out yet:
    its headline (disclosure rule applied by the reports), one delivery per active webhook and
    the public event, in one unit of work per tenant. The number of digests published."""
    with db.read_only() as uow:
        tenants = uow.digests.tenants_subscribed()
    published = 0
    for tenant_id in tenants:
        with db.unit_of_work() as uow:
            now = uow.clock.now()
            digest_id = new_id("dig")
            if not uow.digests.claim(tenant_id, slot_of(now, interval_seconds), digest_id, now):
                continue
            # Counted in SQL as GetReport counts (storage/reports.py), the rule applied by the
            # domain: the same figures, without loading the tenant's facts.
            seats, sessions = (
                assemble(q, *uow.report_counts.of_tenant(tenant_id, q))
                for q in headline_queries(now)
            )
            summary = headline_of(seats, sessions, month_of(now))
            hooks.enqueue(
                uow.connection, tenant_id, DIGEST_KIND, digest_payload(digest_id, summary), now
            )
            uow.record(
                c.DigestPublished(
                    digest_id=digest_id,
                    tenant_id=tenant_id,
                    month=summary.month,
                    disclosed=summary.disclosed,
                    min_group=MIN_GROUP,
                    published_at=now,
                    **summary.figures(),
                )
            )
        published += 1
    return published
