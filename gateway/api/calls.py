"""One gRPC call's context on its way to the services: token, language, request id, deadline.

`@handler` wraps every servicer method: it builds the CallContext, logs one JSON line per call,
and turns DomainErrors into gRPC statuses through the error table.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import grpc
from pydantic import BaseModel

from services.contracts.base import Method
from services.kernel import context as rc
from services.kernel.caller import PersonClaims
from services.kernel.errors import DomainError, Internal, Unauthenticated

from .auth import Authenticator, bearer_token, metadata_value
from .errors import to_status
from .feed_limits import FeedLimiter
from .peers import Network, client_address
from .rpc_client import RpcClient

log = logging.getLogger("gateway.api")

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)


class Backend(Protocol):
    rpc: RpcClient
    auth: Authenticator
    default_timeout: float
    trusted_proxies: tuple[Network, ...]
    feed_limiter: FeedLimiter


class CallContext:
    def __init__(self, backend: Backend, context: grpc.ServicerContext) -> None:
        metadata = context.invocation_metadata()
        self._rpc = backend.rpc
        self.token = bearer_token(metadata)
        self.claims: PersonClaims | None = None
        self._refused: DomainError | None = None
        if self.token:
            try:
                self.claims = backend.auth.verify(self.token)
            except DomainError as refused:
                self._refused = refused
                # Only a public method gets here with a bad token (the interceptor refused the
                # others): an app that sends its expired access token along with Refresh must
                # still refresh. The token is not forwarded.
                self.token = None
        forwarded = [v for k, v in metadata or () if k == "x-forwarded-for" and isinstance(v, str)]
        self.client_address = client_address(context.peer(), forwarded, backend.trusted_proxies)
        asked = metadata_value(metadata, "accept-language")
        self.locale = (asked or (self.claims.locale if self.claims else "") or "en")[:2].lower()
        given = metadata_value(metadata, REQUEST_ID_HEADER)
        self.request_id = given if given and _REQUEST_ID.match(given) else rc.new_request_id()
        remaining = context.time_remaining()
        budget = backend.default_timeout
        if remaining is not None:
            # Answer before the client gives up, so it hears why rather than a bare timeout.
            budget = min(budget, remaining - min(0.1, remaining * 0.1))
        self.deadline = time.time() + budget

    @property
    def person(self) -> PersonClaims:
        if self._refused is not None:  # revoked between the interceptor and here: say so
            raise self._refused
        if self.claims is None:
            raise Unauthenticated("A valid access token is required.", reason="TOKEN_INVALID")
        return self.claims

    def call(self, method: Method[Req, Resp], request: Req | None = None, /, **fields: Any) -> Resp:
        """`call(SpacesApi.get_space, tenant_id=..., space_id=...)`: the request built from the
        values (every bad one named in one INVALID_ARGUMENT), or given built; the reply read as
        the method's response contract."""
        built = request if request is not None else method.build(**fields)
        reply = self._rpc.call(
            method.service,
            method.name,
            method.payload(built),
            timeout=self.deadline - time.time(),
            context={
                rc.AUTHORIZATION: self.token,
                rc.REQUEST_ID: self.request_id,
                rc.DEADLINE: self.deadline,
                rc.LOCALE: self.locale,
                rc.CLIENT_ADDRESS: self.client_address,
            },
        )
        return method.reply(reply)

    def later(
        self, method: Method[Req, Resp], request: Req | None = None, /, **fields: Any
    ) -> Callable[[], Resp]:
        """The same call, to run in a fan-out."""
        return lambda: self.call(method, request, **fields)


class Servicer(Protocol):
    backend: Backend


def handler(
    fn: Callable[[Any, Any, CallContext], Any],
) -> Callable[[Any, Any, grpc.ServicerContext], Any]:
    @functools.wraps(fn)
    def serve(self: Servicer, request: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        outcome = "OK"
        call: CallContext | None = None
        failure: DomainError | None = None
        try:
            call = CallContext(self.backend, context)
            # Trailing, not initial, metadata: it rides with the status, costing no extra frame.
            context.set_trailing_metadata(((REQUEST_ID_HEADER, call.request_id),))
            with rc.request_scope(call.request_id, call.deadline):
                return fn(self, request, call)
        except DomainError as exc:
            failure = exc
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            failure = Internal("Unexpected error in the gateway.")
        finally:
            if failure is not None:
                outcome = str(failure.code)
            log.info(
                "grpc %s",
                fn.__name__,
                extra={
                    "method": fn.__name__,
                    "outcome": outcome,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "request_id": call.request_id if call else None,
                },
            )
        assert failure is not None
        locale = call.locale if call else "en"
        extra = ((REQUEST_ID_HEADER, call.request_id),) if call else ()
        context.abort_with_status(to_status(failure, locale, extra))

    return serve
