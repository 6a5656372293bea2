"""`make bench`, web: the two home pages of the web app against the gRPC calls behind them.

A deployment of its own (services, gRPC gateway, web process). A coach with COACH_SPACES active
spaces (one session booked in each, the measured coachee's with goals and shared notes); through
the web process as a browser would (a signed-in session cookie per user, keep-alive):

- `/my-space`: the coachee's home, one `GetCoacheeDashboard` (3 notes per space) behind it;
- `/desk`: the coach's home, `GetCoachDashboard` and `ListMyMemberships` behind it.

Each page is read by 1 then 8 concurrent users (each their own session); in the same run, and
interleaved with the page (each user reads the page, then makes each call in turn), each gRPC
call the page makes is measured straight against the gateway: both meet the same load, which
matters on a shared machine whose speed drifts from one minute to the next.
Target: a page's p50 at most 1.5x the p50 of the slowest call it makes (what the web process
adds: the session cookie, the rendering, HTTP). Results: `var/bench/web-<UTC time>.json` and
`var/bench/web-latest.json`, and a table.
"""

from __future__ import annotations

import http.client
import re
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as pb
from gateway.api.pb import spaces_pb2_grpc as spaces_grpc
from tests.support import scheduling as sch
from tests.support.api import Api, Session
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
)

