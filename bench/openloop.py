"""An open-loop load generator and its statistics, for `bench/load.py`; no I/O of its own.

Open loop: the arrivals are fixed in advance (a constant rate, or Poisson with a seeded RNG) and
each action starts at its scheduled time whatever the earlier ones are doing, so a slow server
makes actions pile up in flight instead of slowing the arrivals down (as a client waiting for
each answer would: "coordinated omission"). Each action's latency is measured from its
scheduled start, not from when it was actually issued: a late start (the client itself behind)
counts against the latency too. Only a generous bound on the actions in flight holds; an
arrival beyond it is not issued and counts as an error (`CLIENT_OVERFLOW`).

    offsets = constant_arrivals(rate=40, seconds=20)          # or poisson_arrivals(..., seed=7)
    outcomes = asyncio.run(run_open_loop(offsets, pick, max_in_flight=1000, drain_s=15))
    step = summarise(40, 20, outcomes)                        # percentiles, throughput, errors
    reasons = saturation_reasons(step, p99_bound_ms=500)      # [] while not saturated

`pick(i)` gives the i-th arrival's kind and the coroutine function to run; it returns the
outcome's status ("OK" or a gRPC status code's name). The clock and sleep are injected so that
tests drive the scheduler on a fake clock.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .benchkit import percentile

OK = "OK"
CLIENT_OVERFLOW = "CLIENT_OVERFLOW"  # not issued: too many actions already in flight
UNFINISHED = "UNFINISHED"  # still in flight when the step's drain time ran out
QUANTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99, "p99.9_ms": 0.999}

Action = Callable[[], Awaitable[str]]
Pick = Callable[[int], tuple[str, Action]]


@dataclass(frozen=True)
class Outcome:
    """One arrival: its kind, scheduled start (s from the step's start), how late it was issued
    (s), its latency from the scheduled start (ms; None if never issued or never finished) and
    its status."""

    kind: str
    scheduled: float
    lag: float
    latency_ms: float | None
    status: str


def constant_arrivals(rate: float, seconds: float) -> list[float]:
    """Offsets (s) of `rate` arrivals a second, evenly spaced, for `seconds`."""
    if rate <= 0 or seconds <= 0:
        return []
    return [i / rate for i in range(int(rate * seconds))]


def poisson_arrivals(rate: float, seconds: float, seed: int) -> list[float]:
    """Offsets (s) of a Poisson process of `rate` a second over `seconds` (exponential gaps from
    a seeded RNG: the same seed, the same arrivals)."""
    if rate <= 0 or seconds <= 0:
        return []
    rng = random.Random(seed)
    offsets, at = [], rng.expovariate(rate)
    while at < seconds:
        offsets.append(at)
        at += rng.expovariate(rate)
    return offsets


async def _asyncio_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def run_open_loop(
    offsets: Sequence[float],
    pick: Pick,
    *,
    max_in_flight: int,
    drain_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep,
) -> list[Outcome]:
    """Starts the i-th action of `pick(i)` at `offsets[i]` seconds from now, never waiting for
    an earlier one; then waits up to `drain_s` for those still in flight (the rest: UNFINISHED).
    The outcomes, in arrival order."""
    began = clock()
    outcomes: list[Outcome | None] = [None] * len(offsets)
    kinds = [""] * len(offsets)
    in_flight: dict[int, asyncio.Task[None]] = {}

    async def one(i: int, kind: str, action: Action, due: float, lag: float) -> None:
        try:
            status = await action()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an action's own failure, not the server's answer
            status = f"EXCEPTION_{type(exc).__name__}"
        latency = (clock() - due) * 1000
        outcomes[i] = Outcome(kind, due - began, lag, latency, status)
        in_flight.pop(i, None)

    for i, offset in enumerate(offsets):
        due = began + offset
        wait = due - clock()
        if wait > 0:
            await sleep(wait)
        kind, action = pick(i)
        kinds[i] = kind
        lag = max(0.0, clock() - due)
        if len(in_flight) >= max_in_flight:
            outcomes[i] = Outcome(kind, offset, lag, None, CLIENT_OVERFLOW)
            continue
        in_flight[i] = asyncio.ensure_future(one(i, kind, action, due, lag))
    if in_flight:
        _done, pending = await asyncio.wait(list(in_flight.values()), timeout=drain_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return [
        o if o is not None else Outcome(kinds[i], offsets[i], 0.0, None, UNFINISHED)
        for i, o in enumerate(outcomes)
    ]


class WeightedMix:
    """Picks the i-th arrival's kind by weight, from a seeded RNG drawn in arrival order (the
    same seed, the same sequence of kinds)."""

    def __init__(self, weights: dict[str, float], actions: dict[str, Action], seed: int) -> None:
        if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        self.kinds = list(weights)
        self.weights = [weights[k] for k in self.kinds]
        self.actions = actions
        self.rng = random.Random(seed)
        self.picked: list[str] = []

    def __call__(self, i: int) -> tuple[str, Action]:
        while len(self.picked) <= i:
            self.picked.append(self.rng.choices(self.kinds, self.weights)[0])
        kind = self.picked[i]
        return kind, self.actions[kind]


def latency_stats(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/p99.9 and max (ms, to 0.01) of `latencies_ms`, nearest rank."""
    ordered = sorted(latencies_ms)
    stats = {name: round(float(percentile(ordered, q)), 2) for name, q in QUANTILES.items()}
    stats["max_ms"] = round(ordered[-1], 2) if ordered else 0.0
    return stats


