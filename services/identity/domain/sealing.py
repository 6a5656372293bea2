"""What each value identity seals with the master key is bound to: the AEAD's context, so that a
sealed value moved to another row or another use is refused when it is unsealed."""

from __future__ import annotations


def seal_context(kid: str) -> str:
    """What a sealed signing key is, authenticated by the master key's AEAD."""
    return f"identity.signing_key.{kid}"


def totp_context(person_id: str) -> str:
    """What a sealed TOTP secret is, authenticated by the master key's AEAD."""
    return f"identity.totp.{person_id}"
