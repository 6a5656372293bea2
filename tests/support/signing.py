"""Events published by hand in tests, signed as a service's relay signs them (or not at all)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.kernel.events import envelope_bytes, signature_headers
from services.kernel.tokens import load_or_create_service_key


def signed(envelope: dict[str, Any], signer: str, keys_dir: Path) -> tuple[bytes, dict[str, str]]:
    """The body and headers `signer`'s relay would publish `envelope` with."""
    body = envelope_bytes(envelope)
    return body, signature_headers(body, signer, load_or_create_service_key(keys_dir, signer))
