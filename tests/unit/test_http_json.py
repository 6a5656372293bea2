"""The HTTP/JSON facade (gateway/httpjson) over a fake gRPC channel: a JSON body becomes the
method's request message and the reply comes back in protobuf's JSON mapping; the caller's
token, language and address go on as metadata; a body that does not fit the message (not JSON,
an unknown field, a bad enum, a wrong type) is a 400 problem naming the field before any call;
the gRPC gateway's errors (its own table, errors.py) come back as RFC 9457 problems with their
status, reason, localized message, fields and retry delay; unknown methods, streaming methods
and other HTTP verbs are refused as problems."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from flask.testing import FlaskClient
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.api.auth import PUBLIC_GRPC_METHODS
from gateway.api.errors import to_status
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from gateway.httpjson.app import create_api, mount
from gateway.httpjson.methods import unary_methods
from gateway.httpjson.problems import HTTP_STATUS, parse_error
from services.kernel.errors import (
    DomainError,
    FieldViolation,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unauthenticated,
)
from services.kernel.messages import localize

SIGN_IN = "/api/v1/ecoach.v1.AuthService/SignIn"
ADD_MEMBER = "/api/v1/ecoach.v1.MemberService/AddMember"
UPDATE_GOAL = "/api/v1/ecoach.v1.GoalService/UpdateGoal"


class Refused(grpc.RpcError):
    """A failed call as the gRPC gateway answers it: its status from the gateway's one table."""

    def __init__(self, error: DomainError, locale: str = "en") -> None:
        super().__init__(error.message)
        self.status = to_status(error, locale)

    def code(self) -> grpc.StatusCode:
        return self.status.code

    def details(self) -> str:
        return str(self.status.details)

    def trailing_metadata(self) -> tuple[Any, ...]:
        return tuple(self.status.trailing_metadata)


@dataclass
class FakeChannel:
    """Answers each gRPC path with a reply or raises an error; remembers every call."""

    answers: dict[str, Message | grpc.RpcError] = field(default_factory=dict)
    calls: list[tuple[str, Message, dict[str, str]]] = field(default_factory=list)

    def unary_unary(
        self,
        path: str,
        request_serializer: Callable[..., bytes],
        response_deserializer: Callable[[bytes], Message],
    ) -> Callable[..., Message]:
        def invoke(request: Message, metadata: Any = (), timeout: float = 0) -> Message:
            assert timeout > 0
            self.calls.append((path, request, dict(metadata)))
            answer = self.answers[path]
            if isinstance(answer, grpc.RpcError):
                raise answer
            # Over the wire and back, as grpcio would.
            return response_deserializer(answer.SerializeToString())

        return invoke


@pytest.fixture
def channel() -> FakeChannel:
    return FakeChannel()


@pytest.fixture
def client(channel: FakeChannel) -> FlaskClient:
    return create_api(channel).test_client()  # type: ignore[arg-type]


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("urn:ecoach:problem:")
    assert body["title"] and isinstance(body["detail"], str)
    return body  # type: ignore[no-any-return]


def test_a_json_body_is_the_request_and_the_reply_comes_back_as_json(
    client: FlaskClient, channel: FakeChannel
) -> None:
    reply = ipb.SignInResponse(access_token="tok", person_id="p1", tenant_id="t1")
    reply.expire_time.CopyFrom(Timestamp(seconds=1_800_000_000))
    channel.answers["/ecoach.v1.AuthService/SignIn"] = reply
    response = client.post(
        SIGN_IN,
        json={"email": "a@example.com", "password": "pw", "tenant": "acme"},
        headers={"Accept-Language": "fr", "Authorization": "Bearer abc"},
    )
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["accessToken"] == "tok"
    assert body["expireTime"] == "2027-01-15T08:00:00Z"
    assert body["refreshToken"] == ""  # defaults are written out: scripts need no guessing
    path, request, metadata = channel.calls[0]
    assert path == "/ecoach.v1.AuthService/SignIn"
    assert request == ipb.SignInRequest(email="a@example.com", password="pw", tenant="acme")
    assert metadata["authorization"] == "Bearer abc"
    assert metadata["accept-language"] == "fr"
    assert metadata["x-forwarded-for"] == "127.0.0.1"


