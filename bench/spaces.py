"""`make bench`, spaces: the latest notes of a space and both dashboards as the database grows.

The measured coach has 40 spaces and the measured space 200 notes in both runs; only the rest
of the database grows, from 100 spaces to 10,000 spaces and 1,000,000 notes (the filler rows are
written straight into the spaces database, in other spaces of the same and other tenants, with
sealed-looking text of a realistic size: no call reads them). Through the gRPC gateway:

- `ListNotes` (20 latest) of the measured space, as its coachee;
- `GetCoacheeDashboard` as that coachee (the space, its goals, its 5 latest shared notes);
- `GetCoachDashboard` as the coach (40 spaces, status and last activity).

Target: each p50 within 1.5x between the small and the large database. Results:
`var/bench/spaces-<UTC time>.json` and `var/bench/spaces-latest.json`, and a table.
"""

from __future__ import annotations

import base64
import io
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2

from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as pb
from gateway.api.pb import spaces_pb2_grpc as pb_grpc
from tests.support.api import Api
from tests.support.people import sign_in_operator

from . import benchkit
from .benchkit import (
    arguments,
    bench_deployment,
    finish,
    new_member,
    new_tenant,
    quantiles_ms,
    refreshed,
    start,
)

PASSWORD = "bench-spaces-password-2026"  # noqa: S105 (a throwaway test deployment's)
RATIO_LIMIT = 1.5
COACH_SPACES = 40
SPACE_NOTES = 200


def measure(call: Any, n: int) -> dict[str, float]:
    for _ in range(10):  # warm-up
        call()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return quantiles_ms(sorted(times), 0.5, 0.99)


def _person() -> str:
    return f"per_{secrets.token_hex(12)}"


# The filler rows' columns, named: later migrations add columns (nullable or with defaults).
SPACE_COLUMNS = (
    "id, tenant_id, status, coachee_member_id, coachee_person_id, coach_member_id,"
    " coach_person_id, co_coach_member_id, co_coach_person_id, cadence, sessions_planned,"
    " starts_on, ends_on, data_key, content_sealed, created_by, created_at, updated_at"
)
NOTE_COLUMNS = (
    "id, space_id, tenant_id, kind, author_id, parent_id, sealed, created_at, updated_at,"
    " deleted_at"
)


def _blob(size: int) -> str:
    return "v1.0000000000000000." + base64.urlsafe_b64encode(os.urandom(size)).decode()


