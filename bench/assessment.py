"""`make bench`, assessment: scoring, and a coachee's results with many attempts.

1. Scoring (the domain, no deployment): the wheel of life scored over 10,000 attempts of random
   answers (`services/assessment/domain/scoring.score`): per attempt p50 and p95, and the total.
2. A coachee's results with 200 attempts (the wheel of life assigned, submitted and retaken 200
   times through the gRPC gateway), then measured as the coachee:
   - `GetAssignment`: the assignment with its 200 attempts as summaries (score values) and
     its dimensions' band texts once;
   - `GetTrend`: each dimension's 200 points;
   - `ListAssignments`: the space's assignments, each as `GetAssignment` gives it;
   - `GetAttempt`: the latest attempt whole, its answers opened and its results' texts.
   p50 and p95 at the client and at the service (the `ms` the assessment service logs per call).

Target: p50 under 20 ms at the service for each call. Results:
`var/bench/assessment-<UTC time>.json` and `var/bench/assessment-latest.json`, and a table.
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

import grpc

from gateway.api.convert import tenant_name
from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import assessment_pb2_grpc, spaces_pb2_grpc
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from services.assessment.catalogue import from_catalogue
from services.assessment.domain.scoring import score
from tests.support.api import Api
from tests.support.people import sign_in_operator

from . import benchkit
from .benchkit import (
    arguments,
    bench_deployment,
    finish,
    logged_ms,
    new_member,
    new_tenant,
    quantiles_ms,
    refreshed,
    start,
)

PASSWORD = "bench-assessment-password-2026"  # noqa: S105 (a throwaway test deployment's)
TARGET_MS = 20.0
SERVICE_METHODS = {
    "GetAssignment": "get_assignment",
    "GetTrend": "get_trend",
    "ListAssignments": "list_assignments",
    "GetAttempt": "get_attempt",
}


def wheel() -> Any:
    return from_catalogue("wheel-of-life")


def random_answers(instrument: Any, rng: random.Random) -> dict[str, Any]:
    return {
        item.id: rng.randint(int(item.scale_min), int(item.scale_max))
        for item in instrument.items
        if item.kind in ("likert", "numeric_scale")
    }


def bench_scoring(attempts: int) -> dict[str, Any]:
    instrument = wheel()
    rng = random.Random(22)
    answer_sets = [random_answers(instrument, rng) for _ in range(attempts)]
    times = []
    began = time.perf_counter()
    for answers in answer_sets:
        started = time.perf_counter()
        score(instrument, answers)
        times.append((time.perf_counter() - started) * 1000)
    total = (time.perf_counter() - began) * 1000
    return {
        "attempts": attempts,
        "total_ms": round(total, 1),
        **quantiles_ms(sorted(times), 0.5, 0.95),
    }


def main(argv: list[str]) -> int:
    parser = arguments("assessment", __doc__)
    parser.add_argument("--scored", type=int, default=10_000)
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--calls", type=int, default=200)
    args = benchkit.parse_args(parser, argv, quick={"scored": 500, "attempts": 10, "calls": 20})
    print(f"bench: scoring {args.scored} attempts...", flush=True)
    scoring = bench_scoring(args.scored)
    listing: dict[str, dict[str, float]] = {}
    with bench_deployment("assessment", args, tails=("assessment", "gateway")) as run:
        d = start(run, "the platform", serving=("assessment", "spaces"))
        with d.channel() as channel:
            api = Api(channel)
            stub = assessment_pb2_grpc.AssessmentServiceStub(channel)
            spaces = spaces_pb2_grpc.SpaceServiceStub(channel)
            operator = sign_in_operator(api, d.config)
            tenant = new_tenant(api, operator, "Assessment bench", "asm")
            coach_member, coach_email = new_member(
                d.config, api, operator, tenant, ipb.COACH, PASSWORD
            )
            coachee_member, coachee_email = new_member(
                d.config, api, operator, tenant, ipb.COACHEE, PASSWORD
            )
            coach = api.sign_in(coach_email, PASSWORD, tenant)
            coachee = api.sign_in(coachee_email, PASSWORD, tenant)
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
            )
            space = spaces.ActivateSpace(
                spb.SpaceMoveRequest(name=created.name), metadata=coach.metadata
            ).name
            assigned = None
            deadline = time.monotonic() + 30
            while assigned is None:  # once assessment has learnt the space is active
                try:
                    assigned = stub.AssignInstrument(
                        apb.AssignInstrumentRequest(parent=space, instrument_id="wheel-of-life"),
                        metadata=coach.metadata,
                    )
                except grpc.RpcError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            ref = assigned.assignment_id
            instrument = wheel()
            rng = random.Random(360)
            print(f"bench: submitting {args.attempts} attempts...", flush=True)
            for n in range(args.attempts):
                if n:
                    stub.AllowRetake(
                        apb.AllowRetakeRequest(assignment_id=ref), metadata=coach.metadata
                    )
                values = random_answers(instrument, rng)
                stub.SubmitAttempt(
                    apb.AnswersRequest(
                        assignment_id=ref,
                        answers={k: apb.Answer(number=v) for k, v in values.items()},
                    ),
                    metadata=coachee.metadata,
                )
                if n % 50 == 49:
                    refreshed(api, coach)
                    refreshed(api, coachee)
            calls = {
                "GetAssignment": lambda md: stub.GetAssignment(
                    apb.GetAssignmentRequest(assignment_id=ref), metadata=md
                ),
                "GetTrend": lambda md: stub.GetTrend(
                    apb.GetTrendRequest(assignment_id=ref), metadata=md
                ),
                "ListAssignments": lambda md: stub.ListAssignments(
                    apb.ListAssignmentsRequest(parent=space), metadata=md
                ),
                "GetAttempt": lambda md: stub.GetAttempt(
                    apb.GetAttemptRequest(assignment_id=ref, number=args.attempts), metadata=md
                ),
            }
            got = stub.GetAssignment(
                apb.GetAssignmentRequest(assignment_id=ref), metadata=coachee.metadata
            )
            assert len(got.attempts) == args.attempts, len(got.attempts)
            for name, call in calls.items():
                print(f"bench: measuring {name}...", flush=True)
                times = []
                for i in range(10 + args.calls):
                    rid = f"bench-{name}-{i}"
                    md = (*coachee.metadata, ("x-request-id", rid))
                    started = time.perf_counter()
                    call(md)
                    if i >= 10:  # after a warm-up
                        times.append((time.perf_counter() - started) * 1000)
                listing[name] = {"client": quantiles_ms(sorted(times), 0.5, 0.95)}
        for name, method in SERVICE_METHODS.items():
            logged = logged_ms(d.logs.get("assessment"), method, f"bench-{name}-")
            measured = sorted(ms for rid, ms in logged.items() if int(rid.rsplit("-", 1)[1]) >= 10)
            listing[name]["service"] = quantiles_ms(measured, 0.5, 0.95)
            listing[name]["service"]["calls"] = len(measured)
    if run.failed:
        return 1
    report = run.report("Assessment")
    report["results"] = {
        "scoring": scoring,
        "attempts": args.attempts,
        "listing": listing,
        "target_p50_ms_at_service": TARGET_MS,
    }
    print(
        f"\nscoring: {scoring['attempts']} attempts in {scoring['total_ms']} ms "
        f"(p50 {scoring['p50_ms']} ms, p95 {scoring['p95_ms']} ms per attempt)"
    )
    print(f"\n| call ({args.attempts} attempts) | p50 ms service | p95 | p50 ms client | p95 |")
    print("|---|---|---|---|---|")
    for name, r in listing.items():
        s, c = r["service"], r["client"]
        print(f"| {name} | {s['p50_ms']} | {s['p95_ms']} | {c['p50_ms']} | {c['p95_ms']} |")
    ok = all(r["service"]["p50_ms"] < TARGET_MS and r["service"]["calls"] for r in listing.values())
    print(f"\n{'PASS' if ok else 'FAIL'}  every p50 at the service under {TARGET_MS} ms")
    finish(run, report, "assessment")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
