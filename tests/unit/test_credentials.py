"""Password policy, reset links, the master key and mail templates: pure rules, no services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pytest

from services.identity.adapters.passwords import common_passwords
from services.identity.domain.credentials import PASSWORD_RESET, PersonLink, check_password
from services.identity.mails import MAILS
from services.kernel.crypto import (
    MasterKey,
    create_master_key_file,
    derive_link_token,
    load_master_key,
    token_hash,
)
from services.kernel.errors import FailedPrecondition, InvalidArgument
from services.kernel.runtime.mailer import DirectoryTransport, Mailer, Templates

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
COMMON = common_passwords()


def refused(password: str, email: str = "ada.lovelace@example.test", name: str = "Ada") -> str:
    with pytest.raises(InvalidArgument) as caught:
        check_password(password, email=email, display_name=name, common=COMMON)
    [violation] = caught.value.fields
    assert violation.field == "new_password"
    return violation.description


def test_the_common_list_is_large_enough() -> None:
    assert len(COMMON) >= 10_000
    assert "password" in COMMON and "123456" in COMMON


def test_the_password_policy() -> None:
    assert "12 characters" in refused("Short-1")
    common = next(p for p in sorted(COMMON) if len(p) >= 12)
    assert "most common" in refused(common)
    assert "most common" in refused(common.upper())  # case does not hide it
    assert "email" in refused("my-ada.lovelace-2026!")
    assert "name" in refused("Lovelace is great 42", name="Ada Lovelace")
    # Short names and local parts are too common to refuse.
    check_password("al and jo were here", email="jo@example.test", display_name="Al", common=COMMON)
    check_password("Sunflower-Harbour-4711", email="a@b.test", display_name="", common=COMMON)


def test_a_reset_link_is_used_once_before_it_expires() -> None:
    reset = PersonLink.new(PASSWORD_RESET, "per_1", NOW, timedelta(hours=1))
    assert reset.is_live(NOW)
    reset.use(NOW + timedelta(minutes=5))
    with pytest.raises(FailedPrecondition) as used:
        reset.use(NOW + timedelta(minutes=6))
    assert used.value.reason == "LINK_USED"
    late = PersonLink.new(PASSWORD_RESET, "per_1", NOW, timedelta(hours=1))
    with pytest.raises(FailedPrecondition) as expired:
        late.use(NOW + timedelta(hours=1))
    assert expired.value.reason == "LINK_EXPIRED" and late.used_at is None
    replaced = PersonLink.new(PASSWORD_RESET, "per_1", NOW, timedelta(hours=1))
    replaced.superseded_at = NOW
    with pytest.raises(FailedPrecondition) as revoked:
        replaced.use(NOW)
    assert revoked.value.reason == "LINK_REVOKED"


def test_links_are_derived_from_the_nonce_and_never_collide() -> None:
    key = b"k" * 32
    one = derive_link_token(key, "password-reset", "prs_1", "n1")
    assert one == derive_link_token(key, "password-reset", "prs_1", "n1")
    assert one != derive_link_token(key, "password-reset", "prs_1", "n2")  # re-sending kills it
    assert one != derive_link_token(key, "invitation", "prs_1", "n1")
    assert one != derive_link_token(b"x" * 32, "password-reset", "prs_1", "n1")
    assert len(token_hash(one)) == 64 and one not in token_hash(one)


def test_the_master_key_wraps_and_refuses_tampering(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    assert create_master_key_file(path) and not create_master_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    master = load_master_key(None, path)
    wrapped = master.wrap(b"secret", "link-key")
    assert b"secret" not in wrapped.encode()
    assert master.unwrap(wrapped, "link-key") == b"secret"
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        master.unwrap(wrapped, "another purpose")
    with pytest.raises(ValueError, match="another key"):
        MasterKey(b"o" * 32).unwrap(wrapped, "link-key")


def test_mail_templates_exist_in_both_languages_and_render(tmp_path: Path) -> None:
    templates = Templates(MAILS)
    for name in ("password_reset", "email_change", "calendar_email"):
        for locale in ("fr", "en"):
            rendered = templates.render(name, locale, name="Ada", link="https://x/t", minutes="60")
            assert "https://x/t" in rendered.body and "Ada" in rendered.body
            assert "60" in rendered.body and rendered.subject
    assert templates.render("password_reset", "de", name="A", link="L", minutes="1").subject == (
        "Reset your ecoach password"
    )
    mailer = Mailer(DirectoryTransport(tmp_path), "ecoach <no-reply@ecoach.test>", templates)
    mailer.send("ada@example.test", "fr", "password_reset", name="Ada", link="L", minutes="60")
    [eml] = list(tmp_path.glob("*.eml"))
    parsed = message_from_bytes(eml.read_bytes(), policy=email_policy)
    assert parsed["To"] == "ada@example.test"
    assert parsed["Subject"] == "Réinitialisez votre mot de passe ecoach"
    assert parsed["Auto-Submitted"] == "auto-generated"


def test_during_a_rotation_the_master_key_opens_what_either_key_wrapped() -> None:
    from services.kernel.crypto import MasterKey, SecretKey

    old, new = SecretKey.generate(), SecretKey.generate()
    by_old = old.wrap(b"secret", "ctx")
    rotating = MasterKey(new.raw, previous=old)
    assert rotating.unwrap(by_old, "ctx") == b"secret"
    again = rotating.rewrapped(by_old, "ctx")
    assert again is not None and MasterKey(new.raw).unwrap(again, "ctx") == b"secret"
    assert rotating.rewrapped(again, "ctx") is None  # already under the new key
    with pytest.raises(ValueError):
        MasterKey(new.raw).unwrap(by_old, "ctx")  # without the previous key: refused
