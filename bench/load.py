"""`make bench`, load: an open-loop load test of a realistic mix at increasing offered rates,
until saturation.

Every other benchmark is closed-loop (a client waits for each answer before the next call),
which hides queueing: when the server slows down, so do the clients. Here the arrivals are
fixed in advance (`bench/openloop.py`): at each offered rate (actions a second, a constant
rate or `--poisson`), each action starts at its scheduled time whatever the earlier ones are
doing (grpc.aio calls in flight, bounded only by `--max-in-flight`: an arrival beyond it is
an error, CLIENT_OVERFLOW), and its latency is measured from its scheduled start.

One deployment of its own. Set up through the gRPC gateway as the other benchmarks do:
`--tenants` tenants, each with `--coaches` coaches (available around the clock, sessions of an
hour) and `--coachees` coachees per coach, each coachee an active space with their coach and a
few shared notes. The mix (weights, in % of the actions; each action is what a person does,
one or more calls through the gateway, as that person):

- dashboard (35): a coachee opens their dashboard: GetMe, GetCoacheeDashboard (3 notes per
  space, the next sessions), ListSessions of their space;
- read notes (20): ListNotes (20 newest) of a space, as its coachee or coach;
- list slots (15): ListBookableSlots of a space for 7 days, as its coachee;
- write note (10): CreateNote, a shared note of ~300 characters, as the coachee or the coach;
- book (8): BookSession by the coachee, at a slot no other booking of that coach uses at the
  time, then CancelSession (so the slots stay free);
- coach dashboard (7): GetCoachDashboard, as a coach;
- sign-in (5): SignIn with the right password (argon2id, the production cost).

The rates go up step by step (`--rates`, `--seconds` each, after a short warm-up) and stop one
step (`--past-saturation`) after the first saturated one: achieved (OK actions a second) under
95% of offered, or p99 over `--p99-bound-ms`, or over 1% of errors. Per rate: p50, p95, p99,
p99.9, achieved throughput, errors by status code, and per kind of action.

Results: `var/bench/load-<UTC time>/` (`load.json`, `load.csv`, `load.png`: latency
percentiles and throughput against the offered rate), `--quick` under `var/bench/quick/`.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc

from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import identity_pb2_grpc as ipb_grpc
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import scheduling_pb2_grpc as pb_grpc
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.pb import spaces_pb2_grpc as spb_grpc
from services.kernel.runtime.receipts import ALREADY_DONE
from tests.support import scheduling as sch
from tests.support.api import Api, Session, error_details
from tests.support.people import sign_in_operator

from . import benchkit
from .benchkit import CHANNEL_OPTIONS, arguments, bench_deployment, new_member, new_tenant, start
from .openloop import (
    OK,
    WeightedMix,
    constant_arrivals,
    poisson_arrivals,
    run_open_loop,
    saturation_point,
    saturation_reasons,
    summarise,
)

PASSWORD = "bench-load-password-2026"  # noqa: S105 (a throwaway test deployment's)
# % of the actions (see the module's docstring).
MIX = {
    "dashboard": 35,
    "read_notes": 20,
    "list_slots": 15,
    "write_note": 10,
    "book": 8,
    "coach_dashboard": 7,
    "sign_in": 5,
}
RATES = (5, 10, 20, 40, 60, 80, 120, 160, 240, 320)
NOTES_PER_SPACE = 6
SLOT_HOURS = 24 * 60  # the hours a coach's bookings cycle through, from BOOK_FROM_DAYS on
BOOK_FROM_DAYS = 4  # past the tenant's free-cancellation notice (48 h by default)
REFRESH_AFTER_S = 240.0  # access tokens live 10 minutes
CHANNELS = 8  # the clients' TCP connections to the gateway (people are not on one connection)
NOTE_BODY = (
    "Session notes: what we worked on, what I will try before next time, and a question "
    "about delegating the weekly planning meeting to the team lead. "
) * 2


@dataclass
class Coach:
    tenant: str
    email: str
    session: Session
    slots: itertools.count[int] = field(default_factory=itertools.count)


@dataclass
class Coachee:
    tenant: str
    email: str
    session: Session
    space: str
    coach: Coach


@dataclass
class People:
    coaches: list[Coach]
    coachees: list[Coachee]
    book_from: datetime
    refreshed_at: float = field(default_factory=time.monotonic)

    def sessions(self) -> list[Session]:
        return [c.session for c in self.coaches] + [c.session for c in self.coachees]


def set_up(d: Any, api: Api, args: Any) -> People:
    """Tenants, coaches and coachees with active spaces and shared notes, through the gateway."""
    s = sch.stubs(api.channel)
    operator = sign_in_operator(api, d.config)
    coaches, coachees = [], []
    for t in range(args.tenants):
        tenant = new_tenant(api, operator, f"Load bench {t + 1}", "load")
        for _ in range(args.coaches):
            coach_member, coach_email = new_member(
                d.config, api, operator, tenant, ipb.COACH, PASSWORD, label="load-coach"
            )
            coach = Coach(tenant, coach_email, api.sign_in(coach_email, PASSWORD, tenant))
            sch.set_availability(s, coach.session, sch.around_the_clock(minutes=(60,)))
            coaches.append(coach)
            for _ in range(args.coachees):
                member, email = new_member(
                    d.config, api, operator, tenant, ipb.COACHEE, PASSWORD, label="load-coachee"
                )
                who = api.sign_in(email, PASSWORD, tenant)
                space = sch.active_space(
                    s, tenant, coach.session, member, coach_member, sessions_planned=200
                ).name
                for n in range(NOTES_PER_SPACE):
                    s.notes.CreateNote(
                        spb.CreateNoteRequest(
                            parent=space, note=spb.Note(kind=spb.SHARED, body=NOTE_BODY)
                        ),
                        metadata=(who if n % 2 else coach.session).metadata,
                        timeout=30,
                    )
                coachees.append(Coachee(tenant, email, who, str(space), coach))
    book_from = sch.hour_from_now(24 * BOOK_FROM_DAYS)
    return People(coaches, coachees, book_from)


def refresh_all(api: Api, people: People) -> None:
    for who in people.sessions():
        benchkit.refreshed(api, who)
    people.refreshed_at = time.monotonic()


class Clients:
    """The stubs on the clients' asyncio channels, one channel after another."""

    def __init__(self, channels: Sequence[grpc.aio.Channel]) -> None:
        self.stubs = [
            (
                ipb_grpc.AuthServiceStub(c),
                spb_grpc.DashboardServiceStub(c),
                spb_grpc.NoteServiceStub(c),
                pb_grpc.AvailabilityServiceStub(c),
                pb_grpc.SessionServiceStub(c),
            )
            for c in channels
        ]
        self.next = itertools.cycle(range(len(channels)))

    def pick(self) -> tuple[Any, Any, Any, Any, Any]:
        return self.stubs[next(self.next)]


