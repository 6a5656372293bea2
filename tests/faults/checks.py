"""What the fault tests count once the load is over and the platform has recovered: the writes
the client saw (`bench.load.Journal`) against the databases, the outboxes, the reporting
service's inbox and facts, and a tap queue of the broker's deliveries."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from bench.load import Journal, Write
from bench.openloop import OK, Outcome
from ecoach_dev.deployment import Deployment
from services.kernel.registry import SERVICE_NAMES
from services.kernel.runtime.receipts import ALREADY_DONE
from tests.support.events import drain

# What a client may see under these faults: an answer, or "not now" (the gateway's UNAVAILABLE,
# or the deadline passing). Anything else (INTERNAL, UNKNOWN, a wrong answer) is a bug.
NOT_NOW = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED"})
# Or, for a write an earlier delivery of its call had made, the answer lost (a service killed
# between its commit and its acknowledgement: receipts, ADR 0029): it must have committed once.
ALLOWED = NOT_NOW | {OK, ALREADY_DONE}
# A write without an answer: the drain time of the run cut it off (counted as "not now").
PENDING = "PENDING"

RECOVERY_TIMEOUT = 90.0


def rows(d: Deployment, service: str, sql: str, **params: Any) -> list[Any]:
    engine = sa.create_engine(d.config.database_owner_url_for(service), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))
    finally:
        engine.dispose()


def poll(what: str, check: Callable[[], bool], timeout: float = RECOVERY_TIMEOUT) -> None:
    """Until `check()` holds (a positive signal), else TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(0.3)


def unsent(d: Deployment) -> dict[str, int]:
    counts = {
        s: int(rows(d, s, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0])
        for s in SERVICE_NAMES
    }
    return {s: n for s, n in counts.items() if n}


def wait_recovered(d: Deployment) -> None:
    """Every service SERVING through the gateway, every process alive, every outbox drained."""
    d.wait_serving(timeout=RECOVERY_TIMEOUT)
    poll("every outbox drained", lambda: not unsent(d))


def drain_tap(amqp_uri: str, queue: str) -> Counter[str]:
    """The event ids delivered to the tap queue since the last drain, with their counts."""
    return Counter(drain(amqp_uri, queue))


@dataclass
class Event:
    event_id: str
    event_type: str
    aggregate_id: str
    request_id: str


@dataclass
class Report:
    """What a phase counted, printed with the test's output (and asserted on)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    writes: Counter[str] = field(default_factory=Counter)
    maybe: list[str] = field(default_factory=list)  # writes not answered OK that did commit
    events: int = 0
    deliveries: int = 0
    redelivered: int = 0  # events the broker delivered more than once (at-least-once)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"outcomes {dict(self.outcomes)}; writes {dict(self.writes)}; "
            f"committed without an OK (maybe) {len(self.maybe)}; events {self.events}, "
            f"tap deliveries {self.deliveries} (redelivered {self.redelivered})"
        )


def events_of(d: Deployment, service: str, prefix: str) -> list[Event]:
    return [
        Event(*r)
        for r in rows(
            d,
            service,
            "SELECT event_id, event_type, aggregate_id, request_id FROM outbox "
            "WHERE request_id LIKE :p",
            p=f"{prefix}-%",
        )
    ]


def last_segment(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def check_writes(
    report: Report, writes: Sequence[Write], events: Sequence[Event], kind_event: str
) -> dict[str, str]:
    """Each write against the events its request id recorded: an OK write exactly one, for the
    resource it answered; any other write none, or one if it ended "not now" (a commit whose
    answer was lost: "maybe"). Returns the aggregate id of each write's event."""
    by_request: dict[str, list[Event]] = {}
    for e in events:
        if e.event_type == kind_event:
            by_request.setdefault(e.request_id, []).append(e)
    made: dict[str, str] = {}
    for w in writes:
        found = by_request.get(w.request_id, [])
        report.writes[f"{w.kind} {w.status}"] += 1
        if w.status == OK:
            if [e.aggregate_id for e in found] != [last_segment(w.name)]:
                report.problems.append(
                    f"{w.request_id} answered {w.name} but recorded {[e.aggregate_id for e in found]}"
                )
        elif len(found) > 1:
            report.problems.append(f"{w.request_id} ({w.status}) committed {len(found)} times")
        elif w.status == ALREADY_DONE and not found:
            report.problems.append(f"{w.request_id} answered {ALREADY_DONE} but never committed")
        elif found:
            if w.status not in NOT_NOW | {PENDING, ALREADY_DONE}:
                report.problems.append(f"{w.request_id} committed yet answered {w.status}")
            report.maybe.append(w.request_id)
        if found:
            made[w.request_id] = found[0].aggregate_id
    return made


