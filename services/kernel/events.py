"""Domain events: the envelope every event travels in, and the base of every event payload.

A service describes what happened as an `EventPayload` subclass in its contracts module, with a
`TYPE` (`<service>.<what_happened>`) and a `VERSION`. The payload holds ids and facts, never free
text a person wrote (rule 3). The kernel wraps it in an `Envelope` when the unit of work records
it in the outbox; handlers receive the envelope and the validated payload.

Events that let others keep a copy of an aggregate carry its full current state: retries reorder
events, so a consumer applies one only if its `sequence` is newer than the copy it holds.
"""

from __future__ import annotations

import builtins
import secrets
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class EventPayload(BaseModel):
    """The facts of one event type. Subclasses set TYPE, VERSION, AGGREGATE (the field holding
    the id of the object the event is about: sequence numbers count per aggregate) and TENANT
    (the field holding its tenant, or None for platform-wide events), and declare their fields."""

    model_config = ConfigDict(extra="forbid")

    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = ""
    TENANT: ClassVar[str | None] = None

    def aggregate_of(self) -> str:
        return str(getattr(self, self.AGGREGATE))

    def tenant_of(self) -> str | None:
        return str(getattr(self, self.TENANT)) if self.TENANT else None


class Envelope(BaseModel):
    """What travels on the wire (rule 3): identity of the event, ordering, and its payload."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    type: str = Field(pattern=EVENT_TYPE_PATTERN, max_length=128)
    version: int = Field(ge=1)
    occurred_at: datetime
    tenant_id: str | None = None
    aggregate_id: str = Field(min_length=1, max_length=128)
    sequence: int = Field(ge=1)
    payload: dict[str, Any]

    def source(self) -> str:
        """The service that published it: the first part of its type."""
        return self.type.split(".", 1)[0]

    def parse(self, model: builtins.type[EventPayload]) -> EventPayload:
        if model.TYPE != self.type:
            raise ValueError(f"an event of type {self.type} is not a {model.TYPE}")
        return model.model_validate(self.payload)


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(16)


def source_of(event_type: str) -> str:
    return event_type.split(".", 1)[0]
