"""`make bench` (events, issue 3): commit-to-handler latency and the outbox relay's throughput.

One run starts one deployment (identity, the gateway and the test-only `witness` service, which
handles identity's events and leaves one `effects` row per event it applies), fresh databases and
a RabbitMQ vhost of its own, as the end-to-end tests do. Then:

1. Commit-to-handler latency. An operator signed in through the gRPC gateway creates tenants as a
   client application does (`CreateTenant`), in two phases of `--events` tenants each:
     - sequential: one call at a time with a `--pause-ms` pause between calls (a modest rate);
     - burst: `--burst-clients` threads calling back to back, each on its own channel.
   Each tenant's `identity.tenant_created` event is relayed to the witness. Per event:
     latency = witness `effects.applied_at` - identity `outbox.recorded_at`,
   both read straight from the two databases and matched on the event id. Both timestamps come
   from this machine's clock (the test deployment's clock offset is zero). `recorded_at` is taken
   when the use case records the event, inside its transaction and before the commit, so the
   figure is slightly pessimistic: it includes the rest of identity's transaction and its commit.
   `applied_at` is taken inside the witness's transaction, before its commit (slightly
   optimistic at that end, by one commit). As a bracket, `reply` is applied_at minus the
   moment the client got its reply (after the commit: a lower bound). `relay` is sent_at minus
   recorded_at, the outbox side (the relay is woken by identity's own commits); sent_at is
   stamped once per relay cycle, after the cycle's last row is confirmed, so for the first rows
   of a large cycle it can exceed the whole commit-to-handler figure. `cycles` counts the relay
   cycles that carried the phase's events (one per event when they come one at a time).
   Before measuring, a few warm-up tenants go through the whole path (pools, imports, consumers).
   In the burst phase the relay shares identity's process (one eventlet hub) with the busy RPC
   workers: a long burst's figures grow with its length (`--events`), not only with its rate.

2. Relay throughput, with one and then two relay instances (one relay per identity process).
   Identity is stopped; `--relay-events` events (TenantCreated payloads of made-up tenant ids)
   are written straight into its outbox with the kernel's own `record_event`, in a few large
   transactions; then one identity process (later: two, started together) is started and the
   bench waits until none of those rows is unsent. The rate comes from the rows' own `sent_at`:
     events/s = (rows marked sent after the first mark) / (last sent_at - first sent_at)
   so process start-up is excluded. A relay marks a whole batch (ECOACH_RELAY_BATCH_SIZE, 200)
   with one timestamp after its publisher confirms, so the rows of the very first mark are not
   counted (their publishing happened before the window starts); with two relays the other
   relay's first batch straddles the window's start, which can overstate its rate by up to a
   batch. The wall time from the process start to an empty outbox is reported too. The witness
   keeps running and applies these events (not measured, but on a 2-core machine it competes with
   the relay for CPU, as do RabbitMQ and PostgreSQL). Afterwards the bench waits for the witness
   to drain and checks that it has exactly one effect per event id (the inbox makes effects
   exactly-once, so a double publish cannot show there; `duplicates` counts the deliveries the
   witness logged as duplicates and `extra claims` the outbox's publish attempts beyond one per
   row, which is where a double publish would show). `per relay` is how many rows each relay
   instance (`claimed_by`) marked sent.

Results go to `var/bench/events-<UTC time>.json` and `var/bench/events-latest.json`, and a table
is printed. The target (p99 commit-to-handler under 1 s, the worst phase) is shown as PASS/FAIL;
a FAIL does not fail the command (the numbers depend on the machine), but an error does (exit 1):
a failed call, an event the witness never applied, or an effect count other than one per event.

Usage: `python -m bench.events [--events 300] [--relay-events 5000] ...`.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import sqlalchemy as sa

from ecoach_dev.cli import ROOT, ServiceSpec
from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import identity_pb2_grpc as pb_grpc
from gateway.api.rpc_client import RpcClient
from services.contracts.identity import TenantCreated
from services.kernel.runtime.outbox import record_event
from tests.support.api import Api, Session, unique_slug
from tests.support.people import sign_in_operator

from . import benchkit
from .benchkit import CHANNEL_OPTIONS, arguments, bench_deployment, finish, percentile, start

WITNESS = ServiceSpec(
    "witness",
    "tests.support.witness.service",
    ROOT / "tests" / "support" / "witness" / "migrations",
)
EVENT_TYPE = TenantCreated.TYPE
CALL_TIMEOUT = 10.0
WARMUP_TENANTS = 5
# How long the witness may take to apply what was sent, before the missing events count as errors.
APPLY_TIMEOUT = 60.0
DRAIN_TIMEOUT = 120.0
# The target: p99 commit-to-handler under 1 s (the worst phase).
MAX_P99_MS = 1000.0
US = timedelta(microseconds=1)


def ms(us: float) -> float:
    return round(us / 1000, 3)


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# ------------------------------------------------------------ the two databases


class Databases:
    """Identity's outbox and the witness's effects, read directly."""

    def __init__(self, deployment: Deployment) -> None:
        config = deployment.config
        self.identity = sa.create_engine(config.database_url_for("identity"), pool_size=2)
        self.witness = sa.create_engine(config.database_url_for("witness"), pool_size=2)

    def close(self) -> None:
        self.identity.dispose()
        self.witness.dispose()

    def tenant_events(self, tenant_ids: Sequence[str]) -> list[sa.Row[Any]]:
        with self.identity.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT event_id, aggregate_id, recorded_at, sent_at FROM outbox "
                        "WHERE event_type = :t AND aggregate_id = ANY(:ids)"
                    ),
                    {"t": EVENT_TYPE, "ids": list(tenant_ids)},
                ).all()
            )

    def unsent(self, event_ids: Sequence[str]) -> int:
        with self.identity.connect() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND event_id = ANY(:ids)"
                    ),
                    {"ids": list(event_ids)},
                ).scalar_one()
            )

    def sent_rows(self, event_ids: Sequence[str]) -> list[sa.Row[Any]]:
        with self.identity.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT sent_at, claimed_by, publish_attempts FROM outbox "
                        "WHERE event_id = ANY(:ids)"
                    ),
                    {"ids": list(event_ids)},
                ).all()
            )

    def effects(self, event_ids: Sequence[str]) -> dict[str, tuple[int, datetime]]:
        """event id -> (how many effects, the first one's applied_at)."""
        with self.witness.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT event_id, count(*) AS n, min(applied_at) AS applied_at FROM effects "
                    "WHERE event_id = ANY(:ids) GROUP BY event_id"
                ),
                {"ids": list(event_ids)},
            ).all()
        return {r.event_id: (int(r.n), r.applied_at) for r in rows}

    def applied(self, event_ids: Sequence[str]) -> int:
        with self.witness.connect() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT count(DISTINCT event_id) FROM effects WHERE event_id = ANY(:ids)"
                    ),
                    {"ids": list(event_ids)},
                ).scalar_one()
            )


