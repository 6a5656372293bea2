"""Multi-factor sign-in: plain Python, no infrastructure.

- **TOTP** (RFC 6238: 6 digits, 30-second steps, SHA-1, what every authenticator app reads from
  an otpauth URI). A code is accepted for its step and the steps on either side (clock drift),
  and only for a step later than the last one accepted: a code seen over a shoulder or in a log
  cannot be replayed, not even within its window.
- **Recovery codes**: ten one-time codes of 80 random bits, shown once; only their SHA-256 is
  kept (80 bits are beyond brute force, so a slow hash would add nothing).
- **Challenges**: what the password step hands out when a second step must follow, either to
  enter a code (`verify`) or, for someone the policy obliges who has not enrolled yet, to enrol
  (`enrol`): the token limited to the enrolment methods. `mc1.<id>.<secret>`, short-lived,
  single use, dead after a few wrong codes.
- **Policy**: operators always need MFA; a tenant may require it for chosen roles. Anyone who has
  enrolled uses it at every sign-in.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

import pyotp

from services.kernel.crypto import token_hash as secret_hash
from services.kernel.errors import invalid
from services.kernel.ids import new_id

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
ISSUER = "ecoach"
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud, typed by hand
CHALLENGE_PREFIX = "mc1"
CHALLENGE_TTL = timedelta(minutes=10)
CHALLENGE_MAX_FAILURES = 5

# What an access token's `amr` says (RFC 8176): `pwd` always; `mfa` once a second factor was
# shown, with `otp` (an authenticator's code) or `rec` (a recovery code).
PASSWORD, MFA, OTP, RECOVERY = "pwd", "mfa", "otp", "rec"


def new_secret() -> str:
    """160 random bits, base32 (what authenticator apps expect)."""
    return pyotp.random_base32(32)


def otpauth_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def current_code(secret: str, now: datetime) -> str:
    """The code an authenticator shows at `now` (for demos, scripts and tests)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(now)


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


class CodeCheck(Enum):
    ACCEPTED = "accepted"
    REPLAYED = "replayed"  # right code, but its step was already used
    WRONG = "wrong"


def check_totp(
    secret: str, code: str, now: datetime, last_step: int | None
) -> tuple[CodeCheck, int]:
    """Whether `code` is the authenticator's code near `now`, and for which step."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_of(now)
    nearby = [current] + [current + d for n in range(1, DRIFT_STEPS + 1) for d in (-n, n)]
    for step in nearby:
        if hmac.compare_digest(totp.generate_otp(step), code):
            if last_step is not None and step <= last_step:
                return CodeCheck.REPLAYED, step
            return CodeCheck.ACCEPTED, step
    return CodeCheck.WRONG, current


def normalise_code(code: str) -> str:
    """Spaces and dashes dropped, lowercase: `1234 56` and `ABCD-efgh-...` as typed."""
    return "".join(ch for ch in code.strip().lower() if ch not in " -")


def is_totp_code(code: str) -> bool:
    return len(code) == DIGITS and code.isdigit()


def check_code_format(code: str) -> str:
    """A TOTP code (6 digits) or a recovery code (16 letters and digits), normalised."""
    normal = normalise_code(code)
    if is_totp_code(normal) or (len(normal) == 16 and normal.isalnum()):
        return normal
    raise invalid(code="6 digits from your authenticator app, or one of your recovery codes")


def new_recovery_codes() -> list[str]:
    """Ten codes like `abcd-efgh-jkmn-pqrs` (80 bits each)."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_code_hash(code: str) -> str:
    return secret_hash("recovery:" + normalise_code(code))


def mfa_required(
    *,
    platform_admin: bool,
    entering_tenant: bool,
    roles: Iterable[str] = (),
    required_roles: Iterable[str] = (),
) -> bool:
    """Operators (signing in without a tenant) always; in a tenant, if it requires MFA for one
    of the person's roles there."""
    if not entering_tenant:
        return platform_admin
    return bool(set(roles) & set(required_roles))


class Purpose(Enum):
    VERIFY = "verify"  # enter a code from the enrolled authenticator (or a recovery code)
    ENROL = "enrol"  # enrol first: the policy requires MFA and there is no authenticator yet


@dataclass
class Challenge:
    id: str
    person_id: str
    tenant_id: str | None
    purpose: str
    secret_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    failures: int = 0
    # An enrolment a signed-in person started belongs to their session: completing it starts no
    # new one (None: the sign-in's own second step, which does).
    session_id: str | None = None
    secret: str = field(default="", repr=False, compare=False)  # only on a new challenge

    @classmethod
    def issue(
        cls,
        *,
        person_id: str,
        tenant_id: str | None,
        purpose: Purpose,
        now: datetime,
        session_id: str | None = None,
    ) -> Challenge:
        secret = secrets.token_urlsafe(32)
        return cls(
            id=new_id("mch"),
            person_id=person_id,
            tenant_id=tenant_id,
            purpose=purpose.value,
            secret_hash=secret_hash(secret),
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
            session_id=session_id,
            secret=secret,
        )

    @property
    def token(self) -> str:
        assert self.secret, "only a new challenge can be given out"
        return f"{CHALLENGE_PREFIX}.{self.id}.{self.secret}"

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, secret_hash(secret))

    def usable(self, now: datetime) -> bool:
        return (
            self.used_at is None
            and now < self.expires_at
            and self.failures < CHALLENGE_MAX_FAILURES
        )