def test_proto_field_names_and_enum_names_are_accepted(
    client: FlaskClient, channel: FakeChannel
) -> None:
    channel.answers["/ecoach.v1.MemberService/AddMember"] = ipb.Member(member_id="m1")
    body = {"parent": "tenants/t", "roles": ["COACH"], "display_name": "Ann", "timeZone": "UTC"}
    response = client.post(ADD_MEMBER, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    request = channel.calls[0][1]
    assert list(request.roles) == [ipb.COACH]
    assert (request.display_name, request.time_zone) == ("Ann", "UTC")


def test_an_empty_body_is_the_empty_request(client: FlaskClient, channel: FakeChannel) -> None:
    channel.answers["/ecoach.v1.AuthService/SignIn"] = ipb.SignInResponse()
    assert client.post(SIGN_IN).status_code == 200
    assert channel.calls[0][1] == ipb.SignInRequest()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (SIGN_IN, '{"emial": "a@example.com"}', "emial"),
        (SIGN_IN, '{"email": 5}', "email"),
        (ADD_MEMBER, '{"roles": ["BOGUS"]}', "roles[0]"),
        (ADD_MEMBER, '{"roles": "COACH"}', "roles"),
        (UPDATE_GOAL, '{"goal": {"titl": "x"}}', "goal.titl"),
        (UPDATE_GOAL, '{"goal": {"title": 1}}', "goal.title"),
        (UPDATE_GOAL, '{"goal": {"createTime": "yesterday"}}', "goal.createTime"),
        (UPDATE_GOAL, '{"updateMask": 5}', "updateMask"),
        (SIGN_IN, '{"email": "\\ud800"}', "email"),
        (SIGN_IN, "{not json", "request"),
        (SIGN_IN, "[1, 2]", "request"),
        (SIGN_IN, '"a string"', "request"),
        (SIGN_IN, b'{"email": "\xff"}', "request"),
        (SIGN_IN, "[" * 5000 + "]" * 5000, "request"),
    ],
)
def test_a_body_that_does_not_fit_the_message_is_a_400_naming_the_field(
    client: FlaskClient, channel: FakeChannel, path: str, body: str | bytes, field: str
) -> None:
    response = client.post(path, data=body, content_type="application/json")
    body_ = problem(response, 400)
    assert body_["code"] == "INVALID_ARGUMENT"
    assert [e["field"] for e in body_["errors"]] == [field]
    assert not channel.calls  # refused before any call


def test_a_body_that_is_not_json_by_its_type_is_a_415(
    client: FlaskClient, channel: FakeChannel
) -> None:
    response = client.post(
        SIGN_IN, data="email=a", content_type="application/x-www-form-urlencoded"
    )
    assert problem(response, 415)["reason"] == "UNSUPPORTED_MEDIA_TYPE"
    assert not channel.calls


def test_the_gateways_field_errors_come_back_as_the_problems_errors(
    client: FlaskClient, channel: FakeChannel
) -> None:
    error = InvalidArgument(
        "Bad member.", fields=[FieldViolation("email", "is not an email address")]
    )
    channel.answers["/ecoach.v1.MemberService/AddMember"] = Refused(error)
    body = problem(client.post(ADD_MEMBER, json={"email": "nope"}), 400)
    assert body["code"] == "INVALID_ARGUMENT"
    assert body["reason"] == error.reason
    assert body["type"] == f"urn:ecoach:problem:{error.reason}"
    assert body["errors"] == [{"field": "email", "detail": "is not an email address"}]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Unauthenticated("No token.", reason="TOKEN_INVALID"), 401),
        (NotFound("No such member."), 404),
        (ResourceExhausted("Slow down.", metadata={"retry_after_seconds": "30"}), 429),
    ],
)
def test_the_gateways_status_becomes_the_http_status(
    client: FlaskClient, channel: FakeChannel, error: DomainError, status: int
) -> None:
    channel.answers["/ecoach.v1.MemberService/AddMember"] = Refused(error, "fr")
    response = client.post(ADD_MEMBER, json={}, headers={"Accept-Language": "fr"})
    body = problem(response, status)
    assert body["reason"] == error.reason
    assert body["detail"] == localize(error.reason, str(error.code), "fr")[1]  # in French
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if status == 429:
        assert response.headers["Retry-After"] == "30"


