"""The personal-data contract, erasure side, through the gateway, with a second service holding
personal data (the test-only witness, added to the registry): a person erases their data, or an
operator erases a person; identity anonymises at once and every token stops working; the other
service erases its part when it gets the event, even if it was down; the person follows it with
their receipt and the operator with the erasure's id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as pb
from gateway.api.rpc_client import RpcClient
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support import world_fixtures
from tests.support.api import Api, Session, expect_error, unique_email
from tests.support.deployments import start_witness
from tests.support.people import OPERATOR_PASSWORD, set_password
from tests.support.waiting import wait_for

# The module deployment's clients (tests/support/world_fixtures.py).
api = world_fixtures.api
operator = world_fixtures.operator


# The shared "witness" deployment: the witness a personal-data service of its own.
world = world_fixtures.shared


@pytest.fixture(scope="module")
def rpc(world: Deployment) -> Iterator[RpcClient]:
    client = RpcClient(world.amqp_uri, name="erasure-test").start()
    wait_for(lambda: client.consumer_count("witness") >= 1, 30, "the witness")
    yield client
    client.close()


@pytest.fixture(scope="module")
def team(world: Deployment, api: Api, operator: Session) -> TenantWorld:
    return make_tenant(world, api, operator)


def new_member(world: Deployment, api: Api, operator: Session, team: TenantWorld) -> dict[str, Any]:
    email = unique_email("erasable")
    added = api.members.AddMember(
        pb.AddMemberRequest(
            parent=tenant_name(team.tenant_id), email=email, roles=[pb.COACHEE], display_name="Eve"
        ),
        metadata=operator.metadata,
    )
    set_password(world.config, email, PASSWORD)
    session = api.sign_in(email, PASSWORD, team.tenant_id)
    return {"email": email, "member_id": added.member_id, "session": session}


def witness_copy(rpc: RpcClient, member_id: str) -> Any:
    return rpc.call("witness", "member", {"member_id": member_id}, timeout=10)


def erasure_of(api: Api, operator: Session, erasure_id: str) -> pb.Erasure:
    return api.privacy.GetErasure(
        pb.GetErasureRequest(erasure_id=erasure_id), metadata=operator.metadata, timeout=10
    )


def steps(erasure: pb.Erasure) -> dict[str, bool]:
    return {s.service: s.done for s in erasure.steps}


def test_the_export_has_one_document_per_registered_service(
    world: Deployment, api: Api, rpc: RpcClient, operator: Session, team: TenantWorld
) -> None:
    eve = new_member(world, api, operator, team)
    wait_for(lambda: witness_copy(rpc, eve["member_id"]), 15, "the witness's copy")
    documents = list(
        api.auth.ExportMyData(pb.ExportMyDataRequest(), metadata=eve["session"].metadata)
    )
    assert [d.service for d in documents] == [
        "identity",
        "spaces",
        "scheduling",
        "assessment",
        "content",
        "reporting",
        "witness",
    ]
    copies = json.loads(documents[-1].data)["memberships"]
    assert [m["member_id"] for m in copies] == [eve["member_id"]]


def test_a_person_erases_their_data_and_follows_it_with_the_receipt(
    world: Deployment, api: Api, rpc: RpcClient, operator: Session, team: TenantWorld
) -> None:
    eve = new_member(world, api, operator, team)
    wait_for(lambda: witness_copy(rpc, eve["member_id"]), 15, "the witness's copy")

    wrong = expect_error(
        api.auth.EraseMyData,
        pb.EraseMyDataRequest(current_password="not my password at all"),
        metadata=eve["session"].metadata,
    )
    assert (wrong.code, wrong.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("current_password",))
    assert api.auth.GetMe(pb.GetMeRequest(), metadata=eve["session"].metadata).person.email

    # The witness is down: identity's part is done at once, the witness's waits for it.
    world.stop_process("witness")
    try:
        erasure = api.auth.EraseMyData(
            pb.EraseMyDataRequest(current_password=PASSWORD), metadata=eve["session"].metadata
        )
        assert erasure.receipt.startswith("er1.") and erasure.requested_by == "person"
        assert erasure.state == pb.ERASURE_IN_PROGRESS
        assert steps(erasure) == {
            "identity": True,
            "spaces": False,
            "scheduling": False,
            "assessment": False,
            "content": False,
            "reporting": False,
            "witness": False,
        }

        # Every token of hers stops working; her password no longer signs in.
        refused = wait_for(
            lambda: _refused(api, eve["session"]), 5, "the gateway to refuse her token"
        )
        assert refused.code() == grpc.StatusCode.UNAUTHENTICATED
        again = expect_error(api.sign_in, eve["email"], PASSWORD, team.tenant_id)
        assert again.reason == "INVALID_CREDENTIALS"
        gone = expect_error(
            api.auth.Refresh, pb.RefreshRequest(refresh_token=eve["session"].refresh_token)
        )
        assert gone.code == grpc.StatusCode.UNAUTHENTICATED

        # The tenant's admins see an erased membership with no address of hers.
        member = api.members.GetMember(
            pb.GetMemberRequest(name=member_name(team.tenant_id, eve["member_id"])),
            metadata=team.admin.metadata,
        )
        assert member.status == pb.ERASED
        assert eve["email"] not in str(member) and "Eve" not in str(member)
        status = api.auth.GetErasureStatus(pb.GetErasureStatusRequest(receipt=erasure.receipt))
        assert status.state == pb.ERASURE_IN_PROGRESS and not status.receipt
    finally:
        start_witness(world)

    done = wait_for(
        lambda: (
            (
                s := api.auth.GetErasureStatus(pb.GetErasureStatusRequest(receipt=erasure.receipt))
            ).state
            == pb.ERASURE_COMPLETED
            and s
        ),
        30,
        "the witness to erase its part",
    )
    assert steps(done) == {
        "identity": True,
        "spaces": True,
        "scheduling": True,
        "assessment": True,
        "content": True,
        "reporting": True,
        "witness": True,
    }
    assert done.complete_time.seconds >= done.request_time.seconds
    assert witness_copy(rpc, eve["member_id"])["state"] == {"status": "erased"}
    assert erasure_of(api, operator, erasure.erasure_id).state == pb.ERASURE_COMPLETED

    # The same address can be invited afresh: a new account, nothing of the old one.
    again_added = api.members.AddMember(
        pb.AddMemberRequest(
            parent=tenant_name(team.tenant_id), email=eve["email"], roles=[pb.COACH]
        ),
        metadata=team.admin.metadata,
    )
    fresh = api.members.GetMember(
        pb.GetMemberRequest(name=again_added.name), metadata=team.admin.metadata
    )
    assert fresh.person_id != eve["session"].person_id and fresh.status == pb.PENDING


def _refused(api: Api, who: Session) -> Any:
    try:
        api.auth.GetMe(pb.GetMeRequest(), metadata=who.metadata, timeout=10)
    except grpc.RpcError as exc:
        return exc
    return None


def test_an_operator_erases_a_person_by_email(
    world: Deployment, api: Api, rpc: RpcClient, operator: Session, team: TenantWorld
) -> None:
    eve = new_member(world, api, operator, team)
    erasure = api.privacy.ErasePerson(
        pb.ErasePersonRequest(email=eve["email"].upper()), metadata=operator.metadata
    )
    assert erasure.person_id == eve["session"].person_id and erasure.requested_by == "operator"
    assert not erasure.receipt  # the receipt is the person's alone
    wait_for(
        lambda: erasure_of(api, operator, erasure.erasure_id).state == pb.ERASURE_COMPLETED,
        30,
        "the erasure to complete",
    )
    listed = api.privacy.ListErasures(pb.ListErasuresRequest(), metadata=operator.metadata)
    assert listed.erasures[0].erasure_id == erasure.erasure_id  # newest first

    # Its membership is final; the tenant's log shows it; the operator sees the security side.
    name = member_name(team.tenant_id, eve["member_id"])
    frozen = expect_error(
        api.members.ReactivateMember,
        pb.ReactivateMemberRequest(name=name),
        metadata=team.admin.metadata,
    )
    assert (frozen.code, frozen.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "MEMBERSHIP_ERASED",
    )
    log = api.audit.ListTenantAuditEvents(
        pb.ListTenantAuditEventsRequest(parent=tenant_name(team.tenant_id)),
        metadata=team.admin.metadata,
    )
    assert any(e.action == "member.erased" and e.subject == eve["member_id"] for e in log.events)
    security = api.audit.ListSecurityEvents(
        pb.ListSecurityEventsRequest(), metadata=operator.metadata
    )
    assert any(
        e.action == "person.erased" and e.subject == erasure.person_id for e in security.events
    )


@pytest.mark.parametrize(
    ("request_", "code", "reason"),
    [
        (pb.ErasePersonRequest(), grpc.StatusCode.INVALID_ARGUMENT, ""),
        (
            pb.ErasePersonRequest(person_id="per_0", email="a@example.test"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "",
        ),
        (pb.ErasePersonRequest(person_id="per_00"), grpc.StatusCode.NOT_FOUND, "PERSON_NOT_FOUND"),
        (
            pb.ErasePersonRequest(email="nobody@example.test"),
            grpc.StatusCode.NOT_FOUND,
            "PERSON_NOT_FOUND",
        ),
    ],
)
def test_bad_erasure_requests_are_refused(
    api: Api, operator: Session, request_: pb.ErasePersonRequest, code: Any, reason: str
) -> None:
    refused = expect_error(api.privacy.ErasePerson, request_, metadata=operator.metadata)
    assert refused.code == code
    if reason:
        assert refused.reason == reason


def test_what_cannot_be_erased_and_who_may_not_erase(
    world: Deployment, api: Api, operator: Session, team: TenantWorld
) -> None:
    own = expect_error(
        api.auth.EraseMyData,
        pb.EraseMyDataRequest(current_password=OPERATOR_PASSWORD),
        metadata=operator.metadata,
    )
    assert (own.code, own.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "OPERATOR_ACCOUNT")
    assert api.auth.GetMe(pb.GetMeRequest(), metadata=operator.metadata).person.email

    eve = new_member(world, api, operator, team)
    for who in (team.admin, eve["session"]):  # only operators erase someone else
        denied = expect_error(
            api.privacy.ErasePerson,
            pb.ErasePersonRequest(person_id=team.coach.person_id),
            metadata=who.metadata,
        )
        assert (denied.code, denied.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OPERATOR_ONLY")
    assert api.auth.GetMe(pb.GetMeRequest(), metadata=team.coach.metadata).person.email

    erasure = api.privacy.ErasePerson(
        pb.ErasePersonRequest(person_id=eve["session"].person_id), metadata=operator.metadata
    )
    twice = expect_error(
        api.privacy.ErasePerson,
        pb.ErasePersonRequest(person_id=erasure.person_id),
        metadata=operator.metadata,
    )
    assert (twice.code, twice.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_ERASED")

    unknown = expect_error(
        api.auth.GetErasureStatus, pb.GetErasureStatusRequest(receipt="er1.not-a-receipt")
    )
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "ERASURE_NOT_FOUND")


def test_replaying_erasures_erases_again_what_a_restored_backup_brought_back(
    world: Deployment, api: Api, rpc: RpcClient, operator: Session, team: TenantWorld
) -> None:
    eve = new_member(world, api, operator, team)
    copy = wait_for(lambda: witness_copy(rpc, eve["member_id"]), 15, "the witness's copy")
    before = Timestamp()
    before.GetCurrentTime()
    erasure = api.privacy.ErasePerson(
        pb.ErasePersonRequest(person_id=eve["session"].person_id), metadata=operator.metadata
    )
    wait_for(
        lambda: erasure_of(api, operator, erasure.erasure_id).state == pb.ERASURE_COMPLETED,
        30,
        "the erasure",
    )
    # The witness's database is restored from a backup taken before the erasure.
    engine = sa.create_engine(world.config.database_url_for("witness"))
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE members SET state = CAST(:state AS jsonb) WHERE member_id = :id"),
            {"state": json.dumps(copy["state"]), "id": eve["member_id"]},
        )
    engine.dispose()
    assert witness_copy(rpc, eve["member_id"])["state"]["person_id"] == eve["session"].person_id

    refused = expect_error(
        api.privacy.ReplayErasures,
        pb.ReplayErasuresRequest(since_time=before),
        metadata=team.admin.metadata,
    )
    assert refused.reason == "OPERATOR_ONLY"
    replayed = api.privacy.ReplayErasures(
        pb.ReplayErasuresRequest(since_time=before), metadata=operator.metadata
    )
    assert replayed.replayed >= 1
    wait_for(
        lambda: witness_copy(rpc, eve["member_id"])["state"] == {"status": "erased"},
        30,
        "the witness to erase the restored copy again",
    )
    missing = expect_error(
        api.privacy.ReplayErasures, pb.ReplayErasuresRequest(), metadata=operator.metadata
    )
    assert missing.code == grpc.StatusCode.INVALID_ARGUMENT
