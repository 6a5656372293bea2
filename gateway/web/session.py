"""The browser's session, kept in the browser: one cookie, encrypted and authenticated with
AES-256-GCM (the `cryptography` package) under ECOACH_WEB_SESSION_KEY, so any web process can
serve any request and none keeps state.

It holds the tokens of the person's ecoach session (access and refresh), who they are (person,
tenant, roles, locale, time zone: read at sign-in, for the pages' language and times), the
CSRF token every form carries, and between the steps of a sign-in the single-use challenge.
The cookie is HttpOnly, SameSite=Lax and Secure outside development; it lives as long as the
refresh token may (the gateway decides when that is over).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

COOKIE = "ecoach_session"
# The longest a cookie is accepted, whatever it says: the refresh token's own lifetime ends
# sooner unless the deployment lengthened it.
MAX_AGE_SECONDS = 30 * 24 * 3600
NONCE_BYTES = 12


@dataclass
class WebSession:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    access_token: str = ""
    access_expires: float = 0.0
    refresh_token: str = ""
    person_id: str = ""
    tenant_id: str = ""
    roles: list[str] = field(default_factory=list)
    display_name: str = ""
    email: str = ""
    tenant_name: str = ""
    operator: bool = False
    locale: str = ""
    time_zone: str = ""
    # Between the steps of a sign-in: `mfa` (a code is asked) or `enrol` (an authenticator
    # must be set up first), and its challenge.
    step: str = ""
    challenge: str = ""
    # The tenant a sign-in is for, when one was asked (a tenant that requires MFA).
    tenant_asked: str = ""
    issued: float = field(default_factory=time.time)

    @property
    def signed_in(self) -> bool:
        return bool(self.refresh_token)

    def signed_out(self) -> WebSession:
        """A fresh anonymous session (new CSRF token), keeping only the language."""
        return WebSession(locale=self.locale)


class SessionCodec:
    """Seals a WebSession into a cookie value and opens it again; anything else (another key,
    a changed byte, an old cookie) opens as None."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the web session key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, session: WebSession) -> str:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(asdict(session), separators=(",", ":")).encode()
        sealed = nonce + self._aead.encrypt(nonce, plain, COOKIE.encode())
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, value: str | None, now: float | None = None) -> WebSession | None:
        if not value or len(value) > 8000:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], COOKIE.encode())
            session = WebSession(**json.loads(plain))
        except (binascii.Error, ValueError, InvalidTag, TypeError):
            return None
        if (now if now is not None else time.time()) - session.issued > MAX_AGE_SECONDS:
            return None
        return session


def load_session_key(value: str | None, path: Path) -> bytes:
    """ECOACH_WEB_SESSION_KEY (base64 of 32 bytes), else the file set-up created."""
    text = value if value else path.read_text().strip()
    key = base64.b64decode(text, validate=True)
    if len(key) != 32:
        raise ValueError("ECOACH_WEB_SESSION_KEY must be 32 bytes, base64-encoded")
    return key
