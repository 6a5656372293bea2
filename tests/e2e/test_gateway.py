"""The gateway's contract with clients: errors with details, authentication, health."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import grpc
import jwt
from grpc_health.v1 import health_pb2

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from services.kernel.clock import SystemClock
from services.kernel.registry import SERVICE_NAMES
from services.kernel.tokens import issue_service_token, load_or_create_service_key
from tests.e2e.conftest import PASSWORD, TenantWorld
from tests.support.api import Api, Session, expect_error, unique_email
from tests.support.clock import move_test_clock
from tests.support.waiting import wait_for


def test_malformed_fields_are_invalid_argument_naming_each_field(
    api: Api, acme: TenantWorld
) -> None:
    error = expect_error(
        api.members.AddMember,
        pb.AddMemberRequest(parent=f"tenants/{acme.tenant_id}", email="not-an-email", roles=[]),
        metadata=acme.admin.metadata,
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(error.fields) >= {"email", "roles"}
    assert error.reason == "INVALID_ARGUMENT"


def test_a_malformed_resource_name_is_invalid_argument(api: Api, acme: TenantWorld) -> None:
    error = expect_error(
        api.members.GetMember, pb.GetMemberRequest(name="members/42"), metadata=acme.admin.metadata
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.fields == ("name",)


def test_errors_are_localized_in_the_callers_language(api: Api, acme: TenantWorld) -> None:
    metadata = (*acme.coach.metadata, ("accept-language", "fr-FR"))
    error = expect_error(
        api.members.ListMembers,
        pb.ListMembersRequest(parent=f"tenants/{acme.tenant_id}"),
        metadata=metadata,
    )
    assert error.code == grpc.StatusCode.PERMISSION_DENIED
    assert error.locale == "fr"
    assert "administrateur" in error.localized
    english = expect_error(
        api.members.ListMembers,
        pb.ListMembersRequest(parent=f"tenants/{acme.tenant_id}"),
        metadata=acme.coach.metadata,
    )
    assert english.locale == "en" and "administrator" in english.localized


def test_a_missing_or_forged_token_is_unauthenticated(api: Api, acme: TenantWorld) -> None:
    request = pb.GetMeRequest()
    assert expect_error(api.auth.GetMe, request).code == grpc.StatusCode.UNAUTHENTICATED
    header, _payload, signature = acme.admin.token.split(".")
    claims = jwt.decode(acme.admin.token, options={"verify_signature": False})
    claims["roles"] = ["tenant_admin", "coach"]
    forged_payload = jwt.utils.base64url_encode(jwt.api_jwt.json.dumps(claims).encode()).decode()
    forged = f"{header}.{forged_payload}.{signature}"
    error = expect_error(api.auth.GetMe, request, metadata=(("authorization", f"Bearer {forged}"),))
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert error.reason == "TOKEN_INVALID"


def test_a_header_claiming_to_be_the_system_is_unauthenticated(api: Api, acme: TenantWorld) -> None:
    for metadata in (
        (("x-ecoach-caller", "system"),),
        (("authorization", "System identity"),),
        (("nameko.authorization", "system"), ("caller", "system")),
    ):
        error = expect_error(
            api.members.ListMembers,
            pb.ListMembersRequest(parent=f"tenants/{acme.tenant_id}"),
            metadata=metadata,
        )
        assert error.code == grpc.StatusCode.UNAUTHENTICATED


def test_a_token_for_another_audience_is_unauthenticated(
    api: Api, deployment: Deployment, acme: TenantWorld
) -> None:
    # a valid service token of a deployment service is not an access token
    key = load_or_create_service_key(deployment.config.keys_path, "identity")
    token = issue_service_token(
        key, service="identity", audience="identity", clock=SystemClock(), ttl=timedelta(minutes=5)
    )
    error = expect_error(
        api.auth.GetMe, pb.GetMeRequest(), metadata=(("authorization", f"Bearer {token}"),)
    )
    assert error.code == grpc.StatusCode.UNAUTHENTICATED


def test_an_expired_token_is_unauthenticated_everywhere(
    api: Api, deployment: Deployment, acme: TenantWorld
) -> None:
    clock_file: Path = deployment.config.test_clock_path
    fresh = acme.coachee
    try:
        move_test_clock(clock_file, 3600)  # the whole deployment is an hour later
        error = expect_error(api.auth.GetMe, pb.GetMeRequest(), metadata=fresh.metadata)
        assert error.code == grpc.StatusCode.UNAUTHENTICATED
        assert error.reason == "TOKEN_EXPIRED"
    finally:
        move_test_clock(clock_file, 0)
    api.auth.GetMe(pb.GetMeRequest(), metadata=fresh.metadata)


def test_health_reports_each_downstream_service(deployment: Deployment) -> None:
    for name in SERVICE_NAMES:  # every service of the kernel's registry, by name
        assert deployment.health(name) == health_pb2.HealthCheckResponse.SERVING, name
    assert deployment.health("") == health_pb2.HealthCheckResponse.SERVING


def test_one_request_id_runs_through_every_process_and_no_log_holds_a_token_or_password(
    api: Api, deployment: Deployment, acme: TenantWorld
) -> None:
    rid = f"trace-{acme.slug}"
    _, call = api.auth.GetMe.with_call(
        pb.GetMeRequest(), metadata=(*acme.coach.metadata, ("x-request-id", rid))
    )
    assert ("x-request-id", rid) in tuple(call.trailing_metadata())
    wait_for(  # each process writes its line once the call is answered
        lambda: (
            rid in deployment.logs["gateway"].read_text()
            and deployment.logs["identity"].read_text().count(rid) >= 3
        ),
        10,
        "the request's log lines",
    )
    logs = {name: deployment.logs[name].read_text() for name in ("gateway", "identity")}
    gateway_lines = [json.loads(line) for line in logs["gateway"].splitlines() if rid in line]
    identity_lines = [json.loads(line) for line in logs["identity"].splitlines() if rid in line]
    assert [line["method"] for line in gateway_lines] == ["GetMe"]
    # GetMe fans out to three identity calls, all under the gateway's request id
    assert sorted(line["method"] for line in identity_lines) == sorted(
        ["get_my_person", "get_my_membership", "get_tenant"]
    )
    for text in logs.values():
        assert acme.coach.token not in text
        assert PASSWORD not in text


def test_pagination_walks_every_member_once(api: Api, operator: Session) -> None:
    tenant = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name="Paged", slug=f"paged-{unique_email()[7:17]}"),
        metadata=operator.metadata,
    )
    added = {
        api.members.AddMember(
            pb.AddMemberRequest(parent=tenant.name, email=unique_email(), roles=[pb.COACHEE]),
            metadata=operator.metadata,
        ).member_id
        for _ in range(7)
    }
    seen: list[str] = []
    token = ""
    while True:
        page = api.members.ListMembers(
            pb.ListMembersRequest(parent=tenant.name, page_size=3, page_token=token),
            metadata=operator.metadata,
        )
        seen += [m.member_id for m in page.members]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(added)
    error = expect_error(
        api.members.ListMembers,
        pb.ListMembersRequest(parent=tenant.name, page_token="garbage!"),
        metadata=operator.metadata,
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT and error.fields == ("page_token",)


def test_errors_carry_the_request_id_too(api: Api, acme: TenantWorld) -> None:
    try:
        api.members.ListMembers(
            pb.ListMembersRequest(parent=f"tenants/{acme.tenant_id}"),
            metadata=(*acme.coachee.metadata, ("x-request-id", "client-chosen-err-1")),
        )
    except grpc.RpcError as exc:
        assert ("x-request-id", "client-chosen-err-1") in tuple(exc.trailing_metadata())  # type: ignore[attr-defined]
        assert exc.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
    else:
        raise AssertionError("a coachee may not list members")
