"""The broker is a trust boundary (issue 19, item 5): a message on RabbitMQ is not believed for
being there. Events are signed by the service whose type they carry, and whoever holds another
service's broker user cannot publish as that service.

One deployment with the test-only witness, which copies `spaces.space_created` (who coaches
whom) as other services would.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import amqp
import amqp.exceptions
import kombu
import pytest

from ecoach_dev.broker import process_user
from ecoach_dev.deployment import Deployment
from gateway.api.rpc_client import RpcClient
from services.contracts import spaces as sc
from services.kernel.events import SIGNATURE_HEADER, envelope_bytes, new_event_id
from services.kernel.runtime.broker_admin import management_request
from services.kernel.runtime.publisher import ConfirmingPublisher
from services.kernel.runtime.topology import ERROR_HEADER, dead_letter_queue
from services.kernel.tokens import SigningKey, b64url
from tests.support import world_fixtures
from tests.support.signing import signed
from tests.support.waiting import wait_for

# The shared "witness" deployment: the witness consumes spaces' events.
world = world_fixtures.shared


@pytest.fixture(scope="module")
def rpc(world: Deployment) -> Iterator[RpcClient]:
    with RpcClient(world.amqp_uri, name="broker-test") as client:
        yield client


def space_created() -> dict[str, Any]:
    """A `spaces.space_created` envelope of valid shape: a coach made coach of a coachee."""
    space_id = "spc_" + secrets.token_hex(8)
    payload = sc.SpaceCreated(
        space_id=space_id,
        tenant_id="tnt_" + secrets.token_hex(8),
        status=sc.SpaceStatus.ACTIVE,
        coachee_person_id="per_" + secrets.token_hex(8),
        coach_person_id="per_" + secrets.token_hex(8),
        cadence="weekly",
        sessions_planned=6,
        starts_on=date(2026, 1, 5),
        updated_at=datetime.now(UTC),
    )
    return {
        "id": new_event_id(),
        "type": sc.SpaceCreated.TYPE,
        "version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "tenant_id": payload.tenant_id,
        "aggregate_id": space_id,
        "sequence": 1,
        "payload": payload.model_dump(mode="json"),
    }


def effects(rpc: RpcClient, aggregate_id: str) -> list[dict[str, Any]]:
    return list(rpc.call("witness", "effects", {"aggregate_id": aggregate_id}, timeout=10))


def parked(world: Deployment, service: str = "witness") -> list[Any]:
    """The messages in `service`'s dead-letter queue (fetched and put back)."""
    with kombu.Connection(world.amqp_uri) as conn:
        channel = conn.channel()
        try:
            messages = []
            while (message := channel.basic_get(dead_letter_queue(service))) is not None:
                messages.append(message)
            for message in messages:
                channel.basic_reject(message.delivery_tag, requeue=True)
            return messages
        finally:
            channel.close()


def test_a_forged_space_created_is_parked_and_never_applied(
    world: Deployment, rpc: RpcClient
) -> None:
    keys = world.config.keys_path
    forged: dict[str, tuple[bytes, dict[str, str]]] = {}
    unsigned = space_created()
    forged[unsigned["aggregate_id"]] = (envelope_bytes(unsigned), {})
    # Signed, as spaces, by a key that is not spaces'.
    wrong_key = space_created()
    body = envelope_bytes(wrong_key)
    stranger = SigningKey.generate().private.sign(body)
    _, headers = signed(wrong_key, "spaces", keys)
    forged[wrong_key["aggregate_id"]] = (body, {**headers, SIGNATURE_HEADER: b64url(stranger)})
    # Validly signed by scheduling, which does not own spaces.* events.
    other_service = space_created()
    forged[other_service["aggregate_id"]] = signed(other_service, "scheduling", keys)
    genuine = space_created()
    publisher = ConfirmingPublisher(world.amqp_uri)
    try:
        for body, headers in [*forged.values(), signed(genuine, "spaces", keys)]:
            publisher.publish("spaces.events", sc.SpaceCreated.TYPE, body, headers=headers)
    finally:
        publisher.close()

    wait_for(lambda: effects(rpc, genuine["aggregate_id"]), 20, "the genuine event applied")
    messages = wait_for(lambda: len(parked(world)) >= 3 and parked(world), 20, "3 parked")
    assert len(messages) == 3
    errors = [str(m.headers[ERROR_HEADER]) for m in messages]
    assert all(e.startswith("PoisonEvent: refused spaces.space_created event") for e in errors)
    assert any("unsigned" in e for e in errors)
    assert any("does not verify" in e for e in errors)
    assert any("scheduling may not publish" in e for e in errors)
    for aggregate_id in forged:
        assert effects(rpc, aggregate_id) == []

    # Identity keeps who coaches whom from these events too: it refused the same three.
    def refused_by_identity() -> list[str]:
        errors = [str(m.headers[ERROR_HEADER]) for m in parked(world, "identity")]
        return [e for e in errors if e.startswith("PoisonEvent: refused spaces.space_created")]

    assert len(wait_for(lambda: len(refused_by_identity()) >= 3 and refused_by_identity())) == 3


