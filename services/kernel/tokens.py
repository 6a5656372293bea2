"""Ed25519 tokens: access tokens for people, service tokens between services.

Verification accepts EdDSA only, a known key id, the expected issuer, audience and type, and
checks nbf/exp against the injected Clock (not PyJWT's own time). Any failure is Unauthenticated
with a stable reason, never the token itself in a message or a log.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .caller import PersonClaims, ServiceClaims
from .clock import Clock
from .errors import Unauthenticated

if TYPE_CHECKING:
    from .revocations import RevocationList

ALGORITHM = "EdDSA"
ACCESS = "access"
SERVICE = "service"
LEEWAY = timedelta(seconds=30)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    return b64url(hashlib.sha256(public_raw(public)).digest())[:16]


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        return cls(key_id(private.public_key()), private)

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> SigningKey:
        private = Ed25519PrivateKey.from_private_bytes(raw)
        return cls(key_id(private.public_key()), private)

    def private_bytes(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def public_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "kid": self.kid,
            "x": b64url(public_raw(self.public)),
        }

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private, algorithm=ALGORITHM, headers={"kid": self.kid})


def public_key_from_jwk(jwk: dict[str, Any]) -> tuple[str, Ed25519PublicKey]:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("only Ed25519 OKP keys are accepted")
    return str(jwk["kid"]), Ed25519PublicKey.from_public_bytes(b64url_decode(str(jwk["x"])))


def issue_access_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    clock: Clock,
    ttl: timedelta,
    person_id: str,
    tenant_id: str | None,
    roles: Iterable[str],
    platform_admin: bool,
    locale: str,
    amr: Iterable[str] = ("pwd",),
    session_id: str | None = None,
) -> tuple[str, datetime]:
    now = clock.now()
    expires = now + ttl
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": person_id,
        "typ": ACCESS,
        # To the millisecond: a revocation refuses tokens issued before its instant, and a token
        # issued just after it (a refresh) must not fall in the same second (RFC 7519 allows it).
        "iat": round(now.timestamp(), 3),
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_urlsafe(16),
        "roles": sorted(set(roles)),
        "pa": bool(platform_admin),
        "loc": locale,
        "amr": list(amr),
    }
    if tenant_id is not None:
        claims["tid"] = tenant_id
    if session_id is not None:
        claims["sid"] = session_id  # the sign-in (refresh-token family) it comes from
    return key.sign(claims), expires


def issue_service_token(
    key: SigningKey, *, service: str, audience: str, clock: Clock, ttl: timedelta
) -> str:
    now = clock.now()
    return key.sign(
        {
            "iss": service,
            "sub": service,
            "aud": audience,
            "typ": SERVICE,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": secrets.token_urlsafe(12),
        }
    )


class KeySource(Protocol):
    def public_key(self, kid: str) -> Ed25519PublicKey | None: ...


class StaticKeys:
    """Public keys known up front (a test, or the service keys of the deployment)."""

    def __init__(self, keys: dict[str, Ed25519PublicKey] | None = None) -> None:
        self._keys = dict(keys or {})

    def add(self, public: Ed25519PublicKey) -> str:
        kid = key_id(public)
        self._keys[kid] = public
        return kid

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)


class FetchedKeys:
    """Public keys fetched from identity and cached; an unknown kid triggers at most one refetch
    per `min_interval` seconds, so a forged kid cannot make us hammer identity. While identity
    cannot be reached, unknown kids get that failure again (UNAVAILABLE, not a false
    UNAUTHENTICATED) until the next attempt is due, and known keys keep working.

    Key rotation: a key identity is retiring carries `retire_at` (seconds since the epoch) and is
    refused from then on, by `clock`; with `max_age`, the list is fetched again at the first
    lookup after that many seconds, so a key retired early (compromised) or removed stops
    verifying within `max_age` everywhere."""

    def __init__(
        self,
        fetch: Callable[[], list[dict[str, Any]]],
        monotonic: Callable[[], float],
        min_interval: float = 1.0,
        *,
        max_age: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._fetch = fetch
        self._monotonic = monotonic
        self._min_interval = min_interval
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, tuple[Ed25519PublicKey, float | None]] = {}
        self._fetched_at = float("-inf")
        self._failure: Exception | None = None
        self._lock = threading.Lock()

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        entry = self._keys.get(kid)
        if entry is not None and not self._stale():
            return self._usable(entry)
        with self._lock:
            entry = self._keys.get(kid)
            if entry is not None and not self._stale():
                return self._usable(entry)
            if self._monotonic() - self._fetched_at < self._min_interval:
                if entry is not None:
                    return self._usable(entry)
                if self._failure is not None:
                    raise self._failure
                return None
            self._fetched_at = self._monotonic()
            try:
                fetched = {}
                for jwk in self._fetch():
                    found, public = public_key_from_jwk(jwk)
                    retire_at = jwk.get("retire_at")
                    fetched[found] = (public, float(retire_at) if retire_at is not None else None)
            except Exception as exc:
                self._failure = exc
                if entry is not None:  # identity away: the keys we know still verify
                    return self._usable(entry)
                raise
            self._failure = None
            self._keys = fetched  # a key identity no longer lists is gone
        entry = self._keys.get(kid)
        return self._usable(entry) if entry is not None else None

    def _stale(self) -> bool:
        return self._max_age is not None and self._monotonic() - self._fetched_at >= self._max_age

    def _usable(self, entry: tuple[Ed25519PublicKey, float | None]) -> Ed25519PublicKey | None:
        public, retire_at = entry
        if retire_at is not None and self._clock is not None:
            if self._clock.now().timestamp() >= retire_at:
                return None
        return public


def _unauthenticated(reason: str, message: str) -> Unauthenticated:
    return Unauthenticated(message, reason=reason)


class TokenVerifier:
    """Verifies tokens. Verified person tokens are remembered (`cache_size` of them, LRU) until
    they expire: a hit costs a dictionary lookup instead of a signature check (about 0.3 ms).
    Checks that can change during a token's life (revocation) must not rely on this cache."""

    def __init__(
        self,
        keys: KeySource,
        clock: Clock,
        cache_size: int = 10_000,
        revocations: RevocationList | None = None,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._revocations = revocations
        self._cache_size = cache_size
        # token -> (claims, signing key id): a hit still needs its key to be in service
        self._cache: OrderedDict[tuple[str, str, str], tuple[PersonClaims, str]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def cached_person(self, token: str, *, issuer: str, audience: str) -> PersonClaims | None:
        """The claims of a token verified before, while it is still valid; else None."""
        with self._cache_lock:
            hit = self._cache.get((token, issuer, audience))
            if hit is not None:
                self._cache.move_to_end((token, issuer, audience))
        if hit is None:
            return None
        claims, kid = hit
        if self._keys.public_key(kid) is None:
            raise _unauthenticated("TOKEN_INVALID", "The token's signing key was retired.")
        if self._clock.now() >= claims.expires_at + LEEWAY:
            raise _unauthenticated("TOKEN_EXPIRED", "The token has expired.")
        self._check_revoked(claims)
        return claims

    def _check_revoked(self, claims: PersonClaims) -> None:
        """Consulted on every call, cache hit or not (rule 5)."""
        if self._revocations is not None and self._revocations.is_revoked(claims):
            raise _unauthenticated(
                "TOKEN_REVOKED", "This access was withdrawn; refresh or sign in again."
            )

    def _decode(self, token: str, *, issuer: str | None, audience: str) -> dict[str, Any]:
        if not token or len(token) > 8192:
            raise _unauthenticated("TOKEN_INVALID", "A bearer token is required.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _unauthenticated("TOKEN_INVALID", "The token is malformed.") from None
        if header.get("alg") != ALGORITHM:
            raise _unauthenticated("TOKEN_INVALID", "Only EdDSA tokens are accepted.")
        kid = header.get("kid")
        key = self._keys.public_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise _unauthenticated("TOKEN_INVALID", "The token's signing key is unknown.")
        options: Any = {  # PyJWT's Options TypedDict
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
            "verify_iss": issuer is not None,
            "require": ["exp", "nbf", "iat", "iss", "aud", "sub", "typ", "jti"],
        }
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=issuer,
                options=options,
            )
        except jwt.PyJWTError:
            raise _unauthenticated("TOKEN_INVALID", "The token failed verification.") from None
        now = self._clock.now().timestamp()
        if now < float(claims["nbf"]) - LEEWAY.total_seconds():
            raise _unauthenticated("TOKEN_INVALID", "The token is not valid yet.")
        if now >= float(claims["exp"]) + LEEWAY.total_seconds():
            raise _unauthenticated("TOKEN_EXPIRED", "The token has expired.")
        claims["__kid"] = kid
        return claims

    def verify_person(self, token: str, *, issuer: str, audience: str) -> PersonClaims:
        cached = self.cached_person(token, issuer=issuer, audience=audience)
        if cached is not None:
            return cached
        person, kid = self._verify_person(token, issuer=issuer, audience=audience)
        self._check_revoked(person)
        if self._cache_size:
            with self._cache_lock:
                self._cache[(token, issuer, audience)] = (person, kid)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return person

    def _verify_person(self, token: str, *, issuer: str, audience: str) -> tuple[PersonClaims, str]:
        claims = self._decode(token, issuer=issuer, audience=audience)
        if claims.get("typ") != ACCESS:
            raise _unauthenticated("TOKEN_INVALID", "This is not an access token.")
        tid = claims.get("tid")
        roles = claims.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise _unauthenticated("TOKEN_INVALID", "The token's roles are malformed.")
        person = PersonClaims(
            person_id=str(claims["sub"]),
            tenant_id=str(tid) if tid is not None else None,
            roles=tuple(roles),
            platform_admin=claims.get("pa") is True,
            token_id=str(claims["jti"]),
            issued_at=_ts(claims["iat"]),
            expires_at=_ts(claims["exp"]),
            locale=str(claims.get("loc") or "en"),
            session_id=str(claims["sid"]) if claims.get("sid") else None,
        )
        return person, str(claims["__kid"])

    def verify_service(self, token: str, *, audience: str) -> ServiceClaims:
        claims = self._decode(token, issuer=None, audience=audience)
        if claims.get("typ") != SERVICE or claims.get("iss") != claims.get("sub"):
            raise _unauthenticated("TOKEN_INVALID", "This is not a service token.")
        return ServiceClaims(
            service=str(claims["sub"]),
            token_id=str(claims["jti"]),
            expires_at=_ts(claims["exp"]),
            kid=str(claims["__kid"]),
        )


def _ts(value: Any) -> datetime:
    return datetime.fromtimestamp(float(value), UTC)


def load_or_create_service_key(keys_dir: Path, service: str) -> SigningKey:
    """A service's own Ed25519 key pair, created on first use (private half mode 0600)."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    private_path = keys_dir / f"{service}.key"
    if private_path.exists():
        key = SigningKey.from_private_bytes(b64url_decode(private_path.read_text().strip()))
    else:
        key = SigningKey.generate()
        tmp = private_path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(b64url(key.private_bytes()))
        tmp.replace(private_path)
    public_path = keys_dir / f"{service}.pub"
    if not public_path.exists():
        public_path.write_text(b64url(public_raw(key.public)))
    return key


def load_service_public_keys(keys_dir: Path) -> dict[str, Ed25519PublicKey]:
    """Every service's public key in the deployment's key folder, by service name."""
    keys: dict[str, Ed25519PublicKey] = {}
    if keys_dir.is_dir():
        for path in sorted(keys_dir.glob("*.pub")):
            keys[path.stem] = Ed25519PublicKey.from_public_bytes(
                b64url_decode(path.read_text().strip())
            )
    return keys


class ServicePublicKeys:
    """The services' public keys (`<keys>/<service>.pub`, the deployment's configuration), read
    once and again (at most every RELOAD_SECONDS) when a signer is not known yet: what checks
    the signatures of events and of revocation broadcasts."""

    RELOAD_SECONDS = 10.0

    def __init__(self, keys_dir: Callable[[], Path]) -> None:
        self._keys_dir = keys_dir
        self._lock = threading.Lock()
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._loaded_at = -float("inf")

    def public_key(self, signer: str) -> Ed25519PublicKey | None:
        with self._lock:
            key = self._keys.get(signer)
            if key is None and time.monotonic() - self._loaded_at >= self.RELOAD_SECONDS:
                self._keys = load_service_public_keys(self._keys_dir())
                self._loaded_at = time.monotonic()
                key = self._keys.get(signer)
            return key