def test_headers_grpc_cannot_carry_are_dropped_not_a_server_error(
    client: FlaskClient, channel: FakeChannel
) -> None:
    channel.answers["/ecoach.v1.AuthService/SignIn"] = ipb.SignInResponse()
    response = client.post(SIGN_IN, json={}, headers={"Authorization": "Bearer caf\u00e9"})
    assert response.status_code == 200
    assert "authorization" not in channel.calls[0][2]


def test_unknown_methods_other_verbs_and_paths_are_problems(client: FlaskClient) -> None:
    assert problem(client.post("/api/v1/ecoach.v1.AuthService/Nope"), 404)["code"] == "NOT_FOUND"
    assert problem(client.post("/api/v1/ecoach.v1.PrivacyService/ExportMyData"), 404)
    response = client.get(SIGN_IN)
    assert problem(response, 405)["reason"] == "METHOD_NOT_ALLOWED"
    assert response.headers["Allow"] == "POST"
    assert problem(client.get("/api/v2/anything"), 404)


def test_the_openapi_document_is_served(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert SIGN_IN in response.get_json()["paths"]


def test_every_unary_method_is_there_with_its_gateways_public_flag() -> None:
    methods = unary_methods()
    assert len(methods) > 100
    assert "/api/v1/ecoach.v1.PrivacyService/ExportMyData" not in methods  # streams
    public = {m.grpc_path for m in methods.values() if m.public}
    assert public == {p for p in PUBLIC_GRPC_METHODS if p.startswith("/ecoach.v1.")}


def test_mount_sends_api_paths_to_the_facade_and_the_rest_to_the_pages() -> None:
    def pages(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"page"]

    api = create_api(FakeChannel())  # type: ignore[arg-type]
    from werkzeug.test import Client

    both = Client(mount(pages, api))
    assert both.get("/").get_data() == b"page"
    assert both.get("/apis").get_data() == b"page"
    assert both.get("/api/v1/openapi.json").status_code == 200


def test_every_grpc_status_has_an_http_status() -> None:
    assert set(HTTP_STATUS) == set(grpc.StatusCode)


def test_a_parse_error_without_a_path_names_the_request() -> None:
    assert parse_error("") == ("request", False)
    assert parse_error("Failed to load JSON: nope") == ("request", False)


def test_spaces_messages_are_parsed_too(client: FlaskClient, channel: FakeChannel) -> None:
    channel.answers["/ecoach.v1.GoalService/UpdateGoal"] = spb.Goal(title="t")
    response = client.post(
        UPDATE_GOAL, json={"goal": {"title": "t"}, "updateMask": "title,description"}
    )
    assert response.status_code == 200
    assert list(channel.calls[0][1].update_mask.paths) == ["title", "description"]
    assert json.loads(response.get_data())["title"] == "t"


def test_the_facades_own_refusals_are_in_the_callers_language(client: FlaskClient) -> None:
    response = client.post(
        SIGN_IN,
        data='{"emial": 1}',
        content_type="application/json",
        headers={"Accept-Language": "fr"},
    )
    body = problem(response, 400)
    assert body["reason"] == "UNKNOWN_FIELD"
    assert body["detail"] == "Le corps de la requête ne correspond pas à cette méthode."
    assert body["errors"] == [{"field": "emial", "detail": "n'est pas un champ de cette requête"}]
    english = problem(client.post("/api/v1/ecoach.v1.AuthService/Nope"), 404)
    assert english["detail"] == "This API has no such method."


def test_a_fault_of_the_facade_is_a_500_problem_not_an_html_page(
    client: FlaskClient, channel: FakeChannel, caplog: pytest.LogCaptureFixture
) -> None:
    channel.answers["/ecoach.v1.AuthService/SignIn"] = None  # type: ignore[assignment]
    body = problem(client.post(SIGN_IN, json={}), 500)
    assert (body["code"], body["reason"]) == ("INTERNAL", "INTERNAL")
    assert "unexpected error" in caplog.text
