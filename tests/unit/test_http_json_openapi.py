"""The HTTP/JSON API's OpenAPI document (gateway/httpjson/openapi.py): the committed
docs/api/openapi.json is what the protos generate (regenerate it with
`python -m gateway.httpjson.openapi`), and messages map to JSON Schema by protobuf's JSON
mapping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import duration_pb2, struct_pb2

from gateway.api.pb import assessment_pb2, identity_pb2
from gateway.httpjson import openapi
from gateway.httpjson.openapi import _Builder


def test_the_committed_document_matches_the_protos() -> None:
    committed = openapi.DOCUMENT.read_text(encoding="utf-8")
    assert committed == openapi.render(openapi.document()), (
        "docs/api/openapi.json is stale: run `.venv/bin/python -m gateway.httpjson.openapi`"
    )


def schema_of(builder: _Builder, full_name: str) -> dict[str, Any]:
    return builder.schemas[full_name]


def test_scalars_enums_timestamps_repeated_and_maps() -> None:
    b = _Builder({})
    b.message(duration_pb2.Duration.DESCRIPTOR)
    duration = schema_of(b, "google.protobuf.Duration")["properties"]
    assert duration["seconds"]["type"] == "string"  # int64: a decimal string
    assert duration["nanos"]["type"] == "integer"  # int32: a number
    b.message(identity_pb2.AddMemberRequest.DESCRIPTOR)
    add = schema_of(b, "ecoach.v1.AddMemberRequest")
    assert add["additionalProperties"] is False  # an unknown field is refused
    assert "displayName" in add["properties"]  # JSON (lowerCamel) names
    assert add["properties"]["roles"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/ecoach.v1.Role"},
    }
    assert "COACH" in schema_of(b, "ecoach.v1.Role")["enum"]
    b.message(identity_pb2.SignInResponse.DESCRIPTOR)
    expire = schema_of(b, "ecoach.v1.SignInResponse")["properties"]["expireTime"]
    assert (expire["type"], expire["format"]) == ("string", "date-time")
    b.message(struct_pb2.Struct.DESCRIPTOR)  # a map<string, Value>
    fields = schema_of(b, "google.protobuf.Struct")["properties"]["fields"]
    assert fields["type"] == "object"
    assert fields["additionalProperties"] == {"$ref": "#/components/schemas/google.protobuf.Value"}


def test_a_oneof_is_noted_in_its_fields() -> None:
    b = _Builder({})
    b.message(assessment_pb2.Answer.DESCRIPTOR)
    number = schema_of(b, "ecoach.v1.Answer")["properties"]["number"]
    assert "One of `value`" in number["description"]
    assert "`text`" in number["description"]


def test_public_methods_need_no_token_and_others_a_bearer_token() -> None:
    doc = openapi.document(comments={})
    assert doc["security"] == [{"bearer": []}]
    sign_in = doc["paths"]["/api/v1/ecoach.v1.AuthService/SignIn"]["post"]
    assert sign_in["security"] == [{}]
    add = doc["paths"]["/api/v1/ecoach.v1.MemberService/AddMember"]["post"]
    assert "security" not in add
    assert add["responses"]["default"] == {"$ref": "#/components/responses/Problem"}


def test_the_protos_comments_are_the_descriptions() -> None:
    comments = openapi.proto_comments()
    assert "password" in comments["ecoach.v1.AuthService.SignIn"]
    assert comments["ecoach.v1.SignInRequest.tenant"].startswith("Tenant id or slug")


def test_without_protoc_the_document_is_served_without_comments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> dict[str, str]:
        raise OSError("read-only file system")

    monkeypatch.setattr(openapi, "proto_comments", broken)
    openapi.served.cache_clear()
    try:
        doc = json.loads(openapi.served())
    finally:
        openapi.served.cache_clear()
    assert "description" not in doc["paths"]["/api/v1/ecoach.v1.AuthService/SignIn"]["post"]


def test_every_schema_is_valid_json_schema_2020_12() -> None:
    from jsonschema import Draft202012Validator

    doc = openapi.document(comments={})
    assert doc["openapi"].startswith("3.1")
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert all(set(item) == {"post"} for item in doc["paths"].values())
    ids = [item["post"]["operationId"] for item in doc["paths"].values()]
    assert len(ids) == len(set(ids))
