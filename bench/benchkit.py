"""What every `make bench` benchmark shares: a deployment of its own, the report's common part,
percentiles, and writing results under `var/bench/`.

    with bench_deployment("events", keep_run=False, tails=("identity",), extra_services=...) as run:
        run.deployment.start()
        ...                                   # measure
    if run.failed:
        return 1
    report = run.report("events")             # machine, database, broker, deployment
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import psycopg2

from ecoach_dev import broker, pg
from ecoach_dev.deployment import Deployment
from services.kernel.config import Settings, settings
from services.kernel.runtime.broker_admin import redacted


def percentile(sorted_values: Sequence[int | float], q: float) -> Any:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


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


@dataclass
class BenchRun:
    env: Settings
    server: str
    database_source: str
    run_dir: Path
    deployment: Deployment
    database_version: str
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
        }


@contextlib.contextmanager
def bench_deployment(
    name: str,
    *,
    keep_run: bool,
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
    run = BenchRun(env, server, source, run_dir, deployment, server_version(server))
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
