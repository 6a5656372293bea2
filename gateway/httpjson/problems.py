"""Failures as RFC 9457 problem details (`application/problem+json`).

A failed gRPC call keeps what the gRPC gateway said (rule 6): its status becomes the HTTP status
(the mapping of google.rpc.Code), its `ErrorInfo` reason the problem's `type` and `reason`, its
`LocalizedMessage` the `detail` (in the caller's Accept-Language), its `BadRequest` the `errors`,
one per field, and its `RetryInfo` a `Retry-After` header. A body the facade cannot map onto the
method's request message is refused here, before any call, as INVALID_ARGUMENT naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import grpc

from gateway.api.client_errors import CallError

MEDIA_TYPE = "application/problem+json"
# A problem's `type`: this URN and the stable reason (`urn:ecoach:problem:TOKEN_INVALID`).
TYPE_PREFIX = "urn:ecoach:problem:"

# google.rpc.Code's own HTTP mapping (google/rpc/code.proto), as grpc-gateway and Google's APIs.
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}


@dataclass(frozen=True)
class Problem:
    status: int
    code: str  # the gRPC status code's name (INVALID_ARGUMENT...)
    detail: str
    reason: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, what is wrong)
    retry_after: int | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": TYPE_PREFIX + (self.reason or self.code),
            "title": _title(self.status),
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.errors:
            out["errors"] = [{"field": f, "detail": d} for f, d in self.errors]
        return out

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": MEDIA_TYPE}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="ecoach"'
        return headers


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # 499, which http.HTTPStatus does not know
        return "Client Closed Request"


def from_call(error: CallError) -> Problem:
    return Problem(
        HTTP_STATUS.get(error.code, 500),
        error.code.name,
        error.message,
        error.reason,
        list(error.fields),
        error.retry_delay_seconds,
    )


def invalid(field_path: str, detail: str, reason: str = "INVALID_JSON") -> Problem:
    return Problem(400, "INVALID_ARGUMENT", detail, reason, [(field_path, detail)])


def plain(status: int, reason: str, detail: str) -> Problem:
    code = {404: "NOT_FOUND", 405: "UNIMPLEMENTED", 415: "INVALID_ARGUMENT"}.get(status, "UNKNOWN")
    return Problem(status, code, detail, reason)


_UNKNOWN = re.compile(r'has no field named "([^"]+)" at "([^"]+)"')
_AT = re.compile(r" at ([A-Za-z_][\w.\[\]]*?)\.*$")
_FIELD = re.compile(r"Failed to parse (\S+) field")


def parse_error_field(message: str) -> str:
    """The JSON path of the field a json_format.ParseError names (`goal.createTime`,
    `roles[0]`), as the client wrote it; `request` when it names none."""
    first_line = message.splitlines()[0] if message else ""
    unknown = _UNKNOWN.search(first_line)
    if unknown:
        return _join(_below_root(unknown.group(2)), unknown.group(1))
    at = _AT.search(first_line)
    if at and "." in at.group(1):
        return _below_root(at.group(1))
    names = _FIELD.findall(first_line)
    return ".".join(names) if names else "request"


def _below_root(path: str) -> str:
    """`UpdateGoalRequest.goal.title` -> `goal.title` (the root is the request message)."""
    return path.partition(".")[2]


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name
