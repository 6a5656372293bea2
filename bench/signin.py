"""`make bench`, sign-in: what a password costs, and what a flood of sign-ins does to the rest.

A deployment of its own (throttling relaxed, so that hundreds of failures measure the hash and
not the throttle). Through the gRPC gateway, as clients would:

1. **Unknown email vs wrong password**: 200 of each, interleaved; medians (target: within 10%
   of each other, so a sign-in's time tells nothing about whether the email exists).
2. **Sign-ins per second**: as many clients as cores sign in with the right password for a few
   seconds; per core too. The argon2id parameters are reported.
3. **A cheap read under a flood**: 16 clients sign in without pause while one client reads a
   member (`GetMember`); the read's p50/p99 (target: p99 under 50 ms).

Results: `var/bench/signin-<UTC time>.json` and `var/bench/signin-latest.json`, and a table.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from typing import Any

from gateway.api.convert import member_name
from gateway.api.pb import identity_pb2 as pb
from services.identity.adapters.passwords import hasher
from services.kernel.config import settings
from tests.support.api import Api, unique_email
from tests.support.people import sign_in_operator

from . import benchkit
from .benchkit import arguments, bench_deployment, finish, new_member, new_tenant, percentile, start

PASSWORD = "bench-sign-in-password-2026"  # noqa: S105 (a throwaway test deployment's)
MEDIAN_GAP_LIMIT = 0.10
READ_P99_LIMIT_MS = 50.0


def timed(fn: Any, *args: Any, **kwargs: Any) -> float:
    started = time.perf_counter()
    try:
        fn(*args, **kwargs)
    except Exception as exc:
        if not hasattr(exc, "code"):
            raise
    return (time.perf_counter() - started) * 1000


def main(argv: list[str]) -> int:
    parser = arguments("signin", __doc__)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--flood", type=int, default=16)
    args = benchkit.parse_args(parser, argv, quick={"pairs": 20, "seconds": 2.0, "flood": 4})
    env = {"ECOACH_SIGN_IN_FREE_FAILURES": "100", "ECOACH_SIGN_IN_ACCOUNT_FREE_FAILURES": "1000"}
    with bench_deployment("signin", args, tails=("identity",), env=env) as run:
        d = start(run, "identity and the gateway")
        cores = run.machine["nproc"] or 1
        with d.channel() as channel:
            api = Api(channel)
            operator = sign_in_operator(api, d.config)
            tenant = new_tenant(api, operator, "Sign-in bench", "signin")
            people = []  # (email, member id)
            for i in range(max(cores, 2) + args.flood + 2):
                member, email = new_member(
                    d.config, api, operator, tenant, pb.COACHEE, PASSWORD, label=f"signin{i}"
                )
                people.append((email, member))
            reader = api.sign_in(people[0][0], PASSWORD, tenant)
            target = member_name(tenant, people[0][1])

            # 1. unknown email vs wrong password, interleaved
            print(f"bench: {args.pairs} unknown-email and {args.pairs} wrong-password sign-ins")
            unknown, wrong = [], []
            for i in range(args.pairs):
                victim = people[1 + i % 4][0]
                unknown.append(
                    timed(
                        api.auth.SignIn,
                        pb.SignInRequest(email=unique_email("ghost"), password="x" * 16),
                    )
                )
                wrong.append(
                    timed(api.auth.SignIn, pb.SignInRequest(email=victim, password="y" * 16))
                )
            m_unknown, m_wrong = statistics.median(unknown), statistics.median(wrong)
            gap = abs(m_unknown - m_wrong) / m_wrong

            # 2. sign-ins per second, one client per core
            print(f"bench: sign-ins per second with {cores} clients for {args.seconds} s")
            done = [0] * cores

            def sign_in_loop(n: int, until: float) -> None:
                email = people[1 + n][0]
                while time.monotonic() < until:
                    api.auth.SignIn(pb.SignInRequest(email=email, password=PASSWORD), timeout=30)
                    done[n] += 1

            until = time.monotonic() + args.seconds
            threads = [threading.Thread(target=sign_in_loop, args=(n, until)) for n in range(cores)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rate = sum(done) / args.seconds

            # 3. a cheap read while a flood of sign-ins runs
            print(f"bench: GetMember while {args.flood} clients flood SignIn")
            stop = threading.Event()
            flooded = [0]

            def flood(n: int) -> None:
                email = people[(1 + n) % len(people)][0]
                while not stop.is_set():
                    try:
                        api.auth.SignIn(
                            pb.SignInRequest(email=email, password=PASSWORD), timeout=30
                        )
                        flooded[0] += 1
                    except Exception:  # noqa: S112 - a refused sign-in is still load
                        continue

            flooders = [threading.Thread(target=flood, args=(n,)) for n in range(args.flood)]
            for t in flooders:
                t.start()
            time.sleep(1.0)  # the flood is on
            reads = []
            until = time.monotonic() + args.seconds
            while time.monotonic() < until:
                reads.append(
                    timed(
                        api.members.GetMember,
                        pb.GetMemberRequest(name=target),
                        metadata=reader.metadata,
                        timeout=10,
                    )
                )
            stop.set()
            for t in flooders:
                t.join()
            reads.sort()
    if run.failed:
        return 1
    config = settings()
    used = hasher(config.argon2_memory_kib, config.argon2_time_cost)
    results = {
        "argon2id": {
            "time_cost": used.time_cost,
            "memory_cost_kib": used.memory_cost,
            "parallelism": used.parallelism,
        },
        "unknown_email_median_ms": round(m_unknown, 2),
        "wrong_password_median_ms": round(m_wrong, 2),
        "median_gap": round(gap, 4),
        "sign_ins_per_s": round(rate, 1),
        "sign_ins_per_s_per_core": round(rate / cores, 1),
        "clients": cores,
        "flood_clients": args.flood,
        "flood_sign_ins_per_s": round(flooded[0] / (args.seconds + 1.0), 1),
        "read_p50_ms": round(percentile(reads, 0.5), 2),
        "read_p99_ms": round(percentile(reads, 0.99), 2),
        "reads": len(reads),
    }
    report = run.report("SignIn")
    report["results"] = results
    print()
    a = results["argon2id"]
    rows = [
        (
            "argon2id",
            f"t={a['time_cost']}, m={a['memory_cost_kib'] / 1024:g} MiB, p={a['parallelism']}",
        ),
        ("unknown email, median ms", results["unknown_email_median_ms"]),
        ("wrong password, median ms", results["wrong_password_median_ms"]),
        (f"sign-ins/s ({cores} clients)", results["sign_ins_per_s"]),
        ("sign-ins/s per core", results["sign_ins_per_s_per_core"]),
        (f"GetMember p50 ms, {args.flood} clients flooding SignIn", results["read_p50_ms"]),
        (f"GetMember p99 ms, {args.flood} clients flooding SignIn", results["read_p99_ms"]),
    ]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    ok_gap = gap <= MEDIAN_GAP_LIMIT
    ok_read = results["read_p99_ms"] < READ_P99_LIMIT_MS
    verdict = {True: "PASS", False: "FAIL"}
    print(f"\n{verdict[ok_gap]}  medians within 10%: {gap * 100:.1f} %")
    print(f"{verdict[ok_read]}  read p99 under 50 ms during the flood: {results['read_p99_ms']} ms")
    finish(run, report, "signin")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
