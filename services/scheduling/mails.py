"""The mails scheduling sends: each one's subject and body are msgids of the kernel's catalogue
(services/kernel/translations, README "Translations"), rendered in the recipient's language
with `%(placeholder)s` values (services/kernel/runtime/mailer.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.contracts.identity import ContactDetails
from services.kernel.i18n import N_, gettext, language_of, local_time, zone_of
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


# person ids -> their contact details (identity's answer; erased or unknown people are absent)
Contacts = Callable[[list[str]], list[ContactDetails]]

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


def lang(locale: str) -> str:
    return language_of(locale)


def space_link(public_url: str, space_id: str, coachee: bool) -> str:
    """Where a session's mail opens the app: the coachee's own space page, or the coach's desk
    (a page of the web app, gateway/web; `tests/e2e/test_mailed_links.py` opens each one)."""
    base = public_url.rstrip("/")
    return f"{base}/spaces/{space_id}" if coachee else f"{base}/desk"
