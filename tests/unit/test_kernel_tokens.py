"""Access and service tokens: what verification accepts and refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.kernel.clock import FixedClock
from services.kernel.errors import Unauthenticated
from services.kernel.tokens import (
    FetchedKeys,
    SigningKey,
    StaticKeys,
    TokenVerifier,
    issue_access_token,
    issue_service_token,
    load_or_create_service_key,
    load_service_public_keys,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ISS, AUD = "ecoach-identity", "ecoach"


def setup() -> tuple[SigningKey, FixedClock, TokenVerifier]:
    key = SigningKey.generate()
    clock = FixedClock(NOW)
    keys = StaticKeys()
    keys.add(key.public)
    return key, clock, TokenVerifier(keys, clock)


def access_token(key: SigningKey, clock: FixedClock, **overrides: object) -> str:
    args: dict[str, object] = dict(
        issuer=ISS,
        audience=AUD,
        clock=clock,
        ttl=timedelta(minutes=10),
        person_id="per_1",
        tenant_id="tnt_1",
        roles=("coach",),
        platform_admin=False,
        locale="fr",
    )
    args.update(overrides)
    token, _ = issue_access_token(key, **args)  # type: ignore[arg-type]
    return token


def test_a_valid_access_token_gives_the_person() -> None:
    key, clock, verifier = setup()
    claims = verifier.verify_person(access_token(key, clock), issuer=ISS, audience=AUD)
    assert (claims.person_id, claims.tenant_id, claims.roles, claims.locale) == (
        "per_1",
        "tnt_1",
        ("coach",),
        "fr",
    )
    assert not claims.is_operator


def test_expired_tokens_are_refused() -> None:
    key, clock, verifier = setup()
    token = access_token(key, clock)
    clock.advance(timedelta(minutes=11))
    with pytest.raises(Unauthenticated) as raised:
        verifier.verify_person(token, issuer=ISS, audience=AUD)
    assert raised.value.reason == "TOKEN_EXPIRED"


def test_tokens_not_valid_yet_are_refused() -> None:
    key, _clock, verifier = setup()
    token = access_token(key, FixedClock(NOW + timedelta(minutes=5)))
    with pytest.raises(Unauthenticated):
        verifier.verify_person(token, issuer=ISS, audience=AUD)


@pytest.mark.parametrize("field,value", [("issuer", "someone-else"), ("audience", "other-app")])
def test_wrong_issuer_or_audience_is_refused(field: str, value: str) -> None:
    key, clock, verifier = setup()
    token = access_token(key, clock, **{field: value})
    with pytest.raises(Unauthenticated):
        verifier.verify_person(token, issuer=ISS, audience=AUD)


def test_a_key_we_do_not_know_is_refused() -> None:
    _, clock, verifier = setup()
    with pytest.raises(Unauthenticated):
        verifier.verify_person(access_token(SigningKey.generate(), clock), issuer=ISS, audience=AUD)


def test_only_eddsa_is_accepted() -> None:
    key, _clock, verifier = setup()
    forged = jwt.encode(
        {
            "iss": ISS,
            "aud": AUD,
            "sub": "per_1",
            "typ": "access",
            "iat": 0,
            "nbf": 0,
            "exp": 2**40,
            "jti": "x",
        },
        "an-hmac-secret-of-at-least-32-bytes!!",
        algorithm="HS256",
        headers={"kid": key.kid},
    )
    with pytest.raises(Unauthenticated):
        verifier.verify_person(forged, issuer=ISS, audience=AUD)
    none_alg = jwt.encode({"sub": "per_1"}, None, algorithm="none", headers={"kid": key.kid})
    with pytest.raises(Unauthenticated):
        verifier.verify_person(none_alg, issuer=ISS, audience=AUD)


def test_a_tampered_token_is_refused() -> None:
    key, clock, verifier = setup()
    header, _payload, signature = access_token(key, clock).split(".")
    other = access_token(key, clock, roles=("tenant_admin",)).split(".")[1]
    with pytest.raises(Unauthenticated):
        verifier.verify_person(f"{header}.{other}.{signature}", issuer=ISS, audience=AUD)


def test_a_service_token_is_not_an_access_token_and_vice_versa() -> None:
    key, clock, verifier = setup()
    service = issue_service_token(
        key, service="spaces", audience="identity", clock=clock, ttl=timedelta(minutes=5)
    )
    with pytest.raises(Unauthenticated):
        verifier.verify_person(service, issuer=ISS, audience=AUD)
    with pytest.raises(Unauthenticated):
        verifier.verify_service(access_token(key, clock, audience="identity"), audience="identity")
    claims = verifier.verify_service(service, audience="identity")
    assert claims.service == "spaces" and claims.kid == key.kid
    with pytest.raises(Unauthenticated):
        verifier.verify_service(service, audience="scheduling")


def test_unknown_kids_refetch_at_most_once_per_interval() -> None:
    key = SigningKey.generate()
    calls = []
    now = [100.0]

    def fetch() -> list[dict[str, str]]:
        calls.append(1)
        return [key.public_jwk()]

    keys = FetchedKeys(fetch, lambda: now[0], min_interval=5)
    assert keys.public_key(key.kid) is not None
    assert keys.public_key("forged-kid") is None
    assert keys.public_key("forged-kid") is None
    assert len(calls) == 1
    now[0] += 6
    keys.public_key("forged-kid")
    assert len(calls) == 2


def test_service_keys_are_created_once_and_private_halves_stay_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = load_or_create_service_key(tmp_path, "identity")
    again = load_or_create_service_key(tmp_path, "identity")
    assert first.kid == again.kid
    assert (tmp_path / "identity.key").stat().st_mode & 0o077 == 0
    assert set(load_service_public_keys(tmp_path)) == {"identity"}


def test_signing_keys_round_trip_through_raw_bytes() -> None:
    key = SigningKey.generate()
    assert SigningKey.from_private_bytes(key.private_bytes()).kid == key.kid
    assert isinstance(key.private, Ed25519PrivateKey)


def test_while_identity_is_unreachable_unknown_kids_get_that_failure_not_a_false_refusal() -> None:
    from services.kernel.errors import Unavailable

    key = SigningKey.generate()
    now = [0.0]
    up = [False]

    def fetch() -> list[dict[str, str]]:
        if not up[0]:
            raise Unavailable("identity is not running.")
        return [key.public_jwk()]

    keys = FetchedKeys(fetch, lambda: now[0], min_interval=5)
    for _ in range(2):  # the first try, then the same answer until a retry is due
        with pytest.raises(Unavailable):
            keys.public_key(key.kid)
    up[0] = True
    now[0] += 6
    assert keys.public_key(key.kid) is not None


def test_a_retiring_key_verifies_until_its_retire_time_by_the_clock() -> None:
    from datetime import UTC, datetime, timedelta

    from services.kernel.clock import FixedClock

    key = SigningKey.generate()
    clock = FixedClock(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    retire_at = (clock.now() + timedelta(minutes=11)).timestamp()
    keys = FetchedKeys(
        lambda: [{**key.public_jwk(), "retire_at": retire_at}], lambda: 0.0, clock=clock
    )
    assert keys.public_key(key.kid) is not None
    clock.advance(timedelta(minutes=11))
    assert keys.public_key(key.kid) is None


def test_with_a_max_age_keys_are_fetched_again_and_a_removed_key_stops_verifying() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    listed = [[old.public_jwk()]]
    now = [0.0]
    keys = FetchedKeys(lambda: listed[-1], lambda: now[0], max_age=60)
    assert keys.public_key(old.kid) is not None
    listed.append([new.public_jwk()])  # identity retired `old` at once
    now[0] += 30
    assert keys.public_key(old.kid) is not None  # not yet due
    now[0] += 31
    assert keys.public_key(old.kid) is None
    assert keys.public_key(new.kid) is not None


def test_a_known_key_keeps_verifying_while_identity_is_away() -> None:
    from services.kernel.errors import Unavailable

    key = SigningKey.generate()
    up = [True]
    now = [0.0]

    def fetch() -> list[dict[str, str]]:
        if not up[0]:
            raise Unavailable("identity is not running.")
        return [key.public_jwk()]

    keys = FetchedKeys(fetch, lambda: now[0], max_age=60)
    assert keys.public_key(key.kid) is not None
    up[0] = False
    now[0] += 120
    assert keys.public_key(key.kid) is not None
