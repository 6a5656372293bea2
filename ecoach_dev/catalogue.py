"""The event catalogue: a JSON Schema per event type, and an index, generated from the contracts.

Every contracts module (`services/contracts/*.py`) that publishes events lists them in an
`EVENTS` tuple. From those, this writes under `docs/events/`:

- `<type>.v<version>.schema.json`: the JSON Schema (draft 2020-12) of the whole message body,
  the envelope with its `payload` replaced by the event's own schema;
- `README.md`: the index, with the envelope, the delivery guarantees and one section per event.

Usage: `python -m ecoach_dev.catalogue` writes the catalogue (and removes schema files no event
produces any more); `python -m ecoach_dev.catalogue --check` exits 1, naming the stale files, if
the committed catalogue differs from what would be generated. `make test` runs the same check
(tests/unit/test_event_catalogue.py). Both also write (or check) the events' AsyncAPI document,
`docs/api/asyncapi.json` (`ecoach_dev.asyncapi`), built from the same schemas.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import inspect
import json
import pkgutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import services.contracts
from services.kernel.events import Envelope, EventPayload, source_of
from services.kernel.runtime.topology import events_exchange

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE_DIR = ROOT / "docs" / "events"
INDEX_NAME = "README.md"
SCHEMA_SUFFIX = ".schema.json"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://ecoach.app/events/"
COMMAND = "python -m ecoach_dev.catalogue"

# What each envelope field means; the test checks these are exactly the Envelope's fields.
ENVELOPE_FIELDS: dict[str, str] = {
    "id": (
        "The event's unique id (`evt_` and 32 hex digits), also the AMQP `message_id`. "
        "A redelivered event keeps its id: handlers' inboxes deduplicate on it."
    ),
    "type": "The event type, `<publisher>.<what_happened>`; also the routing key.",
    "version": (
        "The version of the payload's shape. A change that is not backwards compatible gets a "
        "new version, with its own schema file."
    ),
    "occurred_at": "When the change was recorded (ISO 8601, UTC), in the publisher's transaction.",
    "tenant_id": (
        "The tenant the event belongs to (the payload's tenant field), or null for a "
        "platform-wide event."
    ),
    "aggregate_id": (
        "The id of the object the event is about (the payload's aggregate field); sequence "
        "numbers count per aggregate."
    ),
    "sequence": (
        "The position of the event among its aggregate's events: 1, 2, 3... in the order the "
        "publisher recorded them. Delivery may reorder them: compare sequences, not arrival."
    ),
    "payload": "The event's own fields, described per event type below.",
}


# How events travel: the index's `Delivery` section, and the AsyncAPI document's description.
DELIVERY: tuple[str, ...] = (
    "Events are published by the service named by the first part of their type, on its "
    "RabbitMQ topic exchange `<service>.events`, with the event type as routing key "
    "(`identity.tenant_created` goes to `identity.events`). The message is persistent, its "
    "body the event's envelope as JSON (`content_type: application/json`, UTF-8).",
    "",
    "- **At least once.** The publisher records an event in its outbox in the same "
    "transaction as the change it describes, and a relay publishes it after the commit, "
    "with publisher confirms: no event is lost, but one may be delivered more than once.",
    "- **Exactly-once effect.** Each handler records the event id in its service's inbox in "
    "its own transaction, so a redelivered event is applied once. A handler that fails is "
    "retried with back-off, then parked in its service's dead-letter queue.",
    "- **Reordering.** Retries reorder events. Events that carry the full current state of "
    "their aggregate are applied only if their `sequence` is newer than the copy the "
    "consumer holds; older ones are ignored.",
    "- **Signed.** The body is the envelope as compact JSON with sorted keys; the headers "
    "`ecoach-signer` (the publishing service) and `ecoach-signature` (base64url Ed25519 "
    "signature of the exact body bytes, by that service's key) let every consumer check it. "
    "A handler applies an event only if the signer is the service named by the type and the "
    "signature verifies; anything else is parked at once, never applied.",
)

# Who may read which events (`EventPayload.AUDIENCE`): the index's `Audience` section.
AUDIENCE: tuple[str, ...] = (
    "## Audience",
    "",
    "Each event says who may read it (`AUDIENCE` on its contract, `x-ecoach-audience` in the "
    "AsyncAPI document). `internal`: a domain event between the platform's own services, for "
    "them only. `public`: an event HR reporting tools may receive; the product contract allows "
    "only aggregates published by the reporting service (PRODUCT.md), never a person's data.",
)


class CatalogueError(Exception):
    """The contracts cannot be turned into a catalogue (duplicate types, clashing $defs...)."""


# ---------------------------------------------------------------- discovery


def contract_modules() -> dict[str, ModuleType]:
    """Every module of the `services.contracts` package, imported, by its short name."""
    modules: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(services.contracts.__path__):
        name = f"{services.contracts.__name__}.{info.name}"
        modules[info.name] = importlib.import_module(name)
    return dict(sorted(modules.items()))


def events_by_module() -> dict[str, tuple[type[EventPayload], ...]]:
    """The `EVENTS` tuple of each contracts module that has one, by the module's short name."""
    found: dict[str, tuple[type[EventPayload], ...]] = {}
    for name, module in contract_modules().items():
        events = getattr(module, "EVENTS", None)
        if events is not None:
            found[name] = tuple(events)
    return found


