"""Wall times in a time zone, and series expanded in local time (rule 7, RFC 5545).

A series keeps its first occurrence's local wall time in the coach's time zone: a weekly 09:00
Paris session stays at 09:00 in Paris when daylight saving time starts or ends. The occurrences
come from `dateutil.rrule`, expanded on naive local times, then placed in the zone:

- a wall time that does not exist (the spring-forward gap) is read with the offset before the
  gap, so it moves forward by the gap's length (02:30 becomes 03:30 in Paris), as RFC 5545
  §3.3.5 prescribes; the occurrence is flagged `shifted`;
- a wall time that exists twice (the autumn fold) is its first instance (`fold=0`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday

from services.kernel.errors import Problem, invalid

WEEKS = {"weekly": 1, "every_two_weeks": 2, "every_four_weeks": 4}
FREQUENCIES = (*WEEKS, "monthly")


@dataclass(frozen=True)
class Placed:
    """A wall time placed in a zone: the instant, the wall time a clock shows then, and whether
    the asked wall time fell in a gap and moved forward."""

    starts_at: datetime  # UTC
    local: datetime  # naive, as a clock in the zone shows it
    shifted: bool


def place(local: datetime, zone: ZoneInfo) -> Placed:
    aware = local.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    shown = instant.astimezone(zone).replace(tzinfo=None)
    return Placed(instant, shown, shown != local.replace(tzinfo=None))


def wall_time(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall time of an instant in a zone."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _rule(first: datetime, frequency: str, count: int | None, until: date | None) -> rrule:
    end = datetime.combine(until, time.max) if until is not None else None
    if frequency == "monthly":
        # Same weekday of the month: the 2nd Tuesday; a 5th one is "the last" (RFC 5545 -1TU),
        # or the series would skip the months that have only four.
        nth = (first.day - 1) // 7 + 1
        nth = -1 if nth == 5 else nth
        return rrule(
            MONTHLY, dtstart=first, byweekday=weekday(first.weekday(), nth), count=count, until=end
        )
    return rrule(WEEKLY, interval=WEEKS[frequency], dtstart=first, count=count, until=end)


def expand(
    first: datetime,
    zone: ZoneInfo,
    frequency: str,
    *,
    count: int | None = None,
    until: date | None = None,
    limit: int = 60,
) -> list[Placed]:
    """The occurrences of a series starting at wall time `first` (naive, in `zone`)."""
    if frequency not in FREQUENCIES:
        raise invalid(frequency="weekly, every_two_weeks, every_four_weeks or monthly")
    if (count is None) == (until is None):
        raise invalid(count="give either count or until")
    if until is not None and until < first.date():
        raise invalid(until="must not be before the first session")
    locals_ = list(islice(_rule(first.replace(tzinfo=None), frequency, count, until), limit + 1))
    if len(locals_) > limit:
        raise invalid(until=Problem("a series holds at most %(n)s sessions", n=limit))
    return [place(local, zone) for local in locals_]


def next_after(local: datetime, frequency: str) -> datetime:
    """The wall time one cadence after `local` (rebooking the next session in one step)."""
    rule = _rule(local.replace(tzinfo=None), frequency, 2, None)
    following: datetime = list(rule)[1]
    return following


def instances(first: datetime, frequency: str, last: datetime) -> list[datetime]:
    """The series' wall times from `first` to `last` (naive, inclusive)."""
    return [o for o in _rule(first.replace(tzinfo=None), frequency, None, last.date()) if o <= last]


def rule_fields(first: datetime, frequency: str) -> dict[str, object]:
    """The series' rule as iCalendar's RRULE says it (UNTIL or COUNT left to the caller)."""
    if frequency == "monthly":
        nth = (first.day - 1) // 7 + 1
        day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[first.weekday()]
        return {"FREQ": "MONTHLY", "BYDAY": f"{-1 if nth == 5 else nth}{day}"}
    if frequency not in WEEKS:
        raise invalid(frequency="weekly, every_two_weeks, every_four_weeks or monthly")
    fields: dict[str, object] = {"FREQ": "WEEKLY"}
    if WEEKS[frequency] > 1:
        fields["INTERVAL"] = WEEKS[frequency]
    return fields
