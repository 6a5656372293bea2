"""The kernel runtime in real nameko containers: the three kinds of caller, nested calls with
the remaining deadline, and the registry of public methods."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import eventlet
import kombu
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from pydantic import BaseModel

from services.contracts.base import Api, Contract, Empty, Method
from services.kernel.caller import Anonymous, Caller, PersonClaims, ServiceClaims
from services.kernel.clock import SystemClock
from services.kernel.config import settings
from services.kernel.errors import DeadlineExceeded, PermissionDenied, Unauthenticated
from services.kernel.events import envelope_bytes
from services.kernel.revocations import Revocation
from services.kernel.runtime.calls import ServiceRpc
from services.kernel.runtime.entrypoints import Authentication, rpc
from services.kernel.runtime.errors_wire import register_domain_errors
from services.kernel.tokens import (
    SigningKey,
    StaticKeys,
    issue_access_token,
    issue_service_token,
    load_or_create_service_key,
)
from tests.support.signing import signed

register_domain_errors()

PERSON_KEY = SigningKey.generate()
PERSON_KEYS = StaticKeys()
PERSON_KEYS.add(PERSON_KEY.public)
EXECUTED: list[str] = []
# What identity would answer to `list_access_revocations` (these services run without it).
RECENT_REVOCATIONS: list[Revocation] = []


def recent_revocations(container: Any) -> Any:
    return lambda since: [r for r in RECENT_REVOCATIONS if r.not_before >= since]


class Who(BaseModel):
    kind: str
    name: str
    deadline: float | None = None


class Nap(Contract):
    seconds: float
    marker: str = ""


def describe(caller: Caller, deadline: float | None = None) -> Who:
    if isinstance(caller, ServiceClaims):
        return Who(kind="service", name=caller.service, deadline=deadline)
    if isinstance(caller, PersonClaims):
        return Who(kind="person", name=caller.person_id, deadline=deadline)
    if isinstance(caller, Anonymous):
        return Who(kind="anonymous", name="", deadline=deadline)
    return Who(kind="other", name="")


class Callee:
    name = "callee"
    auth = Authentication(
        key_source=lambda container: PERSON_KEYS, revocation_source=recent_revocations
    )

    @rpc(services=("frontdesk",))
    def for_frontdesk(self, caller: Caller, request: Empty) -> Who:
        EXECUTED.append("for_frontdesk")
        return describe(caller)

    @rpc(services=("frontdesk",), people=True)
    def for_frontdesk_and_people(self, caller: Caller, request: Empty) -> Who:
        return describe(caller)

    @rpc
    def for_people(self, caller: Caller, request: Empty) -> Who:
        return describe(caller, self.auth.deadline)

    @rpc
    def nap(self, caller: Caller, request: Nap) -> Who:
        eventlet.sleep(request.seconds)
        EXECUTED.append(request.marker)
        return describe(caller)


class CalleeApi(Api):
    """The callee's method table, as a contracts module declares one."""

    service = "callee"

    for_frontdesk = Method(Empty, Who)
    for_frontdesk_and_people = Method(Empty, Who)
    for_people = Method(Empty, Who)
    nap = Method(Nap, Who)


class Frontdesk:
    name = "frontdesk"
    auth = Authentication(
        key_source=lambda container: PERSON_KEYS, revocation_source=recent_revocations
    )
    callee = ServiceRpc("callee")

    @rpc
    def relay(self, caller: Caller, request: Relay) -> dict[str, Any]:
        method = CalleeApi.methods()[request.method]
        asked = method.request.model_validate(request.payload)
        return self.callee.call(method, asked, as_service=request.as_service).model_dump()


class Relay(Contract):
    method: str
    payload: dict[str, Any] = {}
    as_service: bool = False


class Sneaky:
    name = "sneaky"
    auth = Authentication(
        key_source=lambda container: PERSON_KEYS, revocation_source=recent_revocations
    )

    @rpc(public=True)
    def backdoor(self, caller: Caller, request: Empty) -> Who:  # not in the public registry
        return describe(caller)


def person_token(person_id: str = "per_abc") -> str:
    token, _ = issue_access_token(
        PERSON_KEY,
        issuer=settings().token_issuer,
        audience=settings().token_audience,
        clock=SystemClock(),
        ttl=timedelta(minutes=5),
        person_id=person_id,
        tenant_id="tnt_1",
        roles=("coach",),
        platform_admin=False,
        locale="en",
    )
    return token


@pytest.fixture
def services(container_factory: Any, service_config: dict[str, Any]) -> dict[str, Any]:
    for owner in ("callee", "frontdesk"):
        load_or_create_service_key(settings().keys_path, owner)
    for cls in (Callee, Frontdesk):
        container_factory(cls, service_config).start()
    return service_config