def discover_events() -> list[type[EventPayload]]:
    """Every published event, sorted by type then version."""
    events = [event for events in events_by_module().values() for event in events]
    return sorted(events, key=lambda event: (event.TYPE, event.VERSION))


# ---------------------------------------------------------------- schemas


def schema_file_name(event: type[EventPayload]) -> str:
    return f"{event.TYPE}.v{event.VERSION}{SCHEMA_SUFFIX}"


def description_of(event: type[EventPayload]) -> str:
    """The class's own docstring (not an inherited one), cleaned up; empty without one."""
    doc = event.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if doc else ""


def merge_defs(target: dict[str, Any], defs: Mapping[str, Any], owner: str) -> None:
    for name, definition in defs.items():
        if name in target and target[name] != definition:
            raise CatalogueError(f"{owner}: two different definitions are named {name!r}")
        target[name] = definition


def event_schema(event: type[EventPayload]) -> dict[str, Any]:
    """The JSON Schema of the message body of `event`: its envelope, with the payload inlined."""
    envelope = copy.deepcopy(Envelope.model_json_schema())
    payload = copy.deepcopy(event.model_json_schema())
    defs: dict[str, Any] = {}
    merge_defs(defs, envelope.pop("$defs", {}), event.TYPE)
    merge_defs(defs, payload.pop("$defs", {}), event.TYPE)
    # The document's own description is the event's; here, say which contract this is.
    payload["description"] = f"The event's fields: `{event.__module__}.{event.__name__}`."

    properties: dict[str, Any] = envelope["properties"]
    properties["type"] = {"const": event.TYPE, "title": "Type", "type": "string"}
    properties["version"] = {"const": event.VERSION, "title": "Version", "type": "integer"}
    if event.TENANT is None:
        properties["tenant_id"] = {"title": "Tenant Id", "type": "null", "default": None}
    else:
        properties["tenant_id"] = {"title": "Tenant Id", "type": "string"}
    properties["payload"] = payload
    for name, text in ENVELOPE_FIELDS.items():
        if name in properties and name != "payload":
            properties[name]["description"] = _envelope_field_text(event, name, text)

    envelope.pop("title", None)
    envelope.pop("description", None)
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": ID_BASE + schema_file_name(event),
        "title": event.TYPE,
        "description": description_of(event),
        **envelope,
    }
    if defs:
        schema["$defs"] = defs
    return schema


