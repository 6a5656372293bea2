"""A gRPC client for tests, as a client application would hold one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import identity_pb2_grpc as pb_grpc


@dataclass
class Session:
    token: str
    person_id: str
    tenant_id: str
    refresh_token: str = ""

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),)


class Api:
    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.auth = pb_grpc.AuthServiceStub(channel)
        self.keys = pb_grpc.KeyServiceStub(channel)
        self.audit = pb_grpc.AuditServiceStub(channel)
        self.privacy = pb_grpc.PrivacyServiceStub(channel)
        self.recovery = pb_grpc.AccountRecoveryServiceStub(channel)
        self.tenants = pb_grpc.TenantServiceStub(channel)
        self.members = pb_grpc.MemberServiceStub(channel)

    def sign_in(self, email: str, password: str, tenant: str = "") -> Session:
        reply = self.auth.SignIn(
            pb.SignInRequest(email=email, password=password, tenant=tenant), timeout=30
        )
        return session_of(reply)


def session_of(reply: pb.SignInResponse) -> Session:
    return Session(reply.access_token, reply.person_id, reply.tenant_id, reply.refresh_token)


def unique_email(prefix: str = "person") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.test"


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@dataclass
class ErrorDetails:
    code: grpc.StatusCode
    message: str
    reason: str = ""
    fields: tuple[str, ...] = ()
    localized: str = ""
    locale: str = ""
    metadata: dict[str, str] | None = None


def error_details(exc: grpc.RpcError) -> ErrorDetails:
    status: status_pb2.Status | None = rpc_status.from_call(exc)  # type: ignore[arg-type]
    details = ErrorDetails(code=exc.code(), message=exc.details() or "")
    if status is None:
        return details
    for any_ in status.details:
        if any_.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            any_.Unpack(info)
            details.reason = info.reason
            details.metadata = dict(info.metadata)
        elif any_.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            any_.Unpack(bad)
            details.fields = tuple(v.field for v in bad.field_violations)
        elif any_.Is(error_details_pb2.LocalizedMessage.DESCRIPTOR):
            loc = error_details_pb2.LocalizedMessage()
            any_.Unpack(loc)
            details.localized = loc.message
            details.locale = loc.locale
    return details


def expect_error(call: Any, *args: Any, **kwargs: Any) -> ErrorDetails:
    try:
        call(*args, **kwargs)
    except grpc.RpcError as exc:
        return error_details(exc)
    raise AssertionError("the call succeeded; an error was expected")
