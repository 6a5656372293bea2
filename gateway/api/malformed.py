"""Request bytes that are not the method's protobuf message get INVALID_ARGUMENT.

grpcio answers INTERNAL ("Exception deserializing request!") when a method's deserializer
raises, which reads as the server's fault. This interceptor wraps each method's deserializer:
bytes it cannot parse (truncated, wrong wire types, a string that is not UTF-8) become a marker,
and the method's behaviour, seeing the marker, answers INVALID_ARGUMENT on `request` (reason
MALFORMED_REQUEST) through the gateway's one error table instead of running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc

from services.kernel.errors import FieldViolation, InvalidArgument

from .auth import metadata_value
from .errors import to_status

log = logging.getLogger("gateway.api")


def malformed() -> InvalidArgument:
    return InvalidArgument(
        "The request is not a valid protobuf message of this method.",
        reason="MALFORMED_REQUEST",
        fields=[FieldViolation("request", "is not a valid protobuf message of this method")],
    )


class _Malformed:
    """What the wrapped deserializer returns for bytes it could not parse."""


def _lenient(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception:  # any parse failure of the caller's bytes (DecodeError and kin)
            return _Malformed()

    return parse


def _refusing(behaviour: Callable[..., Any]) -> Callable[..., Any]:
    def serve(request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, _Malformed):
            log.info("malformed request bytes", extra={"outcome": "INVALID_ARGUMENT"})
            locale = metadata_value(context.invocation_metadata(), "accept-language") or "en"
            context.abort_with_status(to_status(malformed(), locale))
        return behaviour(request, context)

    return serve


class MalformedRequestInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Put it after the authentication interceptor: unauthenticated callers are refused
    before their bytes are parsed at all."""

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.request_deserializer is None or handler.request_streaming:
            return handler  # no method, a refusal, or a request stream (none in ecoach.v1)
        behaviour = "unary_unary" if not handler.response_streaming else "unary_stream"
        return handler._replace(
            request_deserializer=_lenient(handler.request_deserializer),
            **{behaviour: _refusing(getattr(handler, behaviour))},
        )
