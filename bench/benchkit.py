"""What every `make bench` benchmark shares: its command line (`--keep-run`, `--quick`), a
deployment of its own, the report's common part, percentiles and the services' own timings, and
writing results under `var/bench/`.

    parser = arguments("events", __doc__)     # python -m bench.events [--keep-run] [--quick]
    parser.add_argument("--events", type=int, default=300)
    args = parse_args(parser, argv, quick={"events": 20})
    with bench_deployment("events", args, tails=("identity",), extra_services=...) as run:
        deployment = start(run, "identity, the gateway and the witness")
        ...                                   # measure
    if run.failed:
        return 1
    report = run.report("events")             # machine, database, broker, deployment
    finish(run, report, "events")             # var/bench/events-<time>.json, events-latest.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import sys
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import grpc
import psycopg2

from ecoach_dev import broker, pg
from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from services.kernel.config import Settings, settings
from services.kernel.runtime.broker_admin import redacted
from tests.support.api import Api, Session, session_of, unique_email, unique_slug
from tests.support.people import set_password

# One TCP connection per gRPC channel, even to the same address: a benchmark's client threads
# each open their own channel and must not share one connection.
CHANNEL_OPTIONS = (("grpc.use_local_subchannel_pool", 1),)


def arguments(name: str, description: str | None = None) -> argparse.ArgumentParser:
    """The command line of `python -m bench.<name>`, with the options every benchmark takes."""
    parser = argparse.ArgumentParser(
        prog=f"python -m bench.{name}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--keep-run", action="store_true", help="keep the run's folder (logs, keys) afterwards"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small counts, to check that the benchmark runs (`make bench QUICK=1`); its report "
        "goes to var/bench/quick/, since its numbers are not comparable",
    )
    return parser


def parse_args(
    parser: argparse.ArgumentParser, argv: Sequence[str], *, quick: Mapping[str, Any]
) -> argparse.Namespace:
    """`argv` parsed; with `--quick`, `quick` replaces the defaults (options given still win)."""
    if "--quick" in argv:
        parser.set_defaults(**quick)
    return parser.parse_args(list(argv))


def percentile(sorted_values: Sequence[int | float], q: float) -> Any:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def quantiles_ms(sorted_ms: Sequence[float], *quantiles: float) -> dict[str, float]:
    """`{"p50_ms": ..., "p99_ms": ...}` of sorted milliseconds, to 0.01 ms."""
    return {f"p{round(q * 100)}_ms": round(float(percentile(sorted_ms, q)), 2) for q in quantiles}


def logged_ms(path: Path | None, method: str, prefix: str) -> dict[str, float]:
    """The `ms` a process logged (its JSON log line per call) for each call of `method` whose
    request id starts with `prefix`, by request id: the services' own share of a call."""
    found: dict[str, float] = {}
    if path is None or not path.exists():
        return found
    with path.open(errors="replace") as lines:
        for line in lines:
            if prefix not in line or method not in line:
                continue
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                rid = str(entry.get("request_id") or "")
                if entry.get("method") == method and rid.startswith(prefix) and "ms" in entry:
                    found[rid] = float(entry["ms"])
    return found


def server_version(url: str) -> str:
    with contextlib.closing(psycopg2.connect(url, connect_timeout=5)) as conn:
        with conn.cursor() as cur:
            cur.execute("show server_version")
            row = cur.fetchone()
    return str(row[0]) if row else "?"


def speed_probe() -> float:
    """Milliseconds for a fixed pure-Python workload on one core (the median of five): how fast
    the machine runs our code at that moment. Virtual machines vary by half or more from one
    minute to the next without reporting steal; a result is read with this beside it."""
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        x = 0
        for i in range(1_000_000):
            x = (x * 31 + i) % 1_000_003
        timings.append((time.perf_counter() - began) * 1000)
    return round(sorted(timings)[2], 2)


def machine() -> dict[str, Any]:
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "grpcio": grpc.__version__,
        "load_average_before": list(os.getloadavg()),
        "speed_probe_ms_before": speed_probe(),
    }


# ------------------------------------------------------------ where the CPU goes

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """User plus system CPU seconds of a process (all its threads) so far."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    return 0.0


def busy_cores_s() -> tuple[float, float]:
    """CPU seconds the whole machine has spent busy (every process, ours or not), and those the
    hypervisor took from this virtual machine's cores for others (steal): time none of our
    processes could run, however ready."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[:8])
    return (user + nice + system + irq + softirq) / TICKS, steal / TICKS


