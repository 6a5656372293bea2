"""The mails scheduling sends: each one's subject and body are msgids of the kernel's catalogue
(services/kernel/translations, README "Translations"), rendered in the recipient's language
with `%(placeholder)s` values (services/kernel/runtime/mailer.py)."""

from __future__ import annotations

from services.kernel.i18n import N_
from services.kernel.mail import Mail

MAILS: dict[str, Mail] = {
    "calendar_cancel": Mail(
        N_("ecoach appointment cancelled: %(when)s"),
        N_(
            """\
Hello %(name)s,

Your ecoach appointment on %(when)s is cancelled. The message attached removes it from your
calendar.

%(link)s
"""
        ),
    ),
    "calendar_request": Mail(
        N_("ecoach appointment: %(when)s"),
        N_(
            """\
Hello %(name)s,

Your ecoach appointment is on %(when)s. The invitation attached updates your calendar.

Join from your space in ecoach when the time comes: %(link)s
"""
        ),
    ),
    "reminder": Mail(
        N_("Reminder: ecoach appointment, %(when)s"),
        N_(
            """\
Hello %(name)s,

A reminder: your ecoach appointment is on %(when)s.

Join it from your space in ecoach: %(link)s

You can change or turn off these reminders in your calendar settings.
"""
        ),
    ),
    "reschedule_closed": Mail(
        N_("ecoach: your request to move an appointment"),
        N_(
            """\
Hello %(name)s,

Your request to move the appointment of %(when)s to %(proposed)s was %(outcome)s.

Your space: %(link)s
"""
        ),
    ),
    "reschedule_requested": Mail(
        N_("ecoach: a request to move an appointment"),
        N_(
            """\
Hello %(name)s,

Your coachee asks to move the appointment of %(when)s to %(proposed)s.
The new time is held for you until the original appointment starts; unanswered, the original
time stands.

Approve or decline the request from your dashboard: %(link)s
"""
        ),
    ),
    "session_cancelled": Mail(
        N_("ecoach appointment cancelled"),
        N_(
            """\
Hello %(name)s,

Your ecoach appointment of %(when)s is cancelled%(why)s.

You can book another one from your space: %(link)s
"""
        ),
    ),
    "sessions_cancelled": Mail(
        N_("ecoach appointments cancelled"),
        N_(
            """\
Hello %(name)s,

These ecoach appointments are cancelled%(why)s:

%(when)s

You can book others from your space: %(link)s
"""
        ),
    ),
}
