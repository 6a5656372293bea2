"""Faults under a steady open-loop load (issue 27, point 4): each service killed with SIGKILL
(its relay with it) and started again, the broker restarted, PostgreSQL paused, each while the
load benchmark's mix (`bench/load.py`) runs through the gRPC gateway at a modest fixed rate.

After each fault, the load over and the platform recovered (health SERVING, every outbox
drained), everything is counted (`checks.py`): what the client was told against what the
databases, the reporting service's inbox and facts, and the broker's deliveries hold. The
guarantees checked are written down in docs/operations/faults.md.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
import psutil

from bench import load
from bench.benchkit import CHANNEL_OPTIONS
from bench.openloop import Outcome, WeightedMix, constant_arrivals, run_open_loop
from services.kernel.registry import SERVICE_NAMES
from tests.faults.checks import check_phase, rows, wait_recovered
from tests.faults.conftest import TAP_QUEUE, Platform, mark

RATE = 12.0  # actions a second: light on a 2-core machine, steady enough to be mid-flight
CALL_TIMEOUT = 4.0  # the client's deadline per call
SEED = 2027
made_notes: set[str] = set()  # the notes every phase's writes made so far


def run_with_fault(
    platform: Platform, phase: str, seconds: float, fault: Callable[[], None]
) -> tuple[load.Journal, list[Outcome]]:
    """The mix at RATE for `seconds`, `fault()` running beside it in a thread of its own."""
    journal = load.Journal(f"faults-{phase}-{os.getpid()}")
    failed: list[BaseException] = []

    def faulting() -> None:
        try:
            fault()
        except BaseException as exc:
            failed.append(exc)

    async def loaded() -> list[Outcome]:
        channels = [
            grpc.aio.insecure_channel(platform.deployment.address, options=CHANNEL_OPTIONS)
            for _ in range(4)
        ]
        try:
            mix = load.actions(load.Clients(channels), platform.people, SEED, CALL_TIMEOUT, journal)
            return await run_open_loop(
                constant_arrivals(RATE, seconds),
                WeightedMix(load.MIX, mix, SEED),
                max_in_flight=500,
                drain_s=CALL_TIMEOUT * 2 + 2,
            )
        finally:
            for channel in channels:
                await channel.close()

    thread = threading.Thread(target=faulting)
    thread.start()
    try:
        outcomes = asyncio.run(loaded())
    finally:
        thread.join()
    if failed:
        raise failed[0]
    return journal, outcomes


def settle_and_check(platform: Platform, journal: load.Journal, outcomes: list[Outcome]) -> None:
    d = platform.deployment
    mark(f"{journal.prefix}: load over")
    wait_recovered(d)
    mark(f"{journal.prefix}: recovered")
    report = check_phase(d, journal, outcomes, TAP_QUEUE)
    mark(f"{journal.prefix}: {report.summary()}")
    assert not report.problems, "\n".join(report.problems)
    assert report.outcomes["OK"] > 0, "the load never got through"
    # No note that nobody wrote: every note is the set-up's or a write's of the journals.
    made_notes.update(
        str(r[0])
        for r in rows(
            d,
            "spaces",
            "SELECT aggregate_id FROM outbox WHERE event_type = 'spaces.note_shared' "
            "AND request_id LIKE 'faults-%'",
        )
    )
    stray = {str(r[0]) for r in rows(d, "spaces", "SELECT id FROM notes")}
    stray -= platform.setup_notes | made_notes
    assert not stray, f"notes nobody wrote: {sorted(stray)[:5]}"
    # And the platform answers again, through the same people.
    after = run_with_fault(platform, f"{journal.prefix.split('-')[1]}-after", 1.0, lambda: None)
    assert {o.status for o in after[1]} == {"OK"}, [o.status for o in after[1]]


def test_each_service_killed_mid_load_then_restarted(platform: Platform) -> None:
    """SIGKILL each service in turn (its relay and its RPC workers mid-flight), started again
    at once; the next is killed 1.5 s later, while the last one may still be starting."""
    d = platform.deployment

    def kill_each() -> None:
        time.sleep(1.5)  # the load is under way
        for name in SERVICE_NAMES:
            d.kill_process(name)
            time.sleep(0.3)
            d.restart_process(name)
            time.sleep(1.2)

    journal, outcomes = run_with_fault(
        platform, "kill", 1.5 + 1.5 * len(SERVICE_NAMES) + 1.5, kill_each
    )
    settle_and_check(platform, journal, outcomes)


def test_broker_restarted_mid_load(platform: Platform) -> None:
    """The broker stopped (gracefully: connections closed) and started again; every process
    must reconnect, and the relays publish what waited in the outboxes."""

    def restart() -> None:
        time.sleep(1.5)
        platform.broker.restart()

    journal, outcomes = run_with_fault(platform, "broker", 18.0, restart)
    settle_and_check(platform, journal, outcomes)


def postgres_processes(platform: Platform) -> list[psutil.Process]:
    """The postmaster of the stage's own PostgreSQL and its children (backends, workers)."""
    pid_file = (platform.pg_dir / "pg" / "postmaster.pid").read_text().splitlines()
    postmaster = psutil.Process(int(pid_file[0]))
    return [postmaster, *postmaster.children(recursive=True)]


def test_postgres_paused_mid_load(platform: Platform) -> None:
    """SIGSTOP on the stage's PostgreSQL (postmaster and backends) for 4 s, then SIGCONT: a
    stalled database, as a storage hiccup or a VM pause would make it."""
    paused: list[Any] = []

    def pause() -> None:
        time.sleep(1.5)
        for proc in postgres_processes(platform):
            proc.send_signal(signal.SIGSTOP)
            paused.append(proc)
        try:
            time.sleep(4.0)
        finally:
            for proc in paused:
                proc.send_signal(signal.SIGCONT)

    journal, outcomes = run_with_fault(platform, "pgpause", 8.0, pause)
    settle_and_check(platform, journal, outcomes)
