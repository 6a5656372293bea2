"""The metrics' own logic, on fakes (services/kernel/metrics.py and what feeds it): scrape-time
gauges, the dead-letter depth's cache, the web gateway's route labels (never a path) and the
gRPC gateway's status codes. tests/e2e/test_metrics.py scrapes every real process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import amqp
import grpc
import pytest
from flask import Flask
from werkzeug.test import Client

from gateway.api.metrics_interceptor import MetricsInterceptor
from gateway.web.http_metrics import UNMATCHED, measured
from services.contracts.identity import TenantCreated
from services.kernel import metrics
from services.kernel.runtime.metric_sources import (
    DEAD_LETTER_CACHE_SECONDS,
    DeadLetterDepth,
    pool_samples,
)


def count(metric: Any, **labels: str) -> float:
    for family in metric.collect():
        for sample in family.samples:
            if sample.name.endswith(("_total", "_count")) and sample.labels == labels:
                return float(sample.value)
    return 0.0


def test_scrape_time_gauges_leave_out_a_failing_source_and_a_removed_one() -> None:
    gauges = metrics.ScrapeTimeGauges()
    gauges.add("a", lambda: [("ecoach_outbox_backlog", ("spaces",), 3.0)])
    gauges.add("b", lambda: 1 / 0)  # type: ignore[arg-type,return-value]
    gauges.add("c", lambda: [("ecoach_dead_letter_messages", ("identity",), 2.0)])
    gauges.remove("c")
    families = {f.name: f for f in gauges.collect()}
    assert set(families) == {"ecoach_outbox_backlog"}
    [sample] = families["ecoach_outbox_backlog"].samples
    assert sample.labels == {"service": "spaces"} and sample.value == 3.0
    assert list(gauges.describe()) == []  # registering never asks the sources


class FakeChannel:
    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker

    def queue_declare(self, name: str, passive: bool) -> tuple[str, int, int]:
        assert passive, "a depth is read without declaring anything"
        self.broker.asked.append(name)
        if self.broker.failure is not None:
            raise self.broker.failure
        return name, self.broker.depth, 0

    def close(self) -> None:
        pass


class FakeBroker:
    def __init__(self) -> None:
        self.depth = 4
        self.failure: Exception | None = None
        self.asked: list[str] = []
        self.connections = 0

    def connect(self, uri: str) -> Any:
        self.connections += 1
        broker = self

        class Connection:
            def channel(self) -> FakeChannel:
                return FakeChannel(broker)

            def release(self) -> None:
                pass

        return Connection()


def test_the_dead_letter_depth_is_read_passively_and_cached_between_scrapes() -> None:
    broker, now = FakeBroker(), [100.0]
    depth = DeadLetterDepth("amqp://x/", "spaces", lambda: now[0], broker.connect)
    assert depth.samples() == [("ecoach_dead_letter_messages", ("spaces",), 4.0)]
    broker.depth = 9
    assert depth.samples()[0][2] == 4.0  # cached
    now[0] += DEAD_LETTER_CACHE_SECONDS
    assert depth.samples()[0][2] == 9.0
    assert broker.asked == ["spaces.dead-letters"] * 2 and broker.connections == 1


def test_no_dead_letter_queue_is_no_gauge_and_a_broker_error_reconnects_next_time() -> None:
    broker, now = FakeBroker(), [0.0]
    depth = DeadLetterDepth("amqp://x/", "identity", lambda: now[0], broker.connect)
    broker.failure = amqp.exceptions.NotFound()
    assert depth.samples() == []
    now[0] += DEAD_LETTER_CACHE_SECONDS
    broker.failure = OSError("connection reset")
    with pytest.raises(OSError):
        depth.samples()
    broker.failure = None
    assert depth.samples()[0][2] == 4.0
    assert broker.connections == 2


def test_pool_samples_report_size_and_checked_out_connections() -> None:
    class Pool:
        def size(self) -> int:
            return 20

        def checkedout(self) -> int:
            return 3

    class Engine:
        pool = Pool()

    assert pool_samples("content", Engine())() == [  # type: ignore[arg-type]
        ("ecoach_db_pool_size", ("content",), 20.0),
        ("ecoach_db_pool_checked_out", ("content",), 3.0),
    ]


def test_web_requests_are_counted_by_route_pattern_never_by_their_path() -> None:
    app = Flask(__name__)

    @app.get("/reset-password/<token>")
    def reset(token: str) -> str:
        return "ok"

    client = Client(measured(app))
    route = "/reset-password/<token>"
    before = count(metrics.HTTP_REQUESTS, route=route, method="GET", status="200")
    missing = count(metrics.HTTP_REQUESTS, route=UNMATCHED, method="other", status="404")
    assert client.get("/reset-password/s3cr3t-t0ken").status_code == 200
    assert client.open("/nowhere/s3cr3t", method="BREW").status_code == 404
    assert count(metrics.HTTP_REQUESTS, route=route, method="GET", status="200") == before + 1
    assert count(metrics.HTTP_REQUESTS, route=UNMATCHED, method="other", status="404") == (
        missing + 1
    )
    exposed = str([s for f in metrics.HTTP_REQUESTS.collect() for s in f.samples])
    assert "s3cr3t" not in exposed


class FakeContext:
    def __init__(self) -> None:
        self._code: grpc.StatusCode | None = None

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self._code = code
        raise Exception(details)  # what grpcio's abort does: an exception after the code


def intercepted(behaviour: Any, method: str, *, streaming: bool = False) -> Any:
    make = (
        grpc.unary_stream_rpc_method_handler if streaming else grpc.unary_unary_rpc_method_handler
    )
    details = type("Details", (), {"method": method, "invocation_metadata": ()})()
    handler = MetricsInterceptor().intercept_service(lambda _: make(behaviour), details)
    return handler.unary_stream if streaming else handler.unary_unary


def test_grpc_calls_are_counted_by_method_and_status_code() -> None:
    method = "/ecoach.v1.Test/Get"

    def get(request: Any, context: FakeContext) -> str:
        if request == "missing":
            context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
        if request == "bug":
            raise RuntimeError("a bug")
        return "found"

    serve = intercepted(get, method)
    ok = count(metrics.GRPC_REQUESTS, method=method, code="OK")
    assert serve("x", FakeContext()) == "found"
    for request in ("missing", "bug"):
        with pytest.raises(Exception):  # noqa: B017 - both go back to grpcio as they were
            serve(request, FakeContext())
    assert count(metrics.GRPC_REQUESTS, method=method, code="OK") == ok + 1
    assert count(metrics.GRPC_REQUESTS, method=method, code="NOT_FOUND") == 1
    assert count(metrics.GRPC_REQUESTS, method=method, code="UNKNOWN") == 1
    assert count(metrics.GRPC_DURATION, method=method) == ok + 3


def test_a_streamed_answer_is_counted_when_it_ends() -> None:
    method = "/ecoach.v1.Test/Export"

    def export(request: Any, context: FakeContext) -> Any:
        yield from ("a", "b")

    stream = intercepted(export, method, streaming=True)("x", FakeContext())
    assert next(stream) == "a"
    assert count(metrics.GRPC_REQUESTS, method=method, code="OK") == 0
    assert list(stream) == ["b"]
    assert count(metrics.GRPC_REQUESTS, method=method, code="OK") == 1


def test_an_unknown_method_is_not_counted_at_all() -> None:
    details = type("Details", (), {"method": "/made.up/Name", "invocation_metadata": ()})()
    assert MetricsInterceptor().intercept_service(lambda _: None, details) is None


def test_a_stream_the_client_stops_reading_is_counted_cancelled() -> None:
    method = "/ecoach.v1.Test/Abandoned"

    def export(request: Any, context: FakeContext) -> Any:
        yield from ("a", "b")

    stream = intercepted(export, method, streaming=True)("x", FakeContext())
    assert next(stream) == "a"
    stream.close()
    assert count(metrics.GRPC_REQUESTS, method=method, code="CANCELLED") == 1


# ---------------------------------------------------------------- event handlers (kernel eventing)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


class FakeDatabase:
    """A WorkerDatabase's surface that `on_event` uses; the inbox is a set of (handler, id)."""

    def __init__(self, now: datetime) -> None:
        self.clock = FakeClock(now)
        self.inbox: set[tuple[str, str]] = set()

    @contextmanager
    def unit_of_work(self) -> Iterator[Any]:
        yield type("Uow", (), {"connection": self, "clock": self.clock})()


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A service with one handler of identity.tenant_created, on the fake database; signatures
    are not checked (tests/unit/test_event_signatures.py does)."""
    from services.kernel.runtime import eventing

    def claim(connection: FakeDatabase, handler: str, event_id: str, now: datetime) -> bool:
        fresh = (handler, event_id) not in connection.inbox
        connection.inbox.add((handler, event_id))
        return fresh

    monkeypatch.setattr(eventing, "check_signature", lambda *args: None)
    monkeypatch.setattr(eventing, "claim_inbox", claim)

    class Metered:
        name = "metered"
        fail = False

        def __init__(self, db: FakeDatabase) -> None:
            self.db = db

        @eventing.on_event(TenantCreated)
        def on_tenant(self, uow: Any, event: Any, envelope: Any) -> None:
            if self.fail:
                raise RuntimeError("a bug")

    return Metered


def test_a_handler_counts_applied_duplicate_and_failed_deliveries_and_its_lag(
    handlers: Any,
) -> None:
    occurred = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    service = handlers(FakeDatabase(occurred + timedelta(seconds=42)))
    body = {
        "id": "evt_1",
        "type": TenantCreated.TYPE,
        "version": 1,
        "occurred_at": occurred.isoformat(),
        "tenant_id": "ten_1",
        "aggregate_id": "ten_1",
        "sequence": 1,
        "payload": TenantCreated(tenant_id="ten_1", slug="acme", created_at=occurred).model_dump(
            mode="json"
        ),
    }
    delivery = {"attempt": 1, "request_id": None, "headers": {}, "raw": b""}
    handler = "metered.on_tenant"
    service.on_tenant(body, delivery)
    service.on_tenant(body, delivery)  # redelivered: already applied
    service.fail = True
    with pytest.raises(RuntimeError):
        service.on_tenant({**body, "id": "evt_2"}, delivery)
    for outcome in ("applied", "duplicate", "failed"):
        assert count(metrics.EVENTS_HANDLED, handler=handler, outcome=outcome) == 1, outcome
    assert count(metrics.EVENT_LAG, handler=handler) == 3
    [family] = metrics.EVENT_LAG.collect()
    [lag_sum] = [
        s for s in family.samples if s.name.endswith("_sum") and s.labels == {"handler": handler}
    ]
    assert lag_sum.value == 3 * 42.0


def test_failures_sent_on_are_counted_by_destination() -> None:
    from services.kernel.runtime.eventing import FailureRouter, PoisonEvent

    sent: list[str] = []
    router = FailureRouter.__new__(FailureRouter)  # its setup needs a broker: the parts it uses
    router.retries = 1
    router.container = type("Container", (), {"service_name": "metered"})()
    router.publisher = type(
        "Publisher", (), {"publish": lambda self, exchange, *a, **k: sent.append(exchange)}
    )()
    entrypoint = type(
        "Entrypoint", (), {"method_name": "on_routed", "queue": type("Q", (), {"name": "q"})()}
    )()

    def message() -> Any:  # a first delivery
        return type("M", (), {"headers": {}, "body": b"{}", "properties": {}})()

    router.route(entrypoint, message(), RuntimeError("once"))
    router.route(entrypoint, message(), PoisonEvent("never"))
    handler = "metered.on_routed"
    assert count(metrics.EVENTS_ROUTED, handler=handler, destination="retry") == 1
    assert count(metrics.EVENTS_ROUTED, handler=handler, destination="dead_letter") == 1
    assert sent == ["metered.retry", "metered.dead-letters"]
