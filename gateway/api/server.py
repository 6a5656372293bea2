"""The gRPC gateway process: `python -m gateway.api.server`.

A plain thread-pooled grpcio server (never under eventlet), with the authentication
interceptor, health per downstream service, and server reflection.
"""

from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.contracts.base import Empty, Method, PingResponse, api_of
from services.contracts.identity import IdentityApi
from services.kernel.clock import clock_for
from services.kernel.config import Settings, settings
from services.kernel.context import AUTHORIZATION
from services.kernel.logs import configure
from services.kernel.metrics import serve_metrics
from services.kernel.registry import SERVICE_NAMES
from services.kernel.revocations import RevocationFeed, RevocationList, fetch_from_identity
from services.kernel.tokens import LEEWAY, ServicePublicKeys, load_or_create_service_key
from services.kernel.tracing import configure_tracing, shutdown_tracing

from . import assessment, content, identity, reporting, scheduling, spaces
from .auth import Authenticator, AuthInterceptor
from .feed_limits import FeedLimiter
from .health import DownstreamHealth
from .malformed import MalformedRequestInterceptor
from .metrics_interceptor import MetricsInterceptor
from .peers import Network, parse_proxies
from .rpc_client import RpcClient

log = logging.getLogger("gateway.api")

FETCH_TIMEOUT_SECONDS = 2.0

# Every service the gateway reaches (the kernel's registry); health reports each of them.
DOWNSTREAM = SERVICE_NAMES
# Each one's ping, from its method table (a service registered without one fails here, at import).
DOWNSTREAM_PINGS: tuple[Method[Empty, PingResponse], ...] = tuple(
    api_of(service).methods()["ping"] for service in DOWNSTREAM
)


@dataclass
class Backend:
    rpc: RpcClient
    auth: Authenticator
    default_timeout: float
    trusted_proxies: tuple[Network, ...] = ()
    # The public calendar feed's limits (the web gateway's too): per feed and client address.
    feed_limiter: FeedLimiter = field(default_factory=lambda: FeedLimiter(60, 600))


class Gateway:
    def __init__(self, config: Settings) -> None:
        self.config = config
        self.rpc = RpcClient(config.broker_uri("gateway")).start()
        clock = clock_for(config.env, config.test_clock_path)

        def fetch_keys() -> list[dict[str, Any]]:
            answer = self.rpc.call_method(
                IdentityApi.get_signing_keys, Empty(), timeout=config.rpc_timeout_seconds
            )
            return answer.keys

        self.revocations = RevocationList(
            clock, timedelta(seconds=config.access_token_ttl_seconds) + LEEWAY
        )

        def ask(payload: dict[str, Any], token: str) -> dict[str, Any]:
            method = IdentityApi.list_access_revocations
            answer = self.rpc.call_method(
                method,
                method.build(**payload),
                timeout=FETCH_TIMEOUT_SECONDS,  # short: the feed retries until identity answers
                context={AUTHORIZATION: token},
            )
            return answer.model_dump()

        fetch_revocations = fetch_from_identity(
            ask, load_or_create_service_key(config.keys_path, "gateway"), "gateway", clock
        )
        self.feed = RevocationFeed(
            config.broker_uri("gateway"),
            self.revocations,
            fetch_revocations,
            name="gateway",
            public_key=ServicePublicKeys(lambda: config.keys_path).public_key,
        )
        self.auth = Authenticator(
            fetch_keys,
            clock,
            config.token_issuer,
            config.token_audience,
            revocations=self.revocations,
            ready=self.feed.ready,
            keys_max_age=config.signing_keys_refresh_seconds,
        )
        self.backend = Backend(
            self.rpc,
            self.auth,
            config.rpc_timeout_seconds,
            parse_proxies(config.trusted_proxies),
            FeedLimiter(config.feed_requests_per_hour, config.feed_requests_per_address_hour),
        )
        self.server = grpc.server(
            ThreadPoolExecutor(max_workers=config.gateway_threads, thread_name_prefix="grpc"),
            interceptors=[
                MetricsInterceptor(),  # outermost: refusals are counted too
                AuthInterceptor(self.auth),
                MalformedRequestInterceptor(),
            ],
            # grpcio shares a port between servers by default (SO_REUSEPORT): a second gateway
            # on a taken address would start and take some of the first one's clients.
            options=[("grpc.so_reuseport", 0)],
        )
        names = identity.add_to_server(self.server, self.backend)
        names += spaces.add_to_server(self.server, self.backend)
        names += scheduling.add_to_server(self.server, self.backend)
        names += assessment.add_to_server(self.server, self.backend)
        names += content.add_to_server(self.server, self.backend)
        names += reporting.add_to_server(self.server, self.backend)
        self.health_servicer = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health_servicer, self.server)
        self.health = DownstreamHealth(
            self.rpc,
            self.health_servicer,
            DOWNSTREAM_PINGS,
            interval=config.health_interval_seconds,
            probe_timeout=config.health_probe_timeout_seconds,
            ready=self.feed.ready,
        )
        reflection.enable_server_reflection(
            (
                *names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            self.server,
        )
        try:
            self.port = self.server.add_insecure_port(config.gateway_address)
        except RuntimeError:  # grpcio raises when the address is taken
            self.port = 0
        if self.port == 0:
            raise SystemExit(
                f"gateway: cannot listen on {config.gateway_address} (ECOACH_GATEWAY_ADDRESS): "
                "is another gateway running there?"
            )

    def start(self) -> Gateway:
        self.feed.start(wait=None)  # person tokens wait for it (Authenticator)
        self.server.start()
        self.health.start()
        log.info("gRPC gateway listening on %s", self.config.gateway_address)
        return self

    def stop(self, grace: float = 5.0) -> None:
        self.health.stop()
        self.server.stop(grace).wait()
        self.feed.stop()
        self.rpc.close()


def main() -> int:
    config = settings()
    configure("gateway", config.log_level)
    serve_metrics(config.metrics_port, config.metrics_host, "gateway")
    configure_tracing("gateway")
    gateway = Gateway(config).start()
    stopped = threading.Event()

    def shutdown(signum: int, frame: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    stopped.wait()
    # No request outlives the RPC deadline: waiting that long lets every one in flight finish.
    gateway.stop(grace=config.rpc_timeout_seconds)
    shutdown_tracing()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
