"""Reliable events end to end: identity's outbox and relay, the witness's inbox, retries, dead
letters, topology up front, and the faults of issue 3.

One deployment for this module: identity (its relay reaching the broker through a proxy the tests
can cut), the gateway, and the test-only witness service, which handles identity's events and
remembers every effect. Retries are short here (2 retries, 0.3 s then 0.6 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ecoach_dev.cli import ROOT
from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from gateway.api.rpc_client import RpcClient
from services.kernel.runtime.publisher import ConfirmingPublisher
from services.kernel.runtime.topology import dead_letter_queue, handler_queue
from tests.support import world_fixtures
from tests.support.api import Api, Session, unique_email, unique_slug
from tests.support.deployments import WITNESS, start_witness
from tests.support.proxy import PausableProxy
from tests.support.signing import signed
from tests.support.waiting import wait_for

# The module deployment's clients (tests/support/world_fixtures.py).
api = world_fixtures.api
operator = world_fixtures.operator

TENANT_QUEUE = handler_queue("identity", "identity.tenant_created", "witness", "on_tenant_created")
QUEUE_LIMIT = 5


@pytest.fixture(scope="module")
def proxy() -> Iterator[PausableProxy]:
    p = PausableProxy("127.0.0.1", 5672)
    yield p
    p.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, proxy: PausableProxy) -> Iterator[Deployment]:
    var = tmp_path_factory.mktemp("events")
    d = Deployment(
        Path(var),
        os.environ.get("ECOACH_DATABASE_URL"),
        extra_services=(WITNESS,),
        env={
            "ECOACH_HANDLER_RETRIES": "2",
            "ECOACH_RETRY_BASE_SECONDS": "0.3",
            "ECOACH_QUEUE_MAX_LENGTH": str(QUEUE_LIMIT),
            "ECOACH_RELAY_POLL_SECONDS": "0.2",
            "ECOACH_RELAY_CONFIRM_TIMEOUT_SECONDS": "2",
        },
        # The witness is deployed after the first events: its queues exist from the migration.
        hold=("witness",),
        relay_via=proxy.address,
    )
    try:
        d.start()
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="module")
def rpc(world: Deployment) -> Iterator[RpcClient]:
    client = RpcClient(world.amqp_uri, name="events-test").start()
    yield client
    client.close()


@pytest.fixture(scope="module")
def identity_db(world: Deployment) -> Iterator[sa.Engine]:
    engine = sa.create_engine(world.config.database_url_for("identity"), poolclass=sa.NullPool)
    yield engine
    engine.dispose()


# ---------------------------------------------------------------- helpers


def create_tenant(api: Api, operator: Session) -> str:
    slug = unique_slug("evt")
    tenant = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name=f"Events {slug}", slug=slug),
        metadata=operator.metadata,
        timeout=10,
    )
    return str(tenant.tenant_id)


def effects(rpc: RpcClient, aggregate_id: str) -> list[dict[str, Any]]:
    return list(rpc.call("witness", "effects", {"aggregate_id": aggregate_id}, timeout=10))


def outbox_row(engine: sa.Engine, aggregate_id: str, event_type: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT event_id, envelope, sent_at, sequence FROM outbox "
                "WHERE aggregate_id = :a AND event_type = :t ORDER BY id DESC LIMIT 1"
            ),
            {"a": aggregate_id, "t": event_type},
        ).first()


def queue_depth(world: Deployment, queue: str) -> int:
    import kombu

    with kombu.Connection(world.amqp_uri) as conn:
        channel = conn.channel()
        try:
            _, count, _ = channel.queue_declare(queue, passive=True)
            return int(count)
        finally:
            channel.close()


def relay_failures(world: Deployment) -> int:
    """How many times identity's relay has logged that it could not publish."""
    text = world.logs["identity"].read_text()
    return text.count("relay could not publish") + text.count("relay cycle failed")


def later_event_applied(api: Api, operator: Session, rpc: RpcClient) -> None:
    """The positive signal that the witness is past what was published before: the event of a
    tenant created after it has had its effect (one relay, one queue, first in, first out)."""
    marker = create_tenant(api, operator)
    wait_for(lambda: effects(rpc, marker), 30, "a later event's effect")


