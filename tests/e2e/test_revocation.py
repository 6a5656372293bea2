"""Revocation everywhere (rule 5): once identity revokes access, the tokens already issued stop
working within seconds in every process (the gateway, identity, and two instances of another
service using the kernel: the test-only witness), not at their expiry; a process started
afterwards knows it too; tokens issued afterwards work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as pb
from gateway.api.rpc_client import RpcClient
from services.kernel.errors import DomainError
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support import world_fixtures
from tests.support.api import Api, Session, expect_error
from tests.support.deployments import extra_instances
from tests.support.waiting import wait_for

# The module deployment's clients (tests/support/world_fixtures.py).
api = world_fixtures.api
operator = world_fixtures.operator

WITHIN_SECONDS = 5.0


@pytest.fixture(scope="module")
def world(shared_world: Deployment) -> Iterator[Deployment]:
    """The shared "witness" deployment with a second witness instance for the module."""
    with extra_instances(shared_world, **{"witness-2": "witness"}):
        yield shared_world


@pytest.fixture(scope="module")
def rpc(world: Deployment) -> Iterator[RpcClient]:
    client = RpcClient(world.amqp_uri, name="revocation-test").start()
    wait_for(lambda: client.consumer_count("witness") >= 2, 30, "two witness instances")
    yield client
    client.close()


# ---------------------------------------------------------------- helpers


def whoami(rpc: RpcClient, who: Session) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call(
        "witness", "whoami", {}, timeout=10, context={"authorization": who.token}
    )
    return answer


def refusals(rpc: RpcClient, api: Api, who: Session) -> dict[str, str]:
    """Where the token is refused now, by reason: the gateway, identity, each witness call."""
    found: dict[str, str] = {}
    try:
        api.auth.GetMe(pb.GetMeRequest(), metadata=who.metadata, timeout=10)
    except grpc.RpcError as exc:
        found["gateway"] = exc.details() or ""
    try:
        rpc.call("identity", "get_my_person", {}, timeout=10, context={"authorization": who.token})
    except DomainError as exc:
        found["identity"] = exc.reason
    for attempt in range(6):  # round robin over the two instances
        try:
            whoami(rpc, who)
        except DomainError as exc:
            found[f"witness#{attempt}"] = exc.reason
    return found


def every_process_refuses(rpc: RpcClient, api: Api, who: Session) -> dict[str, str]:
    expected = {"gateway", "identity", *(f"witness#{i}" for i in range(6))}
    started = time.monotonic()
    refused = wait_for(
        lambda: (r := refusals(rpc, api, who)) and set(r) == expected and r,
        WITHIN_SECONDS,
        "every process to refuse the token",
    )
    assert time.monotonic() - started < WITHIN_SECONDS
    return dict(refused)


def both_instances_accept(rpc: RpcClient, who: Session) -> None:
    instances = {whoami(rpc, who)["instance"] for _ in range(8)}
    assert len(instances) == 2, f"both witness instances should have answered: {instances}"


# ---------------------------------------------------------------- the tests


def test_a_deactivated_members_token_is_refused_everywhere_within_seconds(
    world: Deployment, api: Api, rpc: RpcClient, operator: Session
) -> None:
    team = make_tenant(world, api, operator)
    both_instances_accept(rpc, team.coachee)
    bystander = team.coach  # same tenant, not deactivated

    api.members.DeactivateMember(
        pb.DeactivateMemberRequest(name=member_name(team.tenant_id, team.coachee_member)),
        metadata=team.admin.metadata,
        timeout=10,
    )
    refused = every_process_refuses(rpc, api, team.coachee)
    assert {refused[k] for k in refused if k != "gateway"} == {"TOKEN_REVOKED"}
    gateway = expect_error(api.auth.GetMe, pb.GetMeRequest(), metadata=team.coachee.metadata)
    assert (gateway.code, gateway.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_REVOKED")
    assert gateway.localized
    both_instances_accept(rpc, bystander)

    # A process started after the revocation fetched it before serving.
    world.start_instance("witness", "witness-3")
    wait_for(lambda: rpc.consumer_count("witness") >= 3, 30, "a third witness instance")
    for _ in range(9):
        with pytest.raises(DomainError) as late:
            whoami(rpc, team.coachee)
        assert late.value.reason == "TOKEN_REVOKED"
    world.stop_process("witness-3")

    # Reactivated and signed in again: the new token works everywhere.
    api.members.ReactivateMember(
        pb.ReactivateMemberRequest(name=member_name(team.tenant_id, team.coachee_member)),
        metadata=team.admin.metadata,
        timeout=10,
    )
    # The sessions ended at the deactivation: signing in again is the way back.
    ended = expect_error(
        api.auth.Refresh, pb.RefreshRequest(refresh_token=team.coachee.refresh_token)
    )
    assert ended.reason == "SESSION_ENDED"
    fresh = sign_in_again(api, world, team)
    both_instances_accept(rpc, fresh)


def sign_in_again(api: Api, world: Deployment, team: TenantWorld) -> Session:
    me = api.members.GetMember(
        pb.GetMemberRequest(name=member_name(team.tenant_id, team.coachee_member)),
        metadata=team.admin.metadata,
    )
    return api.sign_in(me.email, PASSWORD, team.tenant_id)


def test_a_role_change_revokes_the_old_token_and_a_refresh_carries_the_new_roles(
    world: Deployment, api: Api, rpc: RpcClient, operator: Session
) -> None:
    team = make_tenant(world, api, operator)
    api.members.UpdateMember(
        pb.UpdateMemberRequest(
            member=pb.Member(
                name=member_name(team.tenant_id, team.coach_member),
                roles=[pb.COACH, pb.TENANT_ADMIN],
            ),
            update_mask=FieldMask(paths=["roles"]),
        ),
        metadata=team.admin.metadata,
        timeout=10,
    )
    every_process_refuses(rpc, api, team.coach)
    # An app sends its (now revoked) access token along; Refresh still works.
    renewed = api.auth.Refresh(
        pb.RefreshRequest(refresh_token=team.coach.refresh_token), metadata=team.coach.metadata
    )
    session = Session(renewed.access_token, renewed.person_id, renewed.tenant_id)
    both_instances_accept(rpc, session)
    me = api.auth.GetMe(pb.GetMeRequest(), metadata=session.metadata)
    assert set(me.membership.roles) == {pb.COACH, pb.TENANT_ADMIN}


def test_suspending_a_tenant_refuses_all_its_members_tokens_and_no_one_elses(
    world: Deployment, api: Api, rpc: RpcClient, operator: Session
) -> None:
    team = make_tenant(world, api, operator)
    other = make_tenant(world, api, operator)
    api.tenants.SuspendTenant(
        pb.SuspendTenantRequest(name=tenant_name(team.tenant_id)),
        metadata=operator.metadata,
        timeout=10,
    )
    for member in (team.admin, team.coach, team.coachee):
        every_process_refuses(rpc, api, member)
    both_instances_accept(rpc, other.coachee)
    assert api.auth.GetMe(pb.GetMeRequest(), metadata=operator.metadata).person.person_id


def test_sign_out_everywhere_stops_the_access_tokens_too(
    world: Deployment, api: Api, rpc: RpcClient, operator: Session
) -> None:
    team = make_tenant(world, api, operator)
    api.auth.SignOutEverywhere(
        pb.SignOutEverywhereRequest(), metadata=team.coachee.metadata, timeout=10
    )
    every_process_refuses(rpc, api, team.coachee)
    both_instances_accept(rpc, team.coach)


def test_signing_out_stops_that_sessions_access_tokens_everywhere_and_no_others(
    world: Deployment, api: Api, rpc: RpcClient, operator: Session
) -> None:
    team = make_tenant(world, api, operator)
    other_device = sign_in_again(api, world, team)
    both_instances_accept(rpc, team.coachee)
    api.auth.SignOut(pb.SignOutRequest(refresh_token=team.coachee.refresh_token), timeout=10)
    refused = every_process_refuses(rpc, api, team.coachee)
    assert refused["identity"] == "TOKEN_REVOKED"
    # The person's other session, signed in before the sign-out, goes on.
    both_instances_accept(rpc, other_device)
    assert api.auth.GetMe(pb.GetMeRequest(), metadata=other_device.metadata).person.person_id


def test_a_password_change_ends_every_other_session_everywhere_and_keeps_this_one(
    world: Deployment, api: Api, rpc: RpcClient, operator: Session
) -> None:
    team = make_tenant(world, api, operator)
    here = sign_in_again(api, world, team)
    api.auth.ChangePassword(
        pb.ChangePasswordRequest(
            current_password=PASSWORD, new_password="a brand new long passphrase 9"
        ),
        metadata=here.metadata,
        timeout=30,
    )
    every_process_refuses(rpc, api, team.coachee)  # the other session's token
    ended = expect_error(
        api.auth.Refresh, pb.RefreshRequest(refresh_token=team.coachee.refresh_token)
    )
    assert ended.reason == "SESSION_ENDED"
    both_instances_accept(rpc, here)  # the session it was changed in goes on
    renewed = api.auth.Refresh(pb.RefreshRequest(refresh_token=here.refresh_token), timeout=10)
    assert renewed.access_token
