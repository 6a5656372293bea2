"""The mails assessment sends: each one's subject and body are msgids of the kernel's catalogue
(services/kernel/translations, README "Translations"), rendered in the coachee's language with
`%(placeholder)s` values (services/kernel/runtime/mailer.py)."""

from __future__ import annotations

from services.kernel.i18n import N_
from services.kernel.mail import Mail

MAILS: dict[str, Mail] = {
    "rater_invitation": Mail(
        N_("%(name)s asks for your feedback"),
        N_(
            """\
Hello,

%(name)s is working with a coach on ecoach and asks for your feedback: a short
questionnaire, %(title)s. Your answers are shown only together with those of
at least two other people, and never with your name.

Answer it, once, before %(until)s:

%(link)s

You need no account. If you do not wish to answer, ignore this email: your
address is deleted when the link expires.
"""
        ),
    ),
}


def rater_link(public_url: str, token: str) -> str:
    """The web app's page for a rater (gateway/web/feedback.py)."""
    return f"{public_url.rstrip('/')}/feedback/{token}"
