"""A whole deployment as subprocesses (services and gateway), for end-to-end tests and benchmarks.

Fresh databases per run, a free port for the gateway, its own var folder (keys, test clock).
Services can be stopped and started again to test faults.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.kernel.config import Settings
from services.kernel.runtime.migrations import drop_database, drop_role
from services.kernel.tokens import load_or_create_service_key

from . import broker, processes
from .cli import (
    BROKER_CLIENTS,
    SERVICES,
    ServiceSpec,
    ensure_broker_users,
    ensure_keys,
    migrate_service,
    spec,
)

ROOT = Path(__file__).resolve().parents[1]


def service_command(service: ServiceSpec) -> list[str]:
    return [sys.executable, "-m", processes.SERVICE_RUNNER, service.module]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_prefix() -> str:
    return f"ectest_{secrets.token_hex(4)}"


class Deployment:
    """`amqp_uri` is the broker; the deployment runs in a virtual host of its own on it."""

    def __init__(
        self,
        var_dir: Path,
        database_url: str | None = None,
        amqp_uri: str | None = None,
        *,
        extra_services: tuple[ServiceSpec, ...] = (),
        env: dict[str, str] | None = None,
        hold: tuple[str, ...] = (),
        relay_via: str | None = None,
    ) -> None:
        """`hold`: processes migrated but not started by `start()` (start them later).
        `relay_via`: a host:port the relays reach the broker through (a test's proxy)."""
        self.hold = hold
        self.relay_via = relay_via
        self.var_dir = var_dir
        self.services = (*(spec(name) for name in SERVICES), *extra_services)
        self.commands = {s.name: service_command(s) for s in self.services}
        self.commands.update({door: processes.command(door) for door in processes.DOORS})
        self.address = f"127.0.0.1:{free_port()}"
        self.web_address = f"127.0.0.1:{free_port()}"
        self.broker_uri = amqp_uri or Settings().amqp_uri
        self.vhost = f"ecoach-test-{secrets.token_hex(4)}"
        self.amqp_uri = self.broker_uri  # set to the vhost's URI by start()
        self.env = dict(os.environ)
        self.env.update(
            ECOACH_ENV="test",
            ECOACH_VAR_DIR=str(var_dir),
            ECOACH_DATABASE_PREFIX=fresh_prefix(),
            ECOACH_GATEWAY_ADDRESS=self.address,
            ECOACH_WEB_ADDRESS=self.web_address,
            ECOACH_PUBLIC_URL=f"http://{self.web_address}",
            PYTHONWARNINGS="ignore::DeprecationWarning",
            PYTHONUNBUFFERED="1",
            # The web process calls the gateway from the loopback: the gateway believes the
            # browser's address it forwards (sign-in throttling and history see the person).
            ECOACH_TRUSTED_PROXIES="127.0.0.1,::1",
            # The library's links are checked within a test's patience.
            ECOACH_LINK_CHECK_SWEEP_SECONDS="2",
            # xAPI statements reach a test's LRS within a second.
            ECOACH_XAPI_PUSH_SECONDS="1",
            # Tools whose date came unlock, and their mails leave, within a second.
            ECOACH_TOOLBOX_SWEEP_SECONDS="0.5",
            # A digest every few seconds, its webhook deliveries sent within a second.
            ECOACH_REPORTING_DIGEST_SECONDS="5",
            ECOACH_WEBHOOK_DELIVERY_SECONDS="0.5",
        )
        self.env.update(env or {})
        if database_url:
            self.env["ECOACH_DATABASE_URL"] = database_url
        self.config = Settings(
            env="test",
            var_dir=var_dir,
            database_url=self.env.get("ECOACH_DATABASE_URL"),
            database_prefix=self.env["ECOACH_DATABASE_PREFIX"],
            gateway_address=self.address,
            **{
                k.removeprefix("ECOACH_").lower(): v
                for k, v in (env or {}).items()
                if k.startswith("ECOACH_")
            },
        )
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        # Each process's /metrics port (ECOACH_METRICS_PORT), a free one per start.
        self.metrics_ports: dict[str, int] = {}

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Deployment:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.amqp_uri = broker.create_vhost(self.broker_uri, self.vhost)
        self.env["ECOACH_AMQP_URI"] = self.amqp_uri
        self.config = self.config.model_copy(update={"amqp_uri": self.amqp_uri})
        if self.relay_via:
            parts = urlsplit(self.amqp_uri)
            netloc = parts.netloc.rsplit("@", 1)
            creds = netloc[0] + "@" if len(netloc) == 2 else ""
            self.env["ECOACH_EVENTS_AMQP_URI"] = urlunsplit(
                (parts.scheme, creds + self.relay_via, parts.path, "", "")
            )
        ensure_keys(self.config)
        for service in self.services:  # test services sign service tokens too
            load_or_create_service_key(self.config.keys_path, service.name)
            migrate_service(service, self.config)
        # Each process connects as its own broker user, as outside development (README, Events).
        ensure_broker_users(self.config, self.services)
        for name in self.commands:
            if name not in self.hold:
                self.start_process(name)
        self.wait_serving()
        return self

    def start_instance(
        self, service: str, instance: str, env: dict[str, str] | None = None
    ) -> None:
        """Another process of `service`, known as `instance` (its log is `<instance>.log`),
        with `env` over the deployment's environment (a second gateway on another port, say)."""
        self.commands[instance] = self.commands[service]
        self.start_process(instance, env)

    def start_process(self, name: str, env: dict[str, str] | None = None) -> None:
        log = self.var_dir / f"{name}.log"
        self.logs[name] = log
        self.metrics_ports[name] = free_port()
        with open(log, "ab") as out:
            self.procs[name] = subprocess.Popen(
                self.commands[name],
                cwd=ROOT,
                env={
                    **self.env,
                    "ECOACH_METRICS_PORT": str(self.metrics_ports[name]),
                    **(env or {}),
                },
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop_process(self, name: str, timeout: float = 15.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill_process(self, name: str) -> None:
        """SIGKILL, as a crash or the kernel's OOM killer would: no drain, no goodbye to the
        broker or the database (the fault tests)."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.kill()
        proc.wait()

    def restart_process(self, name: str) -> None:
        """Start `name` again (after `kill_process` or `stop_process`), with the environment of
        the deployment."""
        if name in self.procs and self.procs[name].poll() is None:
            raise RuntimeError(f"{name} still runs")
        self.start_process(name)

    def stop_all(self, timeout: float = 15.0) -> None:
        """SIGTERM to every process at once, then wait for each (killed after `timeout`): each
        drains on its own, so a deployment stops in the time of its slowest process, not the
        sum of them (seven one after the other took ~16 s per test deployment)."""
        procs = {name: proc for name, proc in self.procs.items() if proc.poll() is None}
        self.procs.clear()
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs.values():
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        self.stop_all()
        for service in self.services:
            drop_database(self.config.server_url(), self.config.database_name(service.name))
            if self.config.database_users:
                drop_role(self.config.server_url(), self.config.database_name(service.name))
        broker.delete_process_users(
            self.amqp_uri,
            self.config.keys_path,
            [*(s.name for s in self.services), *BROKER_CLIENTS],
        )
        broker.delete_vhost(self.broker_uri, self.vhost)

    def health(self, service: str = "", timeout: float = 1.0, address: str = "") -> int:
        with grpc.insecure_channel(address or self.address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
            return int(reply.status)

    def wait_serving(self, service: str = "", timeout: float = 60.0, address: str = "") -> None:
        """Until the gateway at `address` (the deployment's own by default) says `service` (all
        by default) is serving."""
        self.wait_health(service, health_pb2.HealthCheckResponse.SERVING, timeout, address)

    def wait_health(
        self, service: str, status: int, timeout: float = 60.0, address: str = ""
    ) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.tail(name)}")
            try:
                last = self.health(service, address=address)
                if last == status:
                    return
            except grpc.RpcError as exc:
                last = exc.code()
            time.sleep(0.2)
        raise TimeoutError(
            f"health of {service or 'all'} stayed {last}; gateway log:\n{self.tail('gateway')}"
        )

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs.get(name)
        if not path or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def metrics_url(self, name: str) -> str:
        """Where the process `name` serves its Prometheus metrics."""
        return f"http://127.0.0.1:{self.metrics_ports[name]}/metrics"

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.address)
