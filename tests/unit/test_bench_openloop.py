"""The open-loop load generator (`bench/openloop.py`) on a fake clock, and its statistics:
arrivals issued at their scheduled time whatever the earlier ones do, latency from the
scheduled start, the in-flight bound, percentiles and the saturation point."""

from __future__ import annotations

import asyncio

import pytest

from bench.openloop import (
    CLIENT_OVERFLOW,
    OK,
    UNFINISHED,
    Outcome,
    WeightedMix,
    constant_arrivals,
    latency_stats,
    poisson_arrivals,
    run_open_loop,
    saturation_point,
    saturation_reasons,
    summarise,
)


class FakeClock:
    """Time moves only when the scheduler sleeps (or an action moves it). A sleep first lets the
    actions already started run, then wakes at the time it was due (or later, if they took
    longer)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float, late: float = 0.0) -> None:
        wake = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, wake) + late


def test_constant_arrivals_are_evenly_spaced() -> None:
    assert constant_arrivals(4, 1) == [0.0, 0.25, 0.5, 0.75]
    assert len(constant_arrivals(40, 25)) == 1000
    assert constant_arrivals(0, 10) == []


def test_poisson_arrivals_are_seeded_and_near_the_rate() -> None:
    first = poisson_arrivals(50, 200, seed=7)
    assert first == poisson_arrivals(50, 200, seed=7)
    assert first != poisson_arrivals(50, 200, seed=8)
    assert first == sorted(first) and 0 < first[0] and first[-1] < 200
    # 10,000 expected: a Poisson count's standard deviation is 100.
    assert 9_500 < len(first) < 10_500


def test_arrivals_are_issued_on_schedule_while_earlier_ones_hang() -> None:
    """Open loop: no answer ever comes, yet every arrival is issued at its scheduled time."""
    clock = FakeClock()
    issued: list[float] = []

    async def scenario() -> list[Outcome]:
        gate = asyncio.Event()  # never set

        async def hang() -> str:
            issued.append(clock())
            await gate.wait()
            return OK

        return await run_open_loop(
            constant_arrivals(10, 2),
            lambda i: ("hang", hang),
            max_in_flight=100,
            drain_s=0.01,
            clock=clock,
            sleep=clock.sleep,
        )

    outcomes = asyncio.run(scenario())
    assert issued == [pytest.approx(1000.0 + i / 10) for i in range(20)]
    assert [o.status for o in outcomes] == [UNFINISHED] * 20
    assert all(o.latency_ms is None for o in outcomes)


def test_latency_counts_from_the_scheduled_start_not_the_issue() -> None:
    """A client that falls behind (its own sleep overshoots) does not hide the delay."""
    clock = FakeClock()

    async def late_sleep(seconds: float) -> None:
        await clock.sleep(seconds, late=0.2)  # every wake-up 200 ms late

    async def answer_in_50_ms() -> str:
        clock.now += 0.05
        return OK

    outcomes = asyncio.run(
        run_open_loop(
            [0.0, 1.0],
            lambda i: ("read", answer_in_50_ms),
            max_in_flight=10,
            drain_s=1,
            clock=clock,
            sleep=late_sleep,
        )
    )
    first, second = outcomes
    assert first.latency_ms == pytest.approx(50.0) and first.lag == 0.0
    # Scheduled at +1 s; the client woke up 200 ms late; the answer took 50 ms.
    assert second.lag == pytest.approx(0.2)
    assert second.latency_ms == pytest.approx(250.0)
    assert second.scheduled == pytest.approx(1.0)


def test_arrivals_beyond_the_in_flight_bound_are_errors_not_delays() -> None:
    clock = FakeClock()

    async def scenario() -> tuple[list[Outcome], list[float]]:
        gate = asyncio.Event()
        started: list[float] = []

        async def slow() -> str:
            started.append(clock())
            await gate.wait()
            return OK

        async def release_later(seconds: float) -> None:
            await clock.sleep(seconds)
            if clock() >= 1000.9:  # after the last arrival: let the in-flight ones finish
                gate.set()

        outcomes = await run_open_loop(
            constant_arrivals(10, 1),
            lambda i: ("slow", slow),
            max_in_flight=3,
            drain_s=5,
            clock=clock,
            sleep=release_later,
        )
        return outcomes, started

    outcomes, started = asyncio.run(scenario())
    statuses = [o.status for o in outcomes]
    assert statuses == [OK] * 3 + [CLIENT_OVERFLOW] * 7
    assert len(started) == 3
    assert all(o.latency_ms is None for o in outcomes[3:])


def test_an_action_that_raises_is_recorded_not_propagated() -> None:
    clock = FakeClock()

    async def broken() -> str:
        raise RuntimeError("client bug")

    outcomes = asyncio.run(
        run_open_loop(
            [0.0],
            lambda i: ("x", broken),
            max_in_flight=1,
            drain_s=1,
            clock=clock,
            sleep=clock.sleep,
        )
    )
    assert outcomes[0].status == "EXCEPTION_RuntimeError"


def test_weighted_mix_is_seeded_and_follows_the_weights() -> None:
    async def act() -> str:
        return OK

    actions = {"a": act, "b": act, "c": act}
    weights = {"a": 70, "b": 30, "c": 0}
    mix, again = WeightedMix(weights, actions, seed=1), WeightedMix(weights, actions, seed=1)
    drawn = [mix(i)[0] for i in range(5000)]
    assert drawn == [again(i)[0] for i in range(5000)]
    assert mix(3) == (drawn[3], act)  # asked again: the same
    assert "c" not in drawn
    assert 0.66 < drawn.count("a") / len(drawn) < 0.74
    with pytest.raises(ValueError):
        WeightedMix({"a": 0}, actions, seed=1)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 1001)]  # 1..1000 ms
    stats = latency_stats(values[::-1])
    assert stats == {
        "p50_ms": 500.0,
        "p95_ms": 950.0,
        "p99_ms": 990.0,
        "p99.9_ms": 999.0,
        "max_ms": 1000.0,
    }
    assert latency_stats([])["p99_ms"] == 0.0


def outcomes_of(
    n_ok: int, latency: float, errors: dict[str, int], seconds: float = 10.0
) -> list[Outcome]:
    spaced = [Outcome("read", i * seconds / max(n_ok, 1), 0.0, latency, OK) for i in range(n_ok)]
    failed = [
        Outcome("book", 0.0, 0.0, 5.0, status) for status, n in errors.items() for _ in range(n)
    ]
    return spaced + failed


def test_summary_counts_throughput_and_errors_by_status() -> None:
    step = summarise(10, 10.0, outcomes_of(99, 20.0, {"UNAVAILABLE": 1}))
    assert step["arrivals"] == 100 and step["ok"] == 99
    assert step["errors"] == 1 and step["error_rate"] == 0.01
    assert step["errors_by_status"] == {"UNAVAILABLE": 1}
    assert step["p99_ms"] == 20.0  # errors' latencies are not in the OK percentiles
    assert step["achieved_per_s"] == pytest.approx(10, abs=0.2)
    assert step["by_kind"]["book"] == {
        "arrivals": 1,
        "ok": 0,
        "errors": 1,
        **latency_stats([]),
    }


def test_achieved_throughput_is_the_answers_pace_during_the_step() -> None:
    # Kept up: 10/s offered for 10 s, every answer 300 ms after its scheduled start.
    kept_up = [Outcome("read", i / 10, 0.0, 300.0, OK) for i in range(100)]
    assert summarise(10, 10.0, kept_up)["achieved_per_s"] == 10.0
    # Behind: the same arrivals, answered one every 200 ms from the start (a queue that grows).
    behind = [Outcome("read", i / 10, 0.0, (0.2 * (i + 1) - i / 10) * 1000, OK) for i in range(100)]
    assert summarise(10, 10.0, behind)["achieved_per_s"] == 5.0
    # Nothing answered before the step's end: every answer over the time until the last.
    late = [Outcome("read", i / 10, 0.0, 12_000.0 - i * 100, OK) for i in range(100)]
    assert summarise(10, 10.0, late)["achieved_per_s"] == 8.33


def step_of(offered: float, achieved: float, p99: float, error_rate: float) -> dict:
    return {
        "offered_per_s": offered,
        "achieved_per_s": achieved,
        "p99_ms": p99,
        "error_rate": error_rate,
    }


def test_saturation_reasons() -> None:
    assert saturation_reasons(step_of(40, 39.9, 120, 0.0), p99_bound_ms=500) == []
    assert saturation_reasons(step_of(40, 38.0, 120, 0.0), p99_bound_ms=500) == []  # 95%
    (slow,) = saturation_reasons(step_of(40, 37.9, 120, 0.0), p99_bound_ms=500)
    assert slow.startswith("achieved 37.9/s")
    (tail,) = saturation_reasons(step_of(40, 40, 501, 0.0), p99_bound_ms=500)
    assert tail.startswith("p99 501")
    assert saturation_reasons(step_of(40, 40, 100, 0.01), p99_bound_ms=500) == []
    (errors,) = saturation_reasons(step_of(40, 40, 100, 0.011), p99_bound_ms=500)
    assert errors.startswith("errors")
    assert len(saturation_reasons(step_of(40, 10, 900, 0.5), p99_bound_ms=500)) == 3


def test_saturation_point_is_the_first_saturated_rate() -> None:
    steps = [
        step_of(80, 60, 900, 0.0),
        step_of(10, 10, 50, 0.0),
        step_of(40, 40, 700, 0.0),
        step_of(20, 20, 80, 0.0),
    ]
    point = saturation_point(steps, p99_bound_ms=500)
    assert point is not None and point["offered_per_s"] == 40
    assert point["reasons"] == ["p99 700 ms > 500 ms"]
    assert saturation_point(steps[1:2], p99_bound_ms=500) is None
