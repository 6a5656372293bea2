"""Scheduling's repositories in memory: the names and methods of `services/scheduling/storage`
(declared by `storage/unit.py`), over one `SchedulingState` a `FakeDatabase` rolls back.

Busy time follows the database's rule: two busy rows of one person may not overlap unless they
belong to the same session (the exclusion constraint), and the coach's rows run on by the
buffer; a refused write raises the domain's `TimeTaken`, as the real repository does.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.kernel.clock import Clock
from services.scheduling.domain.availability import Availability, Interval
from services.scheduling.domain.model import (
    ERASED_PERSON,
    PENDING,
    ChangeRequest,
    Session,
    SpaceCopy,
    TimeTaken,
)
from services.scheduling.domain.policy import Policy
from services.scheduling.domain.reminders import CalendarChoice
from services.scheduling.domain.rooms import VideoSettings

from . import FakeDatabase


@dataclass
class Busy:
    person_id: str
    starts_at: datetime
    ends_at: datetime
    session_id: str
    request_id: str | None = None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.starts_at < end and start < self.ends_at


@dataclass
class SeriesRow:
    id: str
    tenant_id: str
    space_id: str
    frequency: str
    time_zone: str
    count: int | None
    until: date | None
    follows_series_id: str | None
    created_by: str
    created_at: datetime
    sequence: int = 0


@dataclass
class SchedulingState:
    """What scheduling's database holds, as plain collections."""

    spaces: dict[str, SpaceCopy] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    availability: dict[str, Availability] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    series: dict[str, SeriesRow] = field(default_factory=dict)
    busy: list[Busy] = field(default_factory=list)
    requests: dict[str, ChangeRequest] = field(default_factory=dict)
    reminder_choices: dict[str, CalendarChoice] = field(default_factory=dict)
    reminders_sent: dict[tuple[str, str, int], datetime] = field(default_factory=dict)
    feeds: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    calendar_sent: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    video: dict[str, VideoSettings] = field(default_factory=dict)
    rooms: dict[str, str] = field(default_factory=dict)


def _copies(found: Iterable[Any]) -> list[Any]:
    return [copy.copy(x) for x in found]


class FakeSpaces:
    def __init__(self, state: SchedulingState) -> None:
        self.state = state

    def get(self, tenant_id: str, space_id: str, *, for_update: bool = False) -> SpaceCopy | None:
        found = self.state.spaces.get(space_id)
        return copy.copy(found) if found and found.tenant_id == tenant_id else None

    def of_person(self, tenant_id: str, person_id: str) -> list[SpaceCopy]:
        return _copies(
            s
            for s in self.state.spaces.values()
            if s.tenant_id == tenant_id and person_id in s.people()
        )

    def apply(self, given: SpaceCopy) -> SpaceCopy | None:
        stored = self.state.spaces.get(given.space_id)
        if stored is None:
            self.state.spaces[given.space_id] = copy.copy(given)
            return None
        if stored.updated_at > given.updated_at:
            return given
        self.state.spaces[given.space_id] = copy.copy(given)
        return stored

    def anonymise(self, person_id: str) -> None:
        for s in self.state.spaces.values():
            for column in ("coachee_person_id", "coach_person_id", "co_coach_person_id"):
                if getattr(s, column) == person_id:
                    setattr(s, column, ERASED_PERSON)


class FakePolicies:
    def __init__(self, state: SchedulingState) -> None:
        self.state = state

    def get(self, tenant_id: str) -> Policy:
        return copy.copy(self.state.policies.get(tenant_id) or Policy(tenant_id))

    def create_default(self, tenant_id: str, now: datetime) -> None:
        self.state.policies.setdefault(tenant_id, Policy(tenant_id, updated_at=now))

    def save(self, policy: Policy) -> None:
        self.state.policies[policy.tenant_id] = copy.copy(policy)

    def anonymise(self, person_id: str) -> None:
        for p in self.state.policies.values():
            if p.updated_by == person_id:
                p.updated_by = ERASED_PERSON


class FakeAvailabilities:
    def __init__(self, state: SchedulingState) -> None:
        self.state = state

    def get(self, coach_person_id: str) -> Availability | None:
        return copy.deepcopy(self.state.availability.get(coach_person_id))

    def save(self, a: Availability) -> None:
        self.state.availability[a.coach_person_id] = copy.deepcopy(a)

    def delete(self, person_id: str) -> None:
        self.state.availability.pop(person_id, None)


