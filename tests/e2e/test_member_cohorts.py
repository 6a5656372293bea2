"""A member's cohort attributes through the gateway (issue 25): HR sets department, site and
programme; HR, the operator and the member see them, the member's coach never does; every
refusal a caller meets, and bad labels named by field."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name
from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import spaces_pb2_grpc
from tests.e2e.conftest import TenantWorld, make_tenant
from tests.support.api import Api, Session, expect_error
from tests.support.spaces import create, move
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def spaces(deployment: Deployment) -> Any:
    channel = deployment.channel()
    yield spaces_pb2_grpc.SpaceServiceStub(channel)
    channel.close()


def set_cohort(api: Api, who: Session, name: str, **labels: str) -> pb.Member:
    return api.members.SetMemberAttributes(
        pb.SetMemberAttributesRequest(name=name, **labels), metadata=who.metadata
    )


def cohort_of(m: pb.Member | pb.MyMembership) -> tuple[str, str, str]:
    return m.department, m.site, m.programme


def test_hr_sets_a_cohort_the_member_sees_it_and_their_coach_does_not(
    deployment: Deployment, api: Api, spaces: Any, operator: Session
) -> None:
    team = make_tenant(deployment, api, operator)
    coachee = member_name(team.tenant_id, team.coachee_member)
    shown = set_cohort(api, team.admin, coachee, department=" Sales ", site="Lyon")
    assert cohort_of(shown) == ("Sales", "Lyon", "")
    listed = api.members.ListMembers(
        pb.ListMembersRequest(parent=f"tenants/{team.tenant_id}"), metadata=team.admin.metadata
    )
    assert [cohort_of(m) for m in listed.members if m.name == coachee] == [("Sales", "Lyon", "")]
    # The member sees their own, in their membership and in the list of their memberships.
    own = api.members.GetMember(pb.GetMemberRequest(name=coachee), metadata=team.coachee.metadata)
    assert cohort_of(own) == ("Sales", "Lyon", "")
    mine = api.members.ListMyMemberships(
        pb.ListMyMembershipsRequest(), metadata=team.coachee.metadata
    )
    assert [cohort_of(m) for m in mine.memberships] == [("Sales", "Lyon", "")]
    # The operator sets them, as they set roles.
    assert cohort_of(set_cohort(api, operator, coachee, programme="Leaders")) == ("", "", "Leaders")
    set_cohort(api, team.admin, coachee, department="Sales", site="Lyon", programme="Leaders")

    # Their coach, once a space links them, reads the profile but not the cohort.
    move(spaces, "Activate", create(spaces, team, team.coach).name, team.coach)
    seen = wait_for(
        lambda: _or_none(
            lambda: api.members.GetMember(
                pb.GetMemberRequest(name=coachee), metadata=team.coach.metadata
            )
        ),
        15,
        "identity to learn the active space's link",
    )
    assert seen.email and cohort_of(seen) == ("", "", "")


def _or_none(call: Any) -> Any:
    try:
        return call()
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.NOT_FOUND:
            raise
        return None


@pytest.mark.parametrize(
    ("who", "code", "reason"),
    [
        ("coachee", grpc.StatusCode.PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),  # their own
        ("coach", grpc.StatusCode.NOT_FOUND, "MEMBER_NOT_FOUND"),
        ("globex_admin", grpc.StatusCode.NOT_FOUND, "TENANT_NOT_FOUND"),
    ],
)
def test_only_hr_of_the_tenant_sets_a_cohort(
    api: Api, acme: TenantWorld, globex: TenantWorld, who: str, code: Any, reason: str
) -> None:
    caller = globex.admin if who == "globex_admin" else getattr(acme, who)
    coachee = member_name(acme.tenant_id, acme.coachee_member)
    before = api.members.GetMember(pb.GetMemberRequest(name=coachee), metadata=acme.admin.metadata)
    refused = expect_error(set_cohort, api, caller, coachee, department="Elsewhere")
    assert (refused.code, refused.reason) == (code, reason)
    after = api.members.GetMember(pb.GetMemberRequest(name=coachee), metadata=acme.admin.metadata)
    assert cohort_of(after) == cohort_of(before)


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ({"department": "d" * 81}, "department"),
        ({"site": "Lyon\nParis"}, "site"),
        ({"programme": "a\x00b"}, "programme"),
    ],
)
def test_a_bad_label_is_invalid_naming_its_field(
    api: Api, acme: TenantWorld, labels: dict[str, str], field: str
) -> None:
    coachee = member_name(acme.tenant_id, acme.coachee_member)
    refused = expect_error(set_cohort, api, acme.admin, coachee, **labels)
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.fields == (field,)
