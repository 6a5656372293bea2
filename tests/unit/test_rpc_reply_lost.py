"""A reply the broker cannot take (it went away) is dropped, not raised into nameko's worker
result handler, where it killed the container: a service process exited on a broker restart
(tests/faults/test_faults_under_load.py found it)."""

from __future__ import annotations

from typing import Any
from unittest.mock import Mock

import kombu.exceptions
import pytest

from services.kernel.runtime.replies import ReplyTolerantRpc


def entrypoint(handle_result: Any) -> ReplyTolerantRpc:
    rpc = ReplyTolerantRpc.__new__(ReplyTolerantRpc)
    rpc.method_name = "get_member"
    rpc.rpc_consumer = Mock(handle_result=handle_result)
    return rpc


def test_a_reply_lost_with_the_broker_is_dropped() -> None:
    lost = Mock(side_effect=kombu.exceptions.OperationalError("[Errno 111] ECONNREFUSED"))
    rpc = entrypoint(lost)
    assert rpc.handle_result("message", "ctx", {"ok": 1}, None) == ({"ok": 1}, None)
    lost.assert_called_once_with("message", {"ok": 1}, None)


def test_a_reply_sent_is_returned_and_other_errors_still_raise() -> None:
    assert entrypoint(Mock(return_value=("r", None))).handle_result("m", "c", "r", None) == (
        "r",
        None,
    )
    with pytest.raises(ValueError):
        entrypoint(Mock(side_effect=ValueError("a bug"))).handle_result("m", "c", "r", None)
