"""psycopg2 waits through eventlet's hub instead of blocking the whole process."""

from __future__ import annotations

_patched = False


def ensure_green_psycopg() -> None:
    global _patched
    if _patched:
        return
    from psycogreen.eventlet import patch_psycopg

    patch_psycopg()
    _patched = True
