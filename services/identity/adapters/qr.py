"""QR codes (segno), for enrolling an authenticator app by scanning its otpauth URI."""

from __future__ import annotations

import io

import segno


def qr_svg(text: str) -> str:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
    return buffer.getvalue().decode()
