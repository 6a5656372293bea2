"""The events' AsyncAPI document (docs/api/asyncapi.json) matches the contracts, is a valid
AsyncAPI 3.0.0 document (the official JSON Schema, vendored in docs/schemas/asyncapi), and marks
each message internal or public as its contract says; only the reporting service's aggregates
may be public (PRODUCT.md)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from ecoach_dev import asyncapi, catalogue
from services.kernel.events import AUDIENCES, SIGNATURE_HEADER, SIGNER_HEADER, EventPayload

SPEC = catalogue.ROOT / "docs" / "schemas" / "asyncapi" / "asyncapi-3.0.0.schema.json"
# `schemas/3.0.0.json` of the npm package @asyncapi/specs@6.11.1 (docs/schemas/asyncapi/README.md)
SPEC_SHA256 = "d4571a420e6ffb7fcc7066c95a6db1202f299a3c51daa103d0706bf30f95e626"
EVENTS = catalogue.discover_events()


@cache
def validator() -> Draft7Validator:
    """The official AsyncAPI 3.0.0 schema; its parts (bundled with their `$id`s) and the draft-07
    meta-schema are all in the one file, so nothing is fetched."""
    schema = json.loads(SPEC.read_text(encoding="utf-8"))
    registry = Registry().with_resource(schema["$id"], DRAFT7.create_resource(schema)).crawl()
    return Draft7Validator(schema, registry=registry)


def _errors(document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
        for error in validator().iter_errors(document)
    ]


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


class ReportingAggregate(EventPayload):
    """A made-up aggregate for HR tools (the reporting service's events look like this)."""

    TYPE: ClassVar[str] = "reporting.month_closed"
    AGGREGATE: ClassVar[str] = "report_id"
    TENANT: ClassVar[str | None] = "tenant_id"
    AUDIENCE: ClassVar[Literal["internal", "public"]] = "public"

    report_id: str
    tenant_id: str
    sessions_held: int


def test_the_committed_document_matches_the_contracts() -> None:
    committed = asyncapi.DOCUMENT.read_text(encoding="utf-8")
    assert committed == asyncapi.render(asyncapi.generate()), (
        f"docs/api/asyncapi.json is stale: run `{asyncapi.COMMAND}`"
    )


def test_the_document_is_valid_asyncapi_3() -> None:
    assert _errors(asyncapi.generate()) == []


def test_the_official_schema_does_refuse_a_wrong_document() -> None:
    # The validator really checks (bindings included): not a schema that accepts anything.
    document = asyncapi.generate()
    wrong = copy.deepcopy(document)
    channel = next(iter(wrong["channels"].values()))
    channel["bindings"]["amqp"]["exchange"]["type"] = "round-robin"
    assert _errors(wrong) != []
    wrong = copy.deepcopy(document)
    del wrong["info"]["version"]
    assert _errors(wrong) != []


def test_every_reference_points_at_something_in_the_document() -> None:
    document = asyncapi.generate()
    for ref in set(_refs(document)):
        assert _resolve(document, ref) is not None, ref


def test_a_channel_per_publisher_exchange_with_the_event_type_as_routing_key() -> None:
    document = asyncapi.generate()
    publishers = {event.TYPE.split(".", 1)[0] for event in EVENTS}
    assert set(document["channels"]) == {f"{service}.events" for service in publishers}
    for event in EVENTS:
        key = asyncapi.message_key(event)
        exchange = f"{event.TYPE.split('.', 1)[0]}.events"
        channel = document["channels"][exchange]
        assert channel["address"] == exchange
        assert channel["bindings"]["amqp"]["exchange"]["type"] == "topic"
        assert key in channel["messages"]
        operation = document["operations"][key]
        assert operation["action"] == "send"
        assert operation["bindings"]["amqp"]["cc"] == [event.TYPE]
        assert _resolve(document, operation["messages"][0]["$ref"]) == {
            "$ref": f"#/components/messages/{key}"
        }


def test_a_message_is_the_catalogues_envelope_with_the_signature_headers() -> None:
    document = asyncapi.generate()
    for event in EVENTS:
        message = document["components"]["messages"][asyncapi.message_key(event)]
        body = _resolve(document, message["payload"]["$ref"])
        expected = catalogue.event_schema(event)["properties"]
        assert set(body["properties"]) == set(expected)
        assert body["properties"]["type"]["const"] == event.TYPE
        assert body["properties"]["version"]["const"] == event.VERSION
        assert set(body["properties"]["payload"]["properties"]) == set(
            expected["payload"]["properties"]
        )
        headers = message["headers"]
        assert headers["required"] == [SIGNER_HEADER, SIGNATURE_HEADER]
        assert headers["properties"][SIGNER_HEADER]["const"] == event.TYPE.split(".", 1)[0]
        assert message["contentType"] == "application/json"


def test_each_message_carries_its_contracts_audience() -> None:
    document = asyncapi.generate([*EVENTS, ReportingAggregate])
    assert _errors(document) == []
    messages = document["components"]["messages"]
    assert messages["reporting.month_closed.v1"]["x-ecoach-audience"] == "public"
    for event in EVENTS:
        assert messages[asyncapi.message_key(event)]["x-ecoach-audience"] == event.AUDIENCE


@pytest.mark.parametrize("event", EVENTS, ids=[asyncapi.message_key(e) for e in EVENTS])
def test_only_the_reporting_services_events_may_be_public(event: type[EventPayload]) -> None:
    # HR tools receive only aggregates published by reporting; the domain events are internal.
    assert event.AUDIENCE in AUDIENCES
    if event.AUDIENCE == "public":
        assert event.TYPE.startswith("reporting."), (
            f"{event.TYPE} is marked public, but only the reporting service's aggregates may be"
        )


def test_the_vendored_schema_is_the_pinned_upstream_file() -> None:
    readme = (SPEC.parent / "README.md").read_text(encoding="utf-8")
    assert "@asyncapi/specs@6.11.1" in readme and SPEC_SHA256 in readme
    assert (SPEC.parent / "LICENSE").is_file()
    assert hashlib.sha256(SPEC.read_bytes()).hexdigest() == SPEC_SHA256


def test_the_command_checks_and_writes(tmp_path: Path) -> None:
    output = tmp_path / "asyncapi.json"
    assert asyncapi.main(["--check", "--output", str(output)]) == 1
    assert asyncapi.main(["--output", str(output)]) == 0
    assert asyncapi.main(["--check", "--output", str(output)]) == 0