def achieved_rate(seconds: float, answered_at: Sequence[float]) -> float:
    """OK answers a second, from when each came (s from the step's start).

    The answers that came between the first answer and the step's end, over that time: the
    rate the server kept up while the arrivals came, whether or not it kept up with them (a
    server behind answers at its own pace from its first answer on). Counting every answer
    over the step's length would charge the first answer's latency to the throughput in a
    short step. If no answer came before the step's end: every answer over the time until the
    last one."""
    if not answered_at:
        return 0.0
    first = min(answered_at)
    within = [t for t in answered_at if t <= seconds]
    if first < seconds and len(within) > 1:
        return round((len(within) - 1) / (seconds - first), 2)
    return round(len(answered_at) / max(seconds, *answered_at), 2)


def summarise(offered_rate: float, seconds: float, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """One step's report: arrivals, OK actions, achieved throughput (`achieved_rate`), latency
    percentiles of the OK actions (from their scheduled start), errors by status, and the same
    per kind of action."""
    ok = [o for o in outcomes if o.status == OK and o.latency_ms is not None]
    errors = Counter(o.status for o in outcomes if o.status != OK)
    lags = sorted(o.lag * 1000 for o in outcomes)
    kinds: dict[str, Any] = {}
    for kind in sorted({o.kind for o in outcomes}):
        mine = [o for o in outcomes if o.kind == kind]
        mine_ok = [o.latency_ms for o in mine if o.status == OK and o.latency_ms is not None]
        kinds[kind] = {
            "arrivals": len(mine),
            "ok": len(mine_ok),
            "errors": len(mine) - len(mine_ok),
            **latency_stats(mine_ok),
        }
    return {
        "offered_per_s": offered_rate,
        "seconds": seconds,
        "arrivals": len(outcomes),
        "ok": len(ok),
        "achieved_per_s": achieved_rate(
            seconds, [o.scheduled + (o.latency_ms or 0) / 1000 for o in ok]
        ),
        "errors": sum(errors.values()),
        "error_rate": round(sum(errors.values()) / len(outcomes), 4) if outcomes else 0.0,
        "errors_by_status": dict(sorted(errors.items())),
        **latency_stats([o.latency_ms for o in ok if o.latency_ms is not None]),
        # How late the client itself issued the arrivals: large values mean the load generator,
        # not the server, was the bottleneck.
        "issue_lag_p99_ms": round(float(percentile(lags, 0.99)), 2),
        "by_kind": kinds,
    }


def saturation_reasons(
    step: dict[str, Any],
    *,
    p99_bound_ms: float,
    min_achieved: float = 0.95,
    max_error_rate: float = 0.01,
) -> list[str]:
    """Why a step is saturated ([] when it is not): achieved under `min_achieved` of offered,
    p99 over `p99_bound_ms`, or more than `max_error_rate` of the arrivals failed."""
    reasons = []
    offered = float(step["offered_per_s"])
    if offered and step["achieved_per_s"] < min_achieved * offered:
        reasons.append(
            f"achieved {step['achieved_per_s']}/s < {min_achieved:.0%} of {offered:g}/s offered"
        )
    if step["p99_ms"] > p99_bound_ms:
        reasons.append(f"p99 {step['p99_ms']} ms > {p99_bound_ms:g} ms")
    if step["error_rate"] > max_error_rate:
        reasons.append(f"errors {step['error_rate']:.1%} > {max_error_rate:.0%}")
    return reasons


def saturation_point(steps: Sequence[dict[str, Any]], **bounds: Any) -> dict[str, Any] | None:
    """The first step (by offered rate) that is saturated, with its reasons; None if none is."""
    for step in sorted(steps, key=lambda s: float(s["offered_per_s"])):
        reasons = saturation_reasons(step, **bounds)
        if reasons:
            return {"offered_per_s": step["offered_per_s"], "reasons": reasons}
    return None
