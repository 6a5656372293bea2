"""The calendar invitations' iCalendar, against golden files, then parsed by the `icalendar`
library and checked field by field: a single session booked, moved and cancelled; one
occurrence of a series moved and cancelled; "this and all following" (the series ends, a new
one starts with a new UID). Set ECOACH_UPDATE_GOLDEN=1 to write the files again (then read the
diff)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services.scheduling.adapters import itip
from services.scheduling.domain.model import Session, SpaceCopy
from services.scheduling.domain.recurrence import expand, place

GOLDEN = Path(__file__).parent / "golden" / "itip"
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 10, 1, 8, 30, tzinfo=UTC)
DOMAIN = "ecoach.example"
ORGANIZER = "no-reply@ecoach.example"
SPACE = SpaceCopy("spc_1", "tnt_1", "active", "per_coachee", "per_coach", None, "weekly", 10, NOW)


def session(local: datetime, *, series_id: str | None = None, sid: str = "ses_1") -> Session:
    placed = place(local, PARIS)
    booked = Session.book(
        SPACE,
        placed.starts_at,
        60,
        "Europe/Paris",
        placed.local,
        placed.shifted,
        "per_coachee",
        NOW,
        series_id=series_id,
    )
    return replace(booked, id=sid)


def moved(s: Session, local: datetime) -> Session:
    placed = place(local, PARIS)
    return s.moved(placed.starts_at, placed.local, placed.shifted, NOW)


def cancelled(s: Session) -> Session:
    copy = replace(s)
    copy.cancel("coachee", None, False, False, NOW)
    return copy


def weekly(first: datetime, count: int, series_id: str = "ser_1") -> list[Session]:
    return [
        session(o.local, series_id=series_id, sid=f"ses_{series_id}_{i}")
        for i, o in enumerate(expand(first, PARIS, "weekly", count=count))
    ]


def state(
    sessions: list[Session], *, series_id: str = "ser_1", until: date | None = None, seq: int = 0
) -> itip.SeriesState:
    return itip.SeriesState(series_id, "weekly", "Europe/Paris", until, seq, tuple(sessions))


def rendered(message: itip.Message, locale: str = "fr") -> bytes:
    return itip.render(
        message,
        organizer=ORGANIZER,
        attendee="camille@client.example",
        attendee_name="Camille Martin",
        locale=locale,
        now=NOW,
    )


def golden(name: str, ics: bytes) -> Calendar:
    path = GOLDEN / f"{name}.ics"
    if os.environ.get("ECOACH_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ics)
    assert ics == path.read_bytes(), f"{name}.ics differs from its golden file"
    return Calendar.from_ical(ics)


def events(cal: Calendar) -> list[dict[str, object]]:
    return [c for c in cal.walk("VEVENT")]  # type: ignore[misc]


def paris(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=PARIS)


def check_common(cal: Calendar, method: str, uid: str) -> None:
    assert cal["METHOD"] == method
    assert cal["VERSION"] == "2.0"
    assert cal["PRODID"] == itip.PRODID
    zones = [z["TZID"] for z in cal.walk("VTIMEZONE")]
    assert zones == ["Europe/Paris"]
    for e in events(cal):
        assert e["UID"] == uid
        assert e.decoded("DTSTAMP") == NOW
        assert e["CLASS"] == "PRIVATE"
        assert e["SUMMARY"] == "Rendez-vous ecoach"  # neutral: no name, no coaching
        assert str(e["ORGANIZER"]) == f"mailto:{ORGANIZER}"
        assert e["ORGANIZER"].params["CN"] == "ecoach"
        attendee = e["ATTENDEE"]
        assert str(attendee) == "mailto:camille@client.example"
        assert (attendee.params["CN"], attendee.params["PARTSTAT"], attendee.params["RSVP"]) == (
            "Camille Martin",
            "ACCEPTED",
            "FALSE",
        )
        assert e["DTSTART"].params["TZID"] == "Europe/Paris"
        for absent in ("DESCRIPTION", "LOCATION", "URL", "ATTACH"):
            assert absent not in e  # never notes, goals or the room link


def test_a_single_session_booked_moved_and_cancelled_keeps_its_uid_and_raises_its_sequence() -> (
    None
):
    booked = session(datetime(2027, 10, 20, 9, 0))
    cal = golden("single-booked", rendered(itip.single(booked, DOMAIN)))
    check_common(cal, "REQUEST", "ses_1@ecoach.example")
    (e,) = events(cal)
    assert (e["SEQUENCE"], e["STATUS"]) == (0, "CONFIRMED")
    assert (e.decoded("DTSTART"), e.decoded("DTEND")) == (
        paris(2027, 10, 20, 9),
        paris(2027, 10, 20, 10),
    )
    assert "RRULE" not in e and "RECURRENCE-ID" not in e

    later = moved(booked, datetime(2027, 10, 21, 14, 30))
    cal = golden("single-moved", rendered(itip.single(later, DOMAIN)))
    check_common(cal, "REQUEST", "ses_1@ecoach.example")
    (e,) = events(cal)
    assert e["SEQUENCE"] == 1
    assert e.decoded("DTSTART") == paris(2027, 10, 21, 14, 30)

    gone = cancelled(later)
    cal = golden("single-cancelled", rendered(itip.single(gone, DOMAIN)))
    check_common(cal, "CANCEL", "ses_1@ecoach.example")
    (e,) = events(cal)
    assert (e["SEQUENCE"], e["STATUS"]) == (2, "CANCELLED")
    assert e.decoded("DTSTART") == paris(2027, 10, 21, 14, 30)


def test_a_series_is_one_vevent_with_its_rule_across_the_change_of_time() -> None:
    sessions = weekly(datetime(2027, 10, 18, 9, 0), 4)  # Paris leaves summer time on the 31st
    message = itip.master(state(sessions), DOMAIN)
    cal = golden("series-booked", rendered(message, "fr"))
    check_common(cal, "REQUEST", "ser_1@ecoach.example")
    (e,) = events(cal)
    assert e["SEQUENCE"] == 0
    assert e.decoded("DTSTART") == paris(2027, 10, 18, 9)
    assert e.decoded("DTEND") == paris(2027, 10, 18, 10)
    rule = e["RRULE"]
    assert (rule["FREQ"], rule.get("INTERVAL")) == (["WEEKLY"], None)
    # UNTIL in UTC (RFC 5545 with a TZID start): the last occurrence, 09:00 Paris in winter.
    assert rule["UNTIL"] == [datetime(2027, 11, 8, 8, 0, tzinfo=UTC)]
    assert "EXDATE" not in e
    # Every occurrence message is covered: the series' first mail says it all.
    assert set(message.covers) == {itip.occurrence_key(s) for s in sessions}
    # Nothing more to say of an occurrence still as the rule gives it.
    assert itip.occurrence(state(sessions), sessions[2], DOMAIN) is None


def test_one_occurrence_moved_then_another_cancelled_carry_their_recurrence_ids() -> None:
    sessions = weekly(datetime(2027, 10, 18, 9, 0), 4)
    third = moved(sessions[2], datetime(2027, 11, 2, 11, 0))  # the 1st of November, to the 2nd
    now_state = state([sessions[0], sessions[1], third, sessions[3]])
    message = itip.occurrence(now_state, third, DOMAIN)
    assert message is not None
    cal = golden("occurrence-moved", rendered(message))
    check_common(cal, "REQUEST", "ser_1@ecoach.example")
    (e,) = events(cal)
    assert e["SEQUENCE"] == 1
    assert e.decoded("RECURRENCE-ID") == paris(2027, 11, 1, 9)
    assert e.decoded("DTSTART") == paris(2027, 11, 2, 11)
    assert "RRULE" not in e

    second = cancelled(sessions[1])
    after = state([sessions[0], second, third, sessions[3]])
    message = itip.occurrence(after, second, DOMAIN)
    assert message is not None
    cal = golden("occurrence-cancelled", rendered(message))
    check_common(cal, "CANCEL", "ser_1@ecoach.example")
    (e,) = events(cal)
    assert (e["SEQUENCE"], e["STATUS"]) == (1, "CANCELLED")
    assert e.decoded("RECURRENCE-ID") == paris(2027, 10, 25, 9)

    # The whole series as it now stands (sent again if it ends early): the cancelled one an
    # EXDATE, the moved one a VEVENT of its own.
    whole = itip.master(replace(after, sequence=1), DOMAIN)
    cal = Calendar.from_ical(rendered(whole))
    master, override = events(cal)
    assert [d.dt for d in master["EXDATE"].dts] == [paris(2027, 10, 25, 9)]
    assert override.decoded("RECURRENCE-ID") == paris(2027, 11, 1, 9)
    assert override.decoded("DTSTART") == paris(2027, 11, 2, 11)


def test_this_and_all_following_ends_the_series_and_starts_one_with_a_new_uid() -> None:
    sessions = weekly(datetime(2027, 10, 18, 9, 0), 4)
    # From the 25th on, an hour later: the series ends on the 24th, a new one follows.
    delta = timedelta(hours=1)
    following = []
    for s in sessions[1:]:
        new = moved(s, s.local_start + delta)
        new.series_id = "ser_2"
        new.occurrence = (s.occurrence or s.local_start) + delta
        following.append(new)
    ended = state([sessions[0]], until=date(2027, 10, 24), seq=1)
    cal = golden("series-ended", rendered(itip.master(ended, DOMAIN)))
    check_common(cal, "REQUEST", "ser_1@ecoach.example")
    (e,) = events(cal)
    assert e["SEQUENCE"] == 1  # raised
    assert e["RRULE"]["UNTIL"] == [datetime(2027, 10, 18, 7, 0, tzinfo=UTC)]

    new_series = itip.master(state(following, series_id="ser_2"), DOMAIN)
    ics = rendered(new_series)
    assert b"THISANDFUTURE" not in ics  # common clients ignore RANGE: a new UID instead
    cal = golden("series-following", ics)
    check_common(cal, "REQUEST", "ser_2@ecoach.example")
    (e,) = events(cal)
    assert e.decoded("DTSTART") == paris(2027, 10, 25, 10)
    assert e["RRULE"]["UNTIL"] == [datetime(2027, 11, 8, 9, 0, tzinfo=UTC)]
    assert "EXDATE" not in e and "RECURRENCE-ID" not in e
    # The moved occurrences are the new rule's own: the new series' mail covers them.
    assert set(new_series.covers) == {itip.occurrence_key(s) for s in following}


def test_every_other_weeks_and_monthly_rules_and_a_series_cancelled_whole() -> None:
    fortnight = itip.SeriesState(
        "ser_3",
        "every_two_weeks",
        "Europe/Paris",
        None,
        0,
        tuple(
            session(o.local, series_id="ser_3", sid=f"ses_f{i}")
            for i, o in enumerate(
                expand(datetime(2027, 3, 2, 9), PARIS, "every_two_weeks", count=3)
            )
        ),
    )
    (e,) = events(Calendar.from_ical(rendered(itip.master(fortnight, DOMAIN))))
    assert (e["RRULE"]["FREQ"], e["RRULE"]["INTERVAL"]) == (["WEEKLY"], [2])
    monthly = itip.SeriesState(
        "ser_4",
        "monthly",
        "Europe/Paris",
        None,
        0,
        tuple(
            session(o.local, series_id="ser_4", sid=f"ses_m{i}")
            for i, o in enumerate(expand(datetime(2027, 3, 30, 9), PARIS, "monthly", count=3))
        ),
    )
    (e,) = events(Calendar.from_ical(rendered(itip.master(monthly, DOMAIN))))
    assert e["RRULE"]["FREQ"] == ["MONTHLY"]
    assert [str(d) for d in e["RRULE"]["BYDAY"]] == ["-1TU"]  # a 5th Tuesday: the last
    gone = itip.master(
        replace(monthly, sessions=tuple(cancelled(s) for s in monthly.sessions), sequence=1), DOMAIN
    )
    assert gone.method == itip.CANCEL
    # It stands for every occurrence's own CANCEL: those are not sent as well.
    assert set(gone.covers) == {itip.occurrence_key(cancelled(s)) for s in monthly.sessions}
    (e,) = events(Calendar.from_ical(rendered(gone)))
    assert (e["STATUS"], e["SEQUENCE"]) == ("CANCELLED", 1)


@pytest.mark.parametrize(
    ("locale", "title"), [("fr", "Rendez-vous ecoach"), ("en", "ecoach appointment")]
)
def test_the_title_is_neutral_in_the_attendees_language(locale: str, title: str) -> None:
    (e,) = events(
        Calendar.from_ical(
            rendered(itip.single(session(datetime(2027, 10, 20, 9)), DOMAIN), locale)
        )
    )
    assert e["SUMMARY"] == title


def test_a_feed_publishes_the_same_events_without_addresses() -> None:
    one = session(datetime(2027, 10, 20, 9, 0))
    gone = cancelled(session(datetime(2027, 10, 22, 9, 0), sid="ses_2"))
    sessions = weekly(datetime(2027, 10, 18, 9, 0), 4)
    ics = itip.publish(
        [itip.single(one, DOMAIN), itip.single(gone, DOMAIN), itip.master(state(sessions), DOMAIN)],
        locale="en",
        now=NOW,
    )
    cal = Calendar.from_ical(ics)
    assert cal["METHOD"] == "PUBLISH"
    found = {str(e["UID"]): e for e in events(cal)}
    assert set(found) == {"ses_1@ecoach.example", "ser_1@ecoach.example"}  # no cancelled one
    for e in found.values():
        assert "ATTENDEE" not in e and "ORGANIZER" not in e
        assert e["SUMMARY"] == "ecoach appointment"
    assert "RRULE" in found["ser_1@ecoach.example"]
