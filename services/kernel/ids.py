"""Random ids: a three-letter prefix naming the kind, then 96 random bits (`spc_3f...`)."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"
