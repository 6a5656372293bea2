"""Each process's broker permissions fit the names nameko and the kernel declare, and no other's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from services.kernel.config import Settings
from services.kernel.runtime.topology import Subscription, grants_for

SCHEDULING = grants_for(
    "scheduling",
    [
        Subscription("scheduling", "identity.tenant_created", "on_tenant_created"),
        Subscription("scheduling", "scheduling.session_booked", "on_session_booked"),
    ],
    service=True,
)
GATEWAY = grants_for("gateway", [], service=False)
UUID = "0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


def allows(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None


def test_a_service_may_use_its_own_queues_and_exchanges() -> None:
    own_queues = [
        "rpc-scheduling",
        f"rpc.reply-scheduling-{UUID}",
        "evt-identity-identity.tenant_created--scheduling.on_tenant_created",
        "revocations-scheduling-7f3a-1b2c",
    ]
    for queue in own_queues:
        assert allows(SCHEDULING.configure, queue), queue
        assert allows(SCHEDULING.write, queue), queue  # binding it
        assert allows(SCHEDULING.read, queue), queue  # consuming it
    for exchange in ("nameko-rpc", "scheduling.events", "scheduling.retry"):
        assert allows(SCHEDULING.write, exchange)
    assert allows(SCHEDULING.write, "scheduling.dead-letters")
    # It binds to the exchanges of the events it handles (and kombu declares them).
    assert allows(SCHEDULING.read, "identity.events")
    assert allows(SCHEDULING.configure, "identity.events")


def test_a_service_may_not_touch_another_services_queues_or_publish_its_events() -> None:
    for name in (
        "rpc-identity",
        f"rpc.reply-identity-{UUID}",
        f"rpc.reply-standalone_rpc_proxy-{UUID}",
        "evt-identity-identity.tenant_created--witness.on_tenant_created",
        "revocations-gateway-1",
        "identity.dead-letters",
    ):
        for pattern in (SCHEDULING.configure, SCHEDULING.write, SCHEDULING.read):
            assert not allows(pattern, name), name
    for exchange in ("identity.events", "spaces.events", "identity.retry", "amq.default", ""):
        assert not allows(SCHEDULING.write, exchange), exchange
    assert not allows(SCHEDULING.read, "spaces.events")  # it handles no spaces event


def test_binding_keys_on_nameko_rpc_are_its_own_methods_and_reply_ids_only() -> None:
    write, read = SCHEDULING.topics["nameko-rpc"]
    assert allows(write, "identity.sign_in")  # it may call any service
    assert allows(read, "scheduling.*")
    assert allows(read, UUID)
    for key in ("identity.*", "identity.sign_in", "#", "*.*", "scheduling.#"):
        assert not allows(read, key), key
    assert SCHEDULING.topics["identity.events"] == (
        "^$",
        r"^(identity\.access_revoked|identity\.tenant_created)$",
    )
    own_write, own_read = SCHEDULING.topics["scheduling.events"]
    assert allows(own_write, "scheduling.session_held")
    assert not allows(own_write, "spaces.space_created")
    assert allows(own_read, "scheduling.session_booked")


def test_the_gateway_is_an_rpc_client_that_hears_revocations() -> None:
    assert allows(GATEWAY.write, "nameko-rpc")
    assert allows(GATEWAY.read, "rpc.reply-gateway-" + "a" * 32)
    assert allows(GATEWAY.read, "identity.events")
    for name in ("rpc-identity", "identity.events", "gateway.events"):
        assert not allows(GATEWAY.write, name), name
    _, read = GATEWAY.topics["nameko-rpc"]
    assert allows(read, "rpc.reply-gateway-" + "0123456789abcdef" * 2)
    assert not allows(read, "identity.*")
    assert not allows(read, UUID)


def test_a_process_connects_with_its_own_credentials_file_when_there_is_one(tmp_path: Path) -> None:
    config = Settings(amqp_uri="amqps://admin:secret@broker:5671/ecoach", keys_dir=tmp_path)
    assert config.broker_uri("spaces") == config.amqp_uri  # no file: the URI as it is
    config.broker_credentials_path("spaces").write_text(
        json.dumps({"user": "ecoach-spaces", "password": "p@ss/word"})
    )
    assert config.broker_uri("spaces") == "amqps://ecoach-spaces:p%40ss%2Fword@broker:5671/ecoach"
    # A URI without credentials (production: the file holds them), and another URI (the relay's).
    bare = Settings(amqp_uri="amqps://broker:5671/ecoach", keys_dir=tmp_path)
    assert bare.broker_uri("spaces").startswith("amqps://ecoach-spaces:p%40ss%2Fword@broker:5671/")
    relay = config.broker_uri("spaces", "amqp://x:y@proxy:1234/v")
    assert relay == "amqp://ecoach-spaces:p%40ss%2Fword@proxy:1234/v"
