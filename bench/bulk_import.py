"""`make bench`, bulk invitations: `ImportMembers` of 1,000 and 10,000 rows through the gRPC
gateway, each in one call under the gateway's default deadline, then how long until every
invitation mail of that file is written.

A deployment of its own (fresh databases and vhost, mail as .eml files). For each size: a new
tenant, one CSV file of new people (`email,role,name`), one call; the call's wall time is what
the tenant admin waits for; "mailed" is from the call's start until the last of the file's
invitations lies in the mail folder (the mails follow the commit through the outbox, the relay
and identity's own handler). Results: `var/bench/import-<UTC time>.json` and
`var/bench/import-latest.json`, and a table. Target: 1,000 rows in one call well inside the
10 s default deadline; the documented maximum (10,000 rows) inside it too.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as pb
from tests.support.api import Api, Session, unique_email
from tests.support.people import sign_in_operator

from . import benchkit
from .benchkit import arguments, bench_deployment, finish, new_member, new_tenant, start

ADMIN_PASSWORD = "bench-import-admin-2026"  # noqa: S105 (a throwaway test deployment's)
DEADLINE_S = 10.0  # ECOACH_RPC_TIMEOUT_SECONDS' default: the gateway's ceiling on any call


def admin_of_new_tenant(api: Api, operator: Session, config: Any) -> tuple[str, Session]:
    tenant = new_tenant(api, operator, "Bulk import bench", "bulk")
    _, email = new_member(
        config, api, operator, tenant, pb.TENANT_ADMIN, ADMIN_PASSWORD, label="bulk-admin"
    )
    return tenant, api.sign_in(email, ADMIN_PASSWORD, tenant)


def mails_written(folder: Path) -> int:
    return sum(1 for _ in folder.glob("*.eml"))


def import_once(
    api: Api, operator: Session, config: Any, mail: Path, rows: int, mail_timeout: float
) -> dict[str, Any]:
    tenant_id, admin = admin_of_new_tenant(api, operator, config)
    time.sleep(1.0)  # the admin's own invitation is mailed before we count
    before = mails_written(mail)
    lines = ["email,role,name"] + [
        f"{unique_email('bulk')},coachee,Person {i}" for i in range(rows)
    ]
    data = "\n".join(lines).encode()
    started = time.monotonic()
    answer = api.members.ImportMembers(
        pb.ImportMembersRequest(parent=tenant_name(tenant_id), csv=data),
        metadata=admin.metadata,
        timeout=DEADLINE_S,
    )
    call_s = time.monotonic() - started
    deadline = started + mail_timeout
    while mails_written(mail) - before < rows and time.monotonic() < deadline:
        time.sleep(0.05)
    mailed = mails_written(mail) - before
    mailed_s = time.monotonic() - started
    return {
        "rows": rows,
        "file_bytes": len(data),
        "added": answer.added,
        "rejected": answer.rejected,
        "call_s": round(call_s, 3),
        "rows_per_s": round(rows / call_s),
        "mailed": mailed,
        "all_mailed_s": round(mailed_s, 2) if mailed >= rows else None,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| rows | one call s | rows/s | all invitations mailed s |",
        "|---|---|---|---|",
    ]
    for r in results:
        mailed = r["all_mailed_s"] if r["all_mailed_s"] is not None else f"{r['mailed']} only"
        lines.append(f"| {r['rows']:,} | {r['call_s']:.2f} | {r['rows_per_s']:,} | {mailed} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = arguments("bulk_import", __doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--mail-timeout", type=float, default=300.0)
    args = benchkit.parse_args(parser, argv, quick={"sizes": [100]})
    results: list[dict[str, Any]] = []
    with bench_deployment("import", args, tails=("identity", "gateway")) as run:
        deployment = start(run, "identity and the gateway")
        mail = deployment.var_dir / "mail"
        with deployment.channel() as channel:
            api = Api(channel)
            operator = sign_in_operator(api, deployment.config)
            import_once(api, operator, deployment.config, mail, 50, args.mail_timeout)  # warm-up
            for rows in args.sizes:
                print(f"bench: importing {rows:,} rows in one call", flush=True)
                results.append(
                    import_once(api, operator, deployment.config, mail, rows, args.mail_timeout)
                )
    if run.failed:
        return 1
    report = run.report("ImportMembers")
    report["results"] = results
    report["deadline_s"] = DEADLINE_S
    print()
    print(table(results))
    finish(run, report, "import")
    return 0 if all(r["added"] == r["rows"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
