"""A gRPC client for tests, as a client application would hold one."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

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


@dataclass
class LastingSession(Session):
    """A session a whole test run shares (the session-scoped `operator`): its access token is
    refreshed once it is older than `REFRESH_AFTER_SECONDS`, since a run outlasts the tokens'
    life (10 minutes). Each refresh keeps the new refresh token (one used twice would be a
    replay, and identity would end the session)."""

    api: Any = None
    clock_file: Path | None = None  # the deployment's test clock: no refresh while it is moved
    refreshed_at: float = field(default_factory=time.monotonic)

    REFRESH_AFTER_SECONDS: ClassVar[float] = 240.0

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        if time.monotonic() - self.refreshed_at > self.REFRESH_AFTER_SECONDS and self._real_time():
            reply = self.api.auth.Refresh(
                pb.RefreshRequest(refresh_token=self.refresh_token), timeout=30
            )
            self.token, self.refresh_token = reply.access_token, reply.refresh_token
            self.refreshed_at = time.monotonic()
        return (("authorization", f"Bearer {self.token}"),)

    def _real_time(self) -> bool:
        """The deployment keeps the real time: a token refreshed while a test has moved it
        would be issued in that test's future, and refused once the clock is back."""
        if self.clock_file is None:
            return True
        try:
            return float(self.clock_file.read_text().strip() or 0) == 0
        except (FileNotFoundError, ValueError):
            return True


def lasting(api: Api, session: Session, clock_file: Path | None = None) -> LastingSession:
    """`session` for a whole test run: refreshed as it ages (not while `clock_file`, the
    deployment's test clock, is moved)."""
    return LastingSession(
        session.token, session.person_id, session.tenant_id, session.refresh_token, api, clock_file
    )


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
