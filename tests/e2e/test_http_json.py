"""The HTTP/JSON API (gateway/httpjson, ADR 0020) through a running platform: the web gateway's
process serves it under /api/v1/ as a client of the gRPC gateway. Signing in over HTTP/JSON and
reading with the bearer token; no token or a bad one is 401; a body that does not fit the
method (not JSON, an unknown field, a bad enum) or that the gateway refuses is a 400 problem
naming the field; another tenant's member is 404, in the caller's language; the OpenAPI
document served is the committed one. Then schemathesis, in-process against the facade with
that document, finds no server error (5xx) on any method, signed in or not, and every answer
(a reply or a problem) matches the document's schemas."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from ecoach_dev.deployment import Deployment
from gateway.httpjson import openapi
from gateway.httpjson.app import create_api
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support.api import Api, Session, unique_email
from tests.support.people import set_password

PROBLEM = "application/problem+json"
# Examples per method and generation mode: 147 methods in well under a minute.
EXAMPLES = 3
# Methods that end the signed-in person's own session or account: run last they would only
# turn the rest into 401s, so schemathesis leaves them to the tests above.
# No 5xx; and every answer, success or problem, is what the document says it is.
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
SELF_ENDING = {"AuthService_SignOutEverywhere", "AuthService_EraseMyData", "AuthService_SignOut"}


@pytest.fixture(scope="module")
def http(deployment: Deployment) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://{deployment.web_address}/api/v1/", timeout=30) as client:
        yield client


def post(
    http: httpx.Client,
    method: str,
    body: Any = None,
    token: str = "",
    **headers: str,
) -> httpx.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if isinstance(body, str | bytes):
        headers["Content-Type"] = "application/json"
        return http.post(method, content=body, headers=headers)
    return http.post(method, json=body if body is not None else {}, headers=headers)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:ecoach:problem:")
    return body


def token_of(session: Session) -> str:
    return dict(session.metadata)["authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module")
def signed_in(
    deployment: Deployment, http: httpx.Client, acme: TenantWorld, operator: Session
) -> dict[str, Any]:
    """A coach of acme added over HTTP/JSON by the operator, then signed in over HTTP/JSON."""
    email = unique_email("httpjson")
    added = post(
        http,
        "ecoach.v1.MemberService/AddMember",
        {
            "parent": f"tenants/{acme.tenant_id}",
            "email": email,
            "roles": ["COACH"],
            "displayName": "Hugo",
        },
        token_of(operator),
    )
    assert added.status_code == 200, added.text
    assert added.json()["roles"] == ["COACH"]  # enums by name
    set_password(deployment.config, email, PASSWORD)
    reply = post(
        http,
        "ecoach.v1.AuthService/SignIn",
        {"email": email, "password": PASSWORD, "tenant": acme.slug},
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    assert body["expireTime"].endswith("Z")  # a Timestamp: an RFC 3339 string
    return {"email": email, **body}


def test_sign_in_and_read_with_the_bearer_token(
    http: httpx.Client, signed_in: dict[str, Any], acme: TenantWorld
) -> None:
    me = post(http, "ecoach.v1.AuthService/GetMe", {}, signed_in["accessToken"])
    assert me.status_code == 200, me.text
    assert me.headers["content-type"] == "application/json"
    assert me.headers["cache-control"] == "no-store"
    assert me.json()["person"]["email"] == signed_in["email"]
    assert me.json()["person"]["personId"] == signed_in["personId"]
    assert me.json()["tenant"]["tenantId"] == acme.tenant_id


def test_a_wrong_password_is_401_and_the_same_as_over_grpc(http: httpx.Client) -> None:
    reply = post(
        http, "ecoach.v1.AuthService/SignIn", {"email": unique_email("nobody"), "password": "x"}
    )
    body = problem(reply, 401)
    assert (body["code"], body["reason"]) == ("UNAUTHENTICATED", "INVALID_CREDENTIALS")


def test_no_token_or_a_bad_one_is_401(http: httpx.Client) -> None:
    for token in ("", "not-a-token"):
        reply = post(http, "ecoach.v1.AuthService/GetMe", {}, token)
        assert problem(reply, 401)["code"] == "UNAUTHENTICATED"
        assert reply.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("ecoach.v1.AuthService/GetMe", "{not json", "request"),
        ("ecoach.v1.AuthService/GetMe", '{"surprise": 1}', "surprise"),
        ("ecoach.v1.MemberService/ListMembers", '{"role": "BOGUS"}', "role"),
        ("ecoach.v1.MemberService/ListMembers", '{"pageSize": "many"}', "pageSize"),
    ],
)
def test_a_body_that_does_not_fit_is_a_400_naming_the_field(
    http: httpx.Client, signed_in: dict[str, Any], method: str, body: str, field: str
) -> None:
    reply = post(http, method, body, signed_in["accessToken"])
    found = problem(reply, 400)
    assert found["code"] == "INVALID_ARGUMENT"
    assert [e["field"] for e in found["errors"]] == [field]


def test_the_gateways_own_validation_names_the_field(http: httpx.Client, acme: TenantWorld) -> None:
    reply = post(
        http,
        "ecoach.v1.MemberService/AddMember",
        {"parent": f"tenants/{acme.tenant_id}", "email": "not an address", "roles": ["COACH"]},
        token_of(acme.admin),
    )
    found = problem(reply, 400)
    assert "email" in [e["field"] for e in found["errors"]]


def test_another_tenants_member_is_404_in_the_callers_language(
    http: httpx.Client, acme: TenantWorld, globex: TenantWorld
) -> None:
    name = f"tenants/{globex.tenant_id}/members/{globex.coach_member}"
    token = token_of(acme.admin)
    english = problem(post(http, "ecoach.v1.MemberService/GetMember", {"name": name}, token), 404)
    french = problem(
        post(
            http,
            "ecoach.v1.MemberService/GetMember",
            {"name": name},
            token,
            **{"Accept-Language": "fr"},
        ),
        404,
    )
    assert english["code"] == french["code"] == "NOT_FOUND"
    assert english["detail"] != french["detail"]  # localized by the gateway
    own = f"tenants/{acme.tenant_id}/members/{acme.coach_member}"
    assert post(http, "ecoach.v1.MemberService/GetMember", {"name": own}, token).status_code == 200


def test_the_served_document_is_the_committed_one_and_pages_still_work(
    deployment: Deployment, http: httpx.Client
) -> None:
    served = http.get("openapi.json")
    assert served.status_code == 200
    assert served.text == openapi.DOCUMENT.read_text(encoding="utf-8")
    health = httpx.get(f"http://{deployment.web_address}/healthz", timeout=10)
    assert health.text == "ok"  # the web pages beside it


def test_schemathesis_finds_no_server_error(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    """Every method, with generated valid and invalid bodies, signed in as a tenant admin of a
    tenant of its own (its writes land there) and without a token: never a 5xx."""
    world = make_tenant(deployment, api, operator)
    channel = grpc.insecure_channel(deployment.address)
    app = create_api(channel)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    admin = {"Authorization": f"Bearer {world.admin.token}"}
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100
    for operation in operations:
        if operation.definition.raw["operationId"] in SELF_ENDING:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                signed = case.call_and_validate(headers=admin, checks=CHECKS)
                anonymous = case.call_and_validate(checks=CHECKS)  # no token
                statuses.update((signed.status_code, anonymous.status_code))

            try:
                run()
            except Exception as exc:  # a check that failed: kept, every method still runs
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    channel.close()
    assert not failures, "\n\n".join(failures)
    print(sorted(statuses.items()))
    # It reached the services: answers, refusals by the gateway and by the facade alike.
    assert statuses[200] > 0 and statuses[401] > 0 and statuses[400] > 0, statuses
    assert time.monotonic() - started < 120
