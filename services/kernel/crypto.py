"""The master key and what it protects (rule 8): secrets at rest are wrapped by a key that never
lives in a database.

The master key is 32 random bytes, read from `ECOACH_MASTER_KEY` (base64) or, when that is unset,
from the file `<keys dir>/master.key` (created by set-up outside production, mode 0600). Data is
wrapped with AES-256-GCM; a wrapped value carries the master key's id, so a later rotation knows
which key unwraps it. Links sent by email are derived, never stored:
`HMAC-SHA256(link key, purpose, row id, nonce)`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"v1"


class MasterKeyMissing(RuntimeError):
    pass


class SecretKey:
    """An AES-256-GCM key with an id: the master key, a tenant's key, a space's data key. What it
    wraps carries its id, so that a rotation knows which key unwraps what."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a key must be 32 bytes")
        self.raw = key
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"ecoach master key id" + key).hexdigest()[:16]

    def wrap(self, data: bytes, context: str) -> str:
        """Encrypt `data`; `context` (what the data is) is authenticated but not stored."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, data, context.encode())
        blob = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{VERSION.decode()}.{self.key_id}.{blob}"

    def unwrap(self, wrapped: str, context: str) -> bytes:
        version, key_id, blob = wrapped.split(".", 2)
        if version != VERSION.decode() or key_id != self.key_id:
            raise ValueError("this value was wrapped by another key")
        raw = base64.urlsafe_b64decode(blob)
        return self._aead.decrypt(raw[:12], raw[12:], context.encode())

    def seal_text(self, text: str, context: str) -> str:
        return self.wrap(text.encode(), context)

    def open_text(self, sealed: str, context: str) -> str:
        return self.unwrap(sealed, context).decode()

    @classmethod
    def generate(cls) -> SecretKey:
        return cls(secrets.token_bytes(32))


def key_id_of(wrapped: str) -> str:
    """The id of the key that wrapped `wrapped`."""
    return wrapped.split(".", 2)[1]


class MasterKey(SecretKey):
    """The one key that is never in a database (ECOACH_MASTER_KEY or <keys dir>/master.key).

    During a rotation it also knows the previous key (ECOACH_MASTER_KEY_PREVIOUS): it unwraps
    what either wrapped (each value names its key) and wraps with the new one only, until
    `ecoach-dev rewrap` has wrapped everything again and the previous key can go."""

    def __init__(self, key: bytes, previous: SecretKey | None = None) -> None:
        super().__init__(key)
        self.previous = previous

    def unwrap(self, wrapped: str, context: str) -> bytes:
        if self.previous is not None and key_id_of(wrapped) == self.previous.key_id:
            return self.previous.unwrap(wrapped, context)
        return super().unwrap(wrapped, context)

    def rewrapped(self, wrapped: str, context: str) -> str | None:
        """`wrapped` under the current key, or None if it already is."""
        if key_id_of(wrapped) == self.key_id:
            return None
        return self.wrap(self.unwrap(wrapped, context), context)


def load_master_key(env_value: str | None, path: Path, previous: str | None = None) -> MasterKey:
    """The master key, and (during a rotation) the previous one, base64."""
    old = SecretKey(base64.b64decode(previous)) if previous else None
    if env_value:
        return MasterKey(base64.b64decode(env_value), old)
    if path.exists():
        return MasterKey(base64.b64decode(path.read_text().strip()), old)
    raise MasterKeyMissing(
        f"No master key: set ECOACH_MASTER_KEY or create {path} (set-up creates it outside "
        "production)."
    )


def master_key_from(config: Any) -> MasterKey:
    """The deployment's master key from its settings (ECOACH_MASTER_KEY or the keys folder's
    master.key, and ECOACH_MASTER_KEY_PREVIOUS during a rotation)."""
    return load_master_key(config.master_key, config.master_key_path, config.master_key_previous)


@functools.cache
def deployment_master_key() -> MasterKey:
    """This process's master key, from its settings (read once)."""
    from .config import settings

    return master_key_from(settings())


def create_master_key_file(path: Path) -> bool:
    """Write a new random master key to `path` unless it exists; True if it was created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return True


def derive_link_token(link_key: bytes, purpose: str, row_id: str, nonce: str) -> str:
    """The secret part of an emailed link, recomputed whenever it is needed (rule 8)."""
    mac = hmac.new(link_key, f"{purpose}\x00{row_id}\x00{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def token_hash(token: str) -> str:
    """What a row keeps of a link's token: enough to find the row, useless to forge a link."""
    return hashlib.sha256(token.encode()).hexdigest()
