"""Calendar invitations (iTIP, RFC 5546, with iCalendar objects, RFC 5545).

What a participant's calendar is sent, from the sessions' state:

- a single session is one VEVENT, its UID `<session id>@<domain>` for good: METHOD:REQUEST when
  booked or moved, METHOD:CANCEL (STATUS:CANCELLED) when cancelled, SEQUENCE the session's
  (raised at each change);
- a series is one VEVENT with an RRULE, its UID `<series id>@<domain>`, sent whole (the
  "master") when booked and when it ends early: DTSTART its first occurrence, the rule with
  UNTIL at its last, an EXDATE for each occurrence cancelled, and one VEVENT with RECURRENCE-ID
  for each occurrence that moved; SEQUENCE the series' (raised when it ends early);
- one occurrence moved or cancelled later: a REQUEST or a CANCEL of that occurrence only, with
  its RECURRENCE-ID (the wall time the rule gives it) and its own SEQUENCE;
- "this and all following": the series ends before the occurrence (its master is sent again,
  UNTIL earlier, SEQUENCE raised) and a new series starts with a new UID (common clients ignore
  RANGE=THISANDFUTURE).

Times are in the coach's time zone with its VTIMEZONE. Content is neutral: a title
("Rendez-vous ecoach" / "ecoach appointment"), CLASS:PRIVATE, the organizer (the platform's
address) and the one attendee the message is for; never a name of the coaching, notes, goals or
the room link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vRecur, vText

from services.kernel.i18n import N_, gettext

from ..domain.model import CANCELLED, Session
from ..domain.recurrence import instances, place, rule_fields

PRODID = "-//ecoach//scheduling//EN"
# What an event is called in a calendar, unless its person chose their own title (a msgid).
TITLE = N_("ecoach appointment")
REQUEST, CANCEL = "REQUEST", "CANCEL"


def neutral_title(locale: str) -> str:
    """The events' title in the person's language."""
    return gettext(locale, TITLE)


@dataclass(frozen=True)
class Vevent:
    sequence: int
    start: datetime  # aware, in the coach's zone
    end: datetime
    recurrence_id: datetime | None = None  # aware, in the coach's zone
    rrule: dict[str, Any] | None = None
    exdates: tuple[datetime, ...] = ()
    cancelled: bool = False


@dataclass(frozen=True)
class Message:
    """One calendar object's change; `version` names it (sent once per person)."""

    uid: str
    version: str
    method: str
    events: tuple[Vevent, ...]
    # Occurrence messages this one makes redundant (the master holds their state).
    covers: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class SeriesState:
    series_id: str
    frequency: str
    time_zone: str
    until: date | None
    sequence: int
    sessions: tuple[Session, ...]


