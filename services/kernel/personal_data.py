"""The personal-data contract every service implements (see docs/personal-data.md).

Every service that keeps anything about a person says so in the service registry
(`registry.Service(personal_data=True)`, which `PERSONAL_DATA_SERVICES` lists) and:

- exposes `export_personal_data` (RPC, person token: the caller's own data, as one JSON
  document); the gateway's `ExportMyData` calls every service listed and streams one document
  per service;
- handles `identity.person_erased` (`@on_event`, never skipped: rule 4), deletes or anonymises
  what it keeps about the person, and records `<service>.person_erased` (`completion_event`) in
  the same unit of work. Identity counts the completions and shows the erasure's status.
"""

from __future__ import annotations

import functools
from typing import ClassVar

from .config import Settings, settings
from .events import EventPayload
from .registry import SERVICES

# Services holding personal data, in the order their documents are streamed (the registry's).
PERSONAL_DATA_SERVICES: tuple[str, ...] = tuple(s.name for s in SERVICES if s.personal_data)

EXPORT_METHOD = "export_personal_data"


def personal_data_services(config: Settings | None = None) -> tuple[str, ...]:
    """The registry, plus the services a deployment adds beside the platform's own
    (`ECOACH_EXTRA_PERSONAL_DATA_SERVICES`, comma-separated: plug-ins, the tests' witness), of
    `config` (default: this process's settings)."""
    added = (config or settings()).extra_personal_data_services
    extra = [s.strip() for s in added.split(",") if s.strip()]
    return PERSONAL_DATA_SERVICES + tuple(s for s in extra if s not in PERSONAL_DATA_SERVICES)


class PersonErased(EventPayload):
    """`<service>.person_erased`: the service has erased what it kept about `person_id` for
    erasure `erasure_id`. Identity's own (`identity.person_erased`) is also the request to the
    others, published in the transaction that anonymised the account."""

    AGGREGATE: ClassVar[str] = "person_id"

    erasure_id: str
    person_id: str


@functools.cache
def completion_event(service: str) -> type[PersonErased]:
    """The `<service>.person_erased` event type of one service."""
    return type(
        f"{service.title().replace('_', '')}PersonErased",
        (PersonErased,),
        {
            "TYPE": f"{service}.person_erased",
            "__module__": __name__,
            "__doc__": f"The {service} service has erased what it kept about the person, for "
            "this erasure (the personal-data contract, docs/personal-data.md).",
        },
    )
