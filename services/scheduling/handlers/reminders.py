"""Reminders before sessions: each person's choice (`get`/`update_my_calendar_settings`), and
the sweep every scheduling instance runs.

The sweep finds what is due (`domain.reminders.due`) among the sessions of the coming week,
claims each reminder by inserting its row (`reminders_sent`: session, person, offset; the
primary key lets one instance only win), commits, then mails it. So a reminder goes at most
once, whatever the number of instances. If the process dies after the claim's commit and before
the mail leaves, that reminder is not sent (the row says it was claimed, when): a missed
reminder is better than two, and the invitation already put the session in the calendar. If
the SMTP server refuses, the claim is released and the next sweep tries again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from services.contracts import scheduling as c
from services.kernel.caller import Caller, require_person
from services.kernel.runtime.mailer import Mailer

from ..domain.model import ERASED_PERSON
from ..domain.reminders import DEFAULT_MINUTES, MAX_MINUTES, CalendarChoice, due
from ..mails import Contacts, space_link, when
from ..storage.unit import Db

log = logging.getLogger(__name__)
CONTACTS_PER_CALL = 50  # identity's contact_details answers this many at a time


def _view(choice: CalendarChoice, feed_created_at: datetime | None) -> c.CalendarSettings:
    return c.CalendarSettings(
        person_id=choice.person_id,
        reminders_off=choice.off,
        reminder_minutes=list(choice.minutes),
        title=choice.title,
        show_coach_name=choice.show_coach_name,
        updated_at=choice.updated_at,
        feed_created_at=feed_created_at,
    )


def get_my_calendar_settings(db: Db, caller: Caller) -> c.CalendarSettings:
    who = require_person(caller)
    with db.read_only() as uow:
        choice = uow.reminders.choices({who.person_id})[who.person_id]
        feed = uow.feeds.created_at(who.person_id)
    return _view(choice, feed)


def update_my_calendar_settings(
    db: Db, caller: Caller, request: c.UpdateCalendarSettingsRequest
) -> c.CalendarSettings:
    who = require_person(caller)
    asked = request.settings
    with db.unit_of_work() as uow:
        choice = CalendarChoice(
            who.person_id,
            off=asked.reminders_off,
            minutes=tuple(asked.reminder_minutes) or DEFAULT_MINUTES,
            updated_at=uow.clock.now(),
            title=asked.title.strip(),
            show_coach_name=asked.show_coach_name,
        ).check()
        uow.reminders.save(choice)
        feed = uow.feeds.created_at(who.person_id)
    return _view(choice, feed)


def sweep(db: Db, contacts: Contacts, mailer: Mailer, public_url: str) -> int:
    """Claim and send the reminders due now; how many were sent."""
    with db.read_only() as uow:
        now = uow.clock.now()
        repo = uow.reminders
        coming = repo.upcoming(now, timedelta(minutes=MAX_MINUTES))
        if not coming:
            return 0
        people = {p for s in coming for p in s.people() if p != ERASED_PERSON}
        choices = repo.choices(people)
        sent = repo.already([s.id for s in coming])
    # Per session and person, the reminders due now: one mail says it (a sweep that comes late,
    # after a restart, does not send the day's reminder and the hour's together).
    wanted: dict[tuple[str, str], tuple[Any, list[int]]] = {}
    for s in coming:
        for person in s.people():
            for minutes in choices[person].offsets if person in choices else ():
                if (s.id, person, minutes) in sent:
                    continue
                if due(s.starts_at, s.updated_at, minutes, now):
                    wanted.setdefault((s.id, person), (s, []))[1].append(minutes)
    if not wanted:
        return 0
    # Addresses first: if identity cannot answer, nothing is claimed and the next sweep retries.
    asked = sorted({p for _, p in wanted})
    found = {
        who.person_id: who
        for chunk in range(0, len(asked), CONTACTS_PER_CALL)
        for who in contacts(asked[chunk : chunk + CONTACTS_PER_CALL])
    }
    claimed = []
    for (_, person), (s, offsets) in wanted.items():
        if person not in found:  # erased
            continue
        with db.unit_of_work() as uow:
            repo = uow.reminders
            at = uow.clock.now()
            won = [m for m in offsets if repo.claim(s.id, person, m, at)]
        if won:
            claimed.append((s, person, won))
    if not claimed:
        return 0
    count = 0
    for s, person, won in claimed:
        who = found[person]
        try:
            mailer.send(
                who.calendar_email,  # calendar mail: to the person's calendar address
                who.locale,
                "reminder",
                name=who.display_name or who.email,
                when=when(s.starts_at, who.time_zone, who.locale),
                link=space_link(public_url, s.space_id, person == s.coachee_person_id),
            )
            count += 1
        except Exception:
            log.exception("a reminder could not be sent; the next sweep tries again")
            with db.unit_of_work() as uow:
                uow.reminders.release(s.id, person, won)
    return count