def ensure_witness(world: Deployment) -> None:
    if "witness" not in world.procs:
        start_witness(world)


# ---------------------------------------------------------------- the tests, in order


def test_a_consumer_deployed_after_the_events_still_receives_them(
    world: Deployment, api: Api, operator: Session, rpc: RpcClient, identity_db: sa.Engine
) -> None:
    # The witness has never run: only the migration step declared its queues.
    assert "witness" not in world.procs
    tenant_id = create_tenant(api, operator)
    wait_for(lambda: outbox_row(identity_db, tenant_id, "identity.tenant_created").sent_at, 10)
    assert queue_depth(world, TENANT_QUEUE) >= 1  # waiting for its consumer
    ensure_witness(world)
    seen = wait_for(lambda: effects(rpc, tenant_id), 30, "the witness to apply the event")
    assert [e["event_type"] for e in seen] == ["identity.tenant_created"]
    assert seen[0]["sequence"] == 1


def test_membership_events_carry_the_full_state_in_sequence(
    world: Deployment, api: Api, operator: Session, rpc: RpcClient
) -> None:
    ensure_witness(world)
    tenant_id = create_tenant(api, operator)
    added = api.members.AddMember(
        pb.AddMemberRequest(
            parent=f"tenants/{tenant_id}", email=unique_email("evt"), roles=[pb.COACH]
        ),
        metadata=operator.metadata,
        timeout=10,
    )
    name = f"tenants/{tenant_id}/members/{added.member_id}"
    api.members.DeactivateMember(
        pb.DeactivateMemberRequest(name=name), metadata=operator.metadata, timeout=10
    )
    seen = wait_for(lambda: len(effects(rpc, added.member_id)) == 2 and True, 20)
    assert seen
    rows = effects(rpc, added.member_id)
    assert sorted(r["sequence"] for r in rows) == [1, 2]
    copy = rpc.call("witness", "member", {"member_id": added.member_id}, timeout=10)
    assert copy["sequence"] == 2
    state = copy["state"]
    assert state["change"] == "deactivated"
    assert state["status"] == "deactivated"
    assert state["roles"] == ["coach"]
    assert state["tenant_id"] == tenant_id
    assert state["person_id"].startswith("per_")
    assert "email" not in state  # only identity keeps email addresses


def test_an_event_published_again_by_hand_has_no_second_effect(
    world: Deployment,
    api: Api,
    operator: Session,
    rpc: RpcClient,
    identity_db: sa.Engine,
) -> None:
    ensure_witness(world)
    tenant_id = create_tenant(api, operator)
    wait_for(lambda: effects(rpc, tenant_id), 20)
    row = outbox_row(identity_db, tenant_id, "identity.tenant_created")
    body, headers = signed(row.envelope, "identity", world.config.keys_path)
    publisher = ConfirmingPublisher(world.amqp_uri)
    try:
        for _ in range(2):
            publisher.publish(
                "identity.events",
                "identity.tenant_created",
                body,
                headers=headers,
                message_id=row.event_id,
            )
    finally:
        publisher.close()
    # The witness logs each duplicate it skips; wait for both, then count the effects.
    log = world.logs["witness"]
    wait_for(lambda: log.read_text().count(f'"event_id": "{row.event_id}"') >= 3, 15)
    assert '"outcome": "duplicate"' in log.read_text()
    assert len(effects(rpc, tenant_id)) == 1


def test_while_the_relay_cannot_publish_events_wait_and_then_arrive_once(
    world: Deployment,
    api: Api,
    operator: Session,
    rpc: RpcClient,
    identity_db: sa.Engine,
    proxy: PausableProxy,
) -> None:
    ensure_witness(world)
    proxy.pause()
    try:
        failures = relay_failures(world)
        tenant_id = create_tenant(api, operator)  # RPC works: only the relay is cut off
        wait_for(lambda: relay_failures(world) > failures, 15, "the relay to try and fail")
        assert outbox_row(identity_db, tenant_id, "identity.tenant_created").sent_at is None
        assert effects(rpc, tenant_id) == []
    finally:
        proxy.resume()
    wait_for(lambda: effects(rpc, tenant_id), 30, "the event after the relay reconnects")
    later_event_applied(api, operator, rpc)
    assert len(effects(rpc, tenant_id)) == 1


