"""The walking skeleton's journey, as a client would take it through the gRPC gateway."""

from __future__ import annotations

import grpc
import pytest
from grpc_requests import Client

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from tests.support.api import Api, Session, expect_error, unique_email, unique_slug

pytestmark = pytest.mark.smoke


def test_reflection_lists_the_ecoach_v1_services(deployment: Deployment) -> None:
    client = Client.get_by_endpoint(deployment.address)
    assert {"ecoach.v1.AuthService", "ecoach.v1.TenantService", "ecoach.v1.MemberService"} <= set(
        client.service_names
    )


def test_operator_creates_a_tenant_and_its_admin_adds_a_member(api: Api, operator: Session) -> None:
    slug = unique_slug("smoke")
    tenant = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name="Smoke Corp", slug=slug), metadata=operator.metadata
    )
    assert tenant.name == f"tenants/{tenant.tenant_id}" and tenant.slug == slug

    email = unique_email("newcomer")
    added = api.members.AddMember(
        pb.AddMemberRequest(
            parent=tenant.name,
            email=email,
            roles=[pb.COACHEE],
            display_name="New Comer",
            locale="fr",
            time_zone="Europe/Paris",
        ),
        metadata=operator.metadata,
    )
    member = api.members.GetMember(pb.GetMemberRequest(name=added.name), metadata=operator.metadata)
    assert member.email == email
    assert list(member.roles) == [pb.COACHEE]
    # An invitation: until the person accepts, the tenant sees only the email it typed.
    assert member.status == pb.PENDING
    assert member.display_name == ""

    listed = api.members.ListMembers(
        pb.ListMembersRequest(parent=tenant.name), metadata=operator.metadata
    )
    assert [m.member_id for m in listed.members] == [added.member_id]


def test_get_me_returns_person_membership_and_tenant(api: Api, acme) -> None:  # type: ignore[no-untyped-def]
    me = api.auth.GetMe(pb.GetMeRequest(), metadata=acme.coach.metadata)
    assert me.person.person_id == acme.coach.person_id
    assert me.membership.member_id == acme.coach_member
    assert list(me.membership.roles) == [pb.COACH]
    assert me.tenant.tenant_id == acme.tenant_id


def test_wrong_password_is_unauthenticated_and_says_why(api: Api, acme) -> None:  # type: ignore[no-untyped-def]
    error = expect_error(
        api.auth.SignIn, pb.SignInRequest(email="nobody@example.test", password="x" * 12)
    )
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert error.reason == "INVALID_CREDENTIALS"
    assert error.localized
