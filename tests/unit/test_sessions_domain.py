"""Refresh tokens: what presenting one means, and what is kept of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.identity.domain.sessions import RefreshToken, Verdict, judge, parse

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TTL = timedelta(days=14)
GRACE = timedelta(seconds=10)


def issued(**changes: object) -> RefreshToken:
    token = RefreshToken.issue(person_id="p1", tenant_id="t1", amr=["pwd"], now=NOW, ttl=TTL)
    for name, value in changes.items():
        setattr(token, name, value)
    return token


def test_a_token_reads_back_to_its_row_and_only_the_secrets_hash_is_kept() -> None:
    token = issued()
    row_id, secret = parse(token.token) or ("", "")
    assert row_id == token.id and token.matches(secret)
    assert secret not in token.secret_hash and len(token.secret_hash) == 64
    assert not token.matches(secret[:-1] + ("a" if secret[-1] != "a" else "b"))
    assert token.expires_at == NOW + TTL


def test_malformed_tokens_do_not_parse() -> None:
    for text in ("", "rt1", "rt1.abc", "rt2.abc.def", "rt1..def", "rt1.abc.", "rt1.a.b.c"):
        assert parse(text) is None, text


def test_a_fresh_token_rotates_and_a_used_one_is_reuse_after_the_grace() -> None:
    token = issued()
    assert judge(token, NOW + timedelta(minutes=5), GRACE) is Verdict.ROTATE
    token.used_at = NOW + timedelta(minutes=5)
    assert judge(token, NOW + timedelta(minutes=5, seconds=10), GRACE) is Verdict.GRACE
    assert judge(token, NOW + timedelta(minutes=5, seconds=11), GRACE) is Verdict.REUSED


def test_revoked_wins_over_everything_and_an_unused_token_expires() -> None:
    assert judge(issued(revoked_at=NOW, used_at=NOW), NOW, GRACE) is Verdict.REVOKED
    assert judge(issued(), NOW + TTL, GRACE) is Verdict.EXPIRED
    assert judge(issued(), NOW + TTL - timedelta(seconds=1), GRACE) is Verdict.ROTATE


def test_a_successor_stays_in_the_family_and_may_move_to_another_tenant() -> None:
    token = issued()
    same = token.successor(NOW, TTL)
    moved = token.successor(NOW, TTL, tenant_id="t2")
    assert same.family_id == moved.family_id == token.family_id
    assert (same.tenant_id, moved.tenant_id) == ("t1", "t2")
    assert same.id != token.id and same.secret != token.secret
    assert same.amr == token.amr