class FakeSessions:
    def __init__(self, state: SchedulingState) -> None:
        self.state = state

    # -------------------------------------------------------- series

    def add_series(
        self,
        series_id: str,
        tenant_id: str,
        space_id: str,
        frequency: str,
        time_zone: str,
        count: int | None,
        until: Any,
        by: str,
        now: datetime,
        follows: str | None = None,
    ) -> None:
        self.state.series[series_id] = SeriesRow(
            series_id, tenant_id, space_id, frequency, time_zone, count, until, follows, by, now
        )

    def end_series(self, series_id: str, until: Any) -> None:
        row = self.state.series[series_id]
        row.until, row.count = until, None
        row.sequence += 1

    def raise_series(self, series_ids: list[str]) -> None:
        for i in series_ids:
            self.state.series[i].sequence += 1

    def series_state(self, series_id: str) -> tuple[Any, list[Session]] | None:
        row = self.state.series.get(series_id)
        if row is None:
            return None
        found = [s for s in self.state.sessions.values() if s.series_id == series_id]
        found.sort(key=lambda s: (s.occurrence or s.local_start, s.starts_at))
        return copy.copy(row), _copies(found)

    def frequency_of(self, series_id: str) -> str | None:
        row = self.state.series.get(series_id)
        return row.frequency if row else None

    # -------------------------------------------------------- busy time

    def _busy_rows(
        self,
        booked: list[Session],
        buffer_minutes: int,
        request_id: str | None,
        at: list[Interval] | None,
    ) -> list[Busy]:
        rows = []
        for i, s in enumerate(booked):
            start, end = at[i] if at else (s.starts_at, s.ends_at)
            for person in s.people():
                if person == ERASED_PERSON:
                    continue
                extra = timedelta(minutes=buffer_minutes if person == s.coach_person_id else 0)
                rows.append(Busy(person, start, end + extra, s.id, request_id))
        return rows

    def _write_busy(self, rows: list[Busy]) -> None:
        for new in rows:
            for old in self.state.busy:
                if (
                    old.person_id == new.person_id
                    and old.session_id != new.session_id
                    and old.overlaps(new.starts_at, new.ends_at)
                ):
                    raise TimeTaken()
        self.state.busy.extend(rows)

    def add(self, booked: list[Session], buffer_minutes: int) -> None:
        rows = self._busy_rows(booked, buffer_minutes, None, None)
        self._write_busy(rows)
        for s in booked:
            self.state.sessions[s.id] = copy.copy(s)

    def hold_time(
        self,
        booked: list[Session],
        buffer_minutes: int,
        request_id: str | None = None,
        at: list[Interval] | None = None,
    ) -> None:
        self._write_busy(self._busy_rows(booked, buffer_minutes, request_id, at))

    def taken_in_space(
        self,
        tenant_id: str,
        space_id: str,
        person_id: str,
        starts_at: datetime,
        minutes: int | None,
    ) -> bool:
        space = self.state.spaces.get(space_id)
        if space is None or space.tenant_id != tenant_id or space.status != "active":
            return False
        if person_id not in space.people():
            return False
        found = self.state.availability.get(space.coach_person_id)
        if found is None or (minutes is not None and minutes not in found.session_minutes):
            return False
        ends_at = starts_at + timedelta(minutes=minutes or found.session_minutes[0])
        for person in space.people():
            extra = timedelta(
                minutes=found.buffer_minutes if person == space.coach_person_id else 0
            )
            if any(
                b.person_id == person and b.overlaps(starts_at, ends_at + extra)
                for b in self.state.busy
            ):
                return True
        return False

    def release_time(self, session_ids: list[str], *, holds_only: str | None = None) -> None:
        if holds_only is not None:
            self.state.busy = [b for b in self.state.busy if b.request_id != holds_only]
            return
        self.state.busy = [
            b for b in self.state.busy if not (b.session_id in session_ids and b.request_id is None)
        ]

    def promote_hold(self, request_id: str, session_id: str) -> None:
        self.release_time([session_id])
        for b in self.state.busy:
            if b.request_id == request_id:
                b.request_id = None

    def busy_of(
        self,
        people: list[str],
        from_at: datetime,
        to_at: datetime,
        ignore_session: str | None = None,
        *,
        here_only: tuple[str, ...] = (),
        tenant_id: str = "",
    ) -> list[Interval]:
        def shown(b: Busy) -> bool:
            if b.person_id in people:
                return True
            s = self.state.sessions.get(b.session_id)
            return b.person_id in here_only and s is not None and s.tenant_id == tenant_id

        return [
            (b.starts_at, b.ends_at)
            for b in self.state.busy
            if shown(b) and b.overlaps(from_at, to_at) and b.session_id != ignore_session
        ]

    def conflicts(
        self,
        people: list[str],
        intervals: list[Interval],
        buffer_minutes: int,
        coach: str,
        ignore: list[str] | None = None,
    ) -> list[int]:
        found = []
        for i, (start, end) in enumerate(intervals):
            for person in people:
                extra = timedelta(minutes=buffer_minutes if person == coach else 0)
                if any(
                    b.person_id == person
                    and b.overlaps(start, end + extra)
                    and b.session_id not in (ignore or [])
                    for b in self.state.busy
                ):
                    found.append(i)
                    break
        return found

    def swap_person(self, s: Session, old: str | None, new: str | None) -> None:
        if old:
            self.state.busy = [
                b for b in self.state.busy if not (b.session_id == s.id and b.person_id == old)
            ]
        self.save(s)
        if new:
            row = Busy(new, s.starts_at, s.ends_at, s.id)
            if not any(
                b.person_id == new and b.overlaps(s.starts_at, s.ends_at) for b in self.state.busy
            ):
                self.state.busy.append(row)  # ON CONFLICT DO NOTHING

    # -------------------------------------------------------- sessions

    def save(self, s: Session) -> None:
        assert s.id in self.state.sessions, "save() of a session never added"
        self.state.sessions[s.id] = copy.copy(s)

    def get(self, tenant_id: str, session_id: str, *, for_update: bool = False) -> Session | None:
        found = self.state.sessions.get(session_id)
        return copy.copy(found) if found and found.tenant_id == tenant_id else None

    def _where(self, keep: Any) -> list[Session]:
        return sorted(
            _copies(s for s in self.state.sessions.values() if keep(s)),
            key=lambda s: (s.starts_at, s.id),
        )

    def following(self, s: Session) -> list[Session]:
        return self._where(
            lambda x: (
                x.series_id == s.series_id and x.starts_at >= s.starts_at and x.status == "booked"
            )
        )

    def cancelled_together(self, s: Session) -> list[Session]:
        if s.cancelled_at is None:
            return []
        return self._where(
            lambda x: (
                x.space_id == s.space_id
                and x.status == "cancelled"
                and x.cancelled_at == s.cancelled_at
            )
        )

    def used(self, tenant_id: str, space_id: str) -> int:
        return len(
            self._where(
                lambda x: x.tenant_id == tenant_id and x.space_id == space_id and x.uses_session
            )
        )

    def page_of_space(
        self, tenant_id: str, space_id: str, size: int, token: str
    ) -> tuple[list[Session], str]:
        """One page only (the keyset pages are the integration tests' business)."""
        found = self._where(lambda x: x.tenant_id == tenant_id and x.space_id == space_id)
        assert len(found) <= size and not token, "the fake answers one page"
        return found, ""

    def of_person(
        self, person_id: str, from_at: datetime, to_at: datetime, limit: int = 1000
    ) -> list[Session]:
        return self._where(lambda x: person_id in x.people() and from_at <= x.starts_at < to_at)[
            :limit
        ]

    def all_of_person(self, person_id: str) -> list[Session]:
        return self._where(lambda x: person_id in x.people())

    def future_of_space(
        self, space_id: str, now: datetime, coach_person_id: str | None = None
    ) -> list[Session]:
        return self._where(
            lambda x: (
                x.space_id == space_id
                and x.status == "booked"
                and x.starts_at > now
                and coach_person_id in (None, x.coach_person_id)
            )
        )

    def future_of_person(self, person_id: str, now: datetime) -> list[Session]:
        return self._where(
            lambda x: person_id in x.people() and x.status == "booked" and x.starts_at > now
        )

    def next_of_spaces(
        self, tenant_id: str, space_ids: list[str], now: datetime, per_space: int
    ) -> list[Session]:
        out: list[Session] = []
        for space_id in space_ids:
            out += self._where(
                lambda x, space_id=space_id: (
                    x.tenant_id == tenant_id
                    and x.space_id == space_id
                    and x.status == "booked"
                    and x.ends_at > now
                )
            )[:per_space]
        return sorted(out, key=lambda s: s.starts_at)

    def use_of_spaces(self, tenant_id: str, space_ids: list[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for s in self._where(lambda x: x.tenant_id == tenant_id and x.space_id in space_ids):
            counts = out.setdefault(s.space_id, {"used": 0, "held": 0, "booked": 0})
            counts["used"] += s.uses_session
            counts["held"] += s.status == "held"
            counts["booked"] += s.status == "booked"
        return out

    def _to_mark(self, tenant_id: str, coach: str, before: datetime) -> list[Session]:
        return self._where(
            lambda x: (
                x.tenant_id == tenant_id
                and coach in (x.coach_person_id, x.co_coach_person_id)
                and x.status == "booked"
                and x.ends_at <= before
            )
        )

    def to_mark_counts(
        self, tenant_id: str, coach_person_id: str, space_ids: list[str], before: datetime
    ) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self._to_mark(tenant_id, coach_person_id, before):
            if s.space_id in space_ids:
                out[s.space_id] = out.get(s.space_id, 0) + 1
        return out

    def to_mark(
        self, tenant_id: str, coach_person_id: str, before: datetime, limit: int = 100
    ) -> list[Session]:
        return self._to_mark(tenant_id, coach_person_id, before)[:limit]

    def anonymise(self, person_id: str) -> None:
        self.state.busy = [b for b in self.state.busy if b.person_id != person_id]
        for s in self.state.sessions.values():
            for column in (
                "coachee_person_id",
                "coach_person_id",
                "co_coach_person_id",
                "booked_by",
                "marked_by",
            ):
                if getattr(s, column) == person_id:
                    setattr(s, column, ERASED_PERSON)
        for row in self.state.series.values():
            if row.created_by == person_id:
                row.created_by = ERASED_PERSON


class FakeChangeRequests:
    def __init__(self, state: SchedulingState) -> None:
        self.state = state

    def add(self, r: ChangeRequest) -> None:
        self.state.requests[r.id] = copy.copy(r)

    def save(self, r: ChangeRequest) -> None:
        assert r.id in self.state.requests, "save() of a request never added"
        self.state.requests[r.id] = copy.copy(r)

    def get(
        self, tenant_id: str, request_id: str, *, for_update: bool = False
    ) -> ChangeRequest | None:
        found = self.state.requests.get(request_id)
        return copy.copy(found) if found and found.tenant_id == tenant_id else None

    def _where(self, keep: Any) -> list[ChangeRequest]:
        return sorted(
            _copies(r for r in self.state.requests.values() if keep(r)),
            key=lambda r: (r.created_at, r.id),
        )

    def pending_of(self, session_ids: list[str]) -> list[ChangeRequest]:
        return self._where(lambda r: r.session_id in session_ids and r.status == PENDING)

    def page(
        self, tenant_id: str, space_ids: list[str], status: str | None, size: int, token: str
    ) -> tuple[list[ChangeRequest], str]:
        found = self._where(
            lambda r: (
                r.tenant_id == tenant_id and r.space_id in space_ids and status in (None, r.status)
            )
        )
        assert len(found) <= size and not token, "the fake answers one page"
        return found, ""

    def pending_for(
        self, tenant_id: str, space_ids: list[str], limit: int = 100
    ) -> list[ChangeRequest]:
        found = self._where(
            lambda r: r.tenant_id == tenant_id and r.space_id in space_ids and r.status == PENDING
        )
        return sorted(found, key=lambda r: r.expires_at)[:limit]

    def lapsed(self, now: datetime, limit: int = 100) -> list[ChangeRequest]:
        found = self._where(lambda r: r.status == PENDING and r.expires_at <= now)
        return sorted(found, key=lambda r: r.expires_at)[:limit]

    def of_person(self, person_id: str) -> list[ChangeRequest]:
        return self._where(lambda r: person_id in (r.requested_by, r.decided_by))

    def anonymise(self, person_id: str) -> None:
        for r in self.state.requests.values():
            for column in ("requested_by", "decided_by"):
                if getattr(r, column) == person_id:
                    setattr(r, column, ERASED_PERSON)


class FakeReminders:
    def __init__(self, state: SchedulingState) -> None:
        self.state = state

    def choices(self, person_ids: set[str]) -> dict[str, CalendarChoice]:
        return {
            p: copy.copy(self.state.reminder_choices.get(p) or CalendarChoice(p))
            for p in person_ids
        }

    def save(self, choice: CalendarChoice) -> None:
        self.state.reminder_choices[choice.person_id] = copy.copy(choice)

    def upcoming(self, now: datetime, within: timedelta) -> list[Session]:
        return _copies(
            s
            for s in self.state.sessions.values()
            if s.status == "booked" and now < s.starts_at <= now + within
        )

    def already(self, session_ids: list[str]) -> set[tuple[str, str, int]]:
        return {k for k in self.state.reminders_sent if k[0] in session_ids}

    def claim(self, session_id: str, person_id: str, minutes: int, now: datetime) -> bool:
        key = (session_id, person_id, minutes)
        if key in self.state.reminders_sent:
            return False
        self.state.reminders_sent[key] = now
        return True

    def release(self, session_id: str, person_id: str, minutes: list[int]) -> None:
        for m in minutes:
            self.state.reminders_sent.pop((session_id, person_id, m), None)

    def forget(self, person_id: str) -> None:
        self.state.reminder_choices.pop(person_id, None)
        for key in [k for k in self.state.reminders_sent if k[1] == person_id]:
            del self.state.reminders_sent[key]


class FakeFeeds:
    def __init__(self, state: SchedulingState) -> None:
        self.state = state

    def replace(self, person_id: str, token_hash: str, now: datetime) -> None:
        self.state.feeds[person_id] = (token_hash, now)

    def delete(self, person_id: str) -> bool:
        return self.state.feeds.pop(person_id, None) is not None

    def created_at(self, person_id: str) -> datetime | None:
        found = self.state.feeds.get(person_id)
        return found[1] if found else None

    def person_of(self, token_hash: str) -> str | None:
        return next((p for p, (h, _) in self.state.feeds.items() if h == token_hash), None)


class FakeCalendarClaims:
    def __init__(self, state: SchedulingState) -> None:
        self.state = state

    def claim(self, uid: str, person_id: str, version: str, now: datetime) -> bool:
        if (uid, person_id, version) in self.state.calendar_sent:
            return False
        self.state.calendar_sent[(uid, person_id, version)] = now
        return True

    def release(self, uid: str, person_id: str, version: str) -> None:
        self.state.calendar_sent.pop((uid, person_id, version), None)

    def forget(self, person_id: str) -> None:
        for key in [k for k in self.state.calendar_sent if k[1] == person_id]:
            del self.state.calendar_sent[key]


class FakeVideoSettings:
    """The secret is kept as given (sealing it is the real repository's and the keyring's)."""

    def __init__(self, state: SchedulingState) -> None:
        self.state = state

    def get(self, tenant_id: str, master: Any) -> VideoSettings | None:
        return copy.copy(self.state.video.get(tenant_id))

    def save(self, settings: VideoSettings, now: datetime, master: Any) -> None:
        self.state.video[settings.tenant_id] = copy.copy(settings)

    def windows(self, tenant_ids: set[str]) -> dict[str, tuple[int, int]]:
        return {
            t: (v.opens_before, v.closes_after)
            for t, v in self.state.video.items()
            if t in tenant_ids
        }

    def anonymise(self, person_id: str) -> None:
        for v in self.state.video.values():
            if v.updated_by == person_id:
                v.updated_by = ERASED_PERSON


class FakeRooms:
    def __init__(self, state: SchedulingState) -> None:
        self.state = state

    def room_of(self, session_id: str, new_name: str, now: datetime) -> str:
        return self.state.rooms.setdefault(session_id, new_name)


def scheduling_repositories(state: SchedulingState) -> dict[str, Any]:
    """The same names as `services.scheduling.storage.unit.SchedulingUnit`'s."""
    return {
        "spaces": FakeSpaces(state),
        "policies": FakePolicies(state),
        "availability": FakeAvailabilities(state),
        "sessions": FakeSessions(state),
        "requests": FakeChangeRequests(state),
        "reminders": FakeReminders(state),
        "feeds": FakeFeeds(state),
        "calendar": FakeCalendarClaims(state),
        "video": FakeVideoSettings(state),
        "rooms": FakeRooms(state),
    }


def scheduling_db(clock: Clock) -> FakeDatabase[SchedulingState]:
    return FakeDatabase(clock, SchedulingState(), scheduling_repositories)