def test_a_service_killed_between_commit_and_publish_delivers_after_restart(
    world: Deployment,
    api: Api,
    operator: Session,
    rpc: RpcClient,
    identity_db: sa.Engine,
    proxy: PausableProxy,
) -> None:
    ensure_witness(world)
    proxy.pause()
    try:
        tenant_id = create_tenant(api, operator)
        assert outbox_row(identity_db, tenant_id, "identity.tenant_created").sent_at is None
        world.procs["identity"].kill()  # SIGKILL: no clean shutdown
        world.procs["identity"].wait()
        del world.procs["identity"]
    finally:
        proxy.resume()
    world.start_process("identity")
    world.wait_serving("identity")
    # The gateway may still report the killed process's SERVING for a probe or two: the
    # restarted one's relay, not the health, is the signal, and a busy machine (CI's two test
    # workers) takes tens of seconds to start a process.
    wait_for(lambda: effects(rpc, tenant_id), 90, "the event after the restart")
    later_event_applied(api, operator, rpc)
    assert len(effects(rpc, tenant_id)) == 1


def test_a_failing_handler_is_retried_then_parked_and_replay_applies_it_once(
    world: Deployment, api: Api, operator: Session, rpc: RpcClient
) -> None:
    ensure_witness(world)
    rpc.call(
        "witness", "set_failing", {"type": "identity.tenant_created", "failing": True}, timeout=10
    )
    try:
        tenant_id = create_tenant(api, operator)
        wait_for(lambda: queue_depth(world, dead_letter_queue("witness")) >= 1, 20, "the DLQ")
        log = world.logs["witness"].read_text()
        attempts = [
            json.loads(line)["attempt"]
            for line in log.splitlines()
            if tenant_id in line and '"outcome": "failed"' in line
        ]
        assert attempts == [1, 2, 3]  # the first delivery, then 2 retries
        assert effects(rpc, tenant_id) == []
    finally:
        rpc.call(
            "witness",
            "set_failing",
            {"type": "identity.tenant_created", "failing": False},
            timeout=10,
        )
    replay = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecoach_ops",
            "dlq",
            "replay",
            "witness",
            "--all",
            "--amqp-uri",
            world.amqp_uri,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    wait_for(lambda: effects(rpc, tenant_id), 20, "the replayed event")
    assert len(effects(rpc, tenant_id)) == 1
    assert queue_depth(world, dead_letter_queue("witness")) == 0


def test_a_full_queue_pushes_back_and_the_event_waits_in_the_outbox(
    world: Deployment,
    api: Api,
    operator: Session,
    rpc: RpcClient,
    identity_db: sa.Engine,
) -> None:
    ensure_witness(world)
    world.stop_process("witness")
    filler = ConfirmingPublisher(world.amqp_uri)
    try:
        fillers = []
        while queue_depth(world, TENANT_QUEUE) < QUEUE_LIMIT:
            slug = unique_slug("fill")
            envelope = {
                "id": f"evt_fill{len(fillers)}{slug.replace('-', '')}",
                "type": "identity.tenant_created",
                "version": 1,
                "occurred_at": "2026-01-01T00:00:00Z",
                "tenant_id": f"tnt_{len(fillers):04x}aa",
                "aggregate_id": f"tnt_{len(fillers):04x}aa",
                "sequence": 1,
                "payload": {
                    "tenant_id": f"tnt_{len(fillers):04x}aa",
                    "slug": slug,
                    "created_at": "2026-01-01T00:00:00Z",
                },
            }
            body, headers = signed(envelope, "identity", world.config.keys_path)
            filler.publish("", TENANT_QUEUE, body, headers=headers, message_id=envelope["id"])
            fillers.append(envelope)
    finally:
        filler.close()
    failures = relay_failures(world)
    tenant_id = create_tenant(api, operator)
    wait_for(lambda: relay_failures(world) > failures, 15, "the broker to refuse an event")
    # The broker refused it (reject-publish): it waits in identity's outbox.
    assert outbox_row(identity_db, tenant_id, "identity.tenant_created").sent_at is None
    start_witness(world)
    wait_for(lambda: effects(rpc, tenant_id), 30, "the event once the queue drained")
    assert len(effects(rpc, tenant_id)) == 1