def call(
    config: dict[str, Any], service: str, method: str, payload: dict[str, Any], **context: Any
) -> Any:
    with ServiceRpcProxy(service, config, context_data=context, timeout=10) as proxy:
        return getattr(proxy, method)(payload)


def test_a_service_token_reaches_only_methods_that_name_its_service(
    services: dict[str, Any],
) -> None:
    token = person_token()
    who = call(
        services,
        "frontdesk",
        "relay",
        {"method": "for_frontdesk", "as_service": True},
        authorization=token,
    )
    assert who == {"kind": "service", "name": "frontdesk", "deadline": None}
    with pytest.raises(Unauthenticated):
        call(
            services,
            "frontdesk",
            "relay",
            {"method": "for_people", "as_service": True},
            authorization=token,
        )


def test_a_nested_call_forwards_the_persons_token_and_the_remaining_deadline(
    services: dict[str, Any],
) -> None:
    deadline = time.time() + 8
    who = call(
        services,
        "frontdesk",
        "relay",
        {"method": "for_people"},
        authorization=person_token(),
        deadline=deadline,
    )
    assert who["kind"] == "person" and who["name"] == "per_abc"
    assert who["deadline"] == pytest.approx(deadline)


def test_only_the_named_service_signing_with_its_own_key_is_that_service(
    services: dict[str, Any],
) -> None:
    def service_token(key: SigningKey, service: str) -> str:
        return issue_service_token(
            key, service=service, audience="callee", clock=SystemClock(), ttl=timedelta(minutes=5)
        )

    own_key = load_or_create_service_key(settings().keys_path, "frontdesk")
    assert (
        call(
            services,
            "callee",
            "for_frontdesk",
            {},
            authorization=service_token(own_key, "frontdesk"),
        )["kind"]
        == "service"
    )
    # another service of the deployment, signing as itself: not named by the method
    callee_key = load_or_create_service_key(settings().keys_path, "callee")
    with pytest.raises(Unauthenticated):
        call(
            services,
            "callee",
            "for_frontdesk",
            {},
            authorization=service_token(callee_key, "callee"),
        )
    # another service's key claiming to be frontdesk
    with pytest.raises(Unauthenticated):
        call(
            services,
            "callee",
            "for_frontdesk",
            {},
            authorization=service_token(callee_key, "frontdesk"),
        )
    # a key the deployment does not know
    with pytest.raises(Unauthenticated):
        call(
            services,
            "callee",
            "for_frontdesk",
            {},
            authorization=service_token(SigningKey.generate(), "frontdesk"),
        )


def test_a_services_only_method_refuses_a_persons_token_before_its_handler_runs(
    services: dict[str, Any],
) -> None:
    EXECUTED.clear()
    token = person_token()
    for _ in range(2):  # the second time the token is in the verifier's cache (its fast path)
        with pytest.raises(PermissionDenied) as refused:
            call(services, "callee", "for_frontdesk", {}, authorization=token)
        assert "services only" in str(refused.value)
    assert "for_frontdesk" not in EXECUTED
    # the same token is still a person's token where people are served
    assert call(services, "callee", "for_people", {}, authorization=token)["kind"] == "person"


def test_a_method_also_serving_people_sees_a_person_as_a_person(
    services: dict[str, Any],
) -> None:
    # `people=True` adds services to a method people call; its handler authorises people.
    assert (
        call(services, "callee", "for_frontdesk_and_people", {}, authorization=person_token())[
            "kind"
        ]
        == "person"
    )
    assert (
        call(
            services,
            "frontdesk",
            "relay",
            {"method": "for_frontdesk_and_people", "as_service": True},
            authorization=person_token(),
        )["kind"]
        == "service"
    )


def test_people_without_services_is_a_mistake_caught_at_import() -> None:
    with pytest.raises(TypeError):

        @rpc(people=True)
        def nothing(self: Any, caller: Caller, request: Empty) -> None:
            return None


def test_a_nested_call_waits_no_longer_than_the_deadline(services: dict[str, Any]) -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        call(
            services,
            "frontdesk",
            "relay",
            {"method": "nap", "payload": {"seconds": 2, "marker": "slow"}},
            authorization=person_token(),
            deadline=time.time() + 0.5,
        )
    # Before the nap could have ended: the nested call gave up at the deadline, not after the
    # callee's answer (the bound is the nap itself, so a slow machine cannot make it flake).
    assert time.monotonic() - started < 2


