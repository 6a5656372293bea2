"""Signing-key rotation through the gateway: old tokens verify until they expire, new ones carry
the new key id, a key retired early is refused everywhere within seconds, private halves are
sealed by the master key, and only operators touch any of it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import jwt
import pytest
import sqlalchemy as sa

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from gateway.api.rpc_client import RpcClient
from services.kernel.errors import DomainError
from tests.e2e.conftest import make_tenant
from tests.support import world_fixtures
from tests.support.api import Api, Session, expect_error
from tests.support.clock import move_test_clock
from tests.support.people import sign_in_operator
from tests.support.waiting import wait_for

# The module deployment's clients (tests/support/world_fixtures.py).
api = world_fixtures.api


# The shared "witness" deployment: signing keys re-read every second.
world = world_fixtures.shared


@pytest.fixture(scope="module")
def rpc(world: Deployment) -> Iterator[RpcClient]:
    client = RpcClient(world.amqp_uri, name="keys-test").start()
    yield client
    client.close()


def kid(session: Session) -> str:
    return str(jwt.get_unverified_header(session.token)["kid"])


def keys(api: Api, operator: Session) -> dict[str, pb.SigningKey]:
    listed = api.keys.ListSigningKeys(pb.ListSigningKeysRequest(), metadata=operator.metadata)
    return {k.kid: k for k in listed.keys}


def accepted(api: Api, rpc: RpcClient, who: Session) -> bool:
    """Whether both the gateway and identity accept the token."""
    try:
        api.auth.GetMe(pb.GetMeRequest(), metadata=who.metadata, timeout=10)
        rpc.call("identity", "get_my_person", {}, timeout=10, context={"authorization": who.token})
    except (grpc.RpcError, DomainError):
        return False
    return True


def test_rotation_keeps_old_tokens_working_and_retiring_a_key_refuses_them_within_seconds(
    world: Deployment, api: Api, rpc: RpcClient
) -> None:
    operator = sign_in_operator(api, world.config)
    team = make_tenant(world, api, operator)
    old = kid(team.coach)
    assert keys(api, operator)[old].state == pb.SIGNING

    rotated = api.keys.RotateSigningKey(pb.RotateSigningKeyRequest(), metadata=operator.metadata)
    [new] = [k.kid for k in rotated.keys if k.kid != old]
    # The old key verifies for a token lifetime and more, then retires by itself.
    retiring = {k.kid: k for k in rotated.keys}[old]
    assert retiring.HasField("retire_time") and retiring.retire_time.seconds - time.time() > 600

    assert accepted(api, rpc, team.coach)  # signed with the old key, still fine
    # The new key signs once every process could have fetched it (2 s).
    started = time.monotonic()
    while kid(fresh := sign_in_operator(api, world.config)) != new:
        assert time.monotonic() - started < 10, "the new key does not sign"
        time.sleep(0.2)
    assert accepted(api, rpc, fresh)
    states = keys(api, fresh)
    assert (states[new].state, states[old].state) == (pb.SIGNING, pb.VERIFYING)
    refreshed = api.auth.Refresh(pb.RefreshRequest(refresh_token=team.coachee.refresh_token))
    assert jwt.get_unverified_header(refreshed.access_token)["kid"] == new

    # Retired early (it leaked): refused by the gateway and identity within seconds.
    api.keys.RetireSigningKey(pb.RetireSigningKeyRequest(kid=old), metadata=fresh.metadata)
    started = time.monotonic()
    while accepted(api, rpc, team.coach):
        assert time.monotonic() - started < 5, "a token of the retired key is still accepted"
        time.sleep(0.2)
    refused = expect_error(api.auth.GetMe, pb.GetMeRequest(), metadata=team.coach.metadata)
    assert refused.code == grpc.StatusCode.UNAUTHENTICATED
    assert keys(api, fresh)[old].state == pb.RETIRED
    assert accepted(api, rpc, fresh)

    # The key that signs cannot be retired; an unknown one is not found.
    in_use = expect_error(
        api.keys.RetireSigningKey, pb.RetireSigningKeyRequest(kid=new), metadata=fresh.metadata
    )
    assert (in_use.code, in_use.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "KEY_IN_USE")
    unknown = expect_error(
        api.keys.RetireSigningKey, pb.RetireSigningKeyRequest(kid="nope"), metadata=fresh.metadata
    )
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "KEY_NOT_FOUND")


def test_a_rotated_out_key_retires_by_itself_once_its_tokens_have_expired(
    world: Deployment, api: Api
) -> None:
    operator = sign_in_operator(api, world.config)
    before = kid(operator)
    known = set(keys(api, operator))
    rotated = api.keys.RotateSigningKey(pb.RotateSigningKeyRequest(), metadata=operator.metadata)
    [new] = [k.kid for k in rotated.keys if k.kid not in known]
    # The new key signs once every process could have fetched it: real time, not the clock's jump.
    wait_for(lambda: kid(sign_in_operator(api, world.config)) == new, 10, "the new key to sign")
    move_test_clock(world.config.test_clock_path, 12 * 60)
    try:
        now = sign_in_operator(api, world.config)
        assert keys(api, now)[before].state == pb.RETIRED
    finally:
        move_test_clock(world.config.test_clock_path, 0)


def test_only_operators_see_or_touch_signing_keys(world: Deployment, api: Api) -> None:
    operator = sign_in_operator(api, world.config)
    team = make_tenant(world, api, operator)
    before = {k: v.retire_time.seconds for k, v in keys(api, operator).items()}
    for call, request in (
        (api.keys.ListSigningKeys, pb.ListSigningKeysRequest()),
        (api.keys.RotateSigningKey, pb.RotateSigningKeyRequest()),
        (api.keys.RetireSigningKey, pb.RetireSigningKeyRequest(kid=kid(operator))),
    ):
        refused = expect_error(call, request, metadata=team.admin.metadata)
        assert (refused.code, refused.reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "OPERATOR_ONLY",
        )
    after = {k: v.retire_time.seconds for k, v in keys(api, operator).items()}
    assert after == before  # no key added, none retired


def test_private_keys_are_stored_sealed_by_the_master_key(world: Deployment) -> None:
    engine = sa.create_engine(world.config.database_url_for("identity"), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("signing_keys")}
            sealed = conn.execute(sa.text("SELECT sealed_private_key FROM signing_keys")).all()
    finally:
        engine.dispose()
    assert "private_key" not in columns
    assert sealed and all(row[0].startswith("v1.") for row in sealed)
