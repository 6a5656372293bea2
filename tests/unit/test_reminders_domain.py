"""When a reminder is due, and what a person may choose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.kernel.errors import InvalidArgument
from services.scheduling.domain.reminders import DEFAULT_MINUTES, CalendarChoice, due

START = datetime(2027, 3, 10, 9, tzinfo=UTC)
BOOKED = START - timedelta(days=5)


def test_a_reminder_is_due_from_its_offset_until_the_start() -> None:
    assert not due(START, BOOKED, 60, START - timedelta(minutes=61))
    assert due(START, BOOKED, 60, START - timedelta(minutes=60))
    assert due(START, BOOKED, 60, START - timedelta(seconds=1))
    assert not due(START, BOOKED, 60, START)  # too late: it has started


def test_no_reminder_for_a_session_booked_or_moved_after_its_time() -> None:
    just_booked = START - timedelta(minutes=30)
    assert not due(START, just_booked, 60, START - timedelta(minutes=20))
    assert due(START, just_booked, 15, START - timedelta(minutes=10))


def test_the_choice_defaults_to_a_day_and_an_hour_and_may_be_off() -> None:
    assert CalendarChoice("per_1").offsets == DEFAULT_MINUTES == (1440, 60)
    assert CalendarChoice("per_1", off=True).offsets == ()
    assert CalendarChoice("per_1", minutes=(30,)).check().offsets == (30,)


@pytest.mark.parametrize(
    ("minutes", "field"),
    [
        ((4,), "reminder_minutes[0]"),
        ((60, 7 * 24 * 60 + 1), "reminder_minutes[1]"),
        ((60, 60), "reminder_minutes"),
        ((10, 20, 30, 40, 50), "reminder_minutes"),
    ],
)
def test_a_choice_out_of_bounds_is_refused(minutes: tuple[int, ...], field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        CalendarChoice("per_1", minutes=minutes).check()
    assert [v.field for v in refused.value.fields] == [field]


def test_a_person_may_name_their_entries_and_a_coachee_may_add_the_coachs_name() -> None:
    neutral = "ecoach appointment"
    assert CalendarChoice("per_1").title_for(neutral, "Ada") == neutral  # never by default
    assert CalendarChoice("per_1", title="Career").title_for(neutral, None) == "Career"
    chosen = CalendarChoice("per_1", title="Career", show_coach_name=True)
    assert chosen.title_for(neutral, "Ada") == "Career (Ada)"
    with pytest.raises(InvalidArgument):
        CalendarChoice("per_1", title="x" * 81).check()
    with pytest.raises(InvalidArgument):
        CalendarChoice("per_1", title="two\nlines").check()