def test_a_request_whose_deadline_passed_is_refused_before_anything_runs(
    services: dict[str, Any],
) -> None:
    with pytest.raises(DeadlineExceeded):
        call(
            services,
            "callee",
            "nap",
            {"seconds": 0, "marker": "expired"},
            authorization=person_token(),
            deadline=time.time() - 0.1,
        )
    # A request sent after it has run (the queue is first in, first out): so would it have.
    call(services, "callee", "nap", {"seconds": 0, "marker": "after"}, authorization=person_token())
    assert "after" in EXECUTED and "expired" not in EXECUTED


def test_no_token_is_refused_outside_the_public_registry(services: dict[str, Any]) -> None:
    with pytest.raises(Unauthenticated):
        call(services, "callee", "for_people", {})


def test_a_public_method_missing_from_the_registry_stops_the_service(
    container_factory: Any, service_config: dict[str, Any]
) -> None:
    container = container_factory(Sneaky, service_config)
    with pytest.raises(RuntimeError, match="public_methods"):
        container.start()


# ---------------------------------------------------------------- revocation (rule 5)


def broadcast_revocation(
    config: dict[str, Any], person_id: str, *, signer: str | None = "identity"
) -> None:
    """What identity's relay publishes: an `identity.access_revoked` envelope, signed by
    `signer` (None: unsigned, as anyone with a way onto the broker could send it)."""
    envelope = {
        "id": "evt_" + "0" * 32,
        "type": "identity.access_revoked",
        "version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "aggregate_id": "rev_1",
        "sequence": 1,
        "payload": {
            "revocation_id": "rev_1",
            "person_id": person_id,
            "not_before": datetime.now(UTC).isoformat(),
            "reason": "deactivated",
        },
    }
    if signer is None:
        body, headers = envelope_bytes(envelope), {}
    else:
        body, headers = signed(envelope, signer, settings().keys_path)
    with kombu.Connection(config["AMQP_URI"]) as conn:
        exchange = kombu.Exchange("identity.events", type="topic", durable=True)
        conn.Producer().publish(
            body,
            exchange=exchange,
            routing_key="identity.access_revoked",
            declare=[exchange],
            headers=headers,
            content_type="application/json",
            content_encoding="utf-8",
        )


def refused_at_once(config: dict[str, Any], token: str) -> None:
    """Waits (5 s at most) until `token` is refused as revoked."""
    deadline = time.monotonic() + 5
    while True:
        try:
            call(config, "callee", "for_people", {}, authorization=token)
        except Unauthenticated as exc:
            assert exc.reason == "TOKEN_REVOKED"
            return
        assert time.monotonic() < deadline, "the revoked token is still accepted"
        eventlet.sleep(0.05)


def test_a_broadcast_revocation_stops_a_tokens_use_at_once_cached_or_not(
    services: dict[str, Any],
) -> None:
    token = person_token("per_leaver")
    assert call(services, "callee", "for_people", {}, authorization=token)["kind"] == "person"
    broadcast_revocation(services, "per_leaver")
    refused_at_once(services, token)
    # Someone else, and the same person's token issued after the revocation, still pass.
    assert call(services, "callee", "for_people", {}, authorization=person_token())["name"]
    eventlet.sleep(0.01)
    fresh = person_token("per_leaver")
    assert call(services, "callee", "for_people", {}, authorization=fresh)["name"] == "per_leaver"


def test_a_revocation_broadcast_not_signed_by_identity_is_dropped(
    services: dict[str, Any],
) -> None:
    """Anyone who can publish on the broker could otherwise sign out whoever they like: an
    unsigned broadcast and one signed by another service are dropped, and a genuine one sent
    after them (the feed reads in order) is applied."""
    target, witness = person_token("per_target"), person_token("per_witness")
    load_or_create_service_key(settings().keys_path, "spaces")
    broadcast_revocation(services, "per_target", signer=None)
    broadcast_revocation(services, "per_target", signer="spaces")
    broadcast_revocation(services, "per_witness")
    refused_at_once(services, witness)
    assert call(services, "callee", "for_people", {}, authorization=target)["name"] == "per_target"


def test_a_service_starting_after_a_revocation_loads_it_before_accepting_tokens(
    container_factory: Any, service_config: dict[str, Any]
) -> None:
    token = person_token("per_gone")
    eventlet.sleep(0.01)
    RECENT_REVOCATIONS.append(Revocation(datetime.now(UTC), person_id="per_gone"))
    try:
        container_factory(Callee, service_config).start()
        with pytest.raises(Unauthenticated) as refused:
            call(service_config, "callee", "for_people", {}, authorization=token)
        assert refused.value.reason == "TOKEN_REVOKED"
    finally:
        RECENT_REVOCATIONS.clear()
