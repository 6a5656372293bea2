"""Reminders before a session: each person's choice of when (24 h and 1 h before by default), or
none at all; and when one is due. With them, how the person's calendar names the sessions.

A reminder is due from `minutes` before the start until the start, once per session, person and
offset. One the person could not need is skipped: the session was booked or moved after the
reminder's time (the invitation just told them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.kernel.errors import Problem, invalid

DEFAULT_MINUTES = (24 * 60, 60)
MAX_MINUTES = 7 * 24 * 60  # a week before, at the most
MAX_REMINDERS = 4


MAX_TITLE = 80


@dataclass(frozen=True)
class CalendarChoice:
    """A person's reminders, and how their calendar names the sessions: `title` instead of
    the neutral one, and (a coachee's choice) their coach's name after it."""

    person_id: str
    off: bool = False
    minutes: tuple[int, ...] = DEFAULT_MINUTES
    updated_at: datetime | None = None
    title: str = ""
    show_coach_name: bool = False

    def title_for(self, neutral: str, coach_name: str | None) -> str:
        """The title of this person's entries (`coach_name`: given for their own coaching)."""
        title = self.title or neutral
        if self.show_coach_name and coach_name:
            return f"{title} ({coach_name})"
        return title

    def check(self) -> CalendarChoice:
        if len(self.title) > MAX_TITLE or any(ord(ch) < 32 for ch in self.title):
            raise invalid(title=Problem("at most %(n)s characters, on one line", n=MAX_TITLE))
        if len(self.minutes) > MAX_REMINDERS:
            raise invalid(reminder_minutes=Problem("at most %(n)s reminders", n=MAX_REMINDERS))
        for i, m in enumerate(self.minutes):
            if not 5 <= m <= MAX_MINUTES:
                raise invalid(
                    **{f"reminder_minutes[{i}]": Problem("5 to %(n)s minutes", n=MAX_MINUTES)}
                )
        if len(set(self.minutes)) != len(self.minutes):
            raise invalid(reminder_minutes="each offset once")
        return self

    @property
    def offsets(self) -> tuple[int, ...]:
        return () if self.off else self.minutes


def due(starts_at: datetime, changed_at: datetime, minutes: int, now: datetime) -> bool:
    at = starts_at - timedelta(minutes=minutes)
    return at <= now < starts_at and changed_at <= at
