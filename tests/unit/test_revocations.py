"""The revocation list every process consults: who is refused, and what it forgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.revocations import Revocation, RevocationList

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def claims(
    person: str = "p1",
    tenant: str | None = "t1",
    issued: datetime = NOW,
    session: str | None = "fam1",
) -> PersonClaims:
    return PersonClaims(
        person_id=person,
        tenant_id=tenant,
        roles=("coach",),
        platform_admin=False,
        token_id="jti",
        issued_at=issued,
        expires_at=issued + timedelta(minutes=10),
        session_id=session,
    )


def listed(*revocations: Revocation) -> RevocationList:
    rl = RevocationList(FixedClock(NOW), timedelta(minutes=11))
    rl.add(revocations)
    return rl


def test_a_persons_tokens_issued_before_the_instant_are_refused_and_later_ones_are_not() -> None:
    rl = listed(Revocation(NOW, person_id="p1"))
    assert rl.is_revoked(claims(issued=NOW - timedelta(milliseconds=1)))
    assert rl.is_revoked(claims(tenant=None, issued=NOW - timedelta(minutes=5)))
    assert not rl.is_revoked(claims(issued=NOW))  # issued at or after it: a fresh token
    assert not rl.is_revoked(claims(person="p2", issued=NOW - timedelta(minutes=1)))


def test_a_revocation_in_one_tenant_leaves_the_persons_other_tokens_alone() -> None:
    rl = listed(Revocation(NOW, person_id="p1", tenant_id="t1"))
    before = NOW - timedelta(seconds=1)
    assert rl.is_revoked(claims(tenant="t1", issued=before))
    assert not rl.is_revoked(claims(tenant="t2", issued=before))
    assert not rl.is_revoked(claims(tenant=None, issued=before))


def test_a_tenant_wide_revocation_refuses_everyone_in_it_only() -> None:
    rl = listed(Revocation(NOW, tenant_id="t1"))
    before = NOW - timedelta(seconds=1)
    assert rl.is_revoked(claims(person="p1", issued=before))
    assert rl.is_revoked(claims(person="p9", issued=before))
    assert not rl.is_revoked(claims(person="p1", tenant="t2", issued=before))
    assert not rl.is_revoked(claims(person="p1", tenant=None, issued=before))


def test_adding_the_same_revocation_twice_keeps_one_and_one_naming_no_one_is_ignored() -> None:
    r = Revocation(NOW, person_id="p1")
    rl = listed(r, r, Revocation(NOW))
    rl.add([r])
    assert len(rl) == 1


def test_a_broadcast_payload_reads_back() -> None:
    r = Revocation.of(
        {"person_id": "p1", "tenant_id": None, "not_before": NOW.isoformat(), "reason": "x"}
    )
    assert r == Revocation(NOW, person_id="p1")
    assert listed().since() == NOW - timedelta(minutes=11)


def test_a_session_revocation_refuses_that_sessions_tokens_only() -> None:
    rl = listed(Revocation(NOW, person_id="p1", session_id="fam1"))
    before = NOW - timedelta(seconds=1)
    assert rl.is_revoked(claims(session="fam1", issued=before))
    assert not rl.is_revoked(claims(session="fam2", issued=before))
    assert not rl.is_revoked(claims(session=None, issued=before))
    assert not rl.is_revoked(claims(session="fam1", issued=NOW))  # a later sign-in's token


def test_all_sessions_but_one_spares_that_one_and_refuses_tokens_of_no_session() -> None:
    rl = listed(Revocation(NOW, person_id="p1", except_session_id="fam1"))
    before = NOW - timedelta(seconds=1)
    assert not rl.is_revoked(claims(session="fam1", issued=before))
    assert rl.is_revoked(claims(session="fam2", issued=before))
    assert rl.is_revoked(claims(session=None, issued=before))
    assert not rl.is_revoked(claims(person="p2", session="fam2", issued=before))


def test_session_fields_come_from_the_broadcast_payload() -> None:
    payload = {
        "person_id": "p1",
        "tenant_id": None,
        "not_before": NOW.isoformat(),
        "session_id": "fam1",
        "except_session_id": None,
    }
    assert Revocation.of(payload) == Revocation(NOW, person_id="p1", session_id="fam1")
    older = {"person_id": "p1", "not_before": NOW.isoformat()}  # before the fields existed
    assert Revocation.of(older) == Revocation(NOW, person_id="p1")
