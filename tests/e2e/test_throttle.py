"""Sign-in throttling through the gateway, with two identity instances sharing the state in the
database: per (account, source address), a per-account ceiling that slows and never locks,
unknown emails counted alike, and x-forwarded-for believed only from a trusted proxy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from ecoach_dev.deployment import Deployment, free_port
from gateway.api.pb import identity_pb2 as pb
from gateway.api.rpc_client import RpcClient
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support import world_fixtures
from tests.support.api import Api, Session, error_details, unique_email
from tests.support.clock import move_test_clock
from tests.support.deployments import extra_instances
from tests.support.people import set_password, sign_in_operator
from tests.support.waiting import wait_for

# The module deployment's clients (tests/support/world_fixtures.py).
api = world_fixtures.api

WRONG = "not the password at all"


@pytest.fixture(scope="module")
def world(shared_world: Deployment) -> Iterator[Deployment]:
    """The shared "witness" deployment, whose gateway trusts the loopback (the tests play the
    proxy: tests/e2e conftest's deployments trust 127.0.0.1), with a second identity instance
    for the module."""
    with extra_instances(shared_world, **{"identity-2": "identity"}) as d:
        with RpcClient(d.amqp_uri, name="throttle-probe") as probe:
            wait_for(
                lambda: probe.consumer_count("identity") >= 2, 30, "the second identity instance"
            )
        yield d


@pytest.fixture(scope="module")
def team(world: Deployment, api: Api) -> TenantWorld:
    operator = sign_in_operator(api, world.config)
    return make_tenant(world, api, operator)


def person(world: Deployment, api: Api, team: TenantWorld) -> str:
    email = unique_email("throttle")
    api.members.AddMember(
        pb.AddMemberRequest(parent=f"tenants/{team.tenant_id}", email=email, roles=[pb.COACHEE]),
        metadata=team.admin.metadata,
        timeout=10,
    )
    set_password(world.config, email, PASSWORD)
    return email


def attempt(api: Api, email: str, password: str, source: str) -> grpc.RpcError | Session:
    """One sign-in, as if forwarded by our proxy for `source`."""
    try:
        reply = api.auth.SignIn(
            pb.SignInRequest(email=email, password=password),
            metadata=(("x-forwarded-for", source),),
            timeout=30,
        )
    except grpc.RpcError as exc:
        return exc
    return Session(reply.access_token, reply.person_id, reply.tenant_id, reply.refresh_token)


def retry_delay(exc: grpc.RpcError) -> int:
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return int(info.retry_delay.seconds)
    raise AssertionError("no RetryInfo")


def later(world: Deployment, seconds: int) -> None:
    move_test_clock(world.config.test_clock_path, seconds)


@pytest.fixture(autouse=True)
def clock_back(world: Deployment) -> Iterator[None]:
    yield
    move_test_clock(world.config.test_clock_path, 0)


def test_a_source_guessing_one_account_waits_and_another_source_does_not(
    world: Deployment, api: Api, team: TenantWorld
) -> None:
    email = person(world, api, team)
    for _ in range(5):
        refused = attempt(api, email, WRONG, "203.0.113.7")
        assert isinstance(refused, grpc.RpcError)
        assert error_details(refused).reason == "INVALID_CREDENTIALS"
    assert isinstance(attempt(api, email, WRONG, "203.0.113.7"), grpc.RpcError)  # the 6th
    # Now even the right password waits, from that source; the answer says how long.
    held = attempt(api, email, PASSWORD, "203.0.113.7")
    assert isinstance(held, grpc.RpcError)
    details = error_details(held)
    assert (details.code, details.reason) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "SIGN_IN_THROTTLED",
    )
    assert 1 <= retry_delay(held) <= 2 and details.localized
    # The person, elsewhere, is not held back.
    assert isinstance(attempt(api, email, PASSWORD, "198.51.100.20"), Session)
    # Once the wait is over, the right password works and clears that source's count.
    later(world, 3)
    assert isinstance(attempt(api, email, PASSWORD, "203.0.113.7"), Session)
    refused = attempt(api, email, WRONG, "203.0.113.7")
    assert isinstance(refused, grpc.RpcError)
    assert error_details(refused).reason == "INVALID_CREDENTIALS"


def test_guessing_from_many_sources_slows_the_account_for_seconds_and_never_locks_it(
    world: Deployment, api: Api, team: TenantWorld
) -> None:
    email = person(world, api, team)
    reasons = []
    for n in range(40):  # each from a new source: only the account's ceiling can hold it
        outcome = attempt(api, email, WRONG, f"192.0.2.{n + 1}")
        assert isinstance(outcome, grpc.RpcError)
        reasons.append(error_details(outcome).reason)
        if reasons[-1] == "SIGN_IN_THROTTLED":
            held = outcome
            break
    assert reasons[:21] == ["INVALID_CREDENTIALS"] * 21, reasons  # 20 free, the 21st waits 1 s
    assert reasons[-1] == "SIGN_IN_THROTTLED"
    assert retry_delay(held) <= 30
    later(world, 31)  # at most the cap: a wait, not a lock-out
    assert isinstance(attempt(api, email, PASSWORD, "198.51.100.77"), Session)


def test_an_unknown_email_is_throttled_exactly_like_a_known_one(api: Api) -> None:
    email = unique_email("nobody")
    outcomes = [attempt(api, email, WRONG, "203.0.113.99") for _ in range(7)]
    reasons = [error_details(o).reason for o in outcomes if isinstance(o, grpc.RpcError)]
    assert reasons == ["INVALID_CREDENTIALS"] * 6 + ["SIGN_IN_THROTTLED"]


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(api_untrusted: Api) -> None:
    """A gateway that trusts another proxy: changing the header changes nothing."""
    email = unique_email("spoof")
    outcomes = [attempt(api_untrusted, email, WRONG, f"192.0.2.{n}") for n in range(1, 8)]
    reasons = [error_details(o).reason for o in outcomes if isinstance(o, grpc.RpcError)]
    assert reasons == ["INVALID_CREDENTIALS"] * 6 + ["SIGN_IN_THROTTLED"]


@pytest.fixture
def api_untrusted(world: Deployment) -> Iterator[Api]:
    # The module's gateway trusts the loopback (the tests play its proxy), so a second gateway
    # on the same services trusts only an address the tests never come from.
    address = f"127.0.0.1:{free_port()}"
    settings = {"ECOACH_GATEWAY_ADDRESS": address, "ECOACH_TRUSTED_PROXIES": "198.51.100.250"}
    world.start_instance("gateway", "gateway-untrusted", settings)
    try:
        world.wait_serving(address=address)
        with grpc.insecure_channel(address) as channel:
            yield Api(channel)
    finally:
        world.stop_process("gateway-untrusted")


def test_other_password_checks_share_the_sign_in_counters(
    world: Deployment, api: Api, team: TenantWorld
) -> None:
    """Changing the password (and erasing, and accepting an invitation with an existing account)
    checks the current one: a stolen token must not make it a way round sign-in throttling."""
    email = person(world, api, team)
    signed = attempt(api, email, PASSWORD, "203.0.113.9")
    assert isinstance(signed, Session)
    source = (("x-forwarded-for", "203.0.113.9"),)
    change = pb.ChangePasswordRequest(
        current_password=WRONG, new_password="a-new-long-passphrase-7"
    )
    for _ in range(6):
        refused = error_details(_error(api.auth.ChangePassword, change, signed, source))
        assert refused.fields == ("current_password",)
    held = error_details(_error(api.auth.ChangePassword, change, signed, source))
    assert (held.code, held.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "SIGN_IN_THROTTLED")
    # The same counter holds sign-in back from that source, even with the right password.
    blocked = attempt(api, email, PASSWORD, "203.0.113.9")
    assert isinstance(blocked, grpc.RpcError)
    assert error_details(blocked).reason == "SIGN_IN_THROTTLED"


def _error(method: Any, request: Any, who: Session, extra: Any) -> grpc.RpcError:
    try:
        method(request, metadata=(*who.metadata, *extra), timeout=30)
    except grpc.RpcError as exc:
        return exc
    raise AssertionError(f"{method} succeeded")
