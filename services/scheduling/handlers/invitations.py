"""Calendar invitations sent from scheduling's own events (at least once, after the commit:
rule 4), each participant's own: iTIP messages (`itip.py`) in a mail in their language.

One change may raise many events (a series booked is one event per occurrence), and two
instances may handle them at once: each message is sent once per person and version, claimed
by a row (`calendar_sent`) in the same transaction as the occurrence messages a whole series
makes redundant. A claim is released if the mail cannot be sent, so the event's retry sends it.
If the process dies between the claim's commit and the send, that message is lost; the next
change of the session or series sends its whole state again, and the feed (GET /calendar) is
always current. A person whose account was erased is absent from identity's answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.contracts import scheduling as c
from services.contracts.identity import ContactDetails
from services.kernel.runtime.mailer import Mailer

from ..adapters import itip
from ..domain.model import ERASED_PERSON
from ..mails import Contacts, lang, space_link, when, why
from ..storage.sessions import Sessions
from ..storage.unit import Db
from .notices import cancellation_targets

# The claims of cancellation notices (`calendar_sent` rows: this uid; the space and the
# change's time as version).
NOTICES = "notices"


def state_of(repo: Sessions, series_id: str) -> tuple[itip.SeriesState, str | None] | None:
    found = repo.series_state(series_id)
    if found is None:
        return None
    row, sessions = found
    state = itip.SeriesState(
        series_id=row.id,
        frequency=row.frequency,
        time_zone=row.time_zone,
        until=row.until,
        sequence=row.sequence,
        sessions=tuple(sessions),
    )
    return state, row.follows_series_id


def messages(db: Db, event: c.SessionEvent, domain: str) -> list[itip.Message]:
    """What the participants' calendars are to be sent after `event`, in order: a single
    session's state; or the series that "this and all following" ended, the series itself,
    and the occurrence's own change (each skipped where already sent)."""
    with db.read_only() as uow:
        repo = uow.sessions
        session = repo.get(event.tenant_id, event.session_id)
        if session is None:
            return []
        if session.series_id is None:
            return [itip.single(session, domain)]
        found = state_of(repo, session.series_id)
        if found is None:
            return []
        state, follows = found
        previous = state_of(repo, follows) if follows else None
    out = []
    if previous is not None:
        out.append(itip.master(previous[0], domain))
    out.append(itip.master(state, domain))
    one = itip.occurrence(state, session, domain)
    if one is not None:
        out.append(one)
    return out


def send(
    db: Db,
    contacts: Contacts,
    mailer: Mailer,
    public_url: str,
    event: c.SessionEvent,
) -> None:
    planned = messages(db, event, mailer.domain)
    people = [
        p
        for p in (event.coachee_person_id, event.coach_person_id, event.co_coach_person_id)
        if p and p != ERASED_PERSON
    ]
    told = set(cancellation_targets(event)) if isinstance(event, c.SessionCancelled) else set()
    together = _cancelled_together(db, event) if told else None
    found = contacts(people) if people else []
    with db.read_only() as uow:
        choices = uow.reminders.choices({w.person_id for w in found})
    coach = next((w for w in found if w.person_id == event.coach_person_id), None)
    for who in found:
        is_coachee = who.person_id == event.coachee_person_id
        title = choices[who.person_id].title_for(
            itip.neutral_title(who.locale),
            coach.display_name if coach and is_coachee else None,
        )
        # One notice per person for all that one change cancelled, whichever event sends it.
        notice = (
            together is not None
            and who.person_id in told
            and _claim_notice(db, together[0], who.person_id)
        )
        for message in planned:
            claimed = _claim(db, message, who.person_id)
            if not claimed:
                continue
            link = space_link(public_url, event.space_id, is_coachee)
            template, values = _mail(message, who, link)
            carried = notice
            if notice and together is not None:
                template, values = _notice(event, together[1], who, link)
                notice = False
            ics = itip.render(
                message,
                organizer=mailer.address,
                attendee=who.calendar_email,
                attendee_name=who.display_name,
                locale=lang(who.locale),
                now=_now(db),
                title=title,
            )
            try:
                mailer.send(
                    who.calendar_email,
                    who.locale,
                    template,
                    calendar=(message.method, ics),
                    **values,
                )
            except Exception:
                _release(db, message.uid, who.person_id, claimed)
                if carried and together is not None:
                    _release(db, NOTICES, who.person_id, [together[0]])
                raise
        if notice and together is not None:  # the calendars already knew: the notice alone
            link = space_link(public_url, event.space_id, is_coachee)
            template, values = _notice(event, together[1], who, link)
            try:
                mailer.send(who.email, who.locale, template, None, **values)
            except Exception:
                _release(db, NOTICES, who.person_id, [together[0]])
                raise


def _mail(message: itip.Message, who: ContactDetails, link: str) -> tuple[str, dict[str, str]]:
    first = message.events[0].start
    template = "calendar_cancel" if message.method == itip.CANCEL else "calendar_request"
    return template, {
        "name": who.display_name or who.email,
        "when": when(first, who.time_zone, who.locale),
        "link": link,
    }


def _notice(
    event: c.SessionEvent, starts: list[datetime], who: ContactDetails, link: str
) -> tuple[str, dict[str, str]]:
    """The cancellation notice: one session's, or the list of all one change cancelled."""
    reason = getattr(event, "reason", None) or ""
    dates = [when(at, who.time_zone, who.locale) for at in starts or [event.starts_at]]
    return "session_cancelled" if len(dates) == 1 else "sessions_cancelled", {
        "name": who.display_name or who.email,
        "when": dates[0] if len(dates) == 1 else "\n".join(f"- {d}" for d in dates),
        "why": why(reason, who.locale),
        "link": link,
    }


def _cancelled_together(db: Db, event: c.SessionEvent) -> tuple[str, list[datetime]]:
    """The notice's claim version (the change: its time) and the starts of what it cancelled
    in the space."""
    with db.read_only() as uow:
        repo = uow.sessions
        session = repo.get(event.tenant_id, event.session_id)
        group = repo.cancelled_together(session) if session is not None else []
    if session is None or session.cancelled_at is None or not group:
        return f"n.{event.session_id}.{event.sequence}", [event.starts_at]
    return f"n.{event.space_id}.{session.cancelled_at.isoformat()}", [s.starts_at for s in group]


def _claim_notice(db: Db, version: str, person_id: str) -> bool:
    with db.unit_of_work() as uow:
        return uow.calendar.claim(NOTICES, person_id, version, uow.clock.now())


def _now(db: Db) -> Any:
    with db.read_only() as uow:
        return uow.clock.now()


def _claim(db: Db, message: itip.Message, person_id: str) -> list[str]:
    """The versions claimed now: the message's, and the occurrence messages it covers that were
    not sent yet; none if the message itself was sent already."""
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        if not uow.calendar.claim(message.uid, person_id, message.version, now):
            return []
        return [message.version] + [
            covered
            for covered in message.covers
            if uow.calendar.claim(message.uid, person_id, covered, now)
        ]


def _release(db: Db, uid: str, person_id: str, versions: list[str]) -> None:
    with db.unit_of_work() as uow:
        for version in versions:
            uow.calendar.release(uid, person_id, version)
