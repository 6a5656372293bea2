"""Scheduling's domain rules: series in local time across daylight saving, availability and
slots, the cancel/reschedule policy, sessions and requests (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.kernel.errors import FailedPrecondition, InvalidArgument
from services.scheduling.domain.availability import Availability
from services.scheduling.domain.model import ChangeRequest, EngagementUse, Session, SpaceCopy
from services.scheduling.domain.policy import FREE, LATE, REQUEST, STARTED, Policy
from services.scheduling.domain.recurrence import expand, next_after, place

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


# ---------------------------------------------------------------- series


def test_weekly_paris_series_keeps_nine_across_the_end_of_daylight_saving() -> None:
    # 2026-10-25 is the last Sunday of October: Paris goes from +02:00 to +01:00.
    occurrences = expand(datetime(2026, 10, 13, 9, 0), PARIS, "weekly", count=4)
    assert [o.local for o in occurrences] == [
        datetime(2026, 10, d, 9, 0) if d <= 31 else None for d in (13, 20, 27)
    ] + [datetime(2026, 11, 3, 9, 0)]
    assert [o.starts_at.hour for o in occurrences] == [7, 7, 8, 8]  # UTC moves, Paris does not
    assert not any(o.shifted for o in occurrences)
    # In New York (which changes on 2026-11-01) the same sessions are at 3 a.m., 3, 4, then 3.
    assert [o.starts_at.astimezone(NEW_YORK).hour for o in occurrences] == [3, 3, 4, 3]


def test_a_wall_time_in_the_spring_gap_moves_forward_by_the_gap_and_is_flagged() -> None:
    # 2027-03-28 02:30 does not exist in Paris (02:00 -> 03:00).
    occurrences = expand(datetime(2027, 3, 21, 2, 30), PARIS, "weekly", count=3)
    assert [o.shifted for o in occurrences] == [False, True, False]
    assert occurrences[1].local == datetime(2027, 3, 28, 3, 30)
    assert occurrences[1].starts_at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert occurrences[2].local == datetime(2027, 4, 4, 2, 30)


def test_an_ambiguous_autumn_wall_time_is_its_first_instance() -> None:
    placed = place(datetime(2026, 10, 25, 2, 30), PARIS)
    assert placed.starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # still +02:00
    assert not placed.shifted


def test_every_two_and_four_weeks_and_until_a_date() -> None:
    two = expand(datetime(2026, 11, 2, 10, 0), PARIS, "every_two_weeks", count=3)
    assert [o.local.date() for o in two] == [
        date(2026, 11, 2),
        date(2026, 11, 16),
        date(2026, 11, 30),
    ]
    four = expand(datetime(2026, 11, 2, 10, 0), PARIS, "every_four_weeks", until=date(2027, 1, 31))
    assert [o.local.date() for o in four] == [
        date(2026, 11, 2),
        date(2026, 11, 30),
        date(2026, 12, 28),
        date(2027, 1, 25),
    ]


def test_monthly_is_the_same_weekday_of_the_month_and_a_fifth_one_is_the_last() -> None:
    second_tuesday = expand(datetime(2026, 11, 10, 9, 0), PARIS, "monthly", count=3)
    assert [o.local.date() for o in second_tuesday] == [
        date(2026, 11, 10),
        date(2026, 12, 8),
        date(2027, 1, 12),
    ]
    fifth_monday = expand(datetime(2026, 11, 30, 9, 0), PARIS, "monthly", count=3)
    assert [o.local.date() for o in fifth_monday] == [
        date(2026, 11, 30),
        date(2026, 12, 28),
        date(2027, 1, 25),
    ]


def test_a_series_needs_count_or_until_and_has_a_limit() -> None:
    with pytest.raises(InvalidArgument):
        expand(datetime(2026, 11, 2, 10, 0), PARIS, "weekly")
    with pytest.raises(InvalidArgument):
        expand(datetime(2026, 11, 2, 10, 0), PARIS, "weekly", count=2, until=date(2027, 1, 1))
    with pytest.raises(InvalidArgument):
        expand(datetime(2026, 11, 2, 10, 0), PARIS, "weekly", until=date(2028, 1, 1), limit=60)
    with pytest.raises(InvalidArgument):
        expand(datetime(2026, 11, 2, 10, 0), PARIS, "daily", count=2)


def test_next_after_is_one_cadence_later_at_the_same_wall_time() -> None:
    assert next_after(datetime(2026, 10, 20, 9, 0), "weekly") == datetime(2026, 10, 27, 9, 0)
    assert next_after(datetime(2026, 11, 10, 9, 0), "monthly") == datetime(2026, 12, 8, 9, 0)


# ---------------------------------------------------------------- availability


def _availability(**more: object) -> Availability:
    given = {
        "time_zone": "Europe/Paris",
        "weekly": [
            {"weekday": 1, "start": "09:00", "end": "12:00"},
            {"weekday": 3, "start": "14:00", "end": "16:00"},
        ],
        "exceptions": [],
        "session_minutes": [60, 45],
        "buffer_minutes": 0,
        "min_notice_minutes": 60,
        "horizon_days": 60,
        **more,
    }
    return Availability.from_input("per_coach", given, NOW)


def test_slots_follow_weekly_hours_in_the_coach_zone() -> None:
    a = _availability()
    week = a.slots(
        datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 10, 12, tzinfo=UTC), 60, [], NOW
    )
    local = [s.astimezone(PARIS).strftime("%a %H:%M") for s, _ in week]
    assert local == ["Mon 09:00", "Mon 10:00", "Mon 11:00", "Wed 14:00", "Wed 15:00"]


def test_busy_time_buffer_notice_and_horizon_remove_slots() -> None:
    a = _availability(buffer_minutes=15)
    monday = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)  # 09:00 Paris
    busy = [(monday + timedelta(hours=1), monday + timedelta(hours=2, minutes=15))]  # 10:00-11:15
    slots = a.slots(monday, monday + timedelta(hours=5), 60, busy, NOW)
    # 09:00 would end at 10:00 + 15 min buffer, overlapping 10:00: gone; 10:00 taken; 11:00 in
    # the busy buffer: gone.
    assert slots == []
    late_now = monday + timedelta(minutes=30)  # the notice (60 min) hides 09:00 and 10:00 ...
    assert [
        s.astimezone(PARIS).hour
        for s, _ in a.slots(monday, monday + timedelta(hours=5), 60, [], late_now)
    ] == [11]
    far = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert a.slots(far, far + timedelta(days=1), 60, [], NOW) == []  # beyond 60 days


def test_exceptions_take_a_day_off_and_add_extra_hours() -> None:
    a = _availability(
        exceptions=[
            {"on": date(2026, 10, 5), "kind": "day_off"},
            {"on": date(2026, 10, 6), "kind": "extra", "start": "18:00", "end": "19:00"},
            {"on": date(2026, 10, 7), "kind": "day_off", "start": "15:00", "end": "16:00"},
        ]
    )
    week = a.slots(
        datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 10, 12, tzinfo=UTC), 60, [], NOW
    )
    assert [s.astimezone(PARIS).strftime("%a %H:%M") for s, _ in week] == ["Tue 18:00", "Wed 14:00"]


def test_bookable_checks_name_the_rule() -> None:
    a = _availability()
    monday_nine = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)
    a.check_bookable(monday_nine, monday_nine + timedelta(hours=1), NOW)
    for start, reason in (
        (monday_nine + timedelta(hours=5), "OUTSIDE_AVAILABILITY"),
        (NOW + timedelta(minutes=30), "TOO_SOON"),
        (monday_nine + timedelta(days=70), "BEYOND_HORIZON"),
    ):
        with pytest.raises(FailedPrecondition) as caught:
            a.check_bookable(start, start + timedelta(hours=1), NOW)
        assert caught.value.reason == reason
    with pytest.raises(InvalidArgument):
        a.length(30)
    assert a.length(None) == 60


def test_a_session_may_run_past_midnight_when_the_hours_go_on_the_next_day() -> None:
    # Monday 22:00-24:00 and Tuesday 00:00-02:00 (Paris) are one stretch; Wednesday ends at
    # 24:00 with nothing on Thursday.
    a = _availability(
        weekly=[
            {"weekday": 1, "start": "22:00", "end": "24:00"},
            {"weekday": 2, "start": "00:00", "end": "02:00"},
            {"weekday": 3, "start": "22:00", "end": "24:00"},
        ]
    )
    monday_late = datetime(2026, 10, 5, 23, 30, tzinfo=PARIS)
    a.check_bookable(monday_late, monday_late + timedelta(hours=1), NOW)
    wednesday_late = datetime(2026, 10, 7, 23, 30, tzinfo=PARIS)
    with pytest.raises(FailedPrecondition) as caught:
        a.check_bookable(wednesday_late, wednesday_late + timedelta(hours=1), NOW)
    assert caught.value.reason == "OUTSIDE_AVAILABILITY"


def test_bad_availability_is_refused_with_fields() -> None:
    with pytest.raises(InvalidArgument) as caught:
        _availability(
            weekly=[{"weekday": 1, "start": "12:00", "end": "09:00"}],
            exceptions=[{"on": date(2026, 10, 6), "kind": "extra"}],
            session_minutes=[7],
        )
    assert {f.field for f in caught.value.fields} == {
        "weekly[0]",
        "exceptions[0]",
        "session_minutes[0]",
    }


# ---------------------------------------------------------------- policy


def test_policy_windows() -> None:
    p = Policy("tnt_1")
    start = NOW + timedelta(hours=100)
    assert p.window(start, NOW) == FREE
    assert p.window(start, start - timedelta(hours=30)) == REQUEST
    assert p.window(start, start - timedelta(hours=2)) == LATE
    assert p.window(start, start) == STARTED
    assert p.coachee_cancel(start, start - timedelta(hours=30)) == (False, False)
    assert p.coachee_cancel(start, start - timedelta(hours=2)) == (True, True)
    assert Policy("t", late_cancel_uses_session=False).coachee_cancel(
        start, start - timedelta(hours=2)
    ) == (True, False)
    assert p.coachee_reschedule(start, start - timedelta(hours=30), one=True) == REQUEST
    for now, one, reason in (
        (start - timedelta(hours=2), True, "POLICY_LATE_RESCHEDULE"),
        (start - timedelta(hours=30), False, "POLICY_REQUEST_ONE_SESSION"),
        (start + timedelta(minutes=1), True, "SESSION_STARTED"),
    ):
        with pytest.raises(FailedPrecondition) as caught:
            p.coachee_reschedule(start, now, one=one)
        assert caught.value.reason == reason
    with pytest.raises(InvalidArgument):
        Policy("t", free_hours=10, request_hours=20).check()


# ---------------------------------------------------------------- sessions and requests


def _space(status: str = "active") -> SpaceCopy:
    return SpaceCopy("spc_1", "tnt_1", status, "per_ee", "per_co", None, "weekly", 10, NOW)


def test_sessions_are_booked_in_active_spaces_by_participants_only() -> None:
    space = _space()
    assert space.participant("per_ee") == "coachee"
    with pytest.raises(Exception) as caught:
        space.participant("per_other")
    assert getattr(caught.value, "reason", "") == "SPACE_NOT_FOUND"
    with pytest.raises(FailedPrecondition) as refused:
        _space("paused").check_active()
    assert refused.value.reason == "SPACE_NOT_ACTIVE"


def test_attendance_and_requests() -> None:
    start = NOW + timedelta(days=3)
    s = Session.book(
        _space(), start, 60, "Europe/Paris", datetime(2026, 10, 4, 10), False, "per_ee", NOW
    )
    with pytest.raises(FailedPrecondition):
        s.mark("held", "per_co", NOW)  # not started
    assert not s.to_mark(start + timedelta(hours=2))
    assert s.to_mark(start + timedelta(hours=3, minutes=1))
    asked = ChangeRequest.ask(
        s, start + timedelta(days=1), datetime(2026, 10, 5, 10), False, "per_ee", NOW
    )
    assert asked.expires_at == start
    with pytest.raises(FailedPrecondition) as caught:
        asked.close("approved", "per_co", start)
    assert caught.value.reason == "REQUEST_EXPIRED"
    asked.close("expired", None, start)
    with pytest.raises(FailedPrecondition):
        asked.close("declined", "per_co", start)
    s.mark("no_show_coach", "per_co", start + timedelta(minutes=20))
    assert (s.status, s.uses_session) == ("no_show_coach", False)  # not the coachee's loss
    s.mark("no_show_coachee", "per_co", start + timedelta(minutes=20))  # corrected
    assert (s.status, s.uses_session) == ("no_show_coachee", True)
    s.cancel("coachee", None, True, True, NOW)
    with pytest.raises(FailedPrecondition):  # not started yet: nothing to correct
        s.mark("held", "per_co", NOW)
    # A late cancellation corrected: the session took place after all.
    assert s.mark("held", "per_co", start + timedelta(hours=1)) is True
    assert (s.status, s.uses_session, s.cancelled_by, s.late) == ("held", True, None, False)
    assert s.mark("held", "per_co", start + timedelta(hours=1)) is False
    s.cancel("system", None, False, False, NOW)  # the platform's (a coach change)
    with pytest.raises(FailedPrecondition) as caught:
        s.mark("held", "per_co", start + timedelta(hours=1))
    assert (caught.value.reason, s.status) == ("SESSION_CANCELLED", "cancelled")


def test_a_coachees_busy_time_elsewhere_shapes_only_their_own_view_of_the_slots() -> None:
    space = SpaceCopy(
        "spc_1", "ten_1", "active", "coachee", "coach", "co", "weekly", 4, datetime.now(UTC)
    )
    assert space.busy_shown_to("coachee") == (["coach", "co", "coachee"], ())
    assert space.busy_shown_to("coach") == (["coach", "co"], ("coachee",))
    assert space.busy_shown_to("co") == (["coach", "co"], ("coachee",))


def test_the_sessions_left_in_an_engagement_never_go_below_zero() -> None:
    # A set-up may shrink below what was used (late cancellations that use a session, say).
    assert EngagementUse(planned=10, used=3, held=1, booked=2).left == 7
    assert EngagementUse(planned=2, used=3).left == 0
