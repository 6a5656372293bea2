"""The one table from domain errors to gRPC status codes, with google.rpc details (rule 6)."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.kernel.errors import DomainError, ErrorCode, FieldViolation
from services.kernel.i18n import gettext
from services.kernel.messages import localize

ERROR_DOMAIN = "ecoach.app"

STATUS_BY_CODE: dict[ErrorCode, grpc.StatusCode] = {
    ErrorCode.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCode.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    ErrorCode.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    ErrorCode.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorCode.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorCode.DEADLINE_EXCEEDED: grpc.StatusCode.DEADLINE_EXCEEDED,
    ErrorCode.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorCode.INTERNAL: grpc.StatusCode.INTERNAL,
}


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def to_status(
    error: DomainError, locale: str, trailing: tuple[tuple[str, str], ...] = ()
) -> grpc.Status:
    code = STATUS_BY_CODE.get(error.code, grpc.StatusCode.INTERNAL)
    details = []
    if error.fields:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=f.field, description=described(f, locale)
                        )
                        for f in error.fields
                    ]
                )
            )
        )
    details.append(
        _pack(
            error_details_pb2.ErrorInfo(
                reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
            )
        )
    )
    retry_after = error.metadata.get("retry_after_seconds")
    if retry_after and retry_after.isdigit():  # how long to wait (throttling), for clients
        delay = error_details_pb2.RetryInfo()
        delay.retry_delay.seconds = int(retry_after)
        details.append(_pack(delay))
    lang, text = localize(error.reason, str(error.code), locale)
    details.append(_pack(error_details_pb2.LocalizedMessage(locale=lang, message=text)))
    status = status_pb2.Status(code=code.value[0], message=error.message, details=details)
    converted = rpc_status.to_status(status)
    return _Status(converted.code, converted.details, (*converted.trailing_metadata, *trailing))


def described(violation: FieldViolation, locale: str) -> str:
    """Why a field is refused, in the caller's language (English when the catalogue lacks it)."""
    values = dict(violation.values)
    if not violation.template:
        return gettext(locale, violation.description)
    try:
        return gettext(locale, violation.template, **values)
    except (KeyError, ValueError, TypeError):  # a translation whose placeholders do not match
        return violation.description


class _Status(grpc.Status):  # type: ignore[misc]
    """grpc.Status is an interface; this is the plain record abort_with_status reads."""

    def __init__(
        self, code: grpc.StatusCode, details: str, trailing_metadata: tuple[Any, ...]
    ) -> None:
        self.code = code
        self.details = details
        self.trailing_metadata = trailing_metadata
