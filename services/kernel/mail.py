"""A mail's words: its subject and body, msgids of the kernel's catalogue (ADR 0013).

Each service lists the mails it sends (`services/<service>/mails.py`); the mailer
(services/kernel/runtime/mailer.py) renders one in the recipient's language, its
`%(placeholder)s` values filled in, and signs it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mail:
    subject: str  # one line
    body: str  # the text before the signature
