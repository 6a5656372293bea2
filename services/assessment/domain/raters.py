"""360 feedback raters: who the coachee asks, through a one-time link, with no account. Plain
Python, no infrastructure.

A rater is an invitation on an assignment: a relationship group (manager, peer, direct_report,
other), the address the link is mailed to and the coachee's language for the mail. The link's
token is derived from the row (its id and a nonce) with the assignment's data key, and only its
hash is kept (rule 8). Opening the link (a GET) never uses it up; submitting answers does, once.
The address is kept only until it is no longer needed: deleted when the rater answers or the
link expires (ADR 0014). Nothing here names a rater to the coachee: results are by group only
(domain/feedback.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.kernel.errors import FailedPrecondition, NotFound

from .feedback import RATER_GROUPS

INVITED = "invited"
ANSWERED = "answered"
EXPIRED = "expired"

PURPOSE = "assessment.rater"
LINK_TTL = timedelta(days=21)  # long enough for colleagues on holiday, short enough to forget
MAX_RATERS = 30  # per assignment: enough for a wide 360, too few to make ecoach a mailer


def link_invalid() -> FailedPrecondition:
    """Unknown, used or expired: the same answer for each, so a token says nothing more."""
    return FailedPrecondition("This link is not valid.", reason="LINK_INVALID")


def group_unknown() -> NotFound:
    return NotFound("No such rater group.", reason="RATER_GROUP_UNKNOWN")


@dataclass
class Rater:
    id: str
    assignment_id: str
    tenant_id: str
    group: str
    locale: str
    nonce: str
    status: str
    invited_at: datetime
    expires_at: datetime
    email: str | None = None  # deleted once answered or expired
    token_hash: str = ""
    answers: dict[str, Any] | None = None  # once answered
    answered_at: datetime | None = None

    @classmethod
    def new(
        cls,
        rater_id: str,
        assignment_id: str,
        tenant_id: str,
        group: str,
        email: str,
        locale: str,
        now: datetime,
        ttl: timedelta = LINK_TTL,
    ) -> Rater:
        assert group in RATER_GROUPS, group
        return cls(
            id=rater_id,
            assignment_id=assignment_id,
            tenant_id=tenant_id,
            group=group,
            locale=locale,
            nonce=secrets.token_urlsafe(16),
            status=INVITED,
            invited_at=now,
            expires_at=now + ttl,
            email=email,
        )

    def is_live(self, now: datetime) -> bool:
        return self.status == INVITED and now < self.expires_at

    def require_live(self, now: datetime) -> None:
        if not self.is_live(now):
            raise link_invalid()

    def answer(self, answers: dict[str, Any], now: datetime) -> None:
        """The one submission the link allows; the address goes with it."""
        self.require_live(now)
        self.answers = answers
        self.answered_at = now
        self.status = ANSWERED
        self.email = None

    def expire(self, now: datetime) -> bool:
        """Past its expiry and unanswered: the address is deleted. True if anything changed."""
        if self.status != INVITED or now < self.expires_at:
            return False
        self.status = EXPIRED
        self.email = None
        return True
