"""Domain events: the envelope every event travels in, and the base of every event payload.

A service describes what happened as an `EventPayload` subclass in its contracts module, with a
`TYPE` (`<service>.<what_happened>`) and a `VERSION`. The payload holds ids and facts, never free
text a person wrote (rule 3). The kernel wraps it in an `Envelope` when the unit of work records
it in the outbox; handlers receive the envelope and the validated payload.

Events that let others keep a copy of an aggregate carry its full current state: retries reorder
events, so a consumer applies one only if its `sequence` is newer than the copy it holds.

The broker is a trust boundary: the relay signs the exact bytes it publishes with its service's
Ed25519 key (`ecoach-signer`, `ecoach-signature` headers), and a handler applies an event only if
the signature verifies under the signer's public key (the deployment's `<keys>/<signer>.pub`) and
the signer is the service the event type names (`spaces.*` only from spaces): `check_signature`.
"""

from __future__ import annotations

import builtins
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from .tokens import SigningKey, b64url, b64url_decode

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"
SIGNER_HEADER = "ecoach-signer"
SIGNATURE_HEADER = "ecoach-signature"
AUDIENCES = ("internal", "public")


class EventPayload(BaseModel):
    """The facts of one event type. Subclasses set TYPE, VERSION, AGGREGATE (the field holding
    the id of the object the event is about: sequence numbers count per aggregate) and TENANT
    (the field holding its tenant, or None for platform-wide events), and declare their fields.

    AUDIENCE says who may read it: "internal" (the default), the domain events between the
    platform's own services; "public", what HR reporting tools may receive, which the product
    contract allows only for aggregates published by the reporting service (PRODUCT.md). The
    AsyncAPI document marks each message with it (`x-ecoach-audience`)."""

    model_config = ConfigDict(extra="forbid")

    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = ""
    TENANT: ClassVar[str | None] = None
    AUDIENCE: ClassVar[Literal["internal", "public"]] = "internal"

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


SNAPSHOT_SUFFIX = "_snapshot"


def is_snapshot(event_type: str) -> bool:
    """A snapshot (`<service>.<aggregate>_snapshot`): an aggregate's current state republished
    on an operator's command for consumers that start late (docs/adr/0022-republish.md). No
    handler that acts on the live events subscribes to one."""
    return event_type.endswith(SNAPSHOT_SUFFIX)


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(16)


def source_of(event_type: str) -> str:
    return event_type.split(".", 1)[0]


# ---------------------------------------------------------------- signatures


class ForgedEvent(ValueError):
    """An event whose signature is missing or wrong, or whose signer may not publish its type."""


def envelope_bytes(envelope: Mapping[str, Any]) -> bytes:
    """The bytes an envelope travels as (and its signature covers): compact, keys sorted."""
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def signature_headers(body: bytes, signer: str, key: SigningKey) -> dict[str, str]:
    """The headers that let a consumer check that `signer` published exactly `body`."""
    return {SIGNER_HEADER: signer, SIGNATURE_HEADER: b64url(key.private.sign(body))}


def check_signature(
    body: bytes,
    event_type: str,
    headers: Mapping[str, Any],
    public_key: Callable[[str], Ed25519PublicKey | None],
) -> str:
    """The signer of `body`, an event of `event_type`; raises ForgedEvent unless the signature
    verifies under the signer's key and the signer is the service that owns the event type."""
    signer, signature = headers.get(SIGNER_HEADER), headers.get(SIGNATURE_HEADER)
    if not isinstance(signer, str) or not isinstance(signature, str):
        raise ForgedEvent("unsigned event")
    if source_of(event_type) != signer:
        raise ForgedEvent(f"{signer} may not publish {event_type} events")
    key = public_key(signer)
    if key is None:
        raise ForgedEvent(f"no public key for the signer {signer}")
    try:
        key.verify(b64url_decode(signature), body)
    except (InvalidSignature, ValueError):
        raise ForgedEvent(f"the signature of {signer} does not verify") from None
    return signer
