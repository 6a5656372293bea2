"""Authentication at the door: every call but the public ones needs a valid access token.

The gateway verifies the token (so forged or expired ones never reach a service) and forwards it
unchanged; each service verifies it again and authorises on the person (rule 5). Nothing a client
sends can make it "system": only the bearer token is read, any other claim is ignored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc

from services.kernel.caller import PersonClaims
from services.kernel.clock import Clock
from services.kernel.errors import DomainError, Unauthenticated
from services.kernel.tokens import FetchedKeys, TokenVerifier

from .errors import to_status

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
    """Verifies access tokens with identity's public keys (the verifier remembers valid ones)."""

    def __init__(
        self,
        fetch_keys: Callable[[], list[dict[str, Any]]],
        clock: Clock,
        issuer: str,
        audience: str,
    ) -> None:
        self._verifier = TokenVerifier(FetchedKeys(fetch_keys, time.monotonic), clock)
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str | None) -> PersonClaims:
        if not token:
            raise Unauthenticated("A bearer token is required.", reason="TOKEN_INVALID")
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