def _envelope_field_text(event: type[EventPayload], name: str, text: str) -> str:
    """The description of an envelope field in the schema of `event`."""
    if name == "aggregate_id":
        return (
            f"The payload's `{event.AGGREGATE}`: the id of the object the event is about; "
            "sequence numbers count per aggregate."
        )
    if name == "tenant_id":
        if event.TENANT is None:
            return "Always null: this event is platform-wide."
        return f"The payload's `{event.TENANT}`: the tenant the event belongs to."
    return text


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- the index


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _required_cell(name: str, required: Iterable[str], schema: Mapping[str, Any]) -> str:
    if name in set(required):
        return "yes"
    if "default" in schema:
        return f"no (default `{json.dumps(schema['default'])}`)"
    return "no"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def describe_type(schema: Mapping[str, Any]) -> str:
    """A short, human name for the type a JSON Schema fragment describes."""
    if "$ref" in schema:
        return f"`{_ref_name(schema['$ref'])}`"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(describe_type(option) for option in schema[key])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(describe_type({**schema, "type": one}) for one in kind)
    if kind == "array":
        items = schema.get("items")
        return f"array of {describe_type(items)}" if items else "array"
    if kind == "object":
        values = schema.get("additionalProperties")
        if isinstance(values, Mapping):
            return f"object of {describe_type(values)}"
        return "object"
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})"
    return str(kind) if kind else "any"


def _enum_refs(schema: Mapping[str, Any]) -> Iterable[str]:
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            yield _ref_name(value)
        elif isinstance(value, Mapping):
            yield from _enum_refs(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    yield from _enum_refs(item)


def _event_section(event: type[EventPayload]) -> list[str]:
    schema = event_schema(event)
    payload = schema["properties"]["payload"]
    required = set(payload.get("required", ()))
    defs: Mapping[str, Any] = schema.get("$defs", {})
    service = source_of(event.TYPE)
    lines = [
        f"## `{event.TYPE}` v{event.VERSION}",
        "",
        f"- Publisher: `{service}`, on exchange `{events_exchange(service)}`, "
        f"routing key `{event.TYPE}`",
        f"- Version: {event.VERSION}",
        f"- Aggregate field: `{event.AGGREGATE}`",
        "- Tenant field: " + (f"`{event.TENANT}`" if event.TENANT else "none (platform-wide)"),
        f"- Audience: {event.AUDIENCE}",
        f"- Contract: `{event.__module__}.{event.__name__}`",
        f"- Schema: [{schema_file_name(event)}]({schema_file_name(event)})",
        "",
        description_of(event) or "(no description)",
        "",
        "| Field | Type | Required | Description |",
        "| --- | --- | --- | --- |",
    ]
    for name, field_schema in payload.get("properties", {}).items():
        is_required = _required_cell(name, required, field_schema)
        text = _cell(field_schema.get("description", ""))
        lines.append(f"| `{name}` | {describe_type(field_schema)} | {is_required} | {text} |")
    used = sorted(set(_enum_refs(payload)))
    enums = [name for name in used if "enum" in defs.get(name, {})]
    if enums:
        lines.append("")
        for name in enums:
            values = ", ".join(f"`{value}`" for value in defs[name]["enum"])
            lines.append(f"- `{name}`: {values}")
    lines.append("")
    return lines


def render_index(events: Sequence[type[EventPayload]]) -> str:
    lines = [
        "# Event catalogue",
        "",
        f"Generated by `{COMMAND}` from the `EVENTS` tuple of each module of `services/contracts/`;"
        f" `make test` checks it is up to date (`{COMMAND} --check` does too). Do not edit it by "
        "hand: change the contract and run the command again.",
        "",
        "The same events as an AsyncAPI 3.0 document (channels, messages, signature headers, "
        "broker): [docs/api/asyncapi.json](../api/asyncapi.json), written by the same command.",
        "",
        "## Events",
        "",
        "| Type | Version | Publisher | Schema |",
        "| --- | --- | --- | --- |",
    ]
    for event in events:
        name = schema_file_name(event)
        lines.append(
            f"| [`{event.TYPE}`](#{_anchor(event)}) | {event.VERSION} "
            f"| `{source_of(event.TYPE)}` | [{name}]({name}) |"
        )
    if not events:
        lines.append("| (none yet) | | | |")
    lines += [
        "",
        "## Delivery",
        "",
        *DELIVERY,
        "",
        *AUDIENCE,
        "",
        "## Envelope",
        "",
        "| Field | Type | Required | Description |",
        "| --- | --- | --- | --- |",
    ]
    envelope = Envelope.model_json_schema()
    for name, text in ENVELOPE_FIELDS.items():
        field_schema = envelope["properties"][name]
        is_required = _required_cell(name, envelope.get("required", ()), field_schema)
        kind = describe_type(field_schema)
        lines.append(f"| `{name}` | {kind} | {is_required} | {_cell(text)} |")
    lines.append("")
    for event in events:
        lines += _event_section(event)
    return "\n".join(lines).rstrip("\n") + "\n"


def _anchor(event: type[EventPayload]) -> str:
    """GitHub's anchor for the heading ``## `<type>` v<version>``."""
    heading = f"{event.TYPE} v{event.VERSION}".lower()
    return "".join(c for c in heading if c.isalnum() or c in "_- ").replace(" ", "-")


# ---------------------------------------------------------------- generation and check


def generate(events: Sequence[type[EventPayload]] | None = None) -> dict[str, str]:
    """The catalogue's files, by name (relative to `docs/events/`), and their contents."""
    if events is None:
        events = discover_events()
    files: dict[str, str] = {}
    for event in events:
        name = schema_file_name(event)
        if name in files:
            raise CatalogueError(f"two events would both write {name}")
        files[name] = dump_json(event_schema(event))
    files[INDEX_NAME] = render_index(events)
    return dict(sorted(files.items()))


@dataclass
class Drift:
    """How a catalogue directory differs from the generated catalogue."""

    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing or self.extra)

    def describe(self, directory: Path) -> str:
        where = _display(directory)
        lines = [f"The event catalogue in {where} is stale; run `{COMMAND}`."]
        lines += [f"  changed: {where}/{name}" for name in self.changed]
        lines += [f"  missing: {where}/{name}" for name in self.missing]
        lines += [f"  no event produces it any more: {where}/{name}" for name in self.extra]
        return "\n".join(lines)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def compare(directory: Path, expected: Mapping[str, str]) -> Drift:
    """Compare the files in `directory` with `expected` (reads only)."""
    drift = Drift()
    for name, text in expected.items():
        path = directory / name
        if not path.is_file():
            drift.missing.append(name)
        elif path.read_text(encoding="utf-8") != text:
            drift.changed.append(name)
    if directory.is_dir():
        drift.extra = sorted(
            path.name
            for path in directory.glob(f"*{SCHEMA_SUFFIX}")
            if path.is_file() and path.name not in expected
        )
    return drift


