"""A coach's availability and the slots a coachee may book.

Availability belongs to the coach as a person, across all their tenants: weekly hours in their
time zone, exceptions for given dates (a day off, whole or in part; extra hours), the session
lengths offered, a buffer after each session, a minimum notice and a booking horizon.

Busy intervals come from one table of every participant's sessions (and held proposals) in all
tenants; here they are plain intervals, so a coach's sessions elsewhere make a slot unavailable
and reveal nothing else.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.kernel.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    Problem,
    invalid,
)

from .recurrence import place

DAY_OFF, EXTRA = "day_off", "extra"
MINUTES_PER_DAY = 24 * 60

Interval = tuple[datetime, datetime]


def minutes_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def clock_of(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Hours:
    weekday: int  # ISO: 1 is Monday
    start: int  # minutes after midnight, local
    end: int


@dataclass(frozen=True)
class Exception_:
    on: date
    kind: str
    start: int | None = None
    end: int | None = None


@dataclass
class Availability:
    coach_person_id: str
    time_zone: str
    weekly: list[Hours] = field(default_factory=list)
    exceptions: list[Exception_] = field(default_factory=list)
    session_minutes: list[int] = field(default_factory=lambda: [60])
    buffer_minutes: int = 0
    min_notice_minutes: int = 720
    horizon_days: int = 90
    updated_at: datetime | None = None

    @classmethod
    def from_input(cls, coach_person_id: str, given: dict[str, Any], now: datetime) -> Availability:
        """From the contract's AvailabilityInput (as a dict), checked."""
        problems: list[FieldViolation] = []
        weekly = []
        for i, h in enumerate(given.get("weekly", [])):
            start, end = minutes_of(h["start"]), minutes_of(h["end"])
            if start >= end:
                problems.append(FieldViolation(f"weekly[{i}]", "must end after it starts"))
            weekly.append(Hours(h["weekday"], start, end))
        exceptions = []
        for i, e in enumerate(given.get("exceptions", [])):
            first = minutes_of(e["start"]) if e.get("start") else None
            last = minutes_of(e["end"]) if e.get("end") else None
            if (first is None) != (last is None):
                problems.append(FieldViolation(f"exceptions[{i}]", "give both start and end"))
            elif first is not None and last is not None and first >= last:
                problems.append(FieldViolation(f"exceptions[{i}]", "must end after it starts"))
            elif e["kind"] == EXTRA and first is None:
                problems.append(
                    FieldViolation(f"exceptions[{i}]", "extra hours need start and end")
                )
            exceptions.append(Exception_(e["on"], e["kind"], first, last))
        lengths = list(given.get("session_minutes") or [60])
        for i, m in enumerate(lengths):
            if not 15 <= m <= 480 or m % 5:
                problems.append(FieldViolation(f"session_minutes[{i}]", "15 to 480 minutes, by 5"))
        if len(set(lengths)) != len(lengths):
            problems.append(FieldViolation("session_minutes", "each length once"))
        if problems:
            raise InvalidArgument("The availability is not valid.", fields=problems)
        return cls(
            coach_person_id=coach_person_id,
            time_zone=given["time_zone"],
            weekly=sorted(weekly, key=lambda h: (h.weekday, h.start)),
            exceptions=sorted(exceptions, key=lambda e: (e.on, e.start or 0)),
            session_minutes=lengths,
            buffer_minutes=given.get("buffer_minutes", 0),
            min_notice_minutes=given.get("min_notice_minutes", 720),
            horizon_days=given.get("horizon_days", 90),
            updated_at=now,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def length(self, minutes: int | None) -> int:
        if minutes is None:
            return self.session_minutes[0]
        if minutes not in self.session_minutes:
            offered = ", ".join(str(m) for m in self.session_minutes)
            raise invalid(
                minutes=Problem("the coach offers sessions of %(offered)s minutes", offered=offered)
            )
        return minutes

    # ------------------------------------------------------------ when the coach works

    def local_ranges(self, day: date) -> list[tuple[int, int]]:
        """The day's bookable ranges, in local minutes after midnight (merged, sorted)."""
        ranges = [(h.start, h.end) for h in self.weekly if h.weekday == day.isoweekday()]
        todays = [e for e in self.exceptions if e.on == day]
        for e in todays:
            if e.kind == EXTRA and e.start is not None and e.end is not None:
                ranges.append((e.start, e.end))
        ranges = _merge(ranges)
        for e in todays:
            if e.kind == DAY_OFF:
                cut = (0, MINUTES_PER_DAY) if e.start is None else (e.start, e.end or 0)
                ranges = _subtract(ranges, cut)
        return ranges

    def windows(self, first_day: date, last_day: date) -> list[Interval]:
        """Bookable windows as UTC instants, for the local days first_day..last_day."""
        zone = self.zone
        found: list[Interval] = []
        day = first_day
        while day <= last_day:
            midnight = datetime.combine(day, time())
            for start, end in self.local_ranges(day):
                found.append(
                    (
                        place(midnight + timedelta(minutes=start), zone).starts_at,
                        place(midnight + timedelta(minutes=end), zone).starts_at,
                    )
                )
            day += timedelta(days=1)
        return found

    def check_bookable(self, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
        """Refuse a session outside the coach's hours, too soon or beyond the horizon."""
        if starts_at < now + timedelta(minutes=self.min_notice_minutes):
            raise FailedPrecondition(
                f"Sessions are booked at least {self.min_notice_minutes} minutes ahead.",
                reason="TOO_SOON",
                metadata={"min_notice_minutes": str(self.min_notice_minutes)},
            )
        if starts_at > now + timedelta(days=self.horizon_days):
            raise FailedPrecondition(
                f"Sessions are booked at most {self.horizon_days} days ahead.",
                reason="BEYOND_HORIZON",
                metadata={"horizon_days": str(self.horizon_days)},
            )
        if not self.within_hours(starts_at, ends_at):
            raise FailedPrecondition(
                "The coach is not available then.", reason="OUTSIDE_AVAILABILITY"
            )

    def check_all_within(self, asked: list[tuple[datetime, datetime, str]]) -> None:
        """Refuse sessions (start, end, the date said) of which any falls outside the coach's
        hours, naming those dates: a coachee's series or "this and all following" move."""
        outside = [
            said for starts_at, ends_at, said in asked if not self.within_hours(starts_at, ends_at)
        ]
        if outside:
            raise FailedPrecondition(
                "The coach is not available on " + ", ".join(outside) + ".",
                reason="OUTSIDE_AVAILABILITY",
                metadata={"conflicts": ",".join(outside)},
            )

    def within_hours(self, starts_at: datetime, ends_at: datetime) -> bool:
        """True if the session lies within the coach's hours. A day's hours ending at 24:00 and
        the next day's starting at 00:00 are one stretch: a session may run past midnight."""
        local_day = starts_at.astimezone(self.zone).date()
        windows = self.windows(local_day - timedelta(days=1), local_day + timedelta(days=1))
        return any(ws <= starts_at and ends_at <= we for ws, we in _joined(windows))

    # ------------------------------------------------------------ slots

    def slots(
        self,
        from_at: datetime,
        to_at: datetime,
        minutes: int,
        busy: list[Interval],
        now: datetime,
    ) -> list[Interval]:
        """Slots of `minutes` starting in [from_at, to_at), stepping by the length from the
        start of each window, free of every busy interval (the coach's own, extended by the
        buffer, are stored so; a new slot is extended by it too), after the notice and within
        the horizon."""
        zone = self.zone
        earliest = max(from_at, now + timedelta(minutes=self.min_notice_minutes))
        latest = min(to_at, now + timedelta(days=self.horizon_days))
        if earliest >= latest:
            return []
        length = timedelta(minutes=minutes)
        buffer = timedelta(minutes=self.buffer_minutes)
        busy = sorted(busy)
        starts = [b[0] for b in busy]
        # The longest busy interval bounds how far back an overlapping one can start.
        longest = max((e - s for s, e in busy), default=timedelta(0))
        first_day = earliest.astimezone(zone).date() - timedelta(days=1)
        last_day = latest.astimezone(zone).date() + timedelta(days=1)
        found: list[Interval] = []
        for ws, we in self.windows(first_day, last_day):
            at = ws
            while at + length <= we:
                end = at + length
                if earliest <= at < latest and not _overlaps(
                    busy, starts, longest, at, end + buffer
                ):
                    found.append((at, end))
                at = end
        return sorted(set(found))


def _overlaps(
    busy: list[Interval], starts: list[datetime], longest: timedelta, s: datetime, e: datetime
) -> bool:
    i = bisect.bisect_left(starts, s - longest)
    while i < len(busy) and busy[i][0] < e:
        if busy[i][1] > s:
            return True
        i += 1
    return False


def _joined(windows: list[Interval]) -> list[Interval]:
    """Windows that touch or overlap, as one (sorted)."""
    joined: list[Interval] = []
    for ws, we in sorted(windows):
        if joined and ws <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], we))
        else:
            joined.append((ws, we))
    return joined


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _subtract(ranges: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    kept = []
    for start, end in ranges:
        if end <= cut[0] or start >= cut[1]:
            kept.append((start, end))
            continue
        if start < cut[0]:
            kept.append((start, cut[0]))
        if end > cut[1]:
            kept.append((cut[1], end))
    return kept


def as_input(a: Availability) -> dict[str, Any]:
    """Back to the contract's shape."""
    return {
        "time_zone": a.time_zone,
        "weekly": [
            {"weekday": h.weekday, "start": clock_of(h.start), "end": clock_of(h.end)}
            for h in a.weekly
        ],
        "exceptions": [
            {
                "on": e.on,
                "kind": e.kind,
                "start": clock_of(e.start) if e.start is not None else None,
                "end": clock_of(e.end) if e.end is not None else None,
            }
            for e in a.exceptions
        ],
        "session_minutes": list(a.session_minutes),
        "buffer_minutes": a.buffer_minutes,
        "min_notice_minutes": a.min_notice_minutes,
        "horizon_days": a.horizon_days,
    }
