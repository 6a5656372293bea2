"""Mailed links: derived, never stored (rule 8); issued, opened and re-derived for the mail."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from services.kernel.crypto import MasterKey, derive_link_token, token_hash
from services.kernel.errors import FailedPrecondition

from ..domain import throttle
from ..domain.credentials import PersonLink
from ..domain.model import Person
from ..storage.unit import Db, IdentityUnit
from .common import LinkSettings, throttled

LINK_KEY = "link-key"


def link_key(uow: IdentityUnit, master: MasterKey, now: datetime) -> bytes:
    """The key emailed links are derived from, created on first use, wrapped by the master key."""
    wrapped = uow.secrets.get(LINK_KEY)
    if wrapped is None:
        uow.secrets.add_if_missing(LINK_KEY, master.wrap(secrets.token_bytes(32), LINK_KEY), now)
        wrapped = uow.secrets.get(LINK_KEY)
        assert wrapped is not None
    return master.unwrap(wrapped, LINK_KEY)


# Mailed links a person may be sent per purpose and hour (an address confirmation or a reset):
# enough for a typo or a lost mail, too few to make ecoach a way to flood someone's inbox.
LINKS_PER_HOUR = 5


def link_wait(uow: IdentityUnit, person_id: str, purpose: str, now: datetime) -> timedelta:
    """How long until the person may be sent another link of `purpose` (zero: now)."""
    window = timedelta(hours=1)
    issued = uow.links.issued_since(person_id, purpose, now - window)
    return throttle.wait_for_cap(issued, LINKS_PER_HOUR, window, now)


def refuse_too_many_links(uow: IdentityUnit, person_id: str, purpose: str, now: datetime) -> None:
    wait = link_wait(uow, person_id, purpose, now)
    if wait > timedelta(0):
        raise throttled(wait, "confirmation emails in an hour", "TOO_MANY_LINKS")


def issue_link(
    uow: IdentityUnit,
    links: LinkSettings,
    purpose: str,
    person_id: str,
    now: datetime,
    ttl: timedelta,
    detail: str | None = None,
    session_id: str | None = None,
) -> PersonLink:
    """A new link (replacing any live one of the same purpose), its token's hash stored."""
    uow.links.supersede_live(person_id, purpose, now)
    link = PersonLink.new(purpose, person_id, now, ttl, detail, session_id)
    link.token_hash = token_hash(link_token(uow, links, link, now))
    uow.links.add(link)
    return link


def link_token(uow: IdentityUnit, links: LinkSettings, link: PersonLink, now: datetime) -> str:
    return derive_link_token(link_key(uow, links.master, now), link.purpose, link.id, link.nonce)


def use_link(
    uow: IdentityUnit,
    links: LinkSettings,
    token: str,
    purpose: str | tuple[str, ...],
    now: datetime,
) -> PersonLink:
    """The live link `token` opens (of `purpose`, or one of them), now used;
    FAILED_PRECONDITION (nothing written) if none."""
    purposes = (purpose,) if isinstance(purpose, str) else purpose
    link = uow.links.by_token_hash(token_hash(token))
    if link is not None and (
        link.purpose not in purposes
        or not hmac.compare_digest(link_token(uow, links, link, now), token)
    ):
        link = None
    if link is None:
        raise FailedPrecondition("This link is not valid.", reason="LINK_INVALID")
    link.use(now)  # used, replaced or expired: refused
    return link


def live_link(db: Db, links: LinkSettings, link_id: str) -> tuple[PersonLink, Person, str] | None:
    """For a mail handler: the link, its person and its token, if the link is still live."""
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        link = uow.links.get(link_id)
        person = uow.persons.get(link.person_id) if link else None
        if link is None or person is None or not link.is_live(now):
            return None  # used, expired or replaced by a newer link: nothing to send
        return link, person, link_token(uow, links, link, now)


def minutes_of(delta: timedelta) -> str:
    return str(int(delta.total_seconds() // 60))
