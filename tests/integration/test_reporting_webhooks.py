"""Reporting's webhooks on real PostgreSQL (ADR 0023 and its addendum): a tenant admin subscribes
a receiver served on 127.0.0.1 that verifies every signature with the secret shown once; the
digest (six coachees: their headline numbers) reaches it after a 500 and a retry, and the
admin's list of deliveries shows the attempts and states; the same digest is in the outbox as the
public event; a digest is published once per period; under five coachees it carries no number;
a ping; deletion; the refusals (coach, coachee, operator, another tenant's admin, another
tenant's webhook). Facts are applied as reporting's event handlers apply them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.contracts import identity as ic
from services.contracts import reporting as c
from services.contracts import scheduling as sch
from services.contracts import spaces as sc
from services.contracts.base import TenantRef
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.config import settings
from services.kernel.crypto import MasterKey
from services.kernel.errors import NotFound, PermissionDenied
from services.kernel.events import EventPayload
from services.kernel.ids import new_id
from services.kernel.runtime.outbox import outbox
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from services.kernel.runtime.webhooks import WebhookDeliverer, WebhookPoster
from services.reporting.handlers import facts, keys, webhooks
from services.reporting.storage.unit import ReportingUnit
from tests.support.events import envelope_of
from tests.support.loopback import LoopbackOnly
from tests.support.webhooks import Receiver

# A fixed instant: the receiver verifies signatures on the same clock as the deliverer.
NOW = datetime(2027, 3, 15, 9, tzinfo=UTC)
DAY = 86_400.0


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db(clock: FixedClock) -> Iterator[WorkerDatabase[ReportingUnit]]:
    engine = make_engine(settings().database_url_for("reporting"), pool_size=3)
    database = WorkerDatabase(engine, clock, unit=ReportingUnit)
    yield database
    database.close()
    engine.dispose()


@pytest.fixture
def master() -> MasterKey:
    return MasterKey(secrets.token_bytes(32))


@pytest.fixture
def receiver(clock: FixedClock) -> Iterator[Receiver]:
    with Receiver(clock) as serving:
        yield serving


def person(tenant_id: str | None, *roles: str, operator: bool = False) -> PersonClaims:
    return PersonClaims(
        new_id("per"), tenant_id, roles, operator, "tok", NOW, NOW + timedelta(days=1)
    )


class Tenant:
    """One new tenant's facts, applied as reporting's handlers apply its events."""

    def __init__(self, db: WorkerDatabase[ReportingUnit], coachees: int) -> None:
        self.db = db
        self.id = new_id("tnt")
        self.admin = person(self.id, "tenant_admin")
        self.coach = person(self.id, "coach")
        self.coachee = person(self.id, "coachee")
        self._apply(facts.record_membership, self._member(self.admin, "tenant_admin"))
        self._apply(facts.record_membership, self._member(self.coach, "coach"))
        for n in range(coachees):
            who = self.coachee if n == 0 else person(self.id, "coachee")
            self._apply(facts.record_membership, self._member(who, "coachee"))
            space_id = new_id("spc")
            self._apply(facts.record_space, self._space(space_id, who.person_id))
            self._apply(facts.record_session, self._held(space_id, who.person_id))

    def _apply(self, handler: Any, event: EventPayload) -> None:
        with self.db.unit_of_work() as uow:
            handler(uow, event, envelope_of(event, 1, NOW))

    def _member(self, who: PersonClaims, role: str) -> ic.MembershipChanged:
        return ic.MembershipChanged(
            change=ic.MembershipChange.ADDED,
            member_id=new_id("mem"),
            tenant_id=self.id,
            person_id=who.person_id,
            roles=[ic.Role(role)],
            status=ic.MembershipStatus.ACTIVE,
            created_at=NOW,
            updated_at=NOW,
            accepted_at=NOW,
        )

    def _space(self, space_id: str, coachee: str) -> sc.SpaceActivated:
        return sc.SpaceActivated(
            space_id=space_id,
            tenant_id=self.id,
            status=sc.SpaceStatus.ACTIVE,
            coachee_person_id=coachee,
            coach_person_id=self.coach.person_id,
            cadence="weekly",
            sessions_planned=10,
            starts_on=date(2027, 1, 4),
            updated_at=NOW,
        )

    def _held(self, space_id: str, coachee: str) -> sch.SessionHeld:
        return sch.SessionHeld(
            session_id=new_id("ses"),
            tenant_id=self.id,
            space_id=space_id,
            status="held",
            starts_at=NOW - timedelta(days=3),
            ends_at=NOW - timedelta(days=3, hours=-1),
            time_zone="Europe/Paris",
            coachee_person_id=coachee,
            coach_person_id=self.coach.person_id,
            uses_session=True,
            sequence=1,
            updated_at=NOW,
        )


def deliver(db: WorkerDatabase[ReportingUnit], master: MasterKey, clock: FixedClock) -> None:
    """One cycle of a deliverer allowed to reach the tests' receivers on 127.0.0.1."""
    poster = WebhookPoster(https_only=False, allow=["127.0.0.1/32"], transport=LoopbackOnly())
    WebhookDeliverer("tests", db.engine, master, clock, poster, batch=500).run_once()


