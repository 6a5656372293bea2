"""What a client of the gRPC gateway reads out of a failed call: the message in the caller's
language (`LocalizedMessage`) and each wrong field (`BadRequest`). Used by the web gateway and
the `ecoach` CLI, which are clients of the gateway like any other."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class CallError:
    code: grpc.StatusCode
    message: str  # the localized message, else the status details
    fields: list[tuple[str, str]] = field(default_factory=list)  # (field, what is wrong)
    retry_delay_seconds: int | None = None  # `RetryInfo`: how long to wait (throttling)
    reason: str = ""  # `ErrorInfo`: the stable reason (MFA_REQUIRED, ...)


def call_error(exc: grpc.RpcError) -> CallError:
    message = exc.details() or ""  # type: ignore[attr-defined]
    fields: list[tuple[str, str]] = []
    retry: int | None = None
    reason = ""
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.LocalizedMessage.DESCRIPTOR):
            localized = error_details_pb2.LocalizedMessage()
            detail.Unpack(localized)
            message = localized.message
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [(v.field, v.description) for v in bad.field_violations]
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            retry = int(info.retry_delay.seconds)
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            error_info = error_details_pb2.ErrorInfo()
            detail.Unpack(error_info)
            reason = error_info.reason
    return CallError(exc.code(), message, fields, retry, reason)  # type: ignore[attr-defined]
