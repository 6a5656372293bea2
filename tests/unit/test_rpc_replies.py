"""The services' RPC replies (services/kernel/runtime/replies.py): what FastResponder publishes,
and that nameko's own path answers when the kept channel fails."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from nameko import rpc

from services.kernel.errors import NotFound
from services.kernel.runtime import replies

URI = "amqp://guest:guest@127.0.0.1:5672/unit"


class Recorder:
    def __init__(self, works: bool = True) -> None:
        self.works = works
        self.sent: list[tuple[str, Any, str, str]] = []

    def publish(self, amqp_uri: str, message: Any, exchange: str, key: str) -> bool:
        self.sent.append((amqp_uri, message, exchange, key))
        return self.works


def responder(content_type: str = "application/json") -> replies.FastResponder:
    message = SimpleNamespace(
        properties={
            "content_type": content_type,
            "reply_to": "rpc.reply-gateway-1",
            "correlation_id": "c-1",
        }
    )
    return replies.FastResponder(URI, SimpleNamespace(name="nameko-rpc"), "json", message)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    found = Recorder()
    monkeypatch.setattr(replies, "_REPLIES", found)
    return found


def fallback(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []

    def nameko_path(self: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        calls.append((result, exc_info))
        return result, exc_info

    monkeypatch.setattr(rpc.Responder, "send_response", nameko_path)
    return calls


def test_a_result_is_published_once_as_json_to_the_callers_reply_queue(
    recorder: Recorder,
) -> None:
    result, exc_info = responder().send_response({"id": "m1"}, None)

    assert (result, exc_info) == ({"id": "m1"}, None)
    [(uri, message, exchange, key)] = recorder.sent
    assert (uri, exchange, key) == (URI, "nameko-rpc", "rpc.reply-gateway-1")
    assert json.loads(message.body) == {"result": {"id": "m1"}, "error": None}
    assert message.properties["correlation_id"] == "c-1"
    assert message.properties["content_type"] == "application/json"
    assert message.properties["delivery_mode"] == replies.NON_PERSISTENT


def test_an_error_travels_as_nameko_serialises_it(recorder: Recorder) -> None:
    error = NotFound("No such member.", reason="MEMBER_NOT_FOUND")

    responder().send_response(None, (NotFound, error, None))

    body = json.loads(recorder.sent[0][1].body)
    assert body["result"] is None
    assert body["error"]["exc_type"] == "NotFound"


def test_a_result_that_cannot_be_encoded_becomes_an_error(recorder: Recorder) -> None:
    result, exc_info = responder().send_response({"when": object()}, None)

    assert result is None and exc_info is not None
    body = json.loads(recorder.sent[0][1].body)
    assert body["error"]["exc_type"] == "UnserializableValueError"


def test_a_failed_publish_falls_back_to_namekos_path(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder.works = False
    calls = fallback(monkeypatch)

    responder().send_response({"id": "m1"}, None)

    assert calls == [({"id": "m1"}, None)]


def test_a_request_not_in_json_is_answered_by_namekos_path(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fallback(monkeypatch)

    responder("application/x-pickle").send_response({"id": "m1"}, None)

    assert calls == [({"id": "m1"}, None)] and recorder.sent == []
