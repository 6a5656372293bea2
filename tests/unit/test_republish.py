"""Republishing (ADR 0022): the kernel's batches on a fake database, the snapshots' state, and
the guarantees around them: no existing handler subscribes to a snapshot, and only the
operator's tool may ask for one (the gateway never does)."""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from services.contracts import scheduling as sc
from services.contracts.base import OPERATOR_TOOL, RepublishReport, RepublishRequest, api_of
from services.kernel.clock import FixedClock
from services.kernel.events import EventPayload, is_snapshot
from services.kernel.registry import SERVICES
from services.kernel.runtime.republish import Snapshots, republish
from services.kernel.runtime.topology import subscriptions_of
from services.scheduling.domain.model import Session, SpaceCopy
from services.scheduling.handlers.views import session_snapshot
from tests.support.isolation import rpc_methods
from tests.unit.fakes import FakeDatabase

pytestmark = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")  # imported only

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


class Thing(EventPayload):
    TYPE: ClassVar[str] = "toy.thing_snapshot"
    AGGREGATE: ClassVar[str] = "thing_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    thing_id: str
    tenant_id: str


@dataclass
class Things:
    rows: dict[str, str]  # id -> tenant

    def page(self, tenant_id: str | None, after: str, limit: int) -> list[str]:
        ids = sorted(i for i, t in self.rows.items() if i > after and tenant_id in (None, t))
        return ids[:limit]


def thing_kind() -> Snapshots[Any]:
    return Snapshots(
        page=lambda uow, tenant_id, after, limit: uow.things.page(tenant_id, after, limit),
        snapshots=lambda uow, ids: [Thing(thing_id=i, tenant_id=uow.things.rows[i]) for i in ids],
    )


def fake_db(rows: dict[str, str]) -> FakeDatabase[Things]:
    return FakeDatabase(FixedClock(NOW), Things(rows), lambda state: {"things": state})


def test_each_batch_of_aggregates_is_recorded_in_its_own_unit_of_work() -> None:
    db = fake_db({f"thg_{i}": "tnt_1" for i in range(5)})
    recorded = republish(db, [thing_kind()], None, batch_size=2)
    assert recorded == {"toy.thing_snapshot": 5}
    assert db.commits == 3  # 2, 2 and 1
    assert [e.aggregate_of() for e in db.events] == [f"thg_{i}" for i in range(5)]


def test_a_named_tenant_limits_the_snapshots_to_its_aggregates() -> None:
    db = fake_db({"thg_1": "tnt_1", "thg_2": "tnt_2", "thg_3": "tnt_1"})
    assert republish(db, [thing_kind()], "tnt_1") == {"toy.thing_snapshot": 2}
    assert {e.tenant_of() for e in db.events} == {"tnt_1"}


def test_nothing_to_republish_records_nothing() -> None:
    db = fake_db({})
    assert republish(db, [thing_kind()], None) == {}
    assert db.events == []


# ---------------------------------------------------------------- scheduling's snapshot


def a_session() -> Session:
    start = NOW - timedelta(hours=2)
    space = SpaceCopy("spc_1", "tnt_1", "active", "per_1", "per_2", None, "weekly", 10, start)
    return Session.book(
        space, start, 60, "Europe/Paris", start.replace(tzinfo=None), False, "per_1", start
    )


def test_a_session_snapshot_says_who_cancelled_and_whether_late() -> None:
    s = a_session()
    s.cancel("coach", "illness", True, False, NOW)
    snapshot = session_snapshot(s)
    assert isinstance(snapshot, sc.SessionSnapshot)
    assert (snapshot.status, snapshot.cancelled_by, snapshot.late) == ("cancelled", "coach", True)
    assert (snapshot.reason, snapshot.absent, snapshot.uses_session) == ("illness", None, False)