def check_phase(d: Deployment, journal: Journal, outcomes: Sequence[Outcome], tap: str) -> Report:
    """Everything counted for one phase (the platform recovered, the load over)."""
    report = Report(outcomes=Counter(o.status for o in outcomes))
    for status in report.outcomes:
        if status not in ALLOWED:
            report.problems.append(f"a client saw {status}")
    for w in journal.writes:
        if w.status not in ALLOWED | {PENDING}:
            report.problems.append(f"{w.request_id} saw {w.status}")

    spaces_events = events_of(d, "spaces", journal.prefix)
    scheduling_events = events_of(d, "scheduling", journal.prefix)
    kinds: dict[str, list[Write]] = {}
    for w in journal.writes:
        kinds.setdefault(w.kind, []).append(w)

    notes = check_writes(report, kinds.get("note", []), spaces_events, "spaces.note_shared")
    booked = check_writes(
        report, kinds.get("book", []), scheduling_events, "scheduling.session_booked"
    )
    cancelled = check_writes(
        report, kinds.get("cancel", []), scheduling_events, "scheduling.session_cancelled"
    )

    # The rows: each note and session the journal made is there once, in the state the client
    # was told (a session booked and cancelled OK is cancelled; one whose cancel never
    # committed is booked).
    note_rows = Counter(
        r[0]
        for r in rows(
            d, "spaces", "SELECT id FROM notes WHERE id = ANY(:ids)", ids=list(notes.values())
        )
    )
    for rid, note in notes.items():
        if note_rows[note] != 1:
            report.problems.append(f"{rid}: note {note} is there {note_rows[note]} times")
    status = dict(
        rows(
            d,
            "scheduling",
            "SELECT id, status FROM sessions WHERE id = ANY(:ids)",
            ids=list(booked.values()),
        )
    )
    cancelled_sessions = set(cancelled.values())
    for rid, session in booked.items():
        want = "cancelled" if session in cancelled_sessions else "booked"
        if status.get(session) != want:
            report.problems.append(f"{rid}: session {session} is {status.get(session)}, not {want}")

    # Every event of those changes published once the outbox drained, and applied exactly once
    # by each handler (the reporting service's inbox), its effect there (the session's fact).
    session_events = [
        e
        for e in scheduling_events
        if e.event_type in ("scheduling.session_booked", "scheduling.session_cancelled")
    ]
    ids = [e.event_id for e in session_events]

    def inbox() -> Counter[str]:
        return Counter(
            r[0]
            for r in rows(
                d, "reporting", "SELECT event_id FROM inbox WHERE event_id = ANY(:ids)", ids=ids
            )
        )

    poll("reporting's inbox has every session event", lambda: set(inbox()) == set(ids))
    for event_id, n in inbox().items():
        if n != 1:
            report.problems.append(f"reporting applied {event_id} {n} times")
    facts = dict(
        rows(
            d,
            "reporting",
            "SELECT session_id, status FROM sessions WHERE session_id = ANY(:ids)",
            ids=list(booked.values()),
        )
    )
    for session in booked.values():
        if facts.get(session) != status.get(session):
            report.problems.append(
                f"reporting has session {session} {facts.get(session)}, "
                f"scheduling {status.get(session)}"
            )

    # The broker delivered every event of the phase at least once (the tap's count by id);
    # more than once only when a relay died between the broker's confirm and marking it sent.
    delivered = drain_tap(d.amqp_uri, tap)
    events = spaces_events + scheduling_events
    report.events = len(events)
    report.deliveries = sum(delivered[e.event_id] for e in events)
    report.redelivered = sum(1 for e in events if delivered[e.event_id] > 1)
    missing = [e.event_id for e in events if delivered[e.event_id] == 0]
    if missing:
        report.problems.append(f"{len(missing)} events never delivered: {missing[:5]}")
    return report
