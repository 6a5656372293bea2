"""Authentication at the door: every call but the public ones needs a valid access token.

The gateway verifies the token (so forged or expired ones never reach a service) and forwards it
unchanged; each service verifies it again and authorises on the person (rule 5). Nothing a client
sends can make it "system": only the bearer token is read, any other claim is ignored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import grpc

from services.kernel.caller import PersonClaims
from services.kernel.clock import Clock
from services.kernel.errors import DomainError, Unauthenticated, Unavailable
from services.kernel.revocations import RevocationList
from services.kernel.tokens import FetchedKeys, TokenVerifier

from .errors import to_status

# How long a call waits for the revocation feed (at start, or after a broker reconnect).
REVOCATIONS_WAIT_SECONDS = 5.0

# gRPC methods callable without a token (each authenticates by its own secret, or is harmless).
PUBLIC_GRPC_METHODS = frozenset(
    {
        "/ecoach.v1.AuthService/SignIn",
        "/ecoach.v1.AuthService/Refresh",
        "/ecoach.v1.AuthService/SwitchTenant",
        "/ecoach.v1.AuthService/SignOut",
        "/ecoach.v1.AuthService/RequestPasswordReset",
        "/ecoach.v1.AuthService/ResetPassword",
        "/ecoach.v1.AuthService/ConfirmEmailChange",
        "/ecoach.v1.AuthService/AcceptInvitation",
        "/ecoach.v1.AuthService/GetErasureStatus",
        "/ecoach.v1.AuthService/VerifyMfa",
        "/ecoach.v1.AuthService/BeginMfaEnrolment",
        "/ecoach.v1.AuthService/CompleteMfaEnrolment",
        "/ecoach.v1.CalendarFeedService/GetCalendarFeed",
        "/ecoach.v1.AssessmentService/GetRaterForm",
        "/ecoach.v1.AssessmentService/SubmitRaterAnswers",
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    }
)


def bearer_token(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def metadata_value(metadata: Any, name: str) -> str | None:
    for key, value in metadata or ():
        if key == name and isinstance(value, str):
            return value
    return None


class Authenticator:
    """Verifies access tokens with identity's public keys (the verifier remembers valid ones)
    and refuses revoked ones (`ready`: the revocation feed has loaded the recent ones)."""

    def __init__(
        self,
        fetch_keys: Callable[[], list[dict[str, Any]]],
        clock: Clock,
        issuer: str,
        audience: str,
        revocations: RevocationList | None = None,
        ready: threading.Event | None = None,
        keys_max_age: float | None = None,
    ) -> None:
        keys = FetchedKeys(fetch_keys, time.monotonic, max_age=keys_max_age, clock=clock)
        self._verifier = TokenVerifier(keys, clock, revocations=revocations)
        self._issuer = issuer
        self._audience = audience
        self._ready = ready

    def verify(self, token: str | None) -> PersonClaims:
        if not token:
            raise Unauthenticated("A bearer token is required.", reason="TOKEN_INVALID")
        if self._ready is not None and not self._ready.wait(REVOCATIONS_WAIT_SECONDS):
            raise Unavailable(
                "Access checks are not ready yet; try again shortly.",
                reason="REVOCATIONS_UNAVAILABLE",
            )
        return self._verifier.verify_person(token, issuer=self._issuer, audience=self._audience)


class AuthInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, authenticator: Authenticator) -> None:
        self._auth = authenticator

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        if details.method in PUBLIC_GRPC_METHODS:
            return continuation(details)
        try:
            self._auth.verify(bearer_token(details.invocation_metadata))
        except DomainError as exc:
            locale = metadata_value(details.invocation_metadata, "accept-language") or "en"
            return _refuse(to_status(exc, locale))
        return continuation(details)


def _refuse(status: grpc.Status) -> grpc.RpcMethodHandler:
    def abort(request: Any, context: grpc.ServicerContext) -> None:
        context.abort_with_status(status)

    return grpc.unary_unary_rpc_method_handler(abort)