def fill(url: str, spaces_total: int, notes_total: int, tenants: list[str]) -> None:
    """Filler spaces and notes, written with COPY (no call reads them)."""
    started = time.monotonic()
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            now = datetime.now(UTC)
            space_ids = [f"spc_{secrets.token_hex(12)}" for _ in range(spaces_total)]
            rows = io.StringIO()
            for i, sid in enumerate(space_ids):
                tenant = tenants[i % len(tenants)]
                rows.write(
                    "\t".join(
                        [
                            sid,
                            tenant,
                            "active",
                            f"mem_{secrets.token_hex(12)}",
                            _person(),
                            f"mem_{secrets.token_hex(12)}",
                            _person(),
                            r"\N",
                            r"\N",
                            "weekly",
                            "10",
                            "2027-01-04",
                            r"\N",
                            _blob(60),
                            _blob(300),
                            _person(),
                            (now - timedelta(days=400)).isoformat(),
                            (now - timedelta(days=400)).isoformat(),
                        ]
                    )
                    + "\n"
                )
            rows.seek(0)
            cur.copy_expert(f"COPY spaces ({SPACE_COLUMNS}) FROM STDIN", rows)
            per_space = max(1, notes_total // max(1, spaces_total))
            written = 0
            batch = io.StringIO()
            for sid in space_ids:
                for j in range(per_space):
                    if written >= notes_total:
                        break
                    when = (now - timedelta(days=300, minutes=j)).isoformat()
                    batch.write(
                        f"not_{secrets.token_hex(12)}\t{sid}\t{tenants[0]}\tshared\t"
                        f"per_{secrets.token_hex(12)}\t\\N\t{_blob(400)}\t{when}\t{when}\t\\N\n"
                    )
                    written += 1
                if batch.tell() > 50_000_000:
                    batch.seek(0)
                    cur.copy_expert(f"COPY notes ({NOTE_COLUMNS}) FROM STDIN", batch)
                    batch = io.StringIO()
            batch.seek(0)
            cur.copy_expert(f"COPY notes ({NOTE_COLUMNS}) FROM STDIN", batch)
        with conn.cursor() as cur:
            conn.autocommit = True
            cur.execute("ANALYZE spaces")
            cur.execute("ANALYZE notes")
    finally:
        conn.close()
    print(
        f"bench: +{spaces_total} spaces, +{notes_total} notes in {time.monotonic() - started:.0f} s"
    )


def main(argv: list[str]) -> int:
    parser = arguments("spaces", __doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--spaces", type=int, default=10_000)
    parser.add_argument("--notes", type=int, default=1_000_000)
    args = benchkit.parse_args(parser, argv, quick={"calls": 20, "spaces": 200, "notes": 2_000})
    if args.spaces < 100 or args.notes < SPACE_NOTES:
        parser.error(f"--spaces at least 100, --notes at least {SPACE_NOTES}")
    phases: dict[str, dict[str, Any]] = {}
    with bench_deployment("spaces", args, tails=("spaces", "gateway")) as run:
        d = start(run, "the platform", serving=("spaces",))
        with d.channel() as channel:
            api = Api(channel)
            stubs = (
                pb_grpc.SpaceServiceStub(channel),
                pb_grpc.NoteServiceStub(channel),
                pb_grpc.DashboardServiceStub(channel),
            )
            spaces, notes, dashboards = stubs
            operator = sign_in_operator(api, d.config)
            tenant = new_tenant(api, operator, "Spaces bench", "spc")
            other = new_tenant(api, operator, "Elsewhere", "spc")

            def member(role: int) -> tuple[str, Any]:
                added, email = new_member(d.config, api, operator, tenant, role, PASSWORD)
                return added, api.sign_in(email, PASSWORD, tenant)

            coach_member, coach = member(ipb.COACH)
            coachee_member, coachee = member(ipb.COACHEE)
            names = []
            for i in range(COACH_SPACES):
                who = coachee_member if i == 0 else member(ipb.COACHEE)[0]
                created = spaces.CreateSpace(
                    pb.CreateSpaceRequest(
                        parent=tenant_name(tenant),
                        set_up=pb.SpaceSetUp(
                            coachee_member_id=who,
                            coach_member_id=coach_member,
                            cadence=pb.WEEKLY,
                            sessions_planned=10,
                            start_date="2027-01-04",
                        ),
                        content=pb.SpaceContent(project="A realistic project " * 10),
                    ),
                    metadata=coach.metadata,
                )
                spaces.ActivateSpace(
                    pb.SpaceMoveRequest(name=created.name), metadata=coach.metadata
                )
                names.append(created.name)
            measured = names[0]
            for i in range(SPACE_NOTES):
                writer = coach if i % 2 else coachee
                notes.CreateNote(
                    pb.CreateNoteRequest(
                        parent=measured,
                        note=pb.Note(kind=pb.SHARED, body=f"Note {i}: " + "some words " * 30),
                    ),
                    metadata=writer.metadata,
                )
            calls = {
                "ListNotes": lambda: notes.ListNotes(
                    pb.ListNotesRequest(parent=measured, page_size=20), metadata=coachee.metadata
                ),
                "GetCoacheeDashboard": lambda: dashboards.GetCoacheeDashboard(
                    pb.GetCoacheeDashboardRequest(parent=tenant_name(tenant)),
                    metadata=coachee.metadata,
                ),
                "GetCoachDashboard": lambda: dashboards.GetCoachDashboard(
                    pb.GetCoachDashboardRequest(parent=tenant_name(tenant)),
                    metadata=coach.metadata,
                ),
            }
            url = d.config.database_url_for("spaces").replace("+psycopg2", "")
            fill(url, 100 - COACH_SPACES, 0, [tenant, other])
            print("bench: measuring with 100 spaces...")
            phases["small"] = {name: measure(call, args.calls) for name, call in calls.items()}
            fill(url, args.spaces - 100, args.notes - SPACE_NOTES, [other, tenant])
            print(f"bench: measuring with {args.spaces} spaces and {args.notes} notes...")
            # The fill may outlast the access tokens: the calls read the renewed ones.
            for who in (coach, coachee):
                refreshed(api, who)
            phases["large"] = {name: measure(call, args.calls) for name, call in calls.items()}
    if run.failed:
        return 1
    ratios = {
        name: round(phases["large"][name]["p50_ms"] / phases["small"][name]["p50_ms"], 2)
        for name in phases["small"]
    }
    report = run.report("Spaces")
    report["results"] = {
        "coach_spaces": COACH_SPACES,
        "space_notes": SPACE_NOTES,
        "small": {"spaces": 100, "notes": SPACE_NOTES, **phases["small"]},
        "large": {"spaces": args.spaces, "notes": args.notes, **phases["large"]},
        "p50_ratio": ratios,
    }
    print("\n| call | p50 ms (100 spaces) | p99 | p50 ms (large) | p99 | ratio |")
    print("|---|---|---|---|---|---|")
    for name in phases["small"]:
        s, big = phases["small"][name], phases["large"][name]
        print(
            f"| {name} | {s['p50_ms']} | {s['p99_ms']} | {big['p50_ms']} | {big['p99_ms']} "
            f"| {ratios[name]} |"
        )
    ok = all(r <= RATIO_LIMIT for r in ratios.values())
    print(f"\n{'PASS' if ok else 'FAIL'}  every p50 within {RATIO_LIMIT}x: {ratios}")
    finish(run, report, "spaces")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
