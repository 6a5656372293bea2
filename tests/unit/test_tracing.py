"""Tracing (services/kernel/tracing.py, docs/operations/tracing.md): nothing at all when off;
when on, a traceparent continues a trace, SQL spans hold the statement and never its values, and
a web request's span is named by its route's pattern, never its path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import create_engine, text

from gateway.web.http_metrics import measured
from services.kernel import tracing
from services.kernel.runtime.sql import _trace_statements


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing("test", "http://collector.invalid", 1.0, exporter=exporter)
    yield exporter
    tracing.shutdown_tracing()


def test_off_by_default_nothing_is_made() -> None:
    assert not tracing.enabled()
    with tracing.span("anything", parent=tracing.NEW_TRACE) as current:
        assert current is None
        assert tracing.current_traceparent() is None
    assert tracing.parent_from("00-" + "1" * 32 + "-" + "2" * 16 + "-01") is None
    assert tracing.start_span("SELECT", tracing.SpanKind.CLIENT, {}) is None
    assert not tracing.configure_tracing("test", "", 1.0)  # no endpoint: stays off


def test_a_traceparent_continues_the_trace(spans: InMemorySpanExporter) -> None:
    with tracing.span("caller", tracing.SpanKind.CLIENT, parent=tracing.NEW_TRACE):
        sent = tracing.current_traceparent()
    assert sent is not None
    with tracing.span("callee", tracing.SpanKind.SERVER, parent=tracing.parent_from(sent)):
        pass
    caller, callee = spans.get_finished_spans()
    assert callee.context.trace_id == caller.context.trace_id
    assert callee.parent is not None and callee.parent.span_id == caller.context.span_id


@pytest.mark.parametrize("junk", [None, 42, "", "00-xyz", "00-" + "1" * 32 + "-" + "2" * 16])
def test_a_malformed_traceparent_starts_nothing_of_its_own(
    spans: InMemorySpanExporter, junk: object
) -> None:
    assert tracing.parent_from(junk) is None


def test_a_span_within_a_trace_only_makes_none_outside_one(spans: InMemorySpanExporter) -> None:
    with tracing.span("ping", within=True) as current:
        assert current is None
    with tracing.span("request"), tracing.span("call", within=True) as current:
        assert current is not None
    assert [s.name for s in spans.get_finished_spans()] == ["call", "request"]


def test_an_exception_marks_the_span_without_its_text(spans: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError), tracing.span("failing"):
        raise ValueError("what a person wrote")
    (failed,) = spans.get_finished_spans()
    assert failed.attributes == {"error.type": "ValueError"}
    assert not failed.events  # no exception event, whose message would quote the text


def test_sql_spans_hold_the_statement_never_its_values(spans: InMemorySpanExporter) -> None:
    engine = create_engine("sqlite://")
    _trace_statements(engine)
    with engine.connect() as conn:  # outside any trace (a relay polling): no span
        conn.execute(text("SELECT 1"))
    assert not spans.get_finished_spans()
    with tracing.span("rpc"), engine.connect() as conn:
        conn.execute(text("SELECT :email AS e"), {"email": "ada@example.com"})
    sql, rpc = spans.get_finished_spans()
    assert sql.name == "SELECT" and sql.parent is not None
    assert sql.parent.span_id == rpc.context.span_id
    assert sql.attributes is not None and "ada@example.com" not in repr(dict(sql.attributes))
    assert sql.attributes["db.statement"] == "SELECT ? AS e"


def test_a_web_request_is_named_by_its_route_never_its_path(spans: InMemorySpanExporter) -> None:
    app = Flask(__name__)

    @app.get("/feedback/<token>")
    def feedback(token: str) -> str:
        return "ok"

    client = Flask(__name__)
    client.wsgi_app = measured(app.wsgi_app)  # type: ignore[method-assign]
    assert client.test_client().get("/feedback/s3cr3t-token").status_code == 200
    (request,) = spans.get_finished_spans()
    assert request.name == "GET /feedback/<token>"
    assert request.parent is None  # a new trace
    assert "s3cr3t" not in repr(dict(request.attributes or {}))
