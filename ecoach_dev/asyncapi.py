"""The AsyncAPI 3.0 document of the platform's events, generated from the contracts.

A sibling of the JSON Schema catalogue (`ecoach_dev.catalogue`), built from the same events
(`discover_events`) and the same schemas (`event_schema`: the envelope with the event's payload
inlined), written to `docs/api/asyncapi.json`:

- one channel per publishing service: its topic exchange `<service>.events`, on which every
  event is published with its type as routing key (an operation per event says which, AMQP
  `cc`);
- one message per event type and version: the envelope as JSON body, the signature headers
  (`ecoach-signer`, `ecoach-signature`), and `x-ecoach-audience` from the contract's
  `AUDIENCE` (`internal`, or `public` for what HR reporting tools may receive);
- the broker: RabbitMQ, AMQP 0-9-1.

The schemas' `$defs` (enums shared by several events) move to `components/schemas`, where the
rewritten `$ref`s find them: a `#/...` reference in an AsyncAPI document points into the
document, not into the schema that holds it.

Usage: `python -m ecoach_dev.asyncapi` writes the document; `--check` exits 1 if the committed
one differs. `python -m ecoach_dev.catalogue` (with or without `--check`) does the same after the
catalogue, so that the one command after a contract change keeps both up to date. `make test`
checks it (tests/unit/test_asyncapi.py), and validates it against the official AsyncAPI 3.0.0
JSON Schema vendored in docs/schemas/asyncapi.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecoach_dev.catalogue import (
    AUDIENCE,
    DELIVERY,
    ROOT,
    CatalogueError,
    description_of,
    discover_events,
    dump_json,
    event_schema,
    merge_defs,
    schema_file_name,
)
from services.kernel.events import SIGNATURE_HEADER, SIGNER_HEADER, EventPayload, source_of
from services.kernel.runtime.topology import events_exchange

DOCUMENT = ROOT / "docs" / "api" / "asyncapi.json"
COMMAND = "python -m ecoach_dev.asyncapi"
ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
PERSISTENT = 2
DEFS_PREFIX = "#/$defs/"
COMPONENT_SCHEMAS = "#/components/schemas/"


def message_key(event: type[EventPayload]) -> str:
    """The event's name among the document's messages, schemas and operations."""
    return f"{event.TYPE}.v{event.VERSION}"


def _rewrite_refs(value: Any) -> Any:
    """`value` with every `#/$defs/X` reference pointing at `#/components/schemas/X`."""
    if isinstance(value, dict):
        return {
            key: (
                COMPONENT_SCHEMAS + item[len(DEFS_PREFIX) :]
                if key == "$ref" and isinstance(item, str) and item.startswith(DEFS_PREFIX)
                else _rewrite_refs(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(item) for item in value]
    return value


def _headers(event: type[EventPayload]) -> dict[str, Any]:
    signer = source_of(event.TYPE)
    return {
        "type": "object",
        "required": [SIGNER_HEADER, SIGNATURE_HEADER],
        "properties": {
            SIGNER_HEADER: {
                "type": "string",
                "const": signer,
                "description": (
                    "The publishing service, which must be the one the event type names: "
                    "refuse the event otherwise."
                ),
            },
            SIGNATURE_HEADER: {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]{86}$",
                "description": (
                    f"The Ed25519 signature of the exact body bytes by `{signer}`'s key, "
                    "base64url without padding. Verify it with the deployment's "
                    f"`<keys>/{signer}.pub` (the raw 32-byte public key, base64url) before "
                    "parsing the body; refuse the event if it does not verify."
                ),
            },
        },
    }


def _message(event: type[EventPayload]) -> dict[str, Any]:
    description = description_of(event)
    summary = description.split("\n\n", 1)[0].replace("\n", " ") if description else ""
    service = source_of(event.TYPE)
    message: dict[str, Any] = {
        "name": event.TYPE,
        "title": f"{event.TYPE} v{event.VERSION}",
        "description": (
            (description + "\n\n" if description else "")
            + f"Published by `{service}` on `{events_exchange(service)}`, routing key "
            f"`{event.TYPE}`. JSON Schema of the body: `docs/events/{schema_file_name(event)}`. "
            "AMQP properties: `message_id` the envelope's `id`, `content_type` "
            "`application/json`, persistent."
        ),
        "contentType": "application/json",
        "headers": _headers(event),
        "payload": {"$ref": COMPONENT_SCHEMAS + message_key(event)},
        "tags": [{"name": event.AUDIENCE}],
        "bindings": {
            "amqp": {"messageType": event.TYPE, "bindingVersion": AMQP_BINDING_VERSION},
        },
        "x-ecoach-audience": event.AUDIENCE,
        "x-ecoach-version": event.VERSION,
        "x-ecoach-aggregate": event.AGGREGATE,
        "x-ecoach-tenant": event.TENANT,
    }
    if summary:
        message["summary"] = summary
    return message


def _channel(service: str, events: Sequence[type[EventPayload]]) -> dict[str, Any]:
    exchange = events_exchange(service)
    return {
        "address": exchange,
        "title": f"{service} events",
        "description": (
            f"The topic exchange `{exchange}`: every event `{service}` publishes, with its type "
            f"as routing key. Bind your own durable queue to it with the routing keys you want "
            f"(`{service}.#` for all)."
        ),
        "messages": {
            message_key(event): {"$ref": f"#/components/messages/{message_key(event)}"}
            for event in events
        },
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {
                    "name": exchange,
                    "type": "topic",
                    "durable": True,
                    "autoDelete": False,
                    "vhost": "/",
                },
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _operation(event: type[EventPayload]) -> dict[str, Any]:
    channel = events_exchange(source_of(event.TYPE))
    return {
        "action": "send",
        "title": f"Publish {event.TYPE} v{event.VERSION}",
        "summary": f"`{source_of(event.TYPE)}` publishes it with routing key `{event.TYPE}`.",
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{message_key(event)}"}],
        "bindings": {
            "amqp": {
                "cc": [event.TYPE],
                "deliveryMode": PERSISTENT,
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _servers() -> dict[str, Any]:
    security = [{"$ref": "#/components/securitySchemes/broker"}]
    return {
        "production": {
            "host": "{host}",
            "protocol": "amqps",
            "protocolVersion": "0.9.1",
            "title": "A deployment's RabbitMQ",
            "description": (
                "The deployment's broker (`ECOACH_AMQP_URI`, AMQP 0-9-1 over TLS), "
                "virtual host `/`."
            ),
            "variables": {"host": {"description": "The broker's host and port."}},
            "security": security,
        },
        "local": {
            "host": "127.0.0.1:5672",
            "protocol": "amqp",
            "protocolVersion": "0.9.1",
            "title": "make run's RabbitMQ",
            "description": "The broker `make run` starts on a laptop, virtual host `/`.",
            "security": security,
        },
    }


def generate(events: Sequence[type[EventPayload]] | None = None) -> dict[str, Any]:
    """The AsyncAPI document of `events` (every published event by default)."""
    if events is None:
        events = discover_events()
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    by_service: dict[str, list[type[EventPayload]]] = {}
    for event in events:
        key = message_key(event)
        if key in messages:
            raise CatalogueError(f"two events are both {key}")
        schema = event_schema(event)
        for keyword in ("$schema", "$id"):
            schema.pop(keyword)
        merge_defs(schemas, _rewrite_refs(schema.pop("$defs", {})), event.TYPE)
        schemas[key] = _rewrite_refs(schema)
        messages[key] = _message(event)
        operations[key] = _operation(event)
        by_service.setdefault(source_of(event.TYPE), []).append(event)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "ecoach events",
            "version": "1.0.0",
            "description": "\n".join(
                [
                    f"Generated by `{COMMAND}` from the contracts (`services/contracts/`), with "
                    "the JSON Schema catalogue of `docs/events/`; do not edit it by hand.",
                    "",
                    *DELIVERY,
                    "",
                    *(line.replace("## ", "### ") for line in AUDIENCE),
                ]
            ),
        },
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": {
            events_exchange(service): _channel(service, service_events)
            for service, service_events in sorted(by_service.items())
        },
        "operations": dict(sorted(operations.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "messages": dict(sorted(messages.items())),
            "securitySchemes": {
                "broker": {
                    "type": "userPassword",
                    "description": (
                        "A broker user and password, with read permission on the exchanges "
                        "you consume (in production, given by the operator)."
                    ),
                }
            },
        },
    }


def render(document: dict[str, Any]) -> str:
    return dump_json(document)


def is_stale(output: Path = DOCUMENT) -> bool:
    """Whether `output` differs from the document the contracts give (reads only)."""
    current = output.read_text(encoding="utf-8") if output.is_file() else None
    return current != render(generate())


def write(output: Path = DOCUMENT) -> bool:
    """Bring `output` up to date; whether it had to be written."""
    text = render(generate())
    if output.is_file() and output.read_text(encoding="utf-8") == text:
        return False
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Generate the events' AsyncAPI document from the contracts."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the committed document is out of date",
    )
    parser.add_argument(
        "--output", type=Path, default=DOCUMENT, help="where to write it (docs/api/asyncapi.json)"
    )
    args = parser.parse_args(argv)
    output: Path = args.output
    try:
        if args.check:
            if is_stale(output):
                print(f"{output} is stale; run `{COMMAND}`.", file=sys.stderr)
                return 1
        elif write(output):
            print(f"wrote {output}")
            return 0
    except CatalogueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{output} is up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
