"""The event envelope and payload base (kernel core): pure rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import pytest
from pydantic import ValidationError

from services.contracts.identity import TenantCreated
from services.kernel.events import Envelope, EventPayload, new_event_id, source_of

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def envelope(**overrides: object) -> Envelope:
    fields: dict[str, object] = {
        "id": new_event_id(),
        "type": "identity.tenant_created",
        "version": 1,
        "occurred_at": NOW,
        "tenant_id": "tnt_1",
        "aggregate_id": "tnt_1",
        "sequence": 1,
        "payload": {"tenant_id": "tnt_1", "slug": "acme", "created_at": NOW.isoformat()},
    }
    fields.update(overrides)
    return Envelope.model_validate(fields)


def test_a_payload_names_its_aggregate_and_tenant() -> None:
    event = TenantCreated(tenant_id="tnt_9", slug="acme", created_at=NOW)
    assert event.aggregate_of() == "tnt_9" and event.tenant_of() == "tnt_9"

    class Platformwide(EventPayload):
        TYPE: ClassVar[str] = "identity.something"
        AGGREGATE: ClassVar[str] = "thing_id"
        thing_id: str

    assert Platformwide(thing_id="x").tenant_of() is None


def test_an_envelope_parses_its_payload_against_the_contract() -> None:
    parsed = envelope().parse(TenantCreated)
    assert isinstance(parsed, TenantCreated) and parsed.slug == "acme"
    assert envelope().source() == source_of("identity.tenant_created") == "identity"


def test_a_payload_of_another_type_or_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a"):
        envelope(type="identity.membership_changed").parse(TenantCreated)
    with pytest.raises(ValidationError):
        envelope(payload={"tenant_id": "tnt_1"}).parse(TenantCreated)
    with pytest.raises(ValidationError):
        envelope(payload={"tenant_id": "t", "slug": "a", "created_at": NOW, "extra": 1}).parse(
            TenantCreated
        )


@pytest.mark.parametrize(
    "bad",
    [{"type": "TenantCreated"}, {"sequence": 0}, {"version": 0}, {"id": ""}, {"unknown": 1}],
)
def test_malformed_envelopes_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        envelope(**bad)
