"""Mails scheduling sends, from its own events (at least once, after the commit: rule 4).

Contact details are asked from identity at send time (only identity keeps addresses). Like the
calendar invitations (`invitations`, which also carry the cancellation notices), they are
neutral: a date and time in the recipient's own time zone and language, never notes, goals or
the room link. A person whose account was erased is absent from identity's answer and gets
nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from services.contracts import scheduling as c
from services.contracts.identity import ContactDetails
from services.kernel.runtime.mailer import Mailer

from ..mails import Contacts, outcome, space_link, when
from ..storage.unit import Db


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
    db: Db,
    contacts: Contacts,
    mailer: Mailer,
    public_url: str,
    event: c.RescheduleRequested,
) -> None:
    """A new request goes to the space's coach (and co-coach); a closed one to the coachee."""
    with db.read_only() as uow:
        space = uow.spaces.get(event.tenant_id, event.space_id)
        session = uow.sessions.get(event.tenant_id, event.session_id)
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
            "when": when(event.original_starts_at, who.time_zone, who.locale),
            "proposed": when(event.proposed_starts_at, who.time_zone, who.locale),
            "outcome": outcome(event.status, who.locale),
            "link": space_link(
                public_url, event.space_id, who.person_id == session.coachee_person_id
            ),
        },
    )


def _send(
    contacts: Contacts,
    mailer: Mailer,
    people: list[str],
    template: str,
    values: Callable[[ContactDetails], dict[str, str]],
) -> None:
    if not people:
        return
    for who in contacts(people):
        mailer.send(
            who.email,
            who.locale,
            template,
            None,  # no calendar part
            name=who.display_name or who.email,
            **values(who),
        )