def _aware(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall time as iCalendar states it: with its TZID (the gap read as RFC 5545 does)."""
    return place(local, zone).starts_at.astimezone(zone)


def _local(s: Session, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return s.starts_at.astimezone(zone), s.ends_at.astimezone(zone)


def occurrence_key(s: Session) -> str:
    return f"o.{s.id}.{s.sequence}"


def single(s: Session, domain: str) -> Message:
    zone = ZoneInfo(s.time_zone)
    start, end = _local(s, zone)
    cancelled = s.status == CANCELLED
    return Message(
        uid=f"{s.id}@{domain}",
        version=f"s.{s.sequence}",
        method=CANCEL if cancelled else REQUEST,
        events=(Vevent(s.sequence, start, end, cancelled=cancelled),),
    )


def _in_series(state: SeriesState) -> list[Session]:
    return [
        s
        for s in state.sessions
        if s.occurrence is not None and (state.until is None or s.occurrence.date() <= state.until)
    ]


def master(state: SeriesState, domain: str) -> Message:
    """The whole series as it stands."""
    zone = ZoneInfo(state.time_zone)
    uid = f"{state.series_id}@{domain}"
    version = f"m.{state.sequence}"
    kept = _in_series(state)
    if not kept or all(s.status == CANCELLED for s in kept):
        # Nothing left of it: the series is cancelled whole.
        first = min(state.sessions, key=lambda s: s.starts_at)
        start, end = _local(first, zone)
        return Message(
            uid,
            version,
            CANCEL,
            (Vevent(state.sequence, start, end, cancelled=True),),
            covers=tuple(occurrence_key(s) for s in state.sessions),
        )
    occurrences = [s.occurrence for s in kept if s.occurrence is not None]
    first_local, last_local = min(occurrences), max(occurrences)
    by_occurrence = {s.occurrence: s for s in kept}
    length = kept[0].ends_at - kept[0].starts_at
    exdates = tuple(
        _aware(o, zone)
        for o in instances(first_local, state.frequency, last_local)
        if o not in by_occurrence or by_occurrence[o].status == CANCELLED
    )
    rule = {
        **rule_fields(first_local, state.frequency),
        "UNTIL": _aware(last_local, zone).astimezone(UTC),
    }
    start = _aware(first_local, zone)
    events = [Vevent(state.sequence, start, start + length, rrule=rule, exdates=exdates)]
    for s in kept:
        assert s.occurrence is not None
        if s.status != CANCELLED and s.local_start != s.occurrence:
            s_start, s_end = _local(s, zone)
            events.append(
                Vevent(s.sequence, s_start, s_end, recurrence_id=_aware(s.occurrence, zone))
            )
    return Message(
        uid, version, REQUEST, tuple(events), covers=tuple(occurrence_key(s) for s in kept)
    )


def occurrence(state: SeriesState, s: Session, domain: str) -> Message | None:
    """One occurrence changed since the series was sent: None if nothing is to say (it is the
    rule's own, or beyond the series' end)."""
    if s.occurrence is None or s.sequence == 0 or s not in _in_series(state):
        return None
    zone = ZoneInfo(state.time_zone)
    start, end = _local(s, zone)
    cancelled = s.status == CANCELLED
    return Message(
        uid=f"{state.series_id}@{domain}",
        version=occurrence_key(s),
        method=CANCEL if cancelled else REQUEST,
        events=(
            Vevent(
                s.sequence,
                start,
                end,
                recurrence_id=_aware(s.occurrence, zone),
                cancelled=cancelled,
            ),
        ),
    )


def _vevent(
    uid: str,
    v: Vevent,
    summary: str,
    now: datetime,
    organizer: str | None = None,
    attendee: tuple[str, str] | None = None,
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("sequence", v.sequence)
    event.add("dtstart", v.start)
    event.add("dtend", v.end)
    if v.recurrence_id is not None:
        event.add("recurrence-id", v.recurrence_id)
    if v.rrule is not None:
        event.add("rrule", vRecur(v.rrule))
    if v.exdates:
        event.add("exdate", list(v.exdates))
    event.add("summary", summary)
    event.add("class", "PRIVATE")
    event.add("transp", "OPAQUE")
    event.add("status", "CANCELLED" if v.cancelled else "CONFIRMED")
    if organizer:
        by = vCalAddress(f"mailto:{organizer}")
        by.params["cn"] = vText("ecoach")
        event.add("organizer", by)
    if attendee:
        address, name = attendee
        to = vCalAddress(f"mailto:{address}")
        if name:
            to.params["cn"] = vText(name)
        to.params["role"] = "REQ-PARTICIPANT"
        to.params["partstat"] = "ACCEPTED"
        to.params["rsvp"] = "FALSE"
        event.add("attendee", to)
    return event


def _calendar(method: str, events: list[Event], years: list[int]) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    for event in events:
        cal.add_component(event)
    if years:
        cal.add_missing_timezones(
            first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 3, 1, 1)
        )
    return bytes(cal.to_ical())


def render(
    message: Message,
    *,
    organizer: str,
    attendee: str,
    attendee_name: str,
    locale: str,
    now: datetime,
    title: str | None = None,
) -> bytes:
    """The iCalendar object of `message` for one attendee."""
    summary = title or neutral_title(locale)
    events = [
        _vevent(message.uid, v, summary, now, organizer, (attendee, attendee_name))
        for v in message.events
    ]
    return _calendar(message.method, events, [v.start.year for v in message.events])


def publish(
    messages: list[Message], *, locale: str, now: datetime, titles: dict[str, str] | None = None
) -> bytes:
    """A calendar feed (METHOD:PUBLISH) of what `messages` hold: the same neutral events, with
    no organizer or attendee (a feed's URL may be seen by others); `titles` by UID, if the
    person chose theirs."""
    neutral = neutral_title(locale)
    events = [
        _vevent(m.uid, v, (titles or {}).get(m.uid, neutral), now)
        for m in messages
        if m.method == REQUEST
        for v in m.events
    ]
    return _calendar("PUBLISH", events, [v.start.year for m in messages for v in m.events])
