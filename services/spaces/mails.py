"""The mails spaces sends: subject and body are msgids of the kernel's catalogue
(services/kernel/translations), rendered in the recipient's language
(services/kernel/runtime/mailer.py).

Neutral on purpose (ADR 0018): a corporate mailbox shows no tool's title, kind or topic."""

from __future__ import annotations

from services.kernel.i18n import N_
from services.kernel.mail import Mail

MAILS: dict[str, Mail] = {
    "tool_unlocked": Mail(
        N_("ecoach: something new in your space"),
        N_(
            """\
Hello %(name)s,

A new tool is available in your coaching space.

Open your space: %(link)s
"""
        ),
    ),
}


def space_link(public_url: str, space_id: str) -> str:
    """The coachee's own space page in the web app."""
    return f"{public_url.rstrip('/')}/spaces/{space_id}"
