"""Passwords: reset by mailed link, changed with proof of the person."""

from __future__ import annotations

from datetime import timedelta

from services.contracts import identity as c
from services.contracts.base import Empty
from services.kernel.caller import Caller
from services.kernel.crypto import MasterKey
from services.kernel.errors import invalid
from services.kernel.runtime.mailer import Mailer

from ..adapters.passwords import Passwords
from ..domain import access
from ..domain.credentials import CALENDAR_EMAIL, EMAIL_CHANGE, PASSWORD_RESET, check_password
from ..domain.model import check_email, normalize_email
from ..domain.throttle import ThrottlePolicy
from ..storage.unit import Db
from .common import LinkSettings, audit, end_other_sessions, revoke_access
from .links import issue_link, link_wait, live_link, minutes_of, use_link
from .second_factor import prove_person


def request_password_reset(
    db: Db, links: LinkSettings, request: c.RequestPasswordResetRequest
) -> Empty:
    """The same answer whether or not the email has an account; a mail only if it has one."""
    email_key = normalize_email(check_email(request.email))
    with db.unit_of_work() as uow:
        person = uow.persons.by_email_key(email_key)
        if person is None:
            return Empty()
        now = uow.clock.now()
        if link_wait(uow, person.id, PASSWORD_RESET, now) > timedelta(0):
            return Empty()  # the same answer: nothing tells whether the address has an account
        link = issue_link(uow, links, PASSWORD_RESET, person.id, now, links.reset_ttl)
        uow.record(
            c.PasswordResetRequested(
                reset_id=link.id, person_id=person.id, expires_at=link.expires_at
            )
        )
    return Empty()


def send_password_reset_mail(
    db: Db, links: LinkSettings, mailer: Mailer, event: c.PasswordResetRequested
) -> None:
    """Derive the link again, commit, then send (rule 4: no mail inside a transaction)."""
    found = live_link(db, links, event.reset_id)
    if found is None:
        return
    _, person, token = found
    mailer.send(
        person.email,
        person.locale,
        "password_reset",
        name=person.display_name or person.email,
        link=f"{links.public_url.rstrip('/')}/reset-password/{token}",
        minutes=minutes_of(links.reset_ttl),
    )


def reset_password(
    db: Db,
    passwords: Passwords,
    links: LinkSettings,
    common: frozenset[str],
    request: c.ResetPasswordRequest,
) -> Empty:
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        link = use_link(uow, links, request.token, PASSWORD_RESET, now)
        person = uow.persons.get(link.person_id)
        assert person is not None
        check_password(
            request.new_password,
            email=person.email,
            display_name=person.display_name,
            common=common,
        )
        uow.persons.set_password(person.id, passwords.hash(request.new_password), now)
        uow.refresh_tokens.revoke_person(person.id, now)  # whoever knew the old one is out
        revoke_access(uow, c.AccessRevocationReason.PASSWORD_RESET, person_id=person.id)
        uow.links.mark_used(link)
    return Empty()


def change_password(
    db: Db,
    passwords: Passwords,
    master: MasterKey,
    common: frozenset[str],
    caller: Caller,
    request: c.ChangePasswordRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> Empty:
    """With proof of the person. Every other session ends with its access tokens, and pending
    address links die (asked for by whoever knew the old password, perhaps)."""
    who = access.person(caller)
    person = prove_person(db, passwords, master, who, request, source, policy)
    check_password(
        request.new_password, email=person.email, display_name=person.display_name, common=common
    )
    if request.new_password == request.current_password:
        raise invalid(new_password="must differ from the current password")  # noqa: S106
    new_hash = passwords.hash(request.new_password)  # slow: outside any transaction
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        uow.persons.set_password(person.id, new_hash, now)
        for purpose in (EMAIL_CHANGE, CALENDAR_EMAIL):
            uow.links.supersede_live(person.id, purpose, now)
        end_other_sessions(
            uow, person.id, who.session_id, c.AccessRevocationReason.PASSWORD_CHANGED
        )
        audit(uow, "password.changed", None, person.id, person.id, source=source)
    return Empty()