class CpuMeter:
    """CPU seconds of the deployment's processes, of this one (the clients), of the deployment's
    PostgreSQL backends and of the broker, between `start()` and `stop()`."""

    def __init__(self, d: Deployment, database_of: str = "scheduling") -> None:
        self.d = d
        self.database_of = database_of  # the service whose database server URL is used

    def _pids(self) -> dict[str, list[int]]:
        found = {name: [p.pid] for name, p in self.d.procs.items() if p.poll() is None}
        found["bench clients (this process)"] = [os.getpid()]
        url = self.d.config.database_url_for(self.database_of).replace("+psycopg2", "")
        with contextlib.closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname LIKE %s AND pid <> pg_backend_pid()",
                (self.d.config.database_prefix + "%",),
            )
            found["postgresql (the deployment's backends)"] = [r[0] for r in cur.fetchall()]
        found["rabbitmq (shared)"] = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and comm(p) == "beam.smp"
        ]
        return found

    def start(self) -> None:
        self.pids = self._pids()
        self.before = {k: {p: cpu_of(p) for p in v} for k, v in self.pids.items()}
        self.machine_before = busy_cores_s()
        self.began = time.monotonic()

    def stop(self, calls: int) -> dict[str, Any]:
        wall = time.monotonic() - self.began
        busy, stolen = busy_cores_s()
        machine = busy - self.machine_before[0]
        stolen -= self.machine_before[1]
        # Database connections opened meanwhile (a pool growing under the race) count whole.
        used = {
            name: sum(cpu_of(p) - self.before.get(name, {}).get(p, 0.0) for p in pids)
            for name, pids in self._pids().items()
        }
        used["everything else on the machine"] = max(0.0, machine - sum(used.values()))
        return {
            "wall_s": round(wall, 2),
            "machine_busy_cores": round(machine / wall, 2) if wall else 0.0,
            "stolen_cores": round(stolen / wall, 2) if wall else 0.0,
            "cores": os.cpu_count(),
            "cpu_ms_per_call": {
                name: round(seconds * 1000 / max(calls, 1), 2) for name, seconds in used.items()
            },
            "cpu_s": {name: round(seconds, 2) for name, seconds in used.items()},
        }


def comm(proc: Path) -> str:
    with contextlib.suppress(OSError):
        return (proc / "comm").read_text().strip()
    return ""


@dataclass
class BenchRun:
    env: Settings
    server: str
    database_source: str
    run_dir: Path
    deployment: Deployment
    database_version: str
    keep_run: bool = False
    quick: bool = False
    started: float = field(default_factory=time.monotonic)
    failed: bool = False
    machine: dict[str, Any] = field(default_factory=machine)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 1)

    def report(self, benchmark: str, **deployment: Any) -> dict[str, Any]:
        """The common part of a report; `deployment` adds to its deployment section."""
        d = self.deployment
        return {
            "benchmark": benchmark,
            "started_at": self.started_at,
            "machine": {
                **self.machine,
                "load_average_after": list(os.getloadavg()),
                "speed_probe_ms_after": speed_probe(),
            },
            "database": {
                "source": self.database_source,
                "url": redacted(self.server),
                "version": self.database_version,
            },
            "broker": {"url": redacted(self.env.amqp_uri), "vhost": d.vhost},
            "deployment": {
                "env": d.env["ECOACH_ENV"],
                "log_level": d.env.get("ECOACH_LOG_LEVEL", self.env.log_level),
                "service_workers": d.config.service_workers,
                **deployment,
            },
            "duration_s": self.elapsed(),
            **({"quick": True} if self.quick else {}),
        }


class Options(Protocol):
    """The options of a run every benchmark takes (`arguments()`)."""

    keep_run: bool
    quick: bool


