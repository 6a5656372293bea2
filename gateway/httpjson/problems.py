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
from services.kernel.i18n import gettext

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


def bad_body(
    locale: str | None, field_path: str, why: str, reason: str = "INVALID_JSON"
) -> Problem:
    """The body cannot become the request message: `why` (a msgid) is said of `field_path`."""
    detail = gettext(locale, "The request body does not fit this method.")
    return Problem(400, "INVALID_ARGUMENT", detail, reason, [(field_path, gettext(locale, why))])


def refused(status: int, reason: str, detail: str) -> Problem:
    """The facade's own refusal (no such method, another verb...): `detail` already said."""
    code = {404: "NOT_FOUND", 405: "UNIMPLEMENTED", 415: "INVALID_ARGUMENT"}.get(status, "UNKNOWN")
    return Problem(status, code, detail, reason)


_UNKNOWN = re.compile(r'has no field named "([^"]+)" at "([^"]+)"')
_AT = re.compile(r" at ([A-Za-z_][\w.\[\]]*?)\.*$")
_FIELD = re.compile(r"Failed to parse (\S+) field")


def parse_error(message: str) -> tuple[str, bool]:
    """The JSON path of the field a json_format.ParseError names (`goal.createTime`,
    `roles[0]`), as the client wrote it, `request` when it names none; and whether the field is
    unknown to the message (else its value is wrong)."""
    first_line = message.splitlines()[0] if message else ""
    unknown = _UNKNOWN.search(first_line)
    if unknown:
        return _join(_below_root(unknown.group(2)), unknown.group(1)), True
    at = _AT.search(first_line)
    if at and "." in at.group(1):
        return _below_root(at.group(1)), False
    names = _FIELD.findall(first_line)
    return (".".join(names) if names else "request"), False


def _below_root(path: str) -> str:
    """`UpdateGoalRequest.goal.title` -> `goal.title` (the root is the request message)."""
    return path.partition(".")[2]


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name