PASSWORD = "bench-web-password-2026"  # noqa: S105 (a throwaway test deployment's)
RATIO_LIMIT = 1.5
COACH_SPACES = 30
GOALS = 5
NOTES = 20
USERS = (1, 8)
COOKIE = re.compile(r"ecoach_session=([^;]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """One person's signed-in browser: a keep-alive connection and the session cookie."""

    def __init__(self, address: str) -> None:
        host, port = address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.cookie = ""

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        headers = {"Cookie": f"ecoach_session={self.cookie}"} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        answer = self.conn.getresponse()
        text = answer.read().decode()
        found = COOKIE.search(answer.getheader("Set-Cookie") or "")
        if found:
            self.cookie = found.group(1)
        return answer.status, answer.getheader("Location") or "", text

    def sign_in(self, email: str, home: str) -> None:
        _status, _location, page = self.request("GET", "/sign-in")
        token = CSRF.search(page)
        assert token, "no CSRF token on the sign-in page"
        status, location, _ = self.request(
            "POST", "/sign-in", {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
        )
        for _ in range(5):  # / -> /tenants -> / -> home
            if status != 302:
                break
            path = location.split("://", 1)[-1]
            path = path[path.index("/") :] if "/" in path else "/"
            status, location, _ = self.request("GET", path)
        assert self.get(home) == 200, f"{email} cannot read {home}"

    def get(self, path: str) -> int:
        status, _location, _text = self.request("GET", path)
        return status


def concurrently(
    users: int, rounds: int, make: Callable[[int], dict[str, Callable[[], Any]]]
) -> dict[str, list[float]]:
    """`users` threads, each with its own named actions (`make(n)`), run them in turn
    `rounds` times (after 5 warm-ups): each action's durations in ms, sorted. Interleaved, the
    page and the calls behind it meet the same load (the machine may be shared)."""
    durations: dict[str, list[float]] = {}
    lock = threading.Lock()
    start = threading.Barrier(users)

    def run(n: int) -> None:
        actions = make(n)
        for _ in range(5):
            for action in actions.values():
                action()
        start.wait()
        mine: dict[str, list[float]] = {name: [] for name in actions}
        for _ in range(rounds):
            for name, action in actions.items():
                began = time.perf_counter()
                action()
                mine[name].append((time.perf_counter() - began) * 1000)
        with lock:
            for name, found in mine.items():
                durations.setdefault(name, []).extend(found)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {name: sorted(found) for name, found in durations.items()}


def summary(durations: list[float]) -> dict[str, float]:
    return {**quantiles_ms(durations, 0.5, 0.95), "n": len(durations)}


def main(argv: list[str]) -> int:
    parser = arguments("web", __doc__)
    parser.add_argument("--rounds", type=int, default=60, help="requests per user")
    args = benchkit.parse_args(parser, argv, quick={"rounds": 5})
    results: dict[str, Any] = {}
    with bench_deployment("web", args, tails=("web", "gateway")) as run:
        d = benchkit.start(run, "the deployment", serving=())
        with d.channel() as channel:
            api = Api(channel)
            s = sch.stubs(channel)
            operator = sign_in_operator(api, d.config)
            tenant = new_tenant(api, operator, "Web bench", "web")
            parent = tenant_name(tenant)

            def member(role: int, label: str) -> tuple[str, str, Session]:
                added, email = new_member(
                    d.config,
                    api,
                    operator,
                    tenant,
                    role,
                    PASSWORD,
                    label=label,
                    display_name=label.title(),
                )
                return email, added, api.sign_in(email, PASSWORD, tenant)

            coach_email, coach_member, coach = member(ipb.COACH, "coach")
            coachee_email, coachee_member, coachee = member(ipb.COACHEE, "coachee")
            sch.set_availability(s, coach, sch.around_the_clock())
            print(f"bench: {COACH_SPACES} spaces, a session booked in each...")
            names = []
            for i in range(COACH_SPACES):
                who = coachee_member if i == 0 else member(ipb.COACHEE, f"coachee{i}")[1]
                space = sch.active_space(s, tenant, coach, who, coach_member)
                start = sch.hour_from_now(48) + timedelta(hours=i)
                sch.book(s, space.name, coach, start)
                names.append(space.name)
            measured = names[0]
            goals = spaces_grpc.GoalServiceStub(channel)
            for i in range(GOALS):
                goals.CreateGoal(
                    pb.CreateGoalRequest(
                        parent=measured, goal=pb.Goal(title=f"Goal {i} " * 5, progress=10 * i)
                    ),
                    metadata=coach.metadata,
                )
            for i in range(NOTES):
                s.notes.CreateNote(
                    pb.CreateNoteRequest(
                        parent=measured,
                        note=pb.Note(kind=pb.SHARED, body=f"Note {i}: " + "some words " * 30),
                    ),
                    metadata=coach.metadata if i % 2 else coachee.metadata,
                )

            pages = {
                "/my-space": (coachee_email, coachee),
                "/desk": (coach_email, coach),
            }
            calls: dict[str, dict[str, Callable[[Session], Any]]] = {
                "/my-space": {
                    "GetCoacheeDashboard": lambda who: s.dashboards.GetCoacheeDashboard(
                        pb.GetCoacheeDashboardRequest(parent=parent, notes_per_space=3),
                        metadata=who.metadata,
                        timeout=30,
                    ),
                },
                "/desk": {
                    "GetCoachDashboard": lambda who: s.dashboards.GetCoachDashboard(
                        pb.GetCoachDashboardRequest(parent=parent),
                        metadata=who.metadata,
                        timeout=30,
                    ),
                    "ListMyMemberships": lambda who: api.members.ListMyMemberships(
                        ipb.ListMyMembershipsRequest(), metadata=who.metadata, timeout=30
                    ),
                },
            }
            browsers = {page: [Browser(d.web_address) for _ in range(max(USERS))] for page in pages}
            for page, (email, _who) in pages.items():
                for b in browsers[page]:
                    b.sign_in(email, page)
            for page, (_email, who) in pages.items():
                results[page] = {}
                for users in USERS:
                    fresh = refreshed(api, who)  # the run may outlast an access token
                    print(f"bench: {page} and its calls, {users} concurrent user(s)...")

                    def actions(n: int, p: str = page, w: Session = fresh) -> dict[str, Any]:
                        named: dict[str, Any] = {
                            name: (lambda c=call: c(w)) for name, call in calls[p].items()
                        }
                        named["page"] = lambda: check(browsers[p][n].get(p), p)
                        return named

                    timed = concurrently(users, args.rounds, actions)
                    page_times = summary(timed.pop("page"))
                    measured_calls = {name: summary(found) for name, found in timed.items()}
                    slowest = max(measured_calls, key=lambda k: measured_calls[k]["p50_ms"])
                    ratio = round(page_times["p50_ms"] / measured_calls[slowest]["p50_ms"], 2)
                    results[page][f"{users}_users"] = {
                        "page": page_times,
                        "calls": measured_calls,
                        "slowest_call": slowest,
                        "p50_ratio": ratio,
                    }
    if run.failed:
        return 1
    report = run.report("Web pages")
    report["results"] = {
        "coach_spaces": COACH_SPACES,
        "rounds_per_user": args.rounds,
        "pages": results,
        "ratio_limit": RATIO_LIMIT,
    }
    print("\n| page | users | page p50 ms | p95 | slowest call | call p50 ms | p95 | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for page, by_users in results.items():
        for users in USERS:
            r = by_users[f"{users}_users"]
            c = r["calls"][r["slowest_call"]]
            ok = ok and r["p50_ratio"] <= RATIO_LIMIT
            print(
                f"| {page} | {users} | {r['page']['p50_ms']} | {r['page']['p95_ms']} "
                f"| {r['slowest_call']} | {c['p50_ms']} | {c['p95_ms']} | {r['p50_ratio']} |"
            )
    print(f"\n{'PASS' if ok else 'FAIL'}  every page's p50 within {RATIO_LIMIT}x its slowest call")
    finish(run, report, "web")
    return 0


def check(status: int, page: str) -> None:
    if status != 200:
        raise RuntimeError(f"{page} answered {status}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