@contextlib.contextmanager
def bench_deployment(
    name: str,
    options: Options,
    *,
    tails: Sequence[str],
    log_level: str | None = None,
    **deployment_options: Any,
) -> Iterator[BenchRun]:
    """A deployment of its own (vhost, databases, run folder) for one benchmark run.

    Any exception inside is printed with the tails of the named logs and marks the run failed
    (the logs are then kept); the deployment is always stopped, and the embedded PostgreSQL too
    if this run started it."""
    env = settings()
    # The deployment makes a vhost of its own through the management API.
    broker.ensure_broker(env.amqp_uri, management=True)
    started_embedded = False
    if env.database_url:
        server, source = env.database_url, "ECOACH_DATABASE_URL"
    else:
        started_embedded = not pg.is_running(env.var_dir)
        server, source = pg.start_embedded(env.var_dir), "embedded"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = (env.var_dir / "bench" / f"{name}-run-{stamp}-{os.getpid()}").resolve()
    extra_env = dict(deployment_options.pop("env", None) or {})
    if log_level:
        extra_env["ECOACH_LOG_LEVEL"] = log_level
    deployment = Deployment(
        var_dir=run_dir,
        database_url=server,
        amqp_uri=env.amqp_uri,
        env=extra_env or None,
        **deployment_options,
    )
    keep_run, quick = bool(options.keep_run), bool(options.quick)
    run = BenchRun(
        env, server, source, run_dir, deployment, server_version(server), keep_run, quick
    )
    try:
        yield run
    except BaseException:
        run.failed = True
        traceback.print_exc()
        for process in tails:
            if process in deployment.logs:
                print(f"{process} log tail:\n{deployment.tail(process)}", file=sys.stderr)
        print(f"bench: logs kept in {run_dir}", file=sys.stderr)
    finally:
        deployment.stop()
        if started_embedded:
            pg.stop_embedded(env.var_dir)
        if not keep_run and not run.failed:
            shutil.rmtree(run_dir, ignore_errors=True)


def start(run: BenchRun, what: str, *, serving: Sequence[str] = ("identity",)) -> Deployment:
    """Starts the run's deployment and waits until the gateway reports `serving` SERVING.

    The overall health can read SERVING before the gateway's first probe of a service (the
    health servicer's default); in a fresh vhost a call that early is lost, so a benchmark waits
    on the services it calls first, whose status only a successful probe sets."""
    print(f"bench: starting {what} ({run.database_source} PostgreSQL)...", flush=True)
    run.deployment.start()
    for service in serving:
        run.deployment.wait_serving(service)
    print(f"bench: deployment ready in {run.elapsed():.1f} s", flush=True)
    return run.deployment


def finish(run: BenchRun, report: dict[str, Any], prefix: str, latest: str = "") -> Path:
    """Writes `report` as `var/bench/<prefix>-<UTC time>.json` and `latest` (by default
    `<prefix>-latest.json`), under `var/bench/quick/` for a `--quick` run, and says where."""
    latest = latest or f"{prefix}-latest.json"
    out_dir = run.env.var_dir / "bench" / ("quick" if run.quick else "")
    path = write_report(report, out_dir, prefix, latest)
    print(f"\nbench: wrote {path} and {path.parent / latest} ({report['duration_s']} s)")
    if run.keep_run:
        print(f"bench: logs kept in {run.run_dir}")
    return path


def new_tenant(api: Api, operator: Session, display_name: str, slug_prefix: str) -> str:
    """A tenant made by the operator through the gateway, as a client would: its id."""
    return str(
        api.tenants.CreateTenant(
            ipb.CreateTenantRequest(display_name=display_name, slug=unique_slug(slug_prefix)),
            metadata=operator.metadata,
            timeout=10,
        ).tenant_id
    )


def new_member(
    config: Settings,
    api: Api,
    operator: Session,
    tenant_id: str,
    role: int,
    password: str,
    *,
    email: str = "",
    label: str = "bench",
    display_name: str = "",
) -> tuple[str, str]:
    """A member added by the operator (`role`: `identity_pb2.COACH`, ...), their account's
    password set straight in identity's database (no invitation to follow): (member id, email).
    """
    email = email or unique_email(label)
    added = api.members.AddMember(
        ipb.AddMemberRequest(
            parent=tenant_name(tenant_id), email=email, roles=[role], display_name=display_name
        ),
        metadata=operator.metadata,
        timeout=10,
    )
    set_password(config, email, password)
    return str(added.member_id), email


def refreshed(api: Api, who: Session) -> Session:
    """`who` with a fresh access token (they live 10 minutes; a set-up or a run may outlast one)."""
    fresh = session_of(api.auth.Refresh(ipb.RefreshRequest(refresh_token=who.refresh_token)))
    who.token, who.refresh_token = fresh.token, fresh.refresh_token
    return who


def write_report(report: dict[str, Any], out_dir: Path, prefix: str, latest: str) -> Path:
    """`<prefix>-<UTC time>.json` and `latest` (replaced atomically) under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"{prefix}-{stamp}.json"
    text = json.dumps(report, indent=2, default=str) + "\n"
    path.write_text(text)
    target = out_dir / latest
    tmp = target.with_name(f".{latest}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, target)
    return path
