"""The space-copy pattern is declared once (services/kernel/runtime/space_copies.py): every
event of the spaces contract that carries a space's set-up has its handler there, and the
services that keep copies (identity's coach links, scheduling's space copies) subscribe to each."""

from __future__ import annotations

import pytest

from services.contracts import spaces as sc
from services.kernel.events import is_snapshot
from services.kernel.runtime.space_copies import SpaceCopies
from services.kernel.runtime.topology import subscriptions_of

pytestmark = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")  # imported only

# Every space event but the snapshot, which no copy takes (ADR 0022: tests/unit/test_republish.py).
SPACE_EVENTS = [
    m
    for m in sc.EVENTS
    if isinstance(m, type) and issubclass(m, sc.SpaceEvent) and not is_snapshot(m.TYPE)
]


def test_every_space_event_of_the_contract_has_its_declared_handler() -> None:
    for model in SPACE_EVENTS:
        name = "on_" + model.TYPE.replace(".", "_")
        entrypoints = getattr(getattr(SpaceCopies, name, None), "nameko_entrypoints", ())
        assert [e.event_type for e in entrypoints] == [model.TYPE], f"SpaceCopies.{name}"


@pytest.mark.parametrize("module", ["services.identity.service", "services.scheduling.service"])
def test_a_service_keeping_space_copies_subscribes_to_every_space_event(module: str) -> None:
    import importlib

    cls = next(
        v
        for v in vars(importlib.import_module(module)).values()
        if isinstance(v, type) and issubclass(v, SpaceCopies) and v is not SpaceCopies
    )
    assert "record_space" in vars(cls), "a SpaceCopies service writes its own record_space"
    heard = {s.event_type for s in subscriptions_of(cls)}
    assert {m.TYPE for m in SPACE_EVENTS} <= heard
