"""Nested RPCs from inside a service, always with a deadline (the remaining one of the request).

    class SpacesService:
        rpc_identity = ServiceRpc("identity")

        ... self.rpc_identity.call(IdentityApi.get_member, MemberRef(...))  # the person's token
        ... self.rpc_identity.call(IdentityApi.contact_details, request, as_service=True)  # ours

A call names the method by its contract table (`services/contracts/<service>.py`), sends the
request contract's JSON and reads the reply back into the response contract.

The request is published non-persistent with the remaining deadline as its expiration, and the
`deadline` header travels on, so the callee refuses it once it is late; we wait no longer than
the deadline either.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any, TypeVar

import eventlet
from nameko.exceptions import RemoteError, UnknownService
from nameko.rpc import MethodProxy, RpcProxy
from pydantic import BaseModel

from services.contracts.base import Method
from services.contracts.identity import ContactDetails, ContactDetailsRequest, IdentityApi

from .. import context, tracing
from ..clock import clock_for
from ..config import settings
from ..errors import DeadlineExceeded, Unavailable, from_remote
from ..tokens import SigningKey, issue_service_token, load_or_create_service_key
from .errors_wire import register_domain_errors

NON_PERSISTENT = 1
Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)
register_domain_errors()


class _MethodCall(MethodProxy):  # type: ignore[misc]
    def __init__(self, *args: Any, authorization: str | None, **options: Any) -> None:
        self._authorization = authorization
        super().__init__(*args, **options)

    def get_message_headers(self, worker_ctx: Any) -> dict[str, Any]:
        headers: dict[str, Any] = super().get_message_headers(worker_ctx)
        for own in (context.DELIVERY, context.REDELIVERED):  # this worker's call, not the next's
            headers.pop(self._get_header_name(own), None)
        if self._authorization is not None:
            headers[self._get_header_name(context.AUTHORIZATION)] = self._authorization
        traceparent = tracing.current_traceparent()
        if traceparent is not None:  # this call's span, not the one the worker was called from
            headers[self._get_header_name(tracing.TRACEPARENT)] = traceparent
        return headers


class BoundServiceRpc:
    def __init__(self, provider: ServiceRpc, worker_ctx: Any) -> None:
        self._provider = provider
        self._worker_ctx = worker_ctx

    def call(self, method: Method[Req, Resp], request: Req, *, as_service: bool = False) -> Resp:
        if method.service != self._provider.target_service:
            raise TypeError(f"{method!r} is not served by {self._provider.target_service}")
        service = self._provider.target_service
        with tracing.span(
            f"{service}.{method.name}",
            tracing.SpanKind.CLIENT,
            {"rpc.system": "nameko", "rpc.service": service, "rpc.method": method.name},
        ):
            return method.reply(self._send(method.name, method.payload(request), as_service))

    def _send(self, method: str, payload: dict[str, Any], as_service: bool) -> Any:
        config = settings()
        data = self._worker_ctx.data
        if data.get(context.DEADLINE) is None:
            # A timer or event handler starts its own budget; it travels on from here.
            data[context.DEADLINE] = time.time() + config.rpc_timeout_seconds
        remaining = context.remaining_seconds(float(data[context.DEADLINE]), 0.0)
        if remaining <= 0:
            raise DeadlineExceeded("No time was left for a nested call.", reason="DEADLINE_PASSED")
        proxy = _MethodCall(
            self._worker_ctx,
            self._provider.target_service,
            method,
            self._provider.rpc_reply_listener,
            authorization=self._provider.service_token() if as_service else None,
            expiration=remaining,
            delivery_mode=NON_PERSISTENT,
        )
        try:
            reply = proxy.call_async(payload)
        except UnknownService:
            raise Unavailable(
                f"{self._provider.target_service} is not running.", reason="SERVICE_UNAVAILABLE"
            ) from None
        with eventlet.Timeout(remaining, False):
            try:
                return reply.result()
            except RemoteError as exc:  # not one of ours: never echo its text
                raise from_remote({"exc_type": exc.exc_type}) from None
        raise DeadlineExceeded(
            f"{self._provider.target_service}.{method} did not answer in time.",
            reason="DEADLINE_EXCEEDED",
        )


class ServiceRpc(RpcProxy):  # type: ignore[misc]
    def setup(self) -> None:
        config = settings()
        self._clock = clock_for(config.env, config.test_clock_path)
        self._key: SigningKey = load_or_create_service_key(
            config.keys_path, self.container.service_name
        )
        self._ttl = timedelta(seconds=config.service_token_ttl_seconds)
        self._cached: tuple[str, datetime] | None = None

    def service_token(self) -> str:
        """A token for the target, reused for half its life. Its life is counted on the clock
        it was issued by (the one the target verifies with), so a clock that jumps (a test's,
        or a stepped system clock) gets a fresh token rather than one the target refuses."""
        now = self._clock.now()
        cached = self._cached
        if cached is None or not cached[1] - self._ttl / 2 <= now < cached[1]:
            token = issue_service_token(
                self._key,
                service=self.container.service_name,
                audience=self.target_service,
                clock=self._clock,
                ttl=self._ttl,
            )
            cached = self._cached = (token, now + self._ttl / 2)
        return cached[0]

    def get_dependency(self, worker_ctx: Any) -> BoundServiceRpc:
        return BoundServiceRpc(self, worker_ctx)


def contacts_of(identity: BoundServiceRpc, person_ids: list[str]) -> list[ContactDetails]:
    """People's contact details (address, name, language, zone), asked of identity as the
    calling service, for the mails it sends; erased or unknown people are absent."""
    answer = identity.call(
        IdentityApi.contact_details, ContactDetailsRequest(person_ids=person_ids), as_service=True
    )
    return answer.people
