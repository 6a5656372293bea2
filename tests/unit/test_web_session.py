"""The web app's session cookie: sealed so that only a web process with the key reads it, and
nothing altered, foreign or too old opens."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest

from gateway.web.session import MAX_AGE_SECONDS, SessionCodec, WebSession, load_session_key


def test_a_sealed_session_opens_with_its_key_only() -> None:
    key = os.urandom(32)
    session = WebSession(access_token="a.b.c", refresh_token="r", roles=["COACHEE"])
    sealed = SessionCodec(key).seal(session)
    assert "a.b.c" not in sealed and "COACHEE" not in sealed
    assert SessionCodec(key).open(sealed) == session
    assert SessionCodec(os.urandom(32)).open(sealed) is None


@pytest.mark.parametrize("value", ["", "x", "not base64!", "A" * 9000])
def test_garbage_opens_as_no_session(value: str) -> None:
    assert SessionCodec(os.urandom(32)).open(value) is None


def test_a_changed_byte_or_an_old_cookie_opens_as_no_session() -> None:
    codec = SessionCodec(os.urandom(32))
    sealed = codec.seal(WebSession(refresh_token="r"))
    raw = bytearray(base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4)))
    raw[-1] ^= 1
    assert codec.open(base64.urlsafe_b64encode(bytes(raw)).decode()) is None
    assert codec.open(sealed, now=time.time() + MAX_AGE_SECONDS + 1) is None


def test_each_session_has_its_own_csrf_token_and_signing_out_renews_it() -> None:
    first = WebSession(refresh_token="r", locale="fr")
    assert first.csrf != WebSession().csrf
    out = first.signed_out()
    assert not out.signed_in and out.csrf != first.csrf and out.locale == "fr"


def test_the_key_comes_from_the_setting_else_from_set_ups_file(tmp_path: Path) -> None:
    key = os.urandom(32)
    path = tmp_path / "web-session.key"
    path.write_text(base64.b64encode(key).decode() + "\n")
    assert load_session_key(None, path) == key
    assert load_session_key(base64.b64encode(b"k" * 32).decode(), path) == b"k" * 32
    with pytest.raises(ValueError):
        load_session_key(base64.b64encode(b"short").decode(), path)


def test_set_up_creates_the_web_session_key_file_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    from ecoach_dev.cli import ensure_keys
    from services.kernel.config import Settings

    config = Settings(env="development", var_dir=tmp_path)
    ensure_keys(config)
    path = config.web_session_key_path
    assert path.stat().st_mode & 0o777 == 0o600
    key = load_session_key(None, path)
    ensure_keys(config)  # a second set-up keeps it: browsers stay signed in
    assert load_session_key(None, path) == key
