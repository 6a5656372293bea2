"""The gateway's per-call context: a token revoked between the interceptor's check and the
handler's is refused with the verifier's own reason (TOKEN_REVOKED tells an app to refresh or
sign in again), not a generic TOKEN_INVALID. Seen once in a full run of the account tests."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from gateway.api.calls import CallContext
from services.kernel.errors import DomainError, Unauthenticated


class RevokedMeanwhile:
    def verify(self, token: str | None) -> Any:
        raise Unauthenticated("This access was withdrawn.", reason="TOKEN_REVOKED")


class Context:
    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", "Bearer a.b.c"),)

    def peer(self) -> str:
        return "ipv4:127.0.0.1:5000"

    def time_remaining(self) -> float:
        return 5.0


def test_a_token_revoked_after_the_interceptor_is_refused_with_the_verifiers_reason() -> None:
    backend = SimpleNamespace(
        rpc=None, auth=RevokedMeanwhile(), default_timeout=5.0, trusted_proxies=()
    )
    call = CallContext(backend, Context())  # type: ignore[arg-type]
    with pytest.raises(DomainError) as refused:
        _ = call.person
    assert refused.value.reason == "TOKEN_REVOKED"
    assert call.token is None  # never forwarded
