"""grpc.health.v1 that reports each downstream service, not only the gateway itself.

A background thread pings every service (`<service>.ping`, public, short deadline). The service
name `identity` (and so on) is SERVING while its ping answers; the overall status "" is SERVING
only while every downstream service is and the gateway's own readiness checks (its revocation
feed) hold.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from grpc_health.v1 import health, health_pb2

from services.contracts.base import Empty, Method, PingResponse
from services.kernel.errors import DomainError

from .rpc_client import RpcClient

log = logging.getLogger(__name__)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class DownstreamHealth:
    def __init__(
        self,
        rpc: RpcClient,
        servicer: health.HealthServicer,
        pings: Sequence[Method[Empty, PingResponse]],
        *,
        interval: float,
        probe_timeout: float,
        ready: threading.Event | None = None,
    ) -> None:
        self._rpc = rpc
        self._ready = ready
        self._servicer = servicer
        self._pings = tuple(pings)
        services = tuple(ping.service for ping in self._pings)
        self._interval = interval
        self._probe_timeout = probe_timeout
        self._stop = threading.Event()
        self.status: dict[str, int] = {s: NOT_SERVING for s in services}
        # grpc's HealthServicer says SERVING for "" until told otherwise: not before we know.
        for service in ("", *services):
            servicer.set(service, NOT_SERVING)
        self._thread = threading.Thread(target=self._run, name="health", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def probe_once(self) -> None:
        for ping in self._pings:
            service = ping.service
            try:
                self._rpc.call_method(ping, Empty(), timeout=self._probe_timeout)
                status = SERVING
            except DomainError:
                status = NOT_SERVING
            if status != self.status.get(service):
                log.info(
                    "downstream %s is %s",
                    service,
                    "SERVING" if status == SERVING else "NOT_SERVING",
                )
            self.status[service] = status
            self._servicer.set(service, status)
        everyone = all(s == SERVING for s in self.status.values())
        ready = self._ready is None or self._ready.is_set()
        overall = SERVING if everyone and ready else NOT_SERVING
        self._servicer.set("", overall)

    def _run(self) -> None:
        while True:
            self.probe_once()
            if self._stop.wait(self._interval):
                return
