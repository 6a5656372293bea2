"""`make run`: set up, start every process of the Procfile under honcho, print where to connect.

Ctrl-C reaches honcho (same process group), which stops the services and the gateway; the `db`
process stops PostgreSQL only once its clients have gone (smart shutdown), so the database is last.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.kernel.config import Settings, settings

from . import processes as all_processes
from .cli import banner, setup

ROOT = Path(__file__).resolve().parents[1]


def wait_until_serving(address: str, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with grpc.insecure_channel(address) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return True
        except grpc.RpcError:
            pass
        time.sleep(0.5)
    return False


def taken(address: str) -> bool:
    """Whether something already listens on `address` (host:port). gRPC servers listen with
    SO_REUSEPORT, so a second gateway would share the port with the first and clients would
    reach either: a plain bind (SO_REUSEADDR only, which TIME_WAIT leftovers do not refuse)
    tells."""
    host, _, port = address.rpartition(":")
    family, kind, proto, _, where = socket.getaddrinfo(
        host.strip("[]") or "0.0.0.0", int(port), type=socket.SOCK_STREAM
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(where)
        except OSError:
            return True
    return False


def busy_ports(config: Settings, metrics: dict[str, int] | None = None) -> list[str]:
    """One line per address `make run` would listen on that is taken, saying which setting
    (`metrics`: each process's metrics port, from `metrics_ports`)."""
    listens = [
        (config.gateway_address, "the gRPC gateway", "ECOACH_GATEWAY_ADDRESS"),
        (config.web_address, "the web pages", "ECOACH_WEB_ADDRESS"),
    ]
    listens += [
        (f"{config.metrics_host}:{port}", f"{name}'s metrics", "ECOACH_METRICS_PORT")
        for name, port in (metrics or {}).items()
    ]
    return [
        f"  {address} ({what}, {variable}) is already in use"
        for address, what, variable in listens
        if taken(address)
    ]


def processes() -> list[str]:
    """The Procfile's processes this run starts: every registered service, then the doors, after
    the database's own process unless ECOACH_DATABASE_URL names a server."""
    names = all_processes.names()
    if not settings().database_url:
        names.insert(0, all_processes.DATABASE)
    return names


def metrics_ports(config: Settings, names: list[str]) -> dict[str, int]:
    """The port each process serves `/metrics` on when `ECOACH_METRICS_PORT` is set for the run:
    that one for the first process, the next ones for the others, in the Procfile's order (the
    database's own process has none). Empty when it is 0 (the default: no metrics)."""
    if not config.metrics_port:
        return {}
    served = [name for name in names if name != all_processes.DATABASE]
    return {name: config.metrics_port + i for i, name in enumerate(served)}


def procfile(config: Settings, ports: dict[str, int]) -> Path:
    """The Procfile honcho runs: the checked-in one, or, with metrics on, a copy under var/ whose
    lines give each process its own `ECOACH_METRICS_PORT` (one port for all would stop every
    process but the first: docs/operations/metrics.md)."""
    source = ROOT / "Procfile"
    if not ports:
        return source
    lines = []
    for line in source.read_text().splitlines():
        name, colon, command = line.partition(":")
        if colon and name in ports:
            line = f"{name}: ECOACH_METRICS_PORT={ports[name]}{command}"
        lines.append(line)
    target = ROOT / config.var_dir / "run" / "Procfile"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n")
    return target


def demo_space(config: Settings) -> None:
    """The demo coachee's space (a goal, a shared note, a booked session), then a space for each
    coachee of the demo cohort, once, through the gateway (ecoach_dev/demo_space.py); outside
    production only, like the demo accounts."""
    if config.env == "production":
        return
    from services.identity.seed import DEMO_ACCOUNTS, DEMO_COHORT, DEMO_TENANT_SLUG

    from .demo_space import seed_demo_cohort, seed_demo_space

    accounts = {a.role: (a.email, a.password) for a in DEMO_ACCOUNTS}
    channel = grpc.insecure_channel(config.gateway_address)
    try:
        created = seed_demo_space(channel, DEMO_TENANT_SLUG, accounts["coach"], accounts["coachee"])
        print(
            "ecoach: the demo coachee's space "
            + ("is made (a goal, a shared note, a booked session)" if created else "is there"),
            flush=True,
        )
        made = seed_demo_cohort(
            channel,
            DEMO_TENANT_SLUG,
            accounts["tenant_admin"],
            accounts["coach"],
            tuple(a.email for a in DEMO_COHORT),
        )
        print(
            f"ecoach: HR's demo cohort: {len(DEMO_COHORT) + 1} coachees in Sales and Support, "
            + (f"{made} spaces opened" if made else "their spaces are there")
            + " (sign in as the HR admin, then Reports)",
            flush=True,
        )
    except grpc.RpcError as exc:
        print(f"ecoach: the demo spaces could not be made: {exc.details()}", flush=True)  # type: ignore[attr-defined]
    finally:
        channel.close()


def main() -> int:
    config = settings()
    started = processes()
    ports = metrics_ports(config, started)
    busy = busy_ports(config, ports)
    if busy:  # else this run would print a banner for, and talk to, whatever listens there
        print(
            "ecoach: not starting, a port is taken (another `make run`, or another program):\n"
            + "\n".join(busy)
            + "\nStop it, or choose free addresses, e.g. "
            "ECOACH_GATEWAY_ADDRESS=127.0.0.1:50061 ECOACH_WEB_ADDRESS=127.0.0.1:8081 make run",
            file=sys.stderr,
            flush=True,
        )
        return 1
    setup(config)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONWARNINGS="ignore::DeprecationWarning")
    # The web process calls the gateway from the loopback: the gateway believes the browser's
    # address it forwards, so sign-in throttling and history see the person, not the web.
    env.setdefault("ECOACH_TRUSTED_PROXIES", "127.0.0.1,::1")
    honcho = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "honcho",
            "-f",
            str(procfile(config, ports)),
            "-d",
            str(ROOT),
            "start",
            *started,
        ],
        env=env,
    )
    # The terminal sends Ctrl-C to honcho too; we only wait for it to finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if wait_until_serving(config.gateway_address):
        banner(config)
        if ports:
            print(
                f"ecoach: Prometheus metrics on {config.metrics_host}: "
                + ", ".join(f"{name} :{port}/metrics" for name, port in ports.items()),
                flush=True,
            )
        demo_space(config)
    elif honcho.poll() is None:
        print("ecoach: the gateway is not SERVING yet; see the logs above.", flush=True)
    return honcho.wait()


if __name__ == "__main__":
    sys.exit(main())
