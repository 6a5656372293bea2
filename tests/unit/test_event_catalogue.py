"""The event catalogue (docs/events) must match the contracts, and the contracts' events must be
well formed: a published type names its publisher, its aggregate and tenant fields exist."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ecoach_dev import catalogue
from services.kernel.events import EVENT_TYPE_PATTERN, Envelope, EventPayload

SNAKE_CASE = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"

EVENTS_BY_MODULE = catalogue.events_by_module()
DECLARED = [(module, event) for module, events in EVENTS_BY_MODULE.items() for event in events]


def _ids(declared: list[tuple[str, type[EventPayload]]]) -> list[str]:
    return [f"{module}.{event.__name__}" for module, event in declared]


def _all_subclasses(cls: type[EventPayload]) -> set[type[EventPayload]]:
    found: set[type[EventPayload]] = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _all_subclasses(sub)
    return found


def test_the_committed_catalogue_matches_the_contracts() -> None:
    drift = catalogue.compare(catalogue.CATALOGUE_DIR, catalogue.generate())
    assert not drift, drift.describe(catalogue.CATALOGUE_DIR)


def test_every_event_payload_of_the_contracts_is_in_some_events_tuple() -> None:
    modules = catalogue.contract_modules()  # imports every contracts module
    prefix = "services.contracts."
    defined = {
        cls
        for cls in _all_subclasses(EventPayload)
        if cls.__module__.startswith(prefix)
        and cls.__module__[len(prefix) :] in modules
        and cls.TYPE  # a base without a type (SpaceEvent) is no event of its own
    }
    listed = {event for _, event in DECLARED}
    missing = sorted(f"{cls.__module__}.{cls.__name__}" for cls in defined - listed)
    assert missing == [], f"EventPayload subclasses missing from their module's EVENTS: {missing}"


def test_events_tuples_hold_event_payload_classes() -> None:
    for module, events in EVENTS_BY_MODULE.items():
        for event in events:
            assert isinstance(event, type) and issubclass(event, EventPayload), (module, event)
            assert event is not EventPayload, module


@pytest.mark.parametrize(("module", "event"), DECLARED, ids=_ids(DECLARED))
def test_an_event_type_is_its_publishers_module_then_snake_case(
    module: str, event: type[EventPayload]
) -> None:
    assert re.fullmatch(rf"{SNAKE_CASE}\.{SNAKE_CASE}", event.TYPE), event.TYPE
    assert re.fullmatch(EVENT_TYPE_PATTERN, event.TYPE), event.TYPE
    assert event.TYPE.split(".", 1)[0] == module, (
        f"{event.__name__} is listed in services/contracts/{module}.py, "
        f"so its TYPE must start with '{module}.': {event.TYPE!r}"
    )


@pytest.mark.parametrize(("module", "event"), DECLARED, ids=_ids(DECLARED))
def test_an_event_has_a_version_an_aggregate_field_and_a_tenant_field_or_none(
    module: str, event: type[EventPayload]
) -> None:
    assert isinstance(event.VERSION, int) and event.VERSION >= 1, event.VERSION
    assert event.AGGREGATE in event.model_fields, (
        f"{event.__name__}.AGGREGATE = {event.AGGREGATE!r} is not one of its fields"
    )
    assert event.TENANT is None or event.TENANT in event.model_fields, (
        f"{event.__name__}.TENANT = {event.TENANT!r} is neither None nor one of its fields"
    )


@pytest.mark.parametrize(("module", "event"), DECLARED, ids=_ids(DECLARED))
def test_an_event_has_its_own_docstring_for_the_catalogue(
    module: str, event: type[EventPayload]
) -> None:
    assert catalogue.description_of(event), f"{event.__name__} needs a docstring"


def test_two_events_never_share_a_type() -> None:
    by_type: dict[str, list[str]] = {}
    for module, event in DECLARED:
        by_type.setdefault(event.TYPE, []).append(f"{module}.{event.__name__}")
    shared = {event_type: names for event_type, names in by_type.items() if len(names) > 1}
    assert shared == {}


def test_the_catalogue_documents_exactly_the_envelope_fields() -> None:
    assert list(catalogue.ENVELOPE_FIELDS) == list(Envelope.model_fields)


@pytest.mark.parametrize(("module", "event"), DECLARED, ids=_ids(DECLARED))
def test_a_schema_describes_the_envelope_around_the_events_payload(
    module: str, event: type[EventPayload]
) -> None:
    schema: dict[str, Any] = catalogue.event_schema(event)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == (f"https://ecoach.app/events/{event.TYPE}.v{event.VERSION}.schema.json")
    assert schema["title"] == event.TYPE
    properties = schema["properties"]
    assert set(properties) == set(Envelope.model_fields)
    assert properties["type"]["const"] == event.TYPE
    assert properties["version"]["const"] == event.VERSION
    assert set(properties["payload"]["properties"]) == set(event.model_fields)
    # Every reference resolves at the document's root.
    refs = re.findall(r'"\$ref": "#/\$defs/([^"]+)"', json.dumps(schema))
    assert set(refs) <= set(schema.get("$defs", {}))


def test_the_check_names_changed_missing_and_stale_files() -> None:
    expected = catalogue.generate()
    schemas = sorted(name for name in expected if name.endswith(catalogue.SCHEMA_SUFFIX))
    altered = {**expected, catalogue.INDEX_NAME: "an older index\n"}
    altered["nothing.new_event.v1.schema.json"] = "{}\n"
    for name in schemas[:1]:
        del altered[name]  # as if no event produced it any more
    drift = catalogue.compare(catalogue.CATALOGUE_DIR, altered)
    assert drift.changed == [catalogue.INDEX_NAME]
    assert drift.missing == ["nothing.new_event.v1.schema.json"]
    assert drift.extra == schemas[:1]
    message = drift.describe(catalogue.CATALOGUE_DIR)
    assert "python -m ecoach_dev.catalogue" in message
    assert all(name in message for name in [catalogue.INDEX_NAME, *schemas[:1]])
