"""Searching a tenant's members (issue 20): how long identity's ListMembers query takes on a
tenant of 5,000 members, among other tenants' members.

A scratch database of its own on `ECOACH_DATABASE_URL` (created and dropped here), identity's
tables from its metadata, `--members` members in the searched tenant and `--others` in other
tenants (names and emails like real ones, folded by the same code as the service). It times
`Memberships.search`, the one query ListMembers runs (the RPC and gateway add a few ms on top:
docs/ARCHITECTURE, "Stack decisions"), for typical searches, first page of 50, `--runs` times
each: median, p95 and the rows found.

Results: `var/bench/member-search-<UTC time>.json` and `var/bench/member-search-latest.json`.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.identity.domain.model import MemberSearch, Membership, Person, Tenant
from services.identity.storage.memberships import Memberships
from services.identity.storage.persons import Persons
from services.identity.storage.tables import metadata
from services.identity.storage.tenants import Tenants

from .benchkit import machine, percentile, server_version, write_report

FIRST = ["Éloïse", "Marc", "Martine", "Hugo", "Zoé", "Jean", "Anne", "Lucas", "Chloé", "Noah"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy"]
SEARCHES: list[tuple[str, dict[str, str]]] = [
    ("no filter (first page)", {}),
    ("a name word: 'martin'", {"query": "martin"}),
    ("a rare name start: 'zoe dur'", {"query": "zoe dur"}),
    ("an exact email", {"query": "<email>"}),
    ("an email start: 'm'", {"query": "m"}),
    ("nothing matches: 'qqq'", {"query": "qqq"}),
    ("role coach", {"role": "coach"}),
    ("'mar' + coachee + active", {"query": "mar", "role": "coachee", "status": "active"}),
]


def people(tenant_id: str, count: int, now: datetime) -> tuple[list[Person], list[Membership]]:
    persons, members = [], []
    for i in range(count):
        first, last = random.choice(FIRST), random.choice(LAST)
        email = f"{first.lower()}.{last.lower()}.{secrets.token_hex(3)}@example.test"
        p = Person.create(
            email=email,
            display_name=f"{first} {last}",
            locale="fr",
            time_zone="Europe/Paris",
            now=now,
        )
        role = "coach" if i % 20 == 0 else "coachee"
        status = "active" if i % 10 else "pending"
        at = now + timedelta(microseconds=i)
        members.append(
            Membership(
                id=f"mem_{secrets.token_hex(8)}",
                tenant_id=tenant_id,
                person_id=p.id,
                invited_email=email,
                roles=(role,),
                status=status,
                created_at=at,
                updated_at=at,
                accepted_at=at if status == "active" else None,
            )
        )
        persons.append(p)
    return persons, members


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.member_search")
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--others", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    parser.add_argument(
        "--quick", action="store_true", help="small counts, report under var/bench/quick/"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.others, args.runs = 500, 2000, 5
        args.out = args.out / "quick"
    base = make_url(
        os.environ.get("ECOACH_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    scratch = f"bench_member_search_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    scratch_url = base.set(database=scratch).render_as_string(hide_password=False)
    engine = create_engine(scratch_url)
    try:
        metadata.create_all(engine)
        now = datetime.now(UTC)
        random.seed(20)
        tenants = [
            Tenant.create(f"T{i}", f"bench-{i}-{secrets.token_hex(3)}", now) for i in range(5)
        ]
        with engine.begin() as conn:
            for t in tenants:
                Tenants(conn).add(t)
            searched = tenants[0]
            ps, ms = people(searched.id, args.members, now)
            for t in tenants[1:]:
                more_p, more_m = people(t.id, args.others // 4, now)
                ps += more_p
                ms += more_m
            Persons(conn).add_many(ps)
            Memberships(conn).add_many(ms)
            email = next(p.email for p, m in zip(ps, ms, strict=True) if m.status == "active")
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
        results: dict[str, Any] = {}
        with engine.connect() as conn:
            members = Memberships(conn)
            for label, fields in SEARCHES:
                query = fields.get("query", "").replace("<email>", email)
                found = MemberSearch.of(query, fields.get("role", ""), fields.get("status", ""))
                times, rows = [], 0
                for _ in range(args.runs):
                    started = time.perf_counter()
                    page, _next = members.search(searched.id, found, 50, "")
                    times.append((time.perf_counter() - started) * 1000)
                    rows = len(page)
                times.sort()
                results[label] = {
                    "median_ms": round(statistics.median(times), 2),
                    "p95_ms": round(percentile(times, 0.95), 2),
                    "rows_on_first_page": rows,
                }
                print(
                    f"{label:32} median {results[label]['median_ms']:6.2f} ms  "
                    f"p95 {results[label]['p95_ms']:6.2f} ms  rows {rows}"
                )
        report = {
            "what": "identity Memberships.search (ListMembers' query), first page of 50",
            "members_in_tenant": args.members,
            "members_in_other_tenants": args.others,
            "runs": args.runs,
            "postgresql": server_version(scratch_url),
            "machine": machine(),
            "results": results,
        }
        path = write_report(report, args.out, "member-search", "member-search-latest.json")
        print(f"bench: {path}")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
