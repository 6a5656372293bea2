"""`make bench`: two instances of a service taking work from one queue, measured.

A deployment of its own (every process, as the end-to-end tests run it) with one spaces process;
a coach's space set up through the gateway. Then a fixed load: `--threads` client threads, each
on its own gRPC channel and TCP connection, call `SpaceService/GetSpace` (a read of spaces'
database behind the gateway: token check, the row, its sealed fields opened) back to back for
`--seconds`, and calls per second are counted. Then a second spaces process is started on the
same queue (`rpc-spaces`: the broker spreads its messages over both consumers), and the same
load runs again. Rounds alternate (one, two, one, two, ... by stopping and starting the second
process) so that background load on a shared machine falls on both alike.

Reported: calls/s of each round and their medians, the ratio two/one, how the calls of the
two-instance rounds split between the processes (from each one's JSON log line per call), the
client's p50/p99, and the machine's load (`uptime`'s averages before and after). Every process,
RabbitMQ, PostgreSQL and the clients share this machine's cores: on a 2-core VM the second
process mostly competes with the first; on a cluster each pod brings its own CPU.

Results: `var/bench/instances-<UTC time>.json` and `var/bench/instances-latest.json`.
Usage: `python -m bench.instances [--threads 16] [--seconds 10] [--rounds 2] [--quick]
[--database-users]` (the last: every service logs in as its own database user, as in Compose and
Kubernetes; a check that the services run with only the rights the migration gives them).
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from typing import Any
from urllib.parse import quote

import grpc

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.pb import spaces_pb2_grpc
from services.kernel.runtime.broker_admin import management_request, vhost_of
from tests.support.api import Api
from tests.support.people import sign_in_operator

from . import benchkit
from .benchkit import (
    CHANNEL_OPTIONS,
    arguments,
    bench_deployment,
    finish,
    logged_ms,
    new_member,
    new_tenant,
    percentile,
    start,
)

SERVICE = "spaces"
SECOND = "spaces-2"
PASSWORD = "bench-instances-password-1"  # noqa: S105 - a throwaway account in a throwaway db
CALL_TIMEOUT = 10.0
WARMUP_SECONDS = 1.0


def prepare(d: Deployment) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A coach's active space: its name and the coach's metadata."""
    with d.channel() as channel:
        api = Api(channel)
        spaces = spaces_pb2_grpc.SpaceServiceStub(channel)
        operator = sign_in_operator(api, d.config)
        tenant = new_tenant(api, operator, "Instances bench", "inst")
        coach_member, coach_email = new_member(d.config, api, operator, tenant, ipb.COACH, PASSWORD)
        coachee_member, _ = new_member(d.config, api, operator, tenant, ipb.COACHEE, PASSWORD)
        coach = api.sign_in(coach_email, PASSWORD, tenant)
        created = spaces.CreateSpace(
            spb.CreateSpaceRequest(
                parent=tenant_name(tenant),
                set_up=spb.SpaceSetUp(
                    coachee_member_id=coachee_member,
                    coach_member_id=coach_member,
                    cadence=spb.WEEKLY,
                    sessions_planned=10,
                    start_date="2027-01-04",
                ),
            ),
            metadata=coach.metadata,
            timeout=CALL_TIMEOUT,
        )
        name = spaces.ActivateSpace(
            spb.SpaceMoveRequest(name=created.name), metadata=coach.metadata, timeout=CALL_TIMEOUT
        ).name
    return str(name), tuple(coach.metadata)


def consumers(d: Deployment) -> int:
    """How many processes take messages from the service's RPC queue (management API)."""
    vhost = quote(vhost_of(d.amqp_uri), safe="")
    queue = management_request(d.amqp_uri, "GET", f"queues/{vhost}/rpc-{SERVICE}")
    return int(queue.get("consumers", 0))


