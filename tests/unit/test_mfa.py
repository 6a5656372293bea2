"""Multi-factor rules (services/identity/domain/mfa.py), without broker or database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.identity.domain import mfa
from services.kernel.errors import InvalidArgument

NOW = datetime(2026, 12, 2, 9, 0, 10, tzinfo=UTC)
SECRET = mfa.new_secret()


def test_a_code_is_accepted_around_its_step_and_never_twice() -> None:
    code = mfa.current_code(SECRET, NOW)
    check, step = mfa.check_totp(SECRET, code, NOW, None)
    assert (check, step) == (mfa.CodeCheck.ACCEPTED, mfa.step_of(NOW))
    # Clock drift: one step either side.
    later = NOW + timedelta(seconds=mfa.STEP_SECONDS)
    assert mfa.check_totp(SECRET, code, later, None)[0] is mfa.CodeCheck.ACCEPTED
    too_late = NOW + timedelta(seconds=3 * mfa.STEP_SECONDS)
    assert mfa.check_totp(SECRET, code, too_late, None)[0] is mfa.CodeCheck.WRONG
    # Once accepted, neither it nor an older step's code is accepted again.
    assert mfa.check_totp(SECRET, code, NOW, step)[0] is mfa.CodeCheck.REPLAYED
    older = mfa.current_code(SECRET, NOW - timedelta(seconds=mfa.STEP_SECONDS))
    assert mfa.check_totp(SECRET, older, NOW, step)[0] is mfa.CodeCheck.REPLAYED
    newer = mfa.current_code(SECRET, later)
    assert mfa.check_totp(SECRET, newer, later, step)[0] is mfa.CodeCheck.ACCEPTED


def test_another_secrets_code_is_wrong() -> None:
    other = mfa.current_code(mfa.new_secret(), NOW)
    mine = mfa.current_code(SECRET, NOW)
    if other != mine:  # one chance in a million
        assert mfa.check_totp(SECRET, other, NOW, None)[0] is mfa.CodeCheck.WRONG


def test_the_uri_is_what_authenticator_apps_read() -> None:
    uri = mfa.otpauth_uri(SECRET, "ada@example.com")
    assert uri.startswith("otpauth://totp/ecoach:ada%40example.com?")
    assert f"secret={SECRET}" in uri and "issuer=ecoach" in uri
    assert len(SECRET) == 32  # 160 bits


def test_recovery_codes_are_random_readable_and_hashed_as_typed() -> None:
    codes = mfa.new_recovery_codes()
    assert len(codes) == len(set(codes)) == 10
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3
        assert not set(code.replace("-", "")) & set("0o1li")
    typed = codes[0].upper().replace("-", " ")
    assert mfa.recovery_code_hash(typed) == mfa.recovery_code_hash(codes[0])
    assert mfa.check_code_format(typed) == codes[0].replace("-", "")


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abc", "x" * 17, "12-34-5"])
def test_malformed_codes_name_the_field(bad: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        mfa.check_code_format(bad)
    assert [f.field for f in raised.value.fields] == ["code"]


def test_operators_always_need_mfa_and_tenants_for_the_roles_they_name() -> None:
    assert mfa.mfa_required(platform_admin=True, entering_tenant=False)
    assert not mfa.mfa_required(platform_admin=False, entering_tenant=False)
    assert mfa.mfa_required(
        platform_admin=False, entering_tenant=True, roles=["coach"], required_roles=["coach"]
    )
    assert not mfa.mfa_required(
        platform_admin=False, entering_tenant=True, roles=["coachee"], required_roles=["coach"]
    )
    assert not mfa.mfa_required(platform_admin=True, entering_tenant=True, roles=["coach"])


def test_a_challenge_is_single_use_short_lived_and_dies_after_wrong_codes() -> None:
    challenge = mfa.Challenge.issue(
        person_id="per_1", tenant_id=None, purpose=mfa.Purpose.VERIFY, now=NOW
    )
    token = challenge.token
    assert token.startswith("mc1.") and challenge.matches(token.split(".")[2])
    assert not challenge.matches("something else")
    assert challenge.usable(NOW) and not challenge.usable(NOW + mfa.CHALLENGE_TTL)
    challenge.failures = mfa.CHALLENGE_MAX_FAILURES
    assert not challenge.usable(NOW)
    challenge.failures, challenge.used_at = 0, NOW
    assert not challenge.usable(NOW)
