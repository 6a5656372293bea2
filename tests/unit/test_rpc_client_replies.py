"""The gateway's RPC client settles replies and timeouts without ever breaking its consumer."""

from __future__ import annotations

from concurrent.futures import CancelledError, Future
from typing import Any

import pytest

from gateway.api.rpc_client import RpcClient
from services.kernel.errors import Internal


class FakeMessage:
    def __init__(self, correlation_id: str) -> None:
        self.properties = {"correlation_id": correlation_id}


def pending(client: RpcClient, correlation_id: str) -> Future[dict[str, Any]]:
    future: Future[dict[str, Any]] = Future()
    client._pending[correlation_id] = future
    return future


def test_a_reply_for_a_caller_that_timed_out_is_dropped() -> None:
    client = RpcClient("amqp://unused/")
    future = pending(client, "c1")
    future.cancel()  # the caller's timeout won the race
    message = FakeMessage("c1")
    client._on_reply({"result": 1}, message)  # must not raise: that would kill the consumer
    assert client.late_replies == 1
    with pytest.raises(CancelledError):
        future.result(0)


def test_a_reply_nobody_waits_for_is_dropped() -> None:
    client = RpcClient("amqp://unused/")
    message = FakeMessage("unknown")
    client._on_reply({"result": 1}, message)
    assert client.late_replies == 1


def test_a_reply_reaches_its_caller_and_a_malformed_one_is_an_error() -> None:
    client = RpcClient("amqp://unused/")
    ok, bad = pending(client, "ok"), pending(client, "bad")
    client._on_reply({"result": 42, "error": None}, FakeMessage("ok"))
    client._on_reply(["not", "a", "reply"], FakeMessage("bad"))  # type: ignore[arg-type]
    assert ok.result(0) == {"result": 42, "error": None}
    with pytest.raises(Internal):
        bad.result(0)