# ---------------------------------------------------------------- each process its own user


def outcome(uri: str, exchange: str, routing_key: str) -> str:
    """Publish one message in confirm mode as the URI's user: `ok` once the broker confirms
    it, else the broker's refusal."""
    with kombu.Connection(uri, connect_timeout=10) as conn:
        channel = conn.channel()
        channel.confirm_select()
        channel.basic_publish(amqp.Message(b"{}"), exchange, routing_key)
        try:
            conn.drain_events(timeout=10)
        except amqp.exceptions.AccessRefused as exc:
            return f"refused: {exc}"
        return "ok"


def refusal(uri: str, act: Callable[[Any], object]) -> str:
    """Run `act` on a channel of the URI's user: the broker's refusal, or `ok`."""
    with kombu.Connection(uri, connect_timeout=10) as conn:
        channel = conn.channel()
        try:
            act(channel)
        except amqp.exceptions.AccessRefused as exc:
            return f"refused: {exc}"
        return "ok"


def test_every_process_connects_as_its_own_broker_user(world: Deployment) -> None:
    vhost = quote(world.vhost, safe="")
    expected = {process_user(world.amqp_uri, p) for p in ("identity", "spaces", "gateway")}
    expected |= {process_user(world.amqp_uri, p) for p in ("scheduling", "witness")}

    def users() -> set[str]:
        rows = management_request(world.amqp_uri, "GET", f"vhosts/{vhost}/connections")
        return {row["user"] for row in rows or ()}

    # The management API's connection list lags a few seconds behind the broker.
    wait_for(lambda: expected <= users(), 30, "every process's connection")


def test_a_service_cannot_publish_to_another_services_events_exchange(world: Deployment) -> None:
    scheduling = world.config.broker_uri("scheduling", world.amqp_uri)
    refused = outcome(scheduling, "spaces.events", sc.SpaceCreated.TYPE)
    assert refused.startswith("refused") and "ACCESS_REFUSED" in refused
    assert "Basic.publish" in refused and "access to exchange 'spaces.events'" in refused
    # Its own exchange, its own event types: confirmed.
    assert outcome(scheduling, "scheduling.events", "scheduling.session_held") == "ok"
    gateway = world.config.broker_uri("gateway", world.amqp_uri)
    assert "ACCESS_REFUSED" in outcome(gateway, "identity.events", "identity.person_erased")


def test_a_service_cannot_read_another_services_rpc_requests(world: Deployment) -> None:
    scheduling = world.config.broker_uri("scheduling", world.amqp_uri)
    # identity's RPC queue (sign-in requests carry passwords): not its to consume.
    assert "ACCESS_REFUSED" in refusal(
        scheduling, lambda ch: ch.basic_consume("rpc-identity", callback=lambda m: None)
    )

    # Nor may it bind a queue of its own to identity's methods on nameko-rpc.
    def snoop(channel: Any) -> None:
        name = f"rpc.reply-scheduling-{uuid.uuid4()}"
        channel.queue_declare(name, auto_delete=True)
        channel.queue_bind(name, "nameko-rpc", "identity.*")

    refused = refusal(scheduling, snoop)
    assert "ACCESS_REFUSED" in refused and "identity.*" in refused
