"""Searching a tenant's members through the gateway (issue 20): the search narrows the admin's
own tenant and never reaches another's, whatever the text; bad searches name their field."""

from __future__ import annotations

import grpc
import pytest

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from tests.e2e.conftest import PASSWORD, TenantWorld
from tests.support.api import Api, Session, error_details, unique_email
from tests.support.people import set_password


def add_member(
    deployment: Deployment, api: Api, t: TenantWorld, name: str, role: int, email: str = ""
) -> str:
    email = email or unique_email("searched")
    api.members.AddMember(
        pb.AddMemberRequest(
            parent=f"tenants/{t.tenant_id}", email=email, roles=[role], display_name=name
        ),
        metadata=t.admin.metadata,
    )
    set_password(deployment.config, email, PASSWORD)
    return email


def search(api: Api, who: Session, tenant_id: str, **fields: object) -> list[str]:
    answer = api.members.ListMembers(
        pb.ListMembersRequest(parent=f"tenants/{tenant_id}", **fields),  # type: ignore[arg-type]
        metadata=who.metadata,
    )
    return [m.email for m in answer.members]


def test_a_search_finds_its_own_tenants_members_and_never_another_tenants(
    deployment: Deployment, api: Api, acme: TenantWorld, globex: TenantWorld
) -> None:
    secret = add_member(deployment, api, acme, "Zélie Confidentielle", pb.COACHEE)
    namesake = add_member(deployment, api, globex, "Zélie Homonyme", pb.COACHEE)

    assert search(api, acme.admin, acme.tenant_id, query="zelie") == [secret]
    assert search(api, acme.admin, acme.tenant_id, query="zelie", role=pb.COACH) == []
    assert search(api, acme.admin, acme.tenant_id, query=secret, status=pb.ACTIVE) == [secret]
    # globex's admin, in their own tenant: only their own Zélie, whatever they type
    assert search(api, globex.admin, globex.tenant_id, query="zelie") == [namesake]
    for text in (secret, secret.split("@")[0], "confidentielle", "%", ""):
        assert secret not in search(api, globex.admin, globex.tenant_id, query=text)
    # acme's tenant: not found for globex's admin, refused to acme's coachee
    with pytest.raises(grpc.RpcError) as raised:
        search(api, globex.admin, acme.tenant_id, query="zelie")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as raised:
        search(api, acme.coachee, acme.tenant_id, query="zelie")
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"query": "a\x00b"}, "query"),
        ({"query": "x" * 101}, "query"),
        ({"role": 42}, "role"),
        ({"status": 42}, "status"),
    ],
)
def test_a_bad_search_is_invalid_naming_its_field(
    api: Api, acme: TenantWorld, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        search(api, acme.admin, acme.tenant_id, **fields)
    details = error_details(raised.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.fields == (field,)