def subscribed(
    db: WorkerDatabase[ReportingUnit], master: MasterKey, tenant: Tenant, receiver: Receiver
) -> c.NewWebhook:
    new = webhooks.create_webhook(
        db,
        master,
        False,
        tenant.admin,
        c.CreateWebhookRequest(tenant_id=tenant.id, url=receiver.url),
    )
    receiver.secret = new.secret
    return new


def deliveries(db: WorkerDatabase[ReportingUnit], tenant: Tenant) -> list[c.WebhookDelivery]:
    request = c.ListWebhookDeliveriesRequest(tenant_id=tenant.id)
    return webhooks.list_webhook_deliveries(db, tenant.admin, request).deliveries


def test_the_digest_reaches_a_receiver_that_verifies_it_after_a_retry(
    db: WorkerDatabase[ReportingUnit], master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant = Tenant(db, coachees=6)
    new = subscribed(db, master, tenant, receiver)
    assert new.secret.startswith("whsec_") and new.webhook.active
    (listed,) = webhooks.list_webhooks(db, tenant.admin, TenantRef(tenant_id=tenant.id)).webhooks
    assert listed == new.webhook
    assert new.secret not in json.dumps(listed.model_dump(mode="json"))

    assert webhooks.publish_digests(db, DAY) >= 1
    assert all(d.state == "pending" for d in deliveries(db, tenant))
    receiver.answers = [500]
    deliver(db, master, clock)

    (first,) = deliveries(db, tenant)
    assert (first.state, first.attempts, first.last_status, first.last_error) == (
        "pending",
        1,
        500,
        "http_500",
    )
    assert first.next_attempt_at is not None and first.next_attempt_at > NOW

    clock.advance(timedelta(seconds=40))  # past the first backoff (30 s, ± 10 %)
    deliver(db, master, clock)

    (second,) = deliveries(db, tenant)
    assert (second.state, second.attempts, second.last_status, second.last_error) == (
        "delivered",
        2,
        200,
        None,
    )
    assert receiver.refused == []
    bodies = [b for b in receiver.received if b["id"] == second.id]
    assert len(bodies) == 2  # both attempts arrived, signed; the 500 was the receiver's choice
    data = bodies[-1]["data"]
    assert (bodies[-1]["kind"], bodies[-1]["tenant_id"]) == ("reporting.digest", tenant.id)
    assert data == {
        "digest_id": data["digest_id"],
        "month": "2027-03",
        "disclosed": True,
        "min_group": 5,
        "coachees": 6,
        "seats": 6,
        "active_coachees": 6,
        "sessions_held": 6,
    }

    # The same digest, as the public event.
    with db.read_only() as uow:
        envelopes = (
            uow.connection.execute(
                select(outbox.c.envelope).where(outbox.c.event_type == c.DigestPublished.TYPE)
            )
            .scalars()
            .all()
        )
    payloads = [e["payload"] for e in envelopes if e["tenant_id"] == tenant.id]
    (event,) = [c.DigestPublished.model_validate(p) for p in payloads]
    assert (event.digest_id, event.disclosed, event.coachees, event.sessions_held) == (
        data["digest_id"],
        True,
        6,
        6,
    )

    # Once per period, whatever the number of timers.
    webhooks.publish_digests(db, DAY)
    assert len(deliveries(db, tenant)) == 1


def test_under_five_coachees_the_digest_carries_no_number(
    db: WorkerDatabase[ReportingUnit], master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant = Tenant(db, coachees=4)
    subscribed(db, master, tenant, receiver)
    webhooks.publish_digests(db, DAY)
    deliver(db, master, clock)

    (delivery,) = deliveries(db, tenant)
    assert delivery.state == "delivered"
    (body,) = [b for b in receiver.received if b["id"] == delivery.id]
    assert body["data"] == {
        "digest_id": body["data"]["digest_id"],
        "month": "2027-03",
        "disclosed": False,
        "min_group": 5,
    }


def test_a_ping_and_a_deleted_webhook(
    db: WorkerDatabase[ReportingUnit], master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant = Tenant(db, coachees=1)
    new = subscribed(db, master, tenant, receiver)
    ref = c.WebhookRef(tenant_id=tenant.id, webhook_id=new.webhook.id)

    ping = webhooks.send_test_delivery(db, tenant.admin, ref)
    assert (ping.kind, ping.state, ping.attempts) == ("reporting.ping", "pending", 0)
    deliver(db, master, clock)
    (body,) = [b for b in receiver.received if b["id"] == ping.id]
    assert body["data"] == {"ping": True, "webhook_id": new.webhook.id}

    webhooks.delete_webhook(db, tenant.admin, ref)
    (listed,) = webhooks.list_webhooks(db, tenant.admin, TenantRef(tenant_id=tenant.id)).webhooks
    assert not listed.active
    with pytest.raises(NotFound):
        webhooks.send_test_delivery(db, tenant.admin, ref)
    (kept,) = deliveries(db, tenant)
    assert kept.id == ping.id and kept.state == "delivered"


def test_a_tenant_key_rotation_rewraps_the_secret_s_key_and_the_receiver_still_verifies(
    db: WorkerDatabase[ReportingUnit], master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant = Tenant(db, coachees=1)
    new = subscribed(db, master, tenant, receiver)
    ref = c.WebhookRef(tenant_id=tenant.id, webhook_id=new.webhook.id)
    with pytest.raises(PermissionDenied):  # the tenant's own admin: operators only
        keys.rotate_tenant_key(db, master, tenant.admin, TenantRef(tenant_id=tenant.id))
    clock.advance(timedelta(seconds=1))
    rotation = keys.rotate_tenant_key(
        db, master, person(None, operator=True), TenantRef(tenant_id=tenant.id)
    )
    assert (rotation.rewrapped, rotation.retired) == (1, 1)
    ping = webhooks.send_test_delivery(db, tenant.admin, ref)
    deliver(db, master, clock)
    (body,) = [b for b in receiver.received if b["id"] == ping.id]  # verified with the secret
    assert body["data"] == {"ping": True, "webhook_id": new.webhook.id}
    assert receiver.refused == []


def test_deliveries_that_ended_are_pruned_after_90_days_and_pending_ones_kept(
    db: WorkerDatabase[ReportingUnit], master: MasterKey, receiver: Receiver, clock: FixedClock
) -> None:
    tenant = Tenant(db, coachees=1)
    new = subscribed(db, master, tenant, receiver)
    ref = c.WebhookRef(tenant_id=tenant.id, webhook_id=new.webhook.id)
    sent = webhooks.send_test_delivery(db, tenant.admin, ref)
    deliver(db, master, clock)
    receiver.answers = [500]
    waiting = webhooks.send_test_delivery(db, tenant.admin, ref)
    deliver(db, master, clock)
    states = {d.id: d.state for d in deliveries(db, tenant)}
    assert states == {sent.id: "delivered", waiting.id: "pending"}
    clock.advance(timedelta(days=89))
    webhooks.prune(db)
    assert {d.id for d in deliveries(db, tenant)} == {sent.id, waiting.id}
    clock.advance(timedelta(days=2))
    webhooks.prune(db)
    assert [d.id for d in deliveries(db, tenant)] == [waiting.id]


def test_only_the_tenant_s_active_admins_reach_its_webhooks(
    db: WorkerDatabase[ReportingUnit], master: MasterKey, receiver: Receiver
) -> None:
    tenant = Tenant(db, coachees=1)
    other = Tenant(db, coachees=1)
    new = subscribed(db, master, tenant, receiver)
    ref = c.WebhookRef(tenant_id=tenant.id, webhook_id=new.webhook.id)
    calls = {
        "create": lambda who: webhooks.create_webhook(
            db, master, False, who, c.CreateWebhookRequest(tenant_id=tenant.id, url=receiver.url)
        ),
        "list": lambda who: webhooks.list_webhooks(db, who, TenantRef(tenant_id=tenant.id)),
        "delete": lambda who: webhooks.delete_webhook(db, who, ref),
        "deliveries": lambda who: webhooks.list_webhook_deliveries(
            db, who, c.ListWebhookDeliveriesRequest(tenant_id=tenant.id)
        ),
        "ping": lambda who: webhooks.send_test_delivery(db, who, ref),
    }
    for name, call in calls.items():
        for who in (tenant.coach, tenant.coachee, person(None, operator=True)):
            with pytest.raises(PermissionDenied):
                call(who)
        with pytest.raises(NotFound) as hidden:
            call(other.admin)
        assert hidden.value.reason == "TENANT_NOT_FOUND", name

    # Another tenant's webhook, named under one's own tenant: like one that does not exist.
    theirs = c.WebhookRef(tenant_id=other.id, webhook_id=new.webhook.id)
    for call in (webhooks.delete_webhook, webhooks.send_test_delivery):
        with pytest.raises(NotFound) as hidden:
            call(db, other.admin, theirs)
        assert hidden.value.reason == "WEBHOOK_NOT_FOUND"
    with pytest.raises(NotFound):
        webhooks.list_webhook_deliveries(
            db,
            other.admin,
            c.ListWebhookDeliveriesRequest(tenant_id=other.id, webhook_id=new.webhook.id),
        )
    (still,) = webhooks.list_webhooks(db, tenant.admin, TenantRef(tenant_id=tenant.id)).webhooks
    assert still.active


def test_a_receiver_over_http_is_refused_in_production(
    db: WorkerDatabase[ReportingUnit], master: MasterKey
) -> None:
    tenant = Tenant(db, coachees=1)
    request = c.CreateWebhookRequest(tenant_id=tenant.id, url="http://hooks.example.com/in")
    with pytest.raises(Exception) as refused:
        webhooks.create_webhook(db, master, True, tenant.admin, request)
    assert "url" in str(refused.value)
