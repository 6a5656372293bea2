"""`make bench`, content: searching a library of 50,000 resources.

The library (1,000 global resources, and 49,000 spread over 49 tenants' libraries and their
coaches' own) is written straight into the deployment's content database through the service's
own repository (`Resources.add_many`: the same rows and search vectors as `CreateResource`),
with titles, authors, notes and tags drawn from a fixed vocabulary (seeded: the same library
every run). Then, as a coach of one tenant (who reads the global level, their tenant's and their
own: ~2,000 resources, but the query's words match across all 50,000), 200 sequential calls of
each search through the gRPC gateway:

- `one word`: a common word's prefix (it starts words in about a quarter of the library);
- `two words`: two prefixes, both required;
- `tag and language`: a tag filter and a language, no words;
- `browse`: no words, no filter (the caller's levels by title, first page).

p50 and p95 at the client and at the service (the `ms` the content service logs per call).
Target (issue 23): p50 under 30 ms at the service. Results: `var/bench/content-<UTC time>.json`
and `var/bench/content-latest.json`, and a table.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime
from typing import Any

from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import content_pb2_grpc
from gateway.api.pb import identity_pb2 as ipb
from services.content.domain.resources import GLOBAL, PRIVATE, TENANT, Resource
from services.content.storage.resources import Resources
from services.kernel.ids import new_id
from services.kernel.runtime.sql import make_engine
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
    start,
)

PASSWORD = "bench-content-password-2026"  # noqa: S105 (a throwaway test deployment's)
TARGET_MS = 30.0
WORDS = (
    "feedback leadership listening priorities conflict conversation delegation energy stress "
    "confidence trust motivation habits focus meetings negotiation career change resilience "
    "values strengths teams coaching mentoring emotions burnout balance decisions goals time "
    "productivity influence presence clarity courage empathy curiosity learning growth mindset "
    "communication writing speaking storytelling strategy vision culture inclusion diversity "
    "wellbeing sleep recovery boundaries assertiveness authenticity purpose meaning planning "
    "remote hybrid onboarding management performance review promotion transition manager peer "
    "report sponsor network visibility reputation ethics integrity accountability ownership"
).split()
TAGS = WORDS[:40]
KINDS = ("article", "video", "book", "podcast")
SEARCHES: dict[str, dict[str, Any]] = {
    "one word": {"query": "lead"},
    "two words": {"query": "feed conv"},
    "tag and language": {"tags": ["coaching"], "language": "fr"},
    "browse": {},
}


def library(tenants: list[str], coach: tuple[str, str], size: int, seed: int) -> list[Resource]:
    """`size` resources: 2% global, the rest over the tenants' libraries and a coach's own
    (one in ten of a tenant's is private to a coach of it; `coach` is the measured one)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    made = []
    for n in range(size):
        if n % 50 == 0:
            scope, tenant, owner = GLOBAL, None, None
        else:
            tenant = tenants[n % len(tenants)]
            private = n % 10 == 1
            scope = PRIVATE if private else TENANT
            owner = None
            if private:
                owner = coach[1] if tenant == coach[0] else new_id("per")
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))).capitalize()
        made.append(
            Resource(
                id=new_id("res"),
                scope=scope,
                tenant_id=tenant,
                owner_person_id=owner,
                kind=rng.choice(KINDS),
                title=title,
                url=f"https://example.org/{n}",
                author=f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}",
                language=rng.choice(("en", "fr")),
                minutes=rng.randint(0, 120),
                tags=tuple(sorted(set(rng.sample(TAGS, rng.randint(0, 4))))),
                why=" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 15))),
                created_at=now,
                updated_at=now,
            )
        )
    return made


def main(argv: list[str]) -> int:
    parser = arguments("content", __doc__)
    parser.add_argument("--resources", type=int, default=50_000)
    parser.add_argument("--tenants", type=int, default=49)
    parser.add_argument("--calls", type=int, default=200)
    args = benchkit.parse_args(parser, argv, quick={"resources": 2_000, "calls": 20})
    results: dict[str, dict[str, Any]] = {}
    with bench_deployment("content", args, tails=("content", "gateway")) as run:
        d = start(run, "the platform", serving=("content",))
        with d.channel() as channel:
            api = Api(channel)
            stub = content_pb2_grpc.ContentServiceStub(channel)
            operator = sign_in_operator(api, d.config)
            tenant = new_tenant(api, operator, "Content bench", "cnt")
            _, coach_email = new_member(d.config, api, operator, tenant, ipb.COACH, PASSWORD)
            coach = api.sign_in(coach_email, PASSWORD, tenant)
            others = [new_id("tnt") for _ in range(args.tenants - 1)]
            rows = library([tenant, *others], (tenant, coach.person_id), args.resources, 2026)
            print(f"bench: writing {len(rows)} resources...", flush=True)
            engine = make_engine(d.config.database_url_for("content"), pool_size=1)
            written = time.perf_counter()
            with engine.begin() as connection:
                repo = Resources(connection)
                for start_at in range(0, len(rows), 1_000):
                    repo.add_many(rows[start_at : start_at + 1_000])
                connection.exec_driver_sql("ANALYZE resources")
            engine.dispose()
            print(f"bench: written in {time.perf_counter() - written:.1f} s", flush=True)
            for name, filters in SEARCHES.items():
                print(f"bench: measuring {name}...", flush=True)
                times, found = [], 0
                for i in range(10 + args.calls):
                    rid = f"bench-{name.replace(' ', '_')}-{i}"
                    md = (*coach.metadata, ("x-request-id", rid))
                    started = time.perf_counter()
                    answer = stub.SearchResources(
                        cpb.SearchResourcesRequest(**filters), metadata=md
                    )
                    if i >= 10:  # after a warm-up
                        times.append((time.perf_counter() - started) * 1000)
                    found = len(answer.resources)
                results[name] = {"client": quantiles_ms(sorted(times), 0.5, 0.95), "page": found}
        for name in SEARCHES:
            prefix = f"bench-{name.replace(' ', '_')}-"
            logged = logged_ms(d.logs.get("content"), "search_resources", prefix)
            measured = sorted(ms for rid, ms in logged.items() if int(rid.rsplit("-", 1)[1]) >= 10)
            results[name]["service"] = {**quantiles_ms(measured, 0.5, 0.95), "calls": len(measured)}
    if run.failed:
        return 1
    report = run.report("Content")
    report["results"] = {
        "resources": args.resources,
        "searches": results,
        "target_p50_ms_at_service": TARGET_MS,
    }
    print(f"\n| search ({args.resources} resources) | p50 ms service | p95 | p50 ms client | p95 |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        s, c = r["service"], r["client"]
        print(f"| {name} | {s['p50_ms']} | {s['p95_ms']} | {c['p50_ms']} | {c['p95_ms']} |")
    ok = all(r["service"]["p50_ms"] < TARGET_MS and r["service"]["calls"] for r in results.values())
    print(f"\n{'PASS' if ok else 'FAIL'}  every p50 at the service under {TARGET_MS} ms")
    finish(run, report, "content")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