def wait_consumers(d: Deployment, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while consumers(d) != count:
        for name, proc in d.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{d.tail(name)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"rpc-{SERVICE} has {consumers(d)} consumers, not {count}")
        time.sleep(0.2)


def load(
    d: Deployment,
    space: str,
    metadata: tuple[tuple[str, str], ...],
    threads: int,
    seconds: float,
    label: str,
) -> dict[str, Any]:
    """`threads` closed-loop clients for `seconds` after a warm-up: calls/s and latency."""
    times: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    ready = threading.Barrier(threads + 1)
    begin = threading.Event()
    bounds: dict[str, float] = {}

    def client(n: int) -> None:
        try:
            with grpc.insecure_channel(d.address, options=CHANNEL_OPTIONS) as channel:
                stub = spaces_pb2_grpc.SpaceServiceStub(channel)
                request = spb.GetSpaceRequest(name=space)
                warm_until = time.monotonic() + WARMUP_SECONDS
                while time.monotonic() < warm_until:
                    stub.GetSpace(request, metadata=metadata, timeout=CALL_TIMEOUT)
                ready.wait()
                begin.wait()
                i = 0
                while True:
                    started = time.perf_counter()
                    if started >= bounds["end"]:
                        break
                    md = (*metadata, ("x-request-id", f"bench-{label}-{n}-{i}"))
                    stub.GetSpace(request, metadata=md, timeout=CALL_TIMEOUT)
                    times[n].append((time.perf_counter() - started) * 1000)
                    i += 1
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
            ready.abort()

    workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    bounds["start"] = time.perf_counter()
    bounds["end"] = bounds["start"] + seconds
    begin.set()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - bounds["start"]
    if errors:
        raise errors[0]
    ms = sorted(t for per in times for t in per)
    return {
        "calls": len(ms),
        "wall_s": round(wall, 2),
        "calls_per_s": round(len(ms) / wall, 1),
        "p50_ms": round(float(percentile(ms, 0.5)), 2),
        "p99_ms": round(float(percentile(ms, 0.99)), 2),
    }


def main(argv: list[str]) -> int:
    parser = arguments("instances", __doc__)
    parser.add_argument("--threads", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per round (10)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each setting (2)")
    parser.add_argument(
        "--database-users",
        action="store_true",
        help="each service logs in as its own database user (ECOACH_DATABASE_USERS), as in "
        "Compose and Kubernetes",
    )
    args = benchkit.parse_args(parser, argv, quick={"seconds": 2.0, "rounds": 1, "threads": 8})
    rounds: list[dict[str, Any]] = []
    env = {"ECOACH_DATABASE_USERS": "true"} if args.database_users else {}
    tails = (SERVICE, SECOND, "gateway", "identity")
    with bench_deployment("instances", args, tails=tails, env=env) as run:
        d = start(run, "the platform", serving=(SERVICE, "identity"))
        space, metadata = prepare(d)
        wait_consumers(d, 1)
        for r in range(args.rounds):
            for instances in (1, 2):
                if instances == 2:
                    d.start_instance(SERVICE, SECOND)
                wait_consumers(d, instances)
                label = f"i{instances}r{r}"
                print(f"bench: {instances} {SERVICE} process(es), round {r + 1}...", flush=True)
                result = load(d, space, metadata, args.threads, args.seconds, label)
                result.update(instances=instances, round=r + 1)
                if instances == 2:
                    shares = {
                        process: len(logged_ms(d.logs.get(process), "get_space", f"bench-{label}-"))
                        for process in (SERVICE, SECOND)
                    }
                    result["calls_by_process"] = shares
                    d.stop_process(SECOND)
                print(f"bench:   {result}", flush=True)
                rounds.append(result)
    if run.failed:
        return 1
    median = {
        n: statistics.median(r["calls_per_s"] for r in rounds if r["instances"] == n)
        for n in (1, 2)
    }
    report = run.report(
        "instances",
        measured_service=SERVICE,
        client_threads=args.threads,
        database_users=args.database_users,
    )
    report["results"] = {
        "call": "SpaceService/GetSpace through the gRPC gateway",
        "seconds_per_round": args.seconds,
        "rounds": rounds,
        "calls_per_s_median": {"one_instance": median[1], "two_instances": median[2]},
        "ratio_two_to_one": round(median[2] / median[1], 3) if median[1] else None,
    }
    print(
        f"\nbench: {SERVICE} GetSpace, {args.threads} clients: one process "
        f"{median[1]:.0f} calls/s, two {median[2]:.0f} calls/s "
        f"(x{report['results']['ratio_two_to_one']}); load average "
        f"{report['machine']['load_average_before']} -> {report['machine']['load_average_after']}"
    )
    finish(run, report, "instances")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
