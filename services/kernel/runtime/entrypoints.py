"""RPC entrypoints that authenticate, validate and translate errors in one place (rules 2, 5, 6).

    class IdentityService:
        name = "identity"
        auth = Authentication()

        @rpc
        def get_member(self, caller: Caller, request: MemberRef) -> Member: ...

        @rpc(public=True)             # must also be in kernel.public_methods
        def sign_in(self, caller: Caller, request: SignInRequest) -> SignInResponse: ...

        @rpc(services=("scheduling",))  # scheduling's service token only: people are refused
        def contact_details(self, caller: Caller, request: ...) -> ...: ...

        @rpc(services=("spaces",), people=True)  # spaces' service token, or a person's token
        def get_space_summary(self, caller: Caller, request: ...) -> ...: ...

Every method receives one JSON object, validated against the contract annotated on `request`,
and returns the contract's JSON. A request whose deadline has passed is refused before anything
runs. Any exception that is not a DomainError becomes Internal, without its text.
"""

from __future__ import annotations

import functools
import logging
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from nameko.extensions import DependencyProvider
from pydantic import BaseModel, ValidationError

from .. import context, metrics, tracing
from ..caller import ANONYMOUS, Caller, ServiceClaims
from ..clock import Clock, clock_for
from ..config import settings
from ..errors import (
    DeadlineExceeded,
    DomainError,
    Internal,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from ..public_methods import is_public
from ..revocations import Fetch, RevocationFeed, RevocationList, fetch_from_identity
from ..tokens import (
    LEEWAY,
    KeySource,
    ServicePublicKeys,
    StaticKeys,
    TokenVerifier,
    key_id,
    load_or_create_service_key,
    load_service_public_keys,
)
from ..validation import INCOMING, validation_error
from . import receipts
from .replies import ReplyTolerantRpc, use_fast_replies
from .sql import WorkerDatabase

log = logging.getLogger(__name__)
use_fast_replies()

KeySourceFactory = Callable[[Any], KeySource]
RevocationSourceFactory = Callable[[Any], Fetch]
REVOCATIONS_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class RpcMeta:
    public: bool
    services: tuple[str, ...]
    quiet: bool = False
    people: bool = True

    @property
    def services_only(self) -> bool:
        """A method for services only: a person's token is refused before the handler runs,
        since such a handler does not authorise people (it trusts its caller to be a service)."""
        return not self.people


class WorkerAuth:
    """What one worker knows about its request: context data and how to resolve the caller."""

    def __init__(self, provider: Authentication, worker_ctx: Any) -> None:
        self._provider = provider
        data = worker_ctx.data
        self.request_id: str | None = data.get(context.REQUEST_ID)
        raw_deadline = data.get(context.DEADLINE)
        self.deadline: float | None = float(raw_deadline) if raw_deadline is not None else None
        self._token: str | None = data.get(context.AUTHORIZATION)
        self.locale: str = str(data.get(context.LOCALE) or "en")
        self.client_address: str = str(data.get(context.CLIENT_ADDRESS) or "")
        self.traceparent: Any = data.get(tracing.TRACEPARENT)
        # From the AMQP message itself (replies.ReplyTolerantRpc), for receipts.py.
        delivery = data.get(context.DELIVERY)
        self.delivery: str | None = str(delivery)[:64] if delivery else None
        self.redelivered: bool = data.get(context.REDELIVERED) is True

    def resolve(self, meta: RpcMeta) -> Caller:
        if meta.public:
            return ANONYMOUS  # a public method authenticates by its own secret
        if not self._token:
            raise Unauthenticated("A bearer token is required.", reason="TOKEN_INVALID")
        caller = self._provider.verify(self._token, meta)
        if meta.services_only and not isinstance(caller, ServiceClaims):
            raise PermissionDenied(
                "This method serves other services only, not people.", reason="SERVICES_ONLY"
            )
        return caller


# `@rpc(services=ANY_SERVICE)`: any service of the deployment (and the gateway) may call it.
ANY_SERVICE = ("*",)


class Authentication(DependencyProvider):  # type: ignore[misc]
    """The caller dependency of rule 5: person tokens, service tokens, public methods, and the
    process's revocation list (fed by the `identity.access_revoked` broadcast)."""

    def __init__(
        self,
        key_source: KeySourceFactory | None = None,
        revocation_source: RevocationSourceFactory | None = None,
    ) -> None:
        self._key_source_factory = key_source
        self._revocation_source_factory = revocation_source

    def setup(self) -> None:
        config = settings()
        self.service_name: str = self.container.service_name
        self.clock: Clock = clock_for(config.env, config.test_clock_path)
        self.issuer = config.token_issuer
        self.audience = config.token_audience
        factory = self._key_source_factory or remote_signing_keys
        self.revocations = RevocationList(
            self.clock, timedelta(seconds=config.access_token_ttl_seconds) + LEEWAY
        )
        self.person_verifier = TokenVerifier(
            _Lazy(lambda: factory(self.container)), self.clock, revocations=self.revocations
        )
        fetch_factory = self._revocation_source_factory or remote_revocations
        self.service_public = load_service_public_keys(config.keys_path)
        self.feed = RevocationFeed(
            self.container.config.get("AMQP_URI") or config.amqp_uri,
            self.revocations,
            fetch_factory(self.container),
            name=self.service_name,
            public_key=ServicePublicKeys(lambda: config.keys_path).public_key,
        )
        service_keys = StaticKeys()
        for public in self.service_public.values():
            service_keys.add(public)
        self.service_verifier = TokenVerifier(service_keys, self.clock)
        check_public_registry(self.container)

    def start(self) -> None:
        self.feed.start(wait=None)  # in its own (green) thread; person tokens wait for it

    def stop(self) -> None:
        self.feed.stop()

    def kill(self) -> None:
        self.feed.stop()

    def get_dependency(self, worker_ctx: Any) -> WorkerAuth:
        return WorkerAuth(self, worker_ctx)

    def _await_revocations(self) -> None:
        """No person token is accepted before the recent revocations are loaded (rule 5)."""
        if not self.feed.ready.is_set() and not self.feed.ready.wait(REVOCATIONS_WAIT_SECONDS):
            raise Unavailable(
                "Access checks are not ready yet; try again shortly.",
                reason="REVOCATIONS_UNAVAILABLE",
            )

    def verify(self, token: str, meta: RpcMeta) -> Caller:
        if self.feed.ready.is_set():  # the fast path: a person token verified before
            known = self.person_verifier.cached_person(
                token, issuer=self.issuer, audience=self.audience
            )
            if known is not None:
                return known
        try:
            typ = jwt.decode(token, options={"verify_signature": False}).get("typ")
        except jwt.PyJWTError:
            raise Unauthenticated("The token is malformed.", reason="TOKEN_INVALID") from None
        if typ == "service":
            claims = self.service_verifier.verify_service(token, audience=self.service_name)
            own = self.service_public.get(claims.service)
            # A service signs only as itself, and only methods naming it accept it.
            allowed = meta.services == ANY_SERVICE or claims.service in meta.services
            if own is None or key_id(own) != claims.kid or not allowed:
                raise Unauthenticated(
                    "This service may not call this method.", reason="TOKEN_INVALID"
                )
            return claims
        self._await_revocations()
        return self.person_verifier.verify_person(token, issuer=self.issuer, audience=self.audience)


class _Lazy:
    """Builds the key source on first use: other dependencies (the database) are set up by then."""

    def __init__(self, build: Callable[[], KeySource]) -> None:
        self._build = build
        self._source: KeySource | None = None

    def public_key(self, kid: str) -> Any:
        if self._source is None:
            self._source = self._build()
        return self._source.public_key(kid)


def cluster_proxy(container: Any, **options: Any) -> Any:
    """nameko's standalone `ClusterRpcProxy`, its reply queue named after this service
    (`rpc.reply-<service>-<uuid>`, not nameko's shared `standalone_rpc_proxy`), so that the
    service's own broker user may declare and read it and no other may."""
    from nameko.standalone.rpc import ClusterRpcProxy

    class Container(ClusterRpcProxy.ServiceContainer):  # type: ignore[misc,name-defined]
        service_name = container.service_name

    class Proxy(ClusterRpcProxy):  # type: ignore[misc]
        ServiceContainer = Container

    return Proxy(container.config, **options)


def remote_signing_keys(container: Any) -> KeySource:
    """Identity's public keys over RPC (its public `get_signing_keys`), cached in the process."""
    from ..tokens import FetchedKeys

    def fetch() -> list[dict[str, Any]]:
        with cluster_proxy(container, timeout=5) as proxy:
            return list(proxy.identity.get_signing_keys({})["keys"])

    config = settings()
    return FetchedKeys(
        fetch,
        time.monotonic,
        max_age=config.signing_keys_refresh_seconds,
        clock=clock_for(config.env, config.test_clock_path),
    )


def remote_revocations(container: Any) -> Fetch:
    """Identity's recent revocations over RPC, asked with this service's own token."""
    config = settings()

    def ask(payload: dict[str, Any], token: str) -> dict[str, Any]:
        with cluster_proxy(  # short: the feed retries until identity answers
            container, timeout=2, context_data={context.AUTHORIZATION: token}
        ) as proxy:
            answer: dict[str, Any] = proxy.identity.list_access_revocations(payload)
        return answer

    return fetch_from_identity(
        ask,
        load_or_create_service_key(config.keys_path, container.service_name),
        container.service_name,
        clock_for(config.env, config.test_clock_path),
    )


def check_public_registry(container: Any) -> None:
    """A method declared public but missing from the kernel's registry stops the service."""
    for entrypoint in container.entrypoints:
        method = getattr(container.service_cls, entrypoint.method_name, None)
        meta: RpcMeta | None = getattr(method, "__ecoach_rpc__", None)
        if meta and meta.public and not is_public(container.service_name, entrypoint.method_name):
            raise RuntimeError(
                f"{container.service_name}.{entrypoint.method_name} is declared public but is not "
                "in services/kernel/public_methods.py"
            )


def _request_model(fn: Callable[..., Any]) -> type[BaseModel]:
    hints = typing.get_type_hints(fn)
    model = hints.get("request")
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{fn.__qualname__}: annotate `request` with its pydantic contract")
    return model


def rpc(
    fn: Callable[..., Any] | None = None,
    *,
    public: bool = False,
    services: tuple[str, ...] = (),
    people: bool | None = None,
    quiet: bool = False,
) -> Any:
    """`services`: the services whose service token this method accepts. Naming services makes
    the method services-only (a person's token is refused with PERMISSION_DENIED before the
    handler runs) unless `people=True` says the handler also authorises people.
    `quiet`: log successful calls at DEBUG only (health probes every few seconds)."""
    if people is not None and not services:
        raise TypeError("`people` is only meaningful with `services`: a plain @rpc serves people")

    def decorate(fn: Callable[..., Any]) -> Any:
        meta = RpcMeta(
            public=public,
            services=tuple(services),
            quiet=quiet,
            people=not services if people is None else people,
        )
        model_cache: list[type[BaseModel]] = []

        @functools.wraps(fn)
        def entrypoint(self: Any, request: Any = None) -> Any:
            auth: WorkerAuth = self.auth
            service = getattr(self, "name", "")
            with (
                context.request_scope(auth.request_id, auth.deadline),
                context.delivery_scope(auth.delivery, f"{service}.{fn.__name__}"),
                tracing.span(
                    f"{service}.{fn.__name__}",
                    tracing.SpanKind.SERVER,
                    {"rpc.system": "nameko", "rpc.service": service, "rpc.method": fn.__name__},
                    parent=tracing.parent_from(auth.traceparent),
                    within=quiet,  # a ping (quiet) outside any trace makes none
                ) as current,
            ):
                started = time.perf_counter()
                outcome = "OK"
                try:
                    return _serve(self, auth, request)
                except DomainError as exc:
                    outcome = str(exc.code)
                    raise
                except Exception:
                    outcome = "INTERNAL"  # escaped _serve's net (nameko answers it as an error)
                    raise
                finally:
                    elapsed = time.perf_counter() - started
                    if current is not None:
                        current.set_attribute("ecoach.outcome", outcome)
                    metrics.RPC_REQUESTS.labels(service, fn.__name__, outcome).inc()
                    metrics.RPC_DURATION.labels(service, fn.__name__).observe(elapsed)
                    # One line per call: the request id ties it to the gateway's line.
                    log.log(
                        logging.DEBUG if quiet and outcome == "OK" else logging.INFO,
                        "rpc %s",
                        fn.__name__,
                        extra={
                            "method": fn.__name__,
                            "outcome": outcome,
                            "ms": round(elapsed * 1000, 2),
                        },
                    )

        def _serve(self: Any, auth: WorkerAuth, request: Any) -> Any:
            if auth.deadline is not None and time.time() >= auth.deadline:
                # The caller has given up: doing the work now would surprise them.
                raise DeadlineExceeded(
                    "The request's deadline had passed.", reason="DEADLINE_PASSED"
                )
            caller = auth.resolve(meta)
            database = getattr(self, "db", None)
            if auth.redelivered and auth.delivery and isinstance(database, WorkerDatabase):
                # Delivered again (its first worker died or lost the broker before it could
                # acknowledge it): not run twice if that worker's write was committed.
                with database.read_only() as uow:
                    receipts.refuse_if_done(uow.connection, auth.delivery)
            if not model_cache:
                model_cache.append(_request_model(fn))
            try:
                parsed = model_cache[0].model_validate(
                    request if request is not None else {}, context={INCOMING: True}
                )
            except ValidationError as exc:
                raise validation_error(exc) from None
            try:
                result = fn(self, caller, parsed)
            except DomainError:
                raise
            except Exception as exc:
                log.exception("unexpected error in %s", fn.__qualname__)
                raise Internal(f"Unexpected {type(exc).__name__}.") from None
            if isinstance(result, BaseModel):
                return result.model_dump(mode="json")
            return result

        entrypoint.__ecoach_rpc__ = meta  # type: ignore[attr-defined]
        return ReplyTolerantRpc.decorator(expected_exceptions=DomainError)(entrypoint)

    if fn is not None:
        return decorate(fn)
    return decorate
