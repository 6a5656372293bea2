"""What an RPC worker knows of its call, for the receipts that keep a write to once per call
(services/kernel/runtime/receipts.py; the database side: tests/integration/test_rpc_receipts.py):
taken from the AMQP message itself, never from headers a caller could set, and not forwarded to
the calls the worker makes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from services.kernel import context
from services.kernel.runtime.calls import _MethodCall
from services.kernel.runtime.entrypoints import WorkerAuth
from services.kernel.runtime.replies import ReplyTolerantRpc


def message(headers: dict[str, Any], correlation_id: str | None, redelivered: Any) -> Any:
    return SimpleNamespace(
        headers=headers,
        properties={"correlation_id": correlation_id} if correlation_id else {},
        delivery_info={"redelivered": redelivered},
    )


def unpacked(msg: Any) -> dict[str, Any]:
    rpc = ReplyTolerantRpc.__new__(ReplyTolerantRpc)
    return rpc.unpack_message_headers(msg)


def test_the_call_and_its_redelivery_come_from_the_message_not_its_headers() -> None:
    forged = {
        "nameko.request_id": "req1",
        "nameko.ecoach_delivery": "someone-elses-call",
        "nameko.ecoach_redelivered": True,
    }
    data = unpacked(message(forged, "c0ffee", False))
    assert data[context.DELIVERY] == "c0ffee"
    assert data[context.REDELIVERED] is False
    assert data["request_id"] == "req1"  # the rest of the context as nameko gives it

    again = unpacked(message({}, "c0ffee", True))
    assert again[context.DELIVERY] == "c0ffee" and again[context.REDELIVERED] is True

    # no correlation id (not an RPC client's message): no call, so no receipt
    assert unpacked(message(forged, None, None))[context.DELIVERY] is None


def test_a_worker_reads_its_call_from_the_context_data() -> None:
    ctx = SimpleNamespace(data={context.DELIVERY: "c0ffee", context.REDELIVERED: True})
    auth = WorkerAuth(SimpleNamespace(), ctx)  # type: ignore[arg-type]
    assert (auth.delivery, auth.redelivered) == ("c0ffee", True)
    # only the entrypoint's own True counts as a redelivery
    plain = WorkerAuth(SimpleNamespace(), SimpleNamespace(data={context.REDELIVERED: "yes"}))  # type: ignore[arg-type]
    assert (plain.delivery, plain.redelivered) == (None, False)


def test_a_nested_call_does_not_carry_the_workers_call() -> None:
    call = _MethodCall.__new__(_MethodCall)
    call._authorization = None
    worker = SimpleNamespace(
        context_data={
            "request_id": "req1",
            context.DELIVERY: "c0ffee",
            context.REDELIVERED: True,
        }
    )
    headers = call.get_message_headers(worker)
    assert headers == {"nameko.request_id": "req1"}


@pytest.mark.parametrize("call", [None, ""])
def test_no_call_no_delivery_scope(call: str | None) -> None:
    with context.delivery_scope(call, "svc.method") as delivery:
        assert delivery is None and context.current_delivery() is None


def test_each_worker_of_one_call_has_its_own_id_and_the_scope_ends_with_it() -> None:
    with context.delivery_scope("c0ffee", "spaces.add_note") as first:
        assert context.current_delivery() == first
    with context.delivery_scope("c0ffee", "spaces.add_note") as second:
        assert second is not None and first is not None
        assert (second.call, second.method) == (first.call, first.method)
        assert second.worker != first.worker
    assert context.current_delivery() is None
