"""The mails identity sends: each one's subject and body are msgids of the kernel's catalogue
(services/kernel/translations, README "Translations"), rendered in the recipient's language
with `%(placeholder)s` values (services/kernel/runtime/mailer.py)."""

from __future__ import annotations

from services.kernel.i18n import N_
from services.kernel.mail import Mail

MAILS: dict[str, Mail] = {
    "calendar_email": Mail(
        N_("Confirm the address for your ecoach calendar"),
        N_(
            """\
Hello %(name)s,

You asked for your ecoach calendar invitations and reminders to be sent to
this address. To confirm it, open this link within %(minutes)s minutes:

%(link)s

Until then, they keep going to your account's address. If you did not ask
for this, ignore this email.
"""
        ),
    ),
    "coach_change_proposed": Mail(
        N_("A change in your ecoach coaching awaits your agreement"),
        N_(
            """\
Hello %(name)s,

A new coach or co-coach is proposed for one of your coaching spaces on
ecoach. Nothing changes unless you agree: sign in to accept or decline the
proposal.

%(url)s
"""
        ),
    ),
    "coach_changed": Mail(
        N_("A change in your ecoach coaching"),
        N_(
            """\
Hello %(name)s,

The people who accompany you in one of your coaching spaces on ecoach have
changed: a coach or co-coach joined or left. Sign in to see who accompanies
you now:

%(url)s

If you did not expect this change, tell your coach or your organisation's
contact for coaching.
"""
        ),
    ),
    "email_change": Mail(
        N_("Confirm your new ecoach email address"),
        N_(
            """\
Hello %(name)s,

You asked to use this address for your ecoach account. To confirm it, open
this link within %(minutes)s minutes:

%(link)s

Until then, your account keeps its current address. If you did not ask for
this, ignore this email.
"""
        ),
    ),
    "email_change_notice": Mail(
        N_("A change of your ecoach email address was requested"),
        N_(
            """\
Hello %(name)s,

Someone signed in to your ecoach account, with its password, asked for the
account to use another email address: %(new_email)s. A confirmation link went to
that address; nothing changes until it is opened.

If it was you, there is nothing to do. If it was not, sign in and change your
password at once: that voids the confirmation link and ends every other
session of your account.
"""
        ),
    ),
    "invitation": Mail(
        N_("%(tenant)s invites you to ecoach"),
        N_(
            """\
Hello %(name)s,

%(tenant)s invites you to ecoach, its coaching platform. To accept, open this
link within %(days)s days:

%(link)s

If you are new to ecoach, you will choose your password there. If you
already have an account, sign in with it to accept.

The link works once. If you were not expecting this invitation, ignore this
email.
"""
        ),
    ),
    "password_reset": Mail(
        N_("Reset your ecoach password"),
        N_(
            """\
Hello %(name)s,

Someone (we hope you) asked to reset the password of your ecoach account.
To choose a new password, open this link within %(minutes)s minutes:

%(link)s

The link works once. If you did not ask for it, ignore this email: your
password stays as it is.
"""
        ),
    ),
}