def write(directory: Path, expected: Mapping[str, str]) -> Drift:
    """Bring `directory` up to date: write what differs, remove stale schema files."""
    drift = compare(directory, expected)
    directory.mkdir(parents=True, exist_ok=True)
    for name in [*drift.changed, *drift.missing]:
        (directory / name).write_text(expected[name], encoding="utf-8")
    for name in drift.extra:
        (directory / name).unlink()
    return drift


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Generate the event catalogue (docs/events) from the contracts."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1, naming the stale files, if the catalogue is out of date",
    )
    parser.add_argument(
        "--dir", type=Path, default=CATALOGUE_DIR, help="the catalogue folder (docs/events)"
    )
    args = parser.parse_args(argv)
    directory: Path = args.dir
    try:
        expected = generate()
    except CatalogueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    where = _display(directory)
    # Imported here: the AsyncAPI module builds on this one.
    from ecoach_dev import asyncapi

    document = _display(asyncapi.DOCUMENT)
    if args.check:
        drift = compare(directory, expected)
        if drift:
            print(drift.describe(directory), file=sys.stderr)
        if asyncapi.is_stale():
            print(f"{document} is stale; run `{COMMAND}`.", file=sys.stderr)
        if drift or asyncapi.is_stale():
            return 1
        print(f"The event catalogue in {where} is up to date ({len(expected)} files).")
        print(f"{document} is up to date.")
        return 0
    drift = write(directory, expected)
    for name in drift.changed:
        print(f"updated {where}/{name}")
    for name in drift.missing:
        print(f"wrote {where}/{name}")
    for name in drift.extra:
        print(f"removed {where}/{name}")
    if not drift:
        print(f"The event catalogue in {where} is up to date ({len(expected)} files).")
    print(f"wrote {document}" if asyncapi.write() else f"{document} is up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
