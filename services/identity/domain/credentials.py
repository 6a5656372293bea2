"""Password rules and password-reset links: plain Python, no infrastructure."""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.kernel.errors import FailedPrecondition, Problem, invalid
from services.kernel.ids import new_id

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
# Parts of an email or a name shorter than this are too common to refuse ("jo", "al").
MIN_PERSONAL_PART = 3


def check_password(
    password: str,
    *,
    email: str,
    display_name: str,
    common: Collection[str],
    field: str = "new_password",
) -> str:
    """The password policy: long enough, not among the most common passwords, and containing
    neither the email's local part nor the person's name. Raises InvalidArgument on `field`."""
    lowered = password.casefold()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(**{field: Problem("needs at least %(n)s characters", n=MIN_PASSWORD_LENGTH)})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise invalid(**{field: Problem("has more than %(n)s characters", n=MAX_PASSWORD_LENGTH)})
    if lowered in common or lowered.strip() in common:
        raise invalid(**{field: "is one of the most common passwords"})
    local = email.split("@", 1)[0].casefold()
    if len(local) >= MIN_PERSONAL_PART and local in lowered:
        raise invalid(**{field: "must not contain your email address"})
    for part in re.split(r"[\s.\-_'\u2019]+", display_name.casefold()):
        if len(part) >= MIN_PERSONAL_PART and part in lowered:
            raise invalid(**{field: "must not contain your name"})
    return password


# The purposes of emailed links about a person (each is part of the link's derivation).
PASSWORD_RESET = "password-reset"  # noqa: S105 - a purpose, not a password
EMAIL_CHANGE = "email-change"
CALENDAR_EMAIL = "calendar-email"  # detail: the address calendar mail is to go to
INVITATION = "invitation"  # detail: the pending membership's id


@dataclass
class PersonLink:
    """One emailed single-use link about a person: a password reset, or the confirmation of a
    new email or calendar address (`detail`). The link itself is derived from the nonce, never
    stored."""

    id: str
    purpose: str
    person_id: str
    nonce: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    detail: str | None = None
    used_at: datetime | None = None
    superseded_at: datetime | None = None
    session_id: str | None = None  # the session that asked for it, if it matters

    @classmethod
    def new(
        cls,
        purpose: str,
        person_id: str,
        now: datetime,
        ttl: timedelta,
        detail: str | None = None,
        session_id: str | None = None,
    ) -> PersonLink:
        return cls(
            new_id("lnk"),
            purpose,
            person_id,
            secrets.token_hex(16),
            "",
            now,
            now + ttl,
            detail,
            session_id=session_id,
        )

    def is_live(self, now: datetime) -> bool:
        return self.used_at is None and self.superseded_at is None and now < self.expires_at

    def use(self, now: datetime) -> None:
        self.check_usable(now)
        self.used_at = now

    def check_usable(self, now: datetime) -> None:
        """Raises FAILED_PRECONDITION (LINK_USED, LINK_REVOKED, LINK_EXPIRED) unless live."""
        if self.used_at is not None:
            raise FailedPrecondition("This link has already been used.", reason="LINK_USED")
        if self.superseded_at is not None:
            raise FailedPrecondition(
                "A newer link replaced this one; use the latest email.", reason="LINK_REVOKED"
            )
        if now >= self.expires_at:
            raise FailedPrecondition("This link has expired.", reason="LINK_EXPIRED")
