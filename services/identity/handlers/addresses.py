"""Addresses: the account's email changed and a calendar address set, by confirmation links."""

from __future__ import annotations

from services.contracts import identity as c
from services.contracts.base import Empty
from services.kernel.caller import Caller
from services.kernel.errors import FailedPrecondition, invalid
from services.kernel.runtime.mailer import Mailer

from ..adapters.passwords import Passwords
from ..domain import access
from ..domain.credentials import CALENDAR_EMAIL, EMAIL_CHANGE, PASSWORD_RESET
from ..domain.model import check_email, normalize_email
from ..domain.throttle import ThrottlePolicy
from ..storage.unit import Db
from .common import LinkSettings, end_other_sessions, own_person
from .links import issue_link, live_link, minutes_of, refuse_too_many_links, use_link
from .second_factor import prove_person
from .views import person_view


def request_email_change(
    db: Db,
    passwords: Passwords,
    links: LinkSettings,
    caller: Caller,
    request: c.RequestEmailChangeRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> Empty:
    """Mails a confirmation link to the new address, and a notice to the current one; nothing
    changes until the link is opened. Whether the address is free is checked when the link is
    opened, so this answer tells nothing. Needs proof of the person (where links go is theirs
    to change, not a token's)."""
    who = access.person(caller)
    new_email = check_email(request.new_email, "new_email")
    with db.read_only() as uow:
        if normalize_email(new_email) == own_person(uow, who.person_id).email_key:
            raise invalid(new_email="is already your email address")
    prove_person(db, passwords, links.master, who, request, source, policy)
    with db.unit_of_work() as uow:
        person = own_person(uow, who.person_id)
        now = uow.clock.now()
        refuse_too_many_links(uow, person.id, EMAIL_CHANGE, now)
        link = issue_link(
            uow,
            links,
            EMAIL_CHANGE,
            person.id,
            now,
            links.reset_ttl,
            detail=new_email,
            session_id=who.session_id,
        )
        uow.record(
            c.EmailChangeRequested(link_id=link.id, person_id=person.id, expires_at=link.expires_at)
        )
    return Empty()


def send_address_confirmation_mail(
    db: Db,
    links: LinkSettings,
    mailer: Mailer,
    event: c.EmailChangeRequested | c.CalendarEmailRequested,
) -> None:
    """The confirmation link of a new account or calendar address, mailed to that address."""
    found = live_link(db, links, event.link_id)
    if found is None:
        return
    link, person, token = found
    assert link.detail is not None
    calendar = link.purpose == CALENDAR_EMAIL
    page = "confirm-calendar-email" if calendar else "confirm-email"
    if not calendar:  # the current address hears of it: its owner may not be the one asking
        mailer.send(
            person.email,
            person.locale,
            "email_change_notice",
            name=person.display_name or person.email,
            new_email=link.detail,
        )
    mailer.send(
        link.detail,  # the new address: proving it is the point
        person.locale,
        "calendar_email" if calendar else "email_change",
        name=person.display_name or person.email,
        link=f"{links.public_url.rstrip('/')}/{page}/{token}",
        minutes=minutes_of(links.reset_ttl),
    )


def request_calendar_email(
    db: Db,
    passwords: Passwords,
    links: LinkSettings,
    caller: Caller,
    request: c.RequestCalendarEmailRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> Empty:
    """Mails a confirmation link to the address calendar mail is to go to; nothing changes
    until it is opened. A new request replaces the previous link. Needs proof of the person:
    it is a second place where mail about them goes."""
    who = access.person(caller)
    address = check_email(request.calendar_email, "calendar_email")
    prove_person(db, passwords, links.master, who, request, source, policy)
    with db.unit_of_work() as uow:
        person = own_person(uow, who.person_id)
        key = normalize_email(address)
        if key == person.email_key:
            raise invalid(calendar_email="is your account's address (ClearCalendarEmail)")
        if person.calendar_email and key == normalize_email(person.calendar_email):
            raise invalid(calendar_email="is already your calendar address")
        now = uow.clock.now()
        refuse_too_many_links(uow, person.id, CALENDAR_EMAIL, now)
        link = issue_link(
            uow, links, CALENDAR_EMAIL, person.id, now, links.reset_ttl, detail=address
        )
        uow.record(
            c.CalendarEmailRequested(
                link_id=link.id, person_id=person.id, expires_at=link.expires_at
            )
        )
    return Empty()


def clear_calendar_email(db: Db, caller: Caller) -> c.Person:
    """Calendar mail goes to the account's address again; a pending confirmation is void."""
    who = access.person(caller)
    with db.unit_of_work() as uow:
        person = own_person(uow, who.person_id, for_update=True)
        now = uow.clock.now()
        uow.links.supersede_live(person.id, CALENDAR_EMAIL, now)
        if person.calendar_email is not None:
            person.calendar_email = None
            uow.persons.set_calendar_email(person.id, None, now)
    return person_view(person)


def confirm_email_change(
    db: Db, links: LinkSettings, request: c.ConfirmEmailChangeRequest
) -> c.ConfirmEmailChangeResponse:
    """Opens either kind of address link: the account's new email, or the calendar address."""
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        link = use_link(uow, links, request.token, (EMAIL_CHANGE, CALENDAR_EMAIL), now)
        assert link.detail is not None
        if link.purpose == CALENDAR_EMAIL:  # no uniqueness: it signs nobody in
            person = uow.persons.get(link.person_id)
            assert person is not None
            same = normalize_email(link.detail) == person.email_key  # the account's by now
            uow.persons.set_calendar_email(link.person_id, None if same else link.detail, now)
            uow.links.mark_used(link)
            return c.ConfirmEmailChangeResponse(confirmed=c.ConfirmedAddress.CALENDAR)
        new_key = normalize_email(link.detail)
        uow.persons.lock_email(new_key)
        if uow.persons.by_email_key(new_key) is not None:
            raise FailedPrecondition(
                "Another account already uses this email address.", reason="EMAIL_TAKEN"
            )
        person = uow.persons.get(link.person_id)
        assert person is not None
        uow.persons.change_email(link.person_id, link.detail, new_key, now)
        if person.calendar_email and normalize_email(person.calendar_email) == new_key:
            uow.persons.set_calendar_email(link.person_id, None, now)  # one address now
        uow.links.mark_used(link)
        # A pending reset link would mail the old address's owner: it goes too.
        uow.links.supersede_live(link.person_id, PASSWORD_RESET, now)
        # Whoever else was signed in is out; the session that asked stays.
        end_other_sessions(
            uow, link.person_id, link.session_id, c.AccessRevocationReason.EMAIL_CHANGED
        )
    return c.ConfirmEmailChangeResponse(confirmed=c.ConfirmedAddress.ACCOUNT)
