"""Each person's calendar feed: `GET /calendar/<token>.ics` on the web gateway, which asks
`get_calendar_feed` (public: the token is the credential).

The token is 256 random bits, shown once when the feed is made; only its SHA-256 is kept. Making
a new one replaces the old (whose URL stops working at once); deleting it revokes it. The feed
holds the person's sessions, in every tenant, from a month ago to a year ahead, with the
invitations' neutral content (`itip.publish`): single sessions and whole series (their rule,
cancelled occurrences as EXDATEs, moved ones as their own events); cancelled single sessions
are left out.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from services.contracts import scheduling as c
from services.kernel.caller import Caller, require_person
from services.kernel.crypto import token_hash
from services.kernel.errors import NotFound

from ..adapters import itip
from ..domain.model import CANCELLED
from ..mails import Contacts, lang
from ..storage.unit import Db
from .invitations import state_of

PAST = timedelta(days=31)
AHEAD = timedelta(days=366)


def feed_not_found() -> NotFound:
    return NotFound("No such calendar feed.", reason="FEED_NOT_FOUND")


def create_calendar_feed(db: Db, public_url: str, caller: Caller) -> c.CalendarFeed:
    who = require_person(caller)
    token = secrets.token_urlsafe(32)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        uow.feeds.replace(who.person_id, token_hash(token), now)
    return c.CalendarFeed(url=f"{public_url.rstrip('/')}/calendar/{token}.ics", created_at=now)


def delete_calendar_feed(db: Db, caller: Caller) -> None:
    who = require_person(caller)
    with db.unit_of_work() as uow:
        if not uow.feeds.delete(who.person_id):
            raise feed_not_found()


def get_calendar_feed(
    db: Db, contacts: Contacts, domain: str, request: c.FeedRequest
) -> c.FeedContent:
    # One snapshot: the sessions found and their series read at the same instant (a "this and
    # all following" change committing between them would end a series and hide its successor).
    with db.snapshot() as uow:
        now = uow.clock.now()
        person = uow.feeds.person_of(token_hash(request.token))
        if person is None:
            raise feed_not_found()
        repo = uow.sessions
        found = repo.of_person(person, now - PAST, now + AHEAD)
        choice = uow.reminders.choices({person})[person]
        messages = []
        coach_of: dict[str, str] = {}  # uid -> the coach, where the person is the coachee
        for s in found:
            if s.series_id or s.status == CANCELLED:
                continue
            messages.append(message := itip.single(s, domain))
            if s.coachee_person_id == person:
                coach_of[message.uid] = s.coach_person_id
        for series_id in sorted({s.series_id for s in found if s.series_id}):
            state = state_of(repo, series_id)
            if state is not None:
                messages.append(message := itip.master(state[0], domain))
                first = state[0].sessions[0]
                if first.coachee_person_id == person:
                    coach_of[message.uid] = first.coach_person_id
    coaches = sorted(set(coach_of.values()))[:49] if choice.show_coach_name else []
    people = {w.person_id: w for w in contacts([person, *coaches])}
    locale = lang(people[person].locale) if person in people else "en"
    neutral = itip.neutral_title(locale)
    titles = {}
    for m in messages:
        coach = people.get(coach_of.get(m.uid, ""))
        titles[m.uid] = choice.title_for(neutral, coach.display_name if coach else None)
    ics = itip.publish(messages, locale=locale, now=now, titles=titles)
    return c.FeedContent(ics=ics.decode())