def wait_applied(dbs: Databases, event_ids: Sequence[str], timeout: float, what: str) -> float:
    """Wait until the witness applied every event; the seconds it took. On timeout, returns
    (the missing events are then counted by the caller)."""
    began = time.monotonic()
    try:
        wait_for(lambda: dbs.applied(event_ids) >= len(event_ids), timeout, what, 0.2)
    except TimeoutError as exc:
        print(f"bench: {exc}", file=sys.stderr, flush=True)
    return time.monotonic() - began


# ------------------------------------------------------------ 1. commit-to-handler latency


@dataclass
class Created:
    tenant_id: str
    replied_at: datetime
    call_us: int


@dataclass
class ClientRun:
    created: list[Created] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    wall_s: float = 0.0


def create_tenants(
    address: str, operator: Session, count: int, clients: int, pause_s: float, tag: str
) -> ClientRun:
    """`clients` threads, each on its own channel, create `count` tenants between them."""
    run = ClientRun()
    lock = threading.Lock()
    per_client = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
    start = threading.Barrier(clients + 1, timeout=60)

    def client(index: int) -> None:
        mine: list[Created] = []
        with grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
            try:
                grpc.channel_ready_future(channel).result(timeout=10)
                start.wait()
            except BaseException:
                start.abort()  # the run fails at once rather than after the barrier's timeout
                raise
            stub = pb_grpc.TenantServiceStub(channel)
            for n in range(per_client[index]):
                slug = unique_slug(f"ev{tag}")
                began = time.perf_counter_ns()
                try:
                    tenant = stub.CreateTenant(
                        pb.CreateTenantRequest(display_name=f"Bench {slug}", slug=slug),
                        metadata=(
                            *operator.metadata,
                            ("x-request-id", f"bench-events-{tag}-{index}-{n}"),
                        ),
                        timeout=CALL_TIMEOUT,
                    )
                except grpc.RpcError as exc:
                    with lock:
                        run.errors += 1
                        run.first_error = run.first_error or f"{exc.code()}: {exc.details()}"
                    continue
                replied = datetime.now(UTC)
                mine.append(
                    Created(tenant.tenant_id, replied, (time.perf_counter_ns() - began) // 1000)
                )
                if pause_s:
                    time.sleep(pause_s)
        with lock:
            run.created.extend(mine)

    threads = [
        threading.Thread(target=client, args=(i,), name=f"bench-{tag}-{i}", daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    run.wall_s = time.perf_counter() - began
    return run


@dataclass
class LatencyResult:
    phase: str
    clients: int
    pause_ms: float
    events: int
    applied: int
    missing: int
    extra_effects: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    # The outbox side alone: sent_at - recorded_at.
    relay_p50_ms: float
    relay_p99_ms: float
    # applied_at - the client's reply (after identity's commit): a lower bound.
    after_reply_p50_ms: float
    after_reply_p99_ms: float
    call_p50_ms: float
    calls_per_s: float
    # How many times the relay marked rows sent (one per relay cycle), and the largest cycle.
    relay_marks: int
    relay_max_batch: int
    load_average_1m: float
    first_error: str | None = None


def latency_phase(
    dbs: Databases,
    address: str,
    operator: Session,
    phase: str,
    count: int,
    clients: int,
    pause_s: float,
) -> LatencyResult:
    load = os.getloadavg()[0]
    run = create_tenants(address, operator, count, clients, pause_s, phase[:3])
    replied = {c.tenant_id: c.replied_at for c in run.created}
    events = dbs.tenant_events(list(replied))
    event_ids = [r.event_id for r in events]
    wait_applied(dbs, event_ids, APPLY_TIMEOUT, f"the witness to apply the {phase} events")
    effects = dbs.effects(event_ids)
    # Read again: sent_at may have been empty before the wait.
    events = dbs.tenant_events(list(replied))
    marks: dict[datetime | None, int] = {}
    for row in events:
        marks[row.sent_at] = marks.get(row.sent_at, 0) + 1
    total: list[int] = []
    relay: list[int] = []
    after_reply: list[int] = []
    for row in events:
        if row.event_id not in effects:
            continue
        applied_at = effects[row.event_id][1]
        total.append((applied_at - row.recorded_at) // US)
        after_reply.append((applied_at - replied[row.aggregate_id]) // US)
        if row.sent_at is not None:
            relay.append((row.sent_at - row.recorded_at) // US)
    total.sort()
    relay.sort()
    after_reply.sort()
    calls = sorted(c.call_us for c in run.created)
    return LatencyResult(
        phase=phase,
        clients=clients,
        pause_ms=round(pause_s * 1000, 1),
        events=len(events),
        applied=len(total),
        missing=len(events) - len(total) + (len(run.created) - len(events)),
        extra_effects=sum(n - 1 for n, _ in effects.values()),
        errors=run.errors,
        p50_ms=ms(percentile(total, 0.50)),
        p90_ms=ms(percentile(total, 0.90)),
        p99_ms=ms(percentile(total, 0.99)),
        max_ms=ms(total[-1]) if total else 0.0,
        relay_p50_ms=ms(percentile(relay, 0.50)),
        relay_p99_ms=ms(percentile(relay, 0.99)),
        after_reply_p50_ms=ms(percentile(after_reply, 0.50)),
        after_reply_p99_ms=ms(percentile(after_reply, 0.99)),
        call_p50_ms=ms(percentile(calls, 0.50)),
        calls_per_s=round(len(run.created) / run.wall_s, 1) if run.wall_s > 0 else 0.0,
        relay_marks=sum(1 for t in marks if t is not None),
        relay_max_batch=max((n for t, n in marks.items() if t is not None), default=0),
        load_average_1m=round(load, 2),
        first_error=run.first_error,
    )


# ------------------------------------------------------------ 2. relay throughput


@dataclass
class RelayResult:
    relays: int
    events: int
    insert_s: float
    events_per_s: float
    window_s: float
    counted: int
    drain_wall_s: float
    witness_drain_s: float
    effects: int
    extra_effects: int
    missing_effects: int
    extra_claims: int
    duplicates_logged: int
    per_relay: dict[str, int]
    load_average_1m: float


def fill_outbox(dbs: Databases, count: int, transactions: int) -> tuple[list[str], float]:
    """`count` TenantCreated events of made-up tenants, recorded as a use case records them."""
    began = time.monotonic()
    event_ids: list[str] = []
    per_tx = max(1, -(-count // transactions))
    while len(event_ids) < count:
        with dbs.identity.begin() as conn:
            for _ in range(min(per_tx, count - len(event_ids))):
                now = datetime.now(UTC)
                tenant_id = f"tnt_{secrets.token_hex(8)}"
                payload = TenantCreated(
                    tenant_id=tenant_id, slug=f"relay-{tenant_id[4:]}", created_at=now
                )
                event_ids.append(record_event(conn, payload, now).id)
    return event_ids, time.monotonic() - began


def duplicates_logged(deployment: Deployment, event_ids: set[str]) -> int:
    path = deployment.logs.get("witness")
    if path is None or not path.exists():
        return 0
    found = 0
    with path.open(errors="replace") as lines:
        for line in lines:
            if '"duplicate"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("outcome") == "duplicate" and entry.get("event_id") in event_ids:
                found += 1
    return found


def relay_phase(
    deployment: Deployment, dbs: Databases, rpc: RpcClient, relays: int, count: int, txs: int
) -> RelayResult:
    names = ["identity"] + [f"identity-{n}" for n in range(2, relays + 1)]
    for name in reversed(list(deployment.procs)):
        if name.startswith("identity"):
            deployment.stop_process(name)
    event_ids, insert_s = fill_outbox(dbs, count, txs)
    load = os.getloadavg()[0]
    for name in names:
        deployment.commands.setdefault(name, deployment.commands["identity"])
    began = time.monotonic()
    for name in names:
        deployment.start_process(name)

    def drained() -> bool:
        for name in names:
            proc = deployment.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{deployment.tail(name)}")
        return dbs.unsent(event_ids) == 0

    wait_for(drained, DRAIN_TIMEOUT, f"{relays} relay(s) to empty the outbox", 0.05)
    drain_wall = time.monotonic() - began
    rows = dbs.sent_rows(event_ids)
    marks = sorted(r.sent_at for r in rows)
    first, last = marks[0], marks[-1]
    counted = sum(1 for t in marks if t > first)
    window = (last - first).total_seconds()
    per_relay: dict[str, int] = {}
    for r in rows:
        per_relay[str(r.claimed_by)] = per_relay.get(str(r.claimed_by), 0) + 1
    extra_claims = sum(int(r.publish_attempts) - 1 for r in rows)
    witness_drain = wait_applied(
        dbs, event_ids, DRAIN_TIMEOUT, f"the witness to apply the {relays}-relay events"
    )
    effects = dbs.effects(event_ids)
    # The RPC side of identity is not measured; make sure every instance came up all the same.
    wait_for(lambda: rpc.consumer_count("identity") >= relays, 30, "identity's instances", 0.2)
    return RelayResult(
        relays=relays,
        events=count,
        insert_s=round(insert_s, 2),
        events_per_s=round(counted / window, 1) if window > 0 else 0.0,
        window_s=round(window, 3),
        counted=counted,
        drain_wall_s=round(drain_wall, 2),
        witness_drain_s=round(witness_drain, 2),
        effects=sum(n for n, _ in effects.values()),
        extra_effects=sum(n - 1 for n, _ in effects.values()),
        missing_effects=count - len(effects),
        extra_claims=extra_claims,
        duplicates_logged=duplicates_logged(deployment, set(event_ids)),
        per_relay=per_relay,
        load_average_1m=round(load, 2),
    )


# ------------------------------------------------------------ report


def checks(latency: list[LatencyResult]) -> list[dict[str, Any]]:
    if not latency:
        return []
    worst = max(latency, key=lambda r: r.p99_ms)
    return [
        {
            "name": f"p99 commit-to-handler under 1 s (worst phase: {worst.phase})",
            "value": worst.p99_ms,
            "unit": "ms",
            "limit": MAX_P99_MS,
            "pass": worst.p99_ms < MAX_P99_MS,
        }
    ]


def table(
    latency: list[LatencyResult], relay: list[RelayResult], target_checks: list[dict[str, Any]]
) -> str:
    head = (
        f"{'phase':<11}| {'clients':>7} | {'events':>6} | {'p50 ms':>8} | {'p90 ms':>8} | "
        f"{'p99 ms':>8} | {'max ms':>8} | {'relay p50':>9} | {'relay p99':>9} | "
        f"{'reply p50':>9} | {'cycles':>6} | missing"
    )
    lines = [head, "-" * len(head)]
    for r in latency:
        lines.append(
            f"{r.phase:<11}| {r.clients:>7} | {r.events:>6} | {r.p50_ms:8.1f} | {r.p90_ms:8.1f} | "
            f"{r.p99_ms:8.1f} | {r.max_ms:8.1f} | {r.relay_p50_ms:9.1f} | {r.relay_p99_ms:9.1f} | "
            f"{r.after_reply_p50_ms:9.1f} | {r.relay_marks:>6} | {r.missing}"
            + (f", {r.errors} call errors" if r.errors else "")
        )
    lines.append(
        "p50..max: witness applied_at - identity recorded_at (recorded before the commit); "
        "relay: sent_at (per cycle) - recorded_at;\n"
        "reply: applied_at - client reply (a lower bound); cycles: relay cycles that sent them"
    )
    lines.append("")
    head = (
        f"{'relays':>6} | {'events':>6} | {'events/s':>9} | {'window s':>8} | "
        f"{'wall s':>6} | {'effects':>7} | {'extra claims':>12} | per relay"
    )
    lines += [head, "-" * len(head)]
    for x in relay:
        shares = ", ".join(str(n) for n in sorted(x.per_relay.values(), reverse=True))
        lines.append(
            f"{x.relays:>6} | {x.events:>6} | {x.events_per_s:9.1f} | {x.window_s:8.3f} | "
            f"{x.drain_wall_s:6.2f} | {x.effects:>7} | {x.extra_claims:>12} | {shares}"
        )
    lines.append(
        "events/s: rows marked sent after the first mark / (last sent_at - first sent_at); "
        "wall: process start to empty outbox"
    )
    for check in target_checks:
        verdict = "PASS" if check["pass"] else "FAIL"
        lines.append(
            f"{verdict}  {check['name']}: {check['value']} {check['unit']} "
            f"(limit {check['limit']} {check['unit']})"
        )
    return "\n".join(lines)


# ------------------------------------------------------------ the whole run


@dataclass
class Config:
    events: int
    burst_clients: int
    pause_ms: float
    relay_events: int
    insert_transactions: int
    log_level: str | None
    keep_run: bool
    quick: bool = False


def parse_args(argv: list[str]) -> Config:
    parser = arguments("events", __doc__)
    parser.add_argument(
        "--events", type=int, default=300, help="tenants created per latency phase (default 300)"
    )
    parser.add_argument(
        "--burst-clients",
        type=int,
        default=8,
        help="concurrent client threads in the burst phase (default 8)",
    )
    parser.add_argument(
        "--pause-ms",
        type=float,
        default=20.0,
        help="pause between calls in the sequential phase (default 20)",
    )
    parser.add_argument(
        "--relay-events",
        type=int,
        default=5000,
        help="events written to the outbox per relay configuration (default 5000)",
    )
    parser.add_argument(
        "--insert-transactions",
        type=int,
        default=5,
        help="transactions those events are written in (default 5)",
    )
    parser.add_argument(
        "--log-level", default=None, help="ECOACH_LOG_LEVEL for the deployment (default: as set)"
    )
    args = benchkit.parse_args(parser, argv, quick={"events": 30, "relay_events": 500})
    if min(args.events, args.burst_clients, args.relay_events, args.insert_transactions) < 1:
        parser.error("counts must be positive")
    if args.pause_ms < 0:
        parser.error("--pause-ms must not be negative")
    return Config(
        events=args.events,
        burst_clients=args.burst_clients,
        pause_ms=args.pause_ms,
        relay_events=args.relay_events,
        insert_transactions=args.insert_transactions,
        log_level=args.log_level,
        keep_run=args.keep_run,
        quick=args.quick,
    )


def warm_up(deployment: Deployment, dbs: Databases, rpc: RpcClient, operator: Session) -> None:
    """The witness consumes, and a few events have gone the whole way."""
    wait_for(lambda: rpc.consumer_count("witness") > 0, 30, "the witness to start", 0.2)
    run = create_tenants(deployment.address, operator, WARMUP_TENANTS, 1, 0.0, "warm")
    if run.errors:
        raise RuntimeError(f"warm-up calls failed: {run.first_error}")
    ids = [r.event_id for r in dbs.tenant_events([c.tenant_id for c in run.created])]
    wait_for(
        lambda: dbs.applied(ids) >= len(ids), APPLY_TIMEOUT, "the warm-up events to arrive", 0.1
    )


def measure(
    config: Config, deployment: Deployment
) -> tuple[list[LatencyResult], list[RelayResult]]:
    dbs = Databases(deployment)
    rpc = RpcClient(deployment.amqp_uri, name="bench-events").start()
    latency: list[LatencyResult] = []
    relay: list[RelayResult] = []
    try:
        with deployment.channel() as channel:
            operator = sign_in_operator(Api(channel), deployment.config)
        warm_up(deployment, dbs, rpc, operator)
        phases = (
            ("sequential", 1, config.pause_ms / 1000),
            ("burst", config.burst_clients, 0.0),
        )
        for phase, clients, pause in phases:
            print(f"bench: {phase}: {config.events} tenants, {clients} client(s)...", flush=True)
            result = latency_phase(
                dbs, deployment.address, operator, phase, config.events, clients, pause
            )
            latency.append(result)
            print(
                f"  p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                f"max {result.max_ms:.1f} ms"
                + (f", {result.missing} missing" if result.missing else ""),
                flush=True,
            )
        for relays in (1, 2):
            print(
                f"bench: relay: {config.relay_events} events, {relays} instance(s)...", flush=True
            )
            outcome = relay_phase(
                deployment, dbs, rpc, relays, config.relay_events, config.insert_transactions
            )
            relay.append(outcome)
            print(
                f"  {outcome.events_per_s:.0f} events/s over {outcome.window_s:.2f} s "
                f"(outbox empty {outcome.drain_wall_s:.1f} s after start; witness done "
                f"{outcome.witness_drain_s:.1f} s later)",
                flush=True,
            )
    finally:
        rpc.close()
        dbs.close()
    return latency, relay


def main(argv: list[str]) -> int:
    config = parse_args(argv)
    latency: list[LatencyResult] = []
    relay: list[RelayResult] = []
    with bench_deployment(
        "events",
        config,
        tails=("identity", "witness"),
        log_level=config.log_level,
        extra_services=(WITNESS,),
    ) as run:
        deployment = start(run, "identity, the gateway and the witness")
        latency, relay = measure(config, deployment)
    if run.failed:
        return 1
    target_checks = checks(latency)
    report = run.report(
        "events",
        services=["identity", "gateway", "witness"],
        relay_poll_seconds=run.deployment.config.relay_poll_seconds,
        relay_batch_size=run.deployment.config.relay_batch_size,
    )
    report.update(
        {
            "config": {
                **{k: v for k, v in asdict(config).items() if k != "quick"},
                "warmup_tenants": WARMUP_TENANTS,
                "call_timeout_s": CALL_TIMEOUT,
                "latency": "witness effects.applied_at - identity outbox.recorded_at "
                "(recorded before identity's commit: slightly pessimistic)",
                "relay_rate": "rows marked sent after the first mark / "
                "(last sent_at - first sent_at)",
            },
            "latency": [asdict(r) for r in latency],
            "relay": [asdict(r) for r in relay],
            "targets": target_checks,
        }
    )
    print()
    print(table(latency, relay, target_checks))
    finish(run, report, "events")
    failed = False
    for r in latency:
        if r.errors or r.missing or r.extra_effects:
            print(
                f"bench: {r.phase}: {r.errors} failed call(s), {r.missing} event(s) never applied, "
                f"{r.extra_effects} extra effect(s)"
                + (f"; first error: {r.first_error}" if r.first_error else ""),
                file=sys.stderr,
            )
            failed = True
    for x in relay:
        if x.missing_effects or x.extra_effects:
            print(
                f"bench: relay x{x.relays}: {x.missing_effects} event(s) never applied, "
                f"{x.extra_effects} extra effect(s)",
                file=sys.stderr,
            )
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
