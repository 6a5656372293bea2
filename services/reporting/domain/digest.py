"""The digest: a tenant's headline aggregates for the month so far, sent to its webhooks and
published as the public event `reporting.digest_published` (ADR 0023's addendum). Computed by
the reports themselves (`build_report`, hence the disclosure rule): the seats report and the
sessions report of one month, total group only. Plain Python: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .disclosure import MIN_GROUP
from .facts import TenantFacts
from .reports import TOTAL, Query, Report, build_report, month_of

DIGEST_KIND = "reporting.digest"  # a webhook delivery's kind
PING_KIND = "reporting.ping"


@dataclass(frozen=True)
class Headline:
    """None for every figure when `disclosed` is False (under MIN_GROUP coachees)."""

    month: str
    disclosed: bool
    coachees: int | None = None
    seats: int | None = None
    active_coachees: int | None = None
    sessions_held: int | None = None

    def figures(self) -> dict[str, int]:
        """The figures there are (none when not disclosed)."""
        named = {
            "coachees": self.coachees,
            "seats": self.seats,
            "active_coachees": self.active_coachees,
            "sessions_held": self.sessions_held,
        }
        return {k: v for k, v in named.items() if v is not None}


def headline_queries(now: datetime) -> tuple[Query, Query]:
    """The two reports a headline is made of: seats and sessions of the month of `now` (UTC)."""
    month = month_of(now)
    return Query("seats", month, month), Query("sessions", month, month)


def headline(facts: TenantFacts, now: datetime) -> Headline:
    """The month of `now` (UTC): its population, seats, active coachees and sessions held."""
    seats, sessions = (build_report(q, facts) for q in headline_queries(now))
    return headline_of(seats, sessions, month_of(now))


def headline_of(seats: Report, sessions: Report, month: str) -> Headline:
    """The headline of a month from its seats and sessions reports (however they were counted:
    in Python from the facts, or in SQL, `storage/reports.py`)."""
    if not (seats.disclosed and sessions.disclosed):
        return Headline(month, False)

    def total(report: Report, metric: str) -> int:
        return next(
            r.value
            for r in report.rows
            if r.group_kind == TOTAL and r.month == month and r.metric == metric
        )

    (population,) = (g.population for g in seats.groups if g.kind == TOTAL)
    return Headline(
        month,
        True,
        coachees=population,
        seats=total(seats, "seats"),
        active_coachees=total(seats, "active_coachees"),
        sessions_held=total(sessions, "held"),
    )


def digest_payload(digest_id: str, summary: Headline) -> dict[str, Any]:
    """What a webhook delivery of the digest carries (aggregates only: check_aggregates)."""
    return {
        "digest_id": digest_id,
        "month": summary.month,
        "disclosed": summary.disclosed,
        "min_group": MIN_GROUP,
        **summary.figures(),
    }


def slot_of(now: datetime, interval_seconds: float) -> int:
    """The time slot of `now` for digests every `interval_seconds`: one digest per tenant and
    slot, whichever instance publishes it."""
    return int(now.timestamp() // max(interval_seconds, 1.0))