@pytest.mark.parametrize(
    ("attendance", "absent"),
    [("held", None), ("no_show_coach", "coach"), ("no_show_coachee", "coachee")],
)
def test_a_session_snapshot_says_who_was_absent(attendance: str, absent: str | None) -> None:
    s = a_session()
    s.mark(attendance, "per_2", NOW)
    snapshot = session_snapshot(s)
    assert (snapshot.status, snapshot.absent, snapshot.cancelled_by) == (attendance, absent, None)
    assert snapshot.late is None


# ---------------------------------------------------------------- guarantees


def snapshot_types() -> set[str]:
    found = set()
    for service in SERVICES:
        module = importlib.import_module(f"services.contracts.{service.name}")
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, EventPayload):
                if is_snapshot(value.TYPE):
                    found.add(value.TYPE)
    return found


# Services whose handlers may take snapshots, each with the reason a republish re-triggers no
# side effect there: only consumers that keep a projection and act on nothing.
SNAPSHOT_CONSUMERS: dict[str, str] = {
    "reporting": "keeps facts by sequence (handlers/facts.py), mails and unlocks nothing",
}


def service_class(service: str) -> type:
    module = importlib.import_module(next(s.module for s in SERVICES if s.name == service))
    (cls,) = [
        v
        for v in vars(module).values()
        if inspect.isclass(v) and getattr(v, "name", None) == service
    ]
    return cls


def test_no_existing_handler_subscribes_to_a_snapshot() -> None:
    """A republish must re-trigger no side effect: no invitation mailed, no tool unlocked."""
    assert "scheduling.session_snapshot" in snapshot_types()
    for service in SERVICES:
        handled = {s.event_type for s in subscriptions_of(service_class(service.name))}
        assert handled, service.name  # the walk finds handlers
        if service.name not in SNAPSHOT_CONSUMERS:
            assert not handled & snapshot_types(), f"{service.name} handles a snapshot"


def test_reporting_applies_every_snapshot_to_its_facts_and_does_nothing_else() -> None:
    """Each snapshot handler of a consumer allowed to take them is one call of a fact
    function (`facts.record_*`): no mail, no event, no call to another service."""
    assert set(SNAPSHOT_CONSUMERS) == {"reporting"}
    cls = service_class("reporting")
    taken = [s for s in subscriptions_of(cls) if is_snapshot(s.event_type)]
    assert {s.event_type for s in taken} == snapshot_types()
    for subscription in taken:
        source = textwrap.dedent(inspect.getsource(getattr(cls, subscription.method)))
        function = ast.parse(source).body[0]
        assert isinstance(function, ast.FunctionDef)
        calls = [n for st in function.body for n in ast.walk(st) if isinstance(n, ast.Call)]
        assert len(calls) == 1, subscription.method
        called = calls[0].func
        assert isinstance(called, ast.Attribute) and isinstance(called.value, ast.Name)
        assert called.value.id == "facts" and called.attr.startswith("record_"), subscription.method


def test_republish_state_serves_the_operator_s_tool_only() -> None:
    served = {
        name: meta for name, (meta, _) in rpc_methods().items() if name.endswith(".republish_state")
    }
    assert "scheduling.republish_state" in served
    for name, meta in served.items():
        assert meta.services == (OPERATOR_TOOL,) and meta.services_only and not meta.public, name
        method = api_of(name.split(".")[0]).methods()["republish_state"]
        assert (method.request, method.response) == (RepublishRequest, RepublishReport)


def test_the_gateway_never_calls_republish_state() -> None:
    """The gateways map their methods one by one; none of them names it."""
    for path in (ROOT / "gateway").rglob("*.py"):
        text = path.read_text()
        assert "republish" not in text and "reset_facts" not in text, path


def test_reset_facts_serves_the_operator_s_tool_only() -> None:
    """Emptying reporting's facts (`ecoach-ops rebuild-reporting`): the same guard."""
    meta, _ = rpc_methods()["reporting.reset_facts"]
    assert meta.services == (OPERATOR_TOOL,) and meta.services_only and not meta.public
