"""The fault stage's counting of writes (tests/faults/checks.py) and the load's reading of a failed
write (bench/load.py): a write refused as ALREADY_DONE (an earlier delivery of its call made it,
services/kernel/runtime/receipts.py) must have committed exactly once."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from bench.load import Write, write_status
from bench.openloop import OK
from services.kernel.runtime.receipts import ALREADY_DONE
from tests.faults.checks import Event, Report, check_writes


class FakeError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, reason: str = "") -> None:
        self._code = code
        status = status_pb2.Status(code=code.value[0], message="refused")
        if reason:
            packed = any_pb2.Any()
            packed.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="ecoach.app"))
            status.details.append(packed)
        self._trailing = (("grpc-status-details-bin", status.SerializeToString()),)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "refused"

    def trailing_metadata(self) -> Any:
        return self._trailing


def test_a_write_refused_as_already_done_is_told_apart_from_other_refusals() -> None:
    assert write_status(FakeError(grpc.StatusCode.FAILED_PRECONDITION, ALREADY_DONE)) == (
        ALREADY_DONE
    )
    other = FakeError(grpc.StatusCode.FAILED_PRECONDITION, "SESSION_NOT_BOOKED")
    assert write_status(other) == "FAILED_PRECONDITION"
    assert write_status(FakeError(grpc.StatusCode.UNAVAILABLE)) == "UNAVAILABLE"


def event(request_id: str, aggregate: str) -> Event:
    return Event(f"evt-{request_id}", "spaces.note_added", aggregate, request_id)


def test_already_done_counts_as_a_commit_made_once_and_only_then() -> None:
    writes = [
        Write("note", "r-ok", OK, "spaces/s1/notes/n1"),
        Write("note", "r-done", ALREADY_DONE),
        Write("note", "r-done-but-nothing", ALREADY_DONE),
        Write("note", "r-done-twice", ALREADY_DONE),
    ]
    events = [
        event("r-ok", "n1"),
        event("r-done", "n2"),
        event("r-done-twice", "n3"),
        event("r-done-twice", "n4"),
    ]
    report = Report()
    made = check_writes(report, writes, events, "spaces.note_added")
    assert report.maybe == ["r-done"]
    assert made == {"r-ok": "n1", "r-done": "n2", "r-done-twice": "n3"}
    assert report.problems == [
        "r-done-but-nothing answered ALREADY_DONE but never committed",
        "r-done-twice (ALREADY_DONE) committed 2 times",
    ]
