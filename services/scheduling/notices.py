"""Mails scheduling sends, from its own events (at least once, after the commit: rule 4).

Contact details are asked from identity at send time (only identity keeps addresses). Like the
calendar invitations (`invitations`, which also carry the cancellation notices), they are
neutral: a date and time in the recipient's own time zone and language, never notes, goals or
the room link. A person whose account was erased is absent from identity's answer and gets
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.contracts import scheduling as c
from services.kernel.i18n import N_, gettext, language_of, local_time, zone_of
from services.kernel.runtime.mailer import Mailer
from services.kernel.runtime.sql import WorkerDatabase

from .storage import Sessions, Spaces

# person ids -> their contact details (identity's ContactDetails, as dicts)
Contacts = Callable[[list[str]], list[dict[str, Any]]]

# Why the platform cancelled (blank for a person's own cancellation): msgids of the kernel's
# catalogue, said in the recipient's language by `why`.
WHY = {
    "space_paused": N_(" because the coaching was paused"),
    "space_completed": N_(" because the coaching is complete"),
    "space_archived": N_(" because the coaching was archived"),
    "coach_changed": N_(" because the coaching has a new coach"),
    "person_erased": "",
}
# How a reschedule request ended, by its status (`outcome`).
OUTCOMES = {
    "approved": N_("approved"),
    "declined": N_("declined: the original time stands"),
    "expired": N_("not answered before the appointment: the original time stood"),
}


def why(reason: str, locale: str) -> str:
    said = WHY.get(reason, "")
    return gettext(locale, said) if said else ""


def outcome(status: str, locale: str) -> str:
    said = OUTCOMES.get(status)
    return gettext(locale, said) if said else status


def when(at: datetime, zone: str, locale: str) -> str:
    """A date and time in the recipient's zone and language, the zone named:
    "jeudi 10 décembre 2026, 14:00 (Europe/Paris)"."""
    return f"{local_time(at, zone, locale)} ({zone_of(zone).key})"


def _lang(locale: str) -> str:
    return language_of(locale)


def space_link(public_url: str, space_id: str, coachee: bool) -> str:
    """Where a session's mail opens the app: the coachee's own space page, or the coach's desk
    (a page of the web app, gateway/web; `tests/e2e/test_mailed_links.py` opens each one)."""
    base = public_url.rstrip("/")
    return f"{base}/spaces/{space_id}" if coachee else f"{base}/desk"


def cancellation_targets(event: c.SessionCancelled) -> list[str]:
    """Who is told why: the platform's cancellations go to everyone; a person's, to the other
    side (everyone's calendar is updated: `invitations`)."""
    if event.cancelled_by == "system":
        people = [event.coachee_person_id, event.coach_person_id, event.co_coach_person_id]
    elif event.cancelled_by == "coachee":
        people = [event.coach_person_id, event.co_coach_person_id]
    else:
        people = [event.coachee_person_id]
    return [p for p in people if p]


def send_request(
    db: WorkerDatabase,
    contacts: Contacts,
    mailer: Mailer,
    public_url: str,
    event: c.RescheduleRequested,
) -> None:
    """A new request goes to the space's coach (and co-coach); a closed one to the coachee."""
    with db.read_only() as uow:
        space = Spaces(uow.connection).get(event.tenant_id, event.space_id)
        session = Sessions(uow.connection).get(event.tenant_id, event.session_id)
    if space is None or session is None:
        return
    closed = isinstance(event, c.RescheduleRequestClosed)
    if closed:
        people = [session.coachee_person_id]
    else:
        people = [p for p in (space.coach_person_id, space.co_coach_person_id) if p]
    _send(
        contacts,
        mailer,
        people,
        "reschedule_closed" if closed else "reschedule_requested",
        lambda who: {
            "when": when(event.original_starts_at, who["time_zone"], who["locale"]),
            "proposed": when(event.proposed_starts_at, who["time_zone"], who["locale"]),
            "outcome": outcome(event.status, who["locale"]),
            "link": space_link(
                public_url, event.space_id, who["person_id"] == session.coachee_person_id
            ),
        },
    )


def _send(
    contacts: Contacts,
    mailer: Mailer,
    people: list[str],
    template: str,
    values: Callable[[dict[str, Any]], dict[str, str]],
) -> None:
    if not people:
        return
    for who in contacts(people):
        mailer.send(
            who["email"],
            who["locale"],
            template,
            name=who["display_name"] or who["email"],
            **values(who),
        )