@dataclass
class Write:
    """One call that changes something (`Journal`): its kind ("note", "book", "cancel"), the
    request id it was sent with, the status it got ("PENDING" while unanswered, and for good
    if the step's drain time cut it off) and, once OK, the resource name it answered."""

    kind: str
    request_id: str
    status: str = "PENDING"
    name: str = ""


class Journal:
    """The writes of a load run, each sent with a request id of its own (`x-request-id`, which
    the outbox records with the events of the change): the fault tests match what the client
    saw with what the databases hold."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.writes: list[Write] = []
        self._numbers = itertools.count()

    def begin(self, kind: str) -> Write:
        write = Write(kind, f"{self.prefix}-{kind}-{next(self._numbers):05d}")
        self.writes.append(write)
        return write


def write_status(exc: grpc.RpcError) -> str:
    """A failed write's code name, or ALREADY_DONE for that reason: an earlier delivery of the
    same call made it, its answer was lost (receipts.py); the change stands, once."""
    if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
        if error_details(exc).reason == ALREADY_DONE:
            return ALREADY_DONE
    return str(exc.code().name)


def actions(
    clients: Clients,
    people: People,
    seed: int,
    timeout: float,
    journal: Journal | None = None,
) -> dict[str, Any]:
    """The mix's actions, each a coroutine function returning "OK" or the failed call's status
    code name; the person acting is drawn from a seeded RNG. With a `journal`, each write is
    sent with a request id of its own and recorded there with its outcome."""
    rng = random.Random(seed)

    async def journaled(
        kind: str, metadata: Any, call: Callable[[Any], Awaitable[Any]], name: str = ""
    ) -> Any:
        """`name`: the resource the write is about, for replies that do not name it."""
        if journal is None:
            return await call(metadata)
        write = journal.begin(kind)
        try:
            reply = await call((*metadata, ("x-request-id", write.request_id)))
        except grpc.aio.AioRpcError as exc:
            write.status = write_status(exc)
            raise
        write.status, write.name = OK, str(getattr(reply, "name", "") or name)
        return reply

    def answered(steps: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[str]]:
        async def run() -> str:
            try:
                await steps()
            except grpc.aio.AioRpcError as exc:
                return write_status(exc)
            return OK

        return run

    async def dashboard() -> None:
        p = rng.choice(people.coachees)
        auth, boards, _notes, _slots, sessions = clients.pick()
        md = p.session.metadata
        await auth.GetMe(ipb.GetMeRequest(), metadata=md, timeout=timeout)
        await boards.GetCoacheeDashboard(
            spb.GetCoacheeDashboardRequest(parent=tenant_name(p.tenant), notes_per_space=3),
            metadata=md,
            timeout=timeout,
        )
        await sessions.ListSessions(
            pb.ListSessionsRequest(parent=p.space, page_size=20), metadata=md, timeout=timeout
        )

    async def read_notes() -> None:
        p = rng.choice(people.coachees)
        who = p.session if rng.random() < 0.5 else p.coach.session
        _auth, _boards, notes, _slots, _sessions = clients.pick()
        await notes.ListNotes(
            spb.ListNotesRequest(parent=p.space, page_size=20),
            metadata=who.metadata,
            timeout=timeout,
        )

    async def write_note() -> None:
        p = rng.choice(people.coachees)
        who = p.session if rng.random() < 0.5 else p.coach.session
        _auth, _boards, notes, _slots, _sessions = clients.pick()
        await journaled(
            "note",
            who.metadata,
            lambda m: notes.CreateNote(
                spb.CreateNoteRequest(
                    parent=p.space, note=spb.Note(kind=spb.SHARED, body=NOTE_BODY)
                ),
                metadata=m,
                timeout=timeout,
            ),
        )

    async def list_slots() -> None:
        p = rng.choice(people.coachees)
        _auth, _boards, _notes, slots, _sessions = clients.pick()
        first = people.book_from.date()
        await slots.ListBookableSlots(
            pb.ListBookableSlotsRequest(
                parent=p.space,
                start_date=first.isoformat(),
                end_date=(first + timedelta(days=6)).isoformat(),
                time_zone="Europe/Paris",
            ),
            metadata=p.session.metadata,
            timeout=timeout,
        )

    async def book() -> None:
        p = rng.choice(people.coachees)
        # The coach's next hour in the cycle: no two bookings in flight for that coach (nor for
        # the coachee, who has that one coach) ask for the same hour.
        at = people.book_from + timedelta(hours=next(p.coach.slots) % SLOT_HOURS)
        _auth, _boards, _notes, _slots, sessions = clients.pick()
        md = p.session.metadata
        booked = await journaled(
            "book",
            md,
            lambda m: sessions.BookSession(
                pb.BookSessionRequest(parent=p.space, start_time=sch.ts(at)),
                metadata=m,
                timeout=timeout,
            ),
        )
        await journaled(
            "cancel",
            md,
            lambda m: sessions.CancelSession(
                pb.CancelSessionRequest(name=booked.name), metadata=m, timeout=timeout
            ),
            name=booked.name,
        )

    async def coach_dashboard() -> None:
        c = rng.choice(people.coaches)
        _auth, boards, _notes, _slots, _sessions = clients.pick()
        await boards.GetCoachDashboard(
            spb.GetCoachDashboardRequest(parent=tenant_name(c.tenant)),
            metadata=c.session.metadata,
            timeout=timeout,
        )

    async def sign_in() -> None:
        p = rng.choice(people.coachees)
        auth, _boards, _notes, _slots, _sessions = clients.pick()
        await auth.SignIn(
            ipb.SignInRequest(email=p.email, password=PASSWORD, tenant=p.tenant), timeout=timeout
        )

    steps = {
        "dashboard": dashboard,
        "read_notes": read_notes,
        "list_slots": list_slots,
        "write_note": write_note,
        "book": book,
        "coach_dashboard": coach_dashboard,
        "sign_in": sign_in,
    }
    return {kind: answered(run) for kind, run in steps.items()}


async def measure(d: Any, api: Api, people: People, args: Any) -> list[dict[str, Any]]:
    channels = [
        grpc.aio.insecure_channel(d.address, options=CHANNEL_OPTIONS) for _ in range(CHANNELS)
    ]
    try:
        clients = Clients(channels)
        mix = actions(clients, people, args.seed, args.timeout)
        drain = args.timeout * 2 + 5

        async def step(rate: float, seconds: float, n: int) -> dict[str, Any]:
            if time.monotonic() - people.refreshed_at > REFRESH_AFTER_S:
                await asyncio.to_thread(refresh_all, api, people)
            offsets = (
                poisson_arrivals(rate, seconds, args.seed + n)
                if args.poisson
                else constant_arrivals(rate, seconds)
            )
            pick = WeightedMix(MIX, mix, args.seed + n)
            outcomes = await run_open_loop(
                offsets, pick, max_in_flight=args.max_in_flight, drain_s=drain
            )
            return summarise(rate, seconds, outcomes)

        print(f"bench: warm-up, {args.rates[0]}/s for {args.warm_up} s", flush=True)
        await step(args.rates[0], args.warm_up, 0)
        steps: list[dict[str, Any]] = []
        left = None  # steps still to run once saturated
        for n, rate in enumerate(args.rates, start=1):
            print(f"bench: {rate}/s offered for {args.seconds} s...", flush=True)
            result = await step(rate, args.seconds, n)
            reasons = saturation_reasons(result, p99_bound_ms=args.p99_bound_ms)
            result["saturated"] = reasons
            steps.append(result)
            print(
                f"bench:   achieved {result['achieved_per_s']}/s, p50 {result['p50_ms']} ms, "
                f"p99 {result['p99_ms']} ms, errors {result['errors']}"
                + (f" -- saturated: {'; '.join(reasons)}" if reasons else ""),
                flush=True,
            )
            if reasons and left is None:
                left = args.past_saturation
            elif left is not None:
                left -= 1
            if left is not None and (left <= 0 or result["error_rate"] > 0.5):
                break
        return steps
    finally:
        for channel in channels:
            await channel.close()


# ------------------------------------------------------------ output

CSV_FIELDS = (
    "offered_per_s",
    "seconds",
    "arrivals",
    "ok",
    "achieved_per_s",
    "errors",
    "error_rate",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "p99.9_ms",
    "max_ms",
    "issue_lag_p99_ms",
    "errors_by_status",
    "saturated",
)


def write_csv(path: Path, steps: Sequence[dict[str, Any]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for s in steps:
            writer.writerow(
                {
                    **s,
                    "errors_by_status": ";".join(
                        f"{k}={v}" for k, v in s["errors_by_status"].items()
                    ),
                    "saturated": "; ".join(s["saturated"]),
                }
            )


def plot(path: Path, steps: Sequence[dict[str, Any]], bound_ms: float, knee: Any) -> bool:
    """Latency percentiles and throughput against the offered rate, as a PNG (matplotlib, a dev
    dependency); False if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: no matplotlib (make venv installs it): no plot", file=sys.stderr)
        return False
    offered = [s["offered_per_s"] for s in steps]
    fig, (lat, thr) = plt.subplots(1, 2, figsize=(12, 5))
    # p99.9 dashed over p99: in a short step they are often the same slowest action.
    for key, style in (("p50_ms", "-"), ("p95_ms", "-"), ("p99_ms", "-"), ("p99.9_ms", "--")):
        values = [max(s[key], 0.01) for s in steps]
        lat.plot(offered, values, marker="o", linestyle=style, label=key[:-3])
    lat.axhline(bound_ms, color="grey", linestyle="--", label=f"p99 bound {bound_ms:g} ms")
    lat.set_yscale("log")
    lat.set_xlabel("offered rate (actions/s)")
    lat.set_ylabel("latency from the scheduled start (ms)")
    lat.set_title("Latency percentiles (OK actions)")
    top = max(offered) if offered else 1
    thr.plot([0, top], [0, top], color="grey", linestyle=":", label="achieved = offered")
    thr.plot([0, top], [0, 0.95 * top], color="grey", linestyle="--", label="95% of offered")
    thr.plot(offered, [s["achieved_per_s"] for s in steps], marker="o", label="achieved (OK)/s")
    thr.bar(
        offered,
        [s["errors"] / s["seconds"] for s in steps],
        width=top / 40,
        color="red",
        alpha=0.5,
        label="errors/s",
    )
    thr.set_xlabel("offered rate (actions/s)")
    thr.set_ylabel("actions/s")
    thr.set_title("Throughput")
    for ax in (lat, thr):
        if knee:
            ax.axvline(knee["offered_per_s"], color="red", linestyle="-.", label="saturation")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def table(steps: Sequence[dict[str, Any]]) -> str:
    rows = [
        "| offered/s | achieved/s | p50 ms | p95 ms | p99 ms | p99.9 ms | errors | saturated |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in steps:
        errors = ", ".join(f"{k} {v}" for k, v in s["errors_by_status"].items()) or "0"
        rows.append(
            f"| {s['offered_per_s']:g} | {s['achieved_per_s']} | {s['p50_ms']} | {s['p95_ms']} "
            f"| {s['p99_ms']} | {s['p99.9_ms']} | {errors} | {'; '.join(s['saturated']) or '-'} |"
        )
    return "\n".join(rows)


def kinds_table(steps: Sequence[dict[str, Any]]) -> str:
    """p50 / p99 (ms) of each kind of action at each rate."""
    kinds = list(MIX)
    rows = [
        "| offered/s | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for s in steps:
        cells = []
        for kind in kinds:
            k = s["by_kind"].get(kind)
            cells.append(f"{k['p50_ms']:g} / {k['p99_ms']:g}" if k and k["ok"] else "-")
        rows.append(f"| {s['offered_per_s']:g} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def rates(text: str) -> list[float]:
    values = [float(v) for v in text.split(",") if v.strip()]
    if not values or any(v <= 0 for v in values) or values != sorted(values):
        raise ValueError("increasing positive rates, comma-separated")
    return values


def main(argv: list[str]) -> int:
    parser = arguments("load", __doc__)
    parser.add_argument("--rates", type=rates, default=list(RATES), help="actions/s, increasing")
    parser.add_argument("--seconds", type=float, default=25.0, help="per rate")
    parser.add_argument("--warm-up", type=float, default=5.0, help="seconds, at the first rate")
    parser.add_argument("--poisson", action="store_true", help="Poisson arrivals (seeded)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--max-in-flight", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=10.0, help="per call, seconds")
    parser.add_argument("--p99-bound-ms", type=float, default=500.0)
    parser.add_argument("--past-saturation", type=int, default=1, help="steps run after it")
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--coaches", type=int, default=2, help="per tenant")
    parser.add_argument("--coachees", type=int, default=4, help="per coach")
    args = benchkit.parse_args(
        parser,
        argv,
        quick={
            "rates": [5.0, 10.0, 20.0, 40.0],
            "seconds": 4.0,
            "warm_up": 2.0,
            "tenants": 2,
            "coaches": 1,
            "coachees": 3,
        },
    )
    with bench_deployment("load", args, tails=("gateway", "scheduling", "spaces")) as run:
        d = start(run, "the platform", serving=("identity", "spaces", "scheduling"))
        with d.channel() as channel:
            api = Api(channel)
            print("bench: setting up tenants, coaches, coachees, spaces and notes...", flush=True)
            people = set_up(d, api, args)
            print(
                f"bench: {len(people.coaches)} coaches, {len(people.coachees)} coachees "
                f"({run.elapsed():.0f} s)",
                flush=True,
            )
            steps = asyncio.run(measure(d, api, people, args))
    if run.failed:
        return 1
    bound = args.p99_bound_ms
    knee = saturation_point(steps, p99_bound_ms=bound)
    report = run.report("Load (open loop)", gateway_threads=d.config.gateway_threads)
    report["config"] = {
        "mix_percent": MIX,
        "arrivals": "poisson" if args.poisson else "constant",
        "seed": args.seed,
        "rates_per_s": args.rates,
        "seconds_per_rate": args.seconds,
        "warm_up_s": args.warm_up,
        "max_in_flight": args.max_in_flight,
        "call_timeout_s": args.timeout,
        "saturation": {"p99_bound_ms": bound, "min_achieved": 0.95, "max_error_rate": 0.01},
        "people": {"coaches": len(people.coaches), "coachees": len(people.coachees)},
        "client_channels": CHANNELS,
    }
    report["steps"] = steps
    report["saturation_point"] = knee
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = run.env.var_dir / "bench" / ("quick" if run.quick else "") / f"load-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    write_csv(out / "load.csv", steps)
    plotted = plot(out / "load.png", steps, bound, knee)
    print()
    print(table(steps))
    print("\np50 / p99 ms by kind of action:\n")
    print(kinds_table(steps))
    if knee:
        print(f"\nsaturation point: {knee['offered_per_s']:g}/s ({'; '.join(knee['reasons'])})")
    else:
        print(f"\nsaturation point: not reached up to {args.rates[-1]:g}/s")
    written = "load.json, load.csv" + (", load.png" if plotted else "")
    print(f"bench: wrote {written} in {out} ({report['duration_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
