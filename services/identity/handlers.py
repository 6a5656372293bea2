"""Identity's use cases: one function per command or query, each in a unit of work."""

from __future__ import annotations

import base64
import binascii
import hmac
import io
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import segno

from services.contracts import identity as c
from services.contracts import spaces as sc
from services.contracts.base import Empty
from services.kernel.caller import Caller, PersonClaims
from services.kernel.crypto import MasterKey, derive_link_token, token_hash
from services.kernel.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Problem,
    ResourceExhausted,
    Unauthenticated,
    invalid,
)
from services.kernel.events import Envelope
from services.kernel.ids import new_id
from services.kernel.runtime.mailer import Mailer
from services.kernel.runtime.sql import UnitOfWork, WorkerDatabase
from services.kernel.timezones import check_time_zone
from services.kernel.tokens import LEEWAY, SigningKey, issue_access_token

from .domain import access, mfa, throttle
from .domain.credentials import (
    CALENDAR_EMAIL,
    EMAIL_CHANGE,
    INVITATION,
    PASSWORD_RESET,
    PersonLink,
    check_password,
)
from .domain.model import (
    ACTIVE,
    DEACTIVATED,
    ERASED,
    PENDING,
    MemberSearch,
    Membership,
    Person,
    Tenant,
    check_email,
    check_roles,
    normalize_email,
)
from .domain.roster import parse_roster
from .domain.sessions import RefreshToken, Verdict, judge
from .domain.sessions import parse as parse_secret_token
from .domain.throttle import ThrottlePolicy, account_key, pair_key
from .passwords import Passwords
from .storage import Repositories, seal_context, totp_context


class TokenSettings:
    def __init__(
        self,
        issuer: str,
        audience: str,
        ttl: timedelta,
        refresh_ttl: timedelta = timedelta(days=14),
        refresh_grace: timedelta = timedelta(seconds=10),
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.refresh_ttl = refresh_ttl
        self.refresh_grace = refresh_grace


# ---------------------------------------------------------------- views


def tenant_view(t: Tenant) -> c.Tenant:
    return c.Tenant(
        tenant_id=t.id,
        slug=t.slug,
        name=t.name,
        created_at=t.created_at,
        status=c.TenantStatus(t.status),
    )


def settings_view(t: Tenant, seats_used: int) -> c.TenantSettings:
    return c.TenantSettings(
        tenant_id=t.id,
        seats=t.seats,
        seats_used=seats_used,
        default_locale=t.default_locale,
        default_time_zone=t.default_time_zone,
        mfa_required_roles=[c.Role(r) for r in t.mfa_required_roles],
    )


def membership_changed(m: Membership, change: str) -> c.MembershipChanged:
    return c.MembershipChanged(
        change=c.MembershipChange(change),
        member_id=m.id,
        tenant_id=m.tenant_id,
        person_id=m.person_id,
        roles=[c.Role(r) for r in m.roles],
        status=c.MembershipStatus(m.status),
        created_at=m.created_at,
        updated_at=m.updated_at,
        accepted_at=m.accepted_at,
    )


def tenant_created(t: Tenant) -> c.TenantCreated:
    return c.TenantCreated(tenant_id=t.id, slug=t.slug, created_at=t.created_at)


def _own_person(repos: Repositories, person_id: str, for_update: bool = False) -> Person:
    """The caller's own account; UNAUTHENTICATED (TOKEN_INVALID) once it no longer exists."""
    get = repos.persons.get_for_update if for_update else repos.persons.get
    person = get(person_id)
    if person is None:
        raise Unauthenticated("This account no longer exists.", reason="TOKEN_INVALID")
    return person


def person_view(p: Person) -> c.Person:
    return c.Person(
        person_id=p.id,
        email=p.email,
        display_name=p.display_name,
        locale=p.locale,
        time_zone=p.time_zone,
        platform_admin=p.platform_admin,
        created_at=p.created_at,
        calendar_email=p.calendar_email or "",
    )


def member_view(m: Membership, person: Person | None) -> c.Member:
    """Until a pending member accepts, the tenant sees only the email it typed."""
    common: dict[str, Any] = {
        "member_id": m.id,
        "tenant_id": m.tenant_id,
        "roles": [c.Role(r) for r in m.roles],
        "status": c.MembershipStatus(m.status),
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    }
    if m.status == PENDING or m.accepted_at is None or person is None:
        return c.Member(email=m.invited_email, **common)
    return c.Member(
        person_id=person.id,
        email=person.email,
        display_name=person.display_name,
        locale=person.locale,
        time_zone=person.time_zone,
        **common,
    )


# ---------------------------------------------------------------- signing keys


class SigningKeyCache:
    """The key that signs, loaded from the database (unsealed with the master key) at most every
    `REFRESH_SECONDS` per process, so every identity instance signs with a new key soon after a
    rotation; created on first need. A new key signs only `PUBLISH_SECONDS` after its creation:
    by then any process that meets a token it signed has been allowed to fetch it (an unknown key
    id triggers a fetch at most once a second), so no fresh token is refused."""

    REFRESH_SECONDS = 15.0
    PUBLISH_SECONDS = 2.0

    def __init__(self, master: Callable[[], MasterKey] | None = None) -> None:
        self._master = master
        self._key: SigningKey | None = None
        self._valid_until = float("-inf")  # monotonic

    def current(self, db: WorkerDatabase) -> SigningKey:
        if self._key is not None and time.monotonic() < self._valid_until:
            return self._key
        master = self.master_key()
        publish = timedelta(seconds=self.PUBLISH_SECONDS)
        with db.unit_of_work() as uow:
            repos = Repositories(uow.connection)
            now = uow.clock.now()
            found = repos.signing_keys.signing(now, publish)
            if found is None:
                repos.signing_keys.lock()  # two instances starting at once create one key
                found = repos.signing_keys.signing(now, publish)
            if found is None:
                key, switch_at = _new_signing_key(repos, master, now), None
            else:
                kid, sealed, switch_at = found
                key = SigningKey.from_private_bytes(master.unwrap(sealed, seal_context(kid)))
        hold = self.REFRESH_SECONDS
        if switch_at is not None:  # a newer key takes over before then
            hold = min(hold, max(0.0, (switch_at - now).total_seconds()))
        self._key, self._valid_until = key, time.monotonic() + hold
        return key

    def forget(self) -> None:
        """Read the keys again at the next token (after a rotation in this process)."""
        self._key = None

    def master_key(self) -> MasterKey:
        if self._master is None:
            raise RuntimeError("the signing-key cache needs the master key")
        return self._master()


def _new_signing_key(repos: Repositories, master: MasterKey, now: datetime) -> SigningKey:
    key = SigningKey.generate()
    sealed = master.wrap(key.private_bytes(), seal_context(key.kid))
    repos.signing_keys.add(key.kid, sealed, key.public_jwk(), now)
    return key


def signing_keys(db: WorkerDatabase, keys: SigningKeyCache) -> c.SigningKeysResponse:
    keys.current(db)  # there is always at least one key to publish
    with db.read_only() as uow:
        jwks = Repositories(uow.connection).signing_keys.public_jwks(uow.clock.now())
    return c.SigningKeysResponse(keys=jwks)


def list_signing_keys(db: WorkerDatabase, caller: Caller) -> c.SigningKeyList:
    access.require_operator(caller)
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        rows = repos.signing_keys.all()
        now = uow.clock.now()
        found = repos.signing_keys.signing(now, timedelta(seconds=SigningKeyCache.PUBLISH_SECONDS))
    signing = found[0] if found else None
    return c.SigningKeyList(
        keys=[
            c.SigningKeyInfo(
                kid=r["kid"],
                created_at=r["created_at"],
                retire_at=r["retire_at"],
                state=(
                    "signing"
                    if r["kid"] == signing
                    else "verifying"
                    if r["retire_at"] is None or r["retire_at"] > now
                    else "retired"
                ),
            )
            for r in rows
        ]
    )


def rotate_signing_key(
    db: WorkerDatabase, keys: SigningKeyCache, tokens: TokenSettings, caller: Caller
) -> c.SigningKeyList:
    """A new key signs from now on; the others still verify the tokens they signed until those
    expire (the access-token lifetime, plus the other identity instances' cache and leeway),
    then retire: no token is refused because of a rotation."""
    access.require_operator(caller)
    master = keys.master_key()
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        repos.signing_keys.lock()
        now = uow.clock.now()
        key = _new_signing_key(repos, master, now)
        grace = tokens.ttl + 2 * LEEWAY + timedelta(seconds=SigningKeyCache.REFRESH_SECONDS)
        repos.signing_keys.retire_all_but(key.kid, now + grace)
        audit(uow, "key.rotated", None, access.person(caller).person_id, key.kid)
    keys.forget()
    return list_signing_keys(db, caller)


def retire_signing_key(
    db: WorkerDatabase, keys: SigningKeyCache, caller: Caller, request: c.SigningKeyRef
) -> c.SigningKeyList:
    """Retires a key at once (it leaked): tokens it signed are refused everywhere within
    ECOACH_SIGNING_KEYS_REFRESH_SECONDS. The key that signs cannot be retired: rotate first."""
    access.require_operator(caller)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        repos.signing_keys.lock()
        known = {r["kid"]: r for r in repos.signing_keys.all()}
        if request.kid not in known:
            raise NotFound("There is no signing key with this id.", reason="KEY_NOT_FOUND")
        now = uow.clock.now()
        signing = repos.signing_keys.signing(
            now, timedelta(seconds=SigningKeyCache.PUBLISH_SECONDS)
        )
        newest = max(known.values(), key=lambda r: r["created_at"])
        if (signing is not None and signing[0] == request.kid) or newest["kid"] == request.kid:
            raise FailedPrecondition(
                "This key signs the new tokens: rotate first, then retire it.",
                reason="KEY_IN_USE",
            )
        repos.signing_keys.retire(request.kid, now)
        audit(uow, "key.retired", None, access.person(caller).person_id, request.kid)
    keys.forget()
    return list_signing_keys(db, caller)


# ---------------------------------------------------------------- sign-in


def sign_in(
    db: WorkerDatabase,
    passwords: Passwords,
    keys: SigningKeyCache,
    tokens: TokenSettings,
    request: c.SignInRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> c.SignInResponse:
    email_key = normalize_email(request.email)
    pair, account = pair_key(email_key, source or "unknown"), account_key(email_key)
    with db.unit_of_work() as uow:  # read, commit; the slow hash runs outside any transaction
        repos = Repositories(uow.connection)
        reserved = _reserve_attempt(repos, pair, account, uow.clock.now(), policy)
        person = repos.persons.by_email_key(email_key)
        tenant = _tenant_named(repos, request.tenant)
        membership = (
            repos.memberships.of_person_in(tenant.id, person.id) if tenant and person else None
        )
    # An unknown email verifies a dummy hash: it costs what a wrong password costs.
    if not passwords.verify(person.password_hash if person else None, request.password):
        with db.unit_of_work() as uow:  # the attempt was counted when it was reserved
            repos = Repositories(uow.connection)
            now = uow.clock.now()
            if person is not None:  # the person's own history shows the attempt
                repos.sign_ins.add(person.id, "failed", tenant.id if tenant else None, source, now)
            audit(
                uow,
                "sign_in.failed",
                None,
                None,
                person.id if person else None,
                source=source,
                known_account=person is not None,
            )
        raise Unauthenticated("The email or password is incorrect.", reason="INVALID_CREDENTIALS")
    assert person is not None and person.password_hash is not None
    # Said only to someone who knows the password, whether or not the tenant exists.
    _check_entry(request.tenant, tenant, membership)
    rehashed = (
        passwords.hash(request.password) if passwords.needs_rehash(person.password_hash) else None
    )
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        if rehashed is not None:  # made with older parameters: today's from now on
            repos.persons.set_password(person.id, rehashed, now)
        _refund_attempt(repos, reserved, now)
        repos.throttle.clear(pair)
        repos.throttle.prune(now - timedelta(days=1))
        factor = repos.mfa.factor(person.id)
        enrolled = factor is not None and factor.confirmed_at is not None
        # An operator reset the authenticator: a new one is enrolled, whatever the policy.
        reset = factor is not None and not enrolled and factor.reset_at is not None
        if enrolled or reset or _mfa_needed(person, tenant, membership):
            # A second step: a code, or (the policy requires one) enrolling an authenticator.
            challenge = mfa.Challenge.issue(
                person_id=person.id,
                tenant_id=tenant.id if tenant else None,
                purpose=mfa.Purpose.VERIFY if enrolled else mfa.Purpose.ENROL,
                now=now,
            )
            repos.mfa.add_challenge(challenge)
            return c.SignInResponse(
                person_id=person.id,
                tenant_id=tenant.id if tenant else "",
                next_step="verify_mfa" if enrolled else "enrol_mfa",
                challenge=challenge.token,
                challenge_expires_at=challenge.expires_at,
            )
        refresh = _start_session(repos, tokens, person.id, tenant, [mfa.PASSWORD], source, now)
    return _grant(db, keys, tokens, person, tenant, membership, refresh)


def _start_session(
    repos: Repositories,
    tokens: TokenSettings,
    person_id: str,
    tenant: Tenant | None,
    amr: list[str],
    source: str,
    now: datetime,
) -> RefreshToken:
    """A completed sign-in: recorded in the person's history, and a new session."""
    repos.sign_ins.add(person_id, "succeeded", tenant.id if tenant else None, source, now)
    repos.refresh_tokens.prune_person(person_id, now - timedelta(days=1))
    refresh = RefreshToken.issue(
        person_id=person_id,
        tenant_id=tenant.id if tenant else None,
        amr=amr,
        now=now,
        ttl=tokens.refresh_ttl,
    )
    repos.refresh_tokens.add(refresh)
    return refresh


def _mfa_needed(person: Person, tenant: Tenant | None, membership: Membership | None) -> bool:
    return mfa.mfa_required(
        platform_admin=person.platform_admin,
        entering_tenant=tenant is not None,
        roles=membership.roles if membership else (),
        required_roles=tenant.mfa_required_roles if tenant else (),
    )


def _require_mfa_if_needed(
    amr: list[str], person: Person, tenant: Tenant | None, membership: Membership | None
) -> None:
    if mfa.MFA not in amr and _mfa_needed(person, tenant, membership):
        raise PermissionDenied(
            "Entering here needs a sign-in with your authenticator: sign in again.",
            reason="MFA_REQUIRED",
        )


# ---------------------------------------------------------------- multi-factor sign-in


def _challenge(
    repos: Repositories, token: str, purpose: mfa.Purpose, now: datetime
) -> mfa.Challenge:
    parsed = parse_secret_token(token, mfa.CHALLENGE_PREFIX)
    held = repos.mfa.challenge_for_update(parsed[0]) if parsed else None
    if (
        held is None
        or parsed is None
        or not held.matches(parsed[1])
        or held.purpose != purpose.value
    ):
        raise Unauthenticated(
            "This sign-in step is not valid; sign in again.", reason="CHALLENGE_INVALID"
        )
    if not held.usable(now):
        raise Unauthenticated(
            "This sign-in step has expired or was used; sign in again.",
            reason="CHALLENGE_EXPIRED",
        )
    return held


def _mfa_throttle(repos: Repositories, person_id: str, now: datetime) -> Any:
    """The person's code counter (whatever the challenge): guessing codes is slowed like
    guessing passwords, and a wait applies to every further code."""
    key = account_key("mfa\n" + person_id)
    counter = repos.throttle.locked([key], now)[key]
    wait = counter.wait(now)
    if wait > timedelta(0):
        raise throttled(wait)
    return counter


def _code_refused(
    uow: UnitOfWork,
    challenge: mfa.Challenge,
    counter: Any,
    policy: ThrottlePolicy,
    source: str,
    replayed: bool,
) -> DomainError:
    """Counts a wrong code (the challenge dies after a few) and says so after the commit."""
    repos = Repositories(uow.connection)
    now = uow.clock.now()
    challenge.failures += 1
    repos.mfa.save_challenge(challenge)
    counter.fail(now, policy.pair, policy.window)
    repos.throttle.save([counter])
    repos.sign_ins.add(challenge.person_id, "failed", challenge.tenant_id, source, now)
    audit(uow, "mfa.failed", None, None, challenge.person_id, source=source, replayed=replayed)
    if replayed:
        return Unauthenticated(
            "This code was already used; wait for the next one.", reason="MFA_CODE_REUSED"
        )
    return Unauthenticated("This code is not valid.", reason="MFA_CODE_INVALID")


def _entry_after_code(
    repos: Repositories, challenge: mfa.Challenge
) -> tuple[Person, Tenant | None, Membership | None]:
    """The person and where they asked to go, read again: things may have changed since the
    password step."""
    person = repos.persons.get(challenge.person_id)
    assert person is not None
    tenant = repos.tenants.get(challenge.tenant_id) if challenge.tenant_id else None
    membership = repos.memberships.of_person_in(tenant.id, person.id) if tenant else None
    _check_entry(challenge.tenant_id or "", tenant, membership)
    return person, tenant, membership


def verify_mfa(
    db: WorkerDatabase,
    keys: SigningKeyCache,
    tokens: TokenSettings,
    master: MasterKey,
    request: c.MfaCodeRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> c.SignInResponse:
    """The second step of a sign-in: a code from the authenticator, or a recovery code."""
    code = mfa.check_code_format(request.code)
    refused: DomainError | None = None
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        challenge = _challenge(repos, request.challenge, mfa.Purpose.VERIFY, now)
        counter = _mfa_throttle(repos, challenge.person_id, now)
        factor = repos.mfa.factor(challenge.person_id, for_update=True)
        if factor is None or factor.confirmed_at is None:
            raise Unauthenticated(
                "This sign-in step is not valid; sign in again.", reason="CHALLENGE_INVALID"
            )
        accepted, replayed, how = _check_code(uow, master, factor, code)
        if not accepted:
            refused = _code_refused(uow, challenge, counter, policy, source, replayed)
        else:
            challenge.used_at = now
            repos.mfa.save_challenge(challenge)
            repos.throttle.clear(counter.key)
            person, tenant, membership = _entry_after_code(repos, challenge)
            amr = [mfa.PASSWORD, mfa.MFA, how]
            refresh = _start_session(repos, tokens, person.id, tenant, amr, source, now)
    if refused is not None:  # raised after the commit, so that the failure counts
        raise refused
    return _grant(db, keys, tokens, person, tenant, membership, refresh)


def _check_code(
    uow: UnitOfWork, master: MasterKey, factor: Any, code: str
) -> tuple[bool, bool, str]:
    """Whether `code` (normalised) is the person's current authenticator code, never accepted
    before, or one of their unused recovery codes (then spent): (accepted, replayed, how)."""
    repos = Repositories(uow.connection)
    now = uow.clock.now()
    person_id = factor.person_id
    if mfa.is_totp_code(code):
        secret = master.unwrap(factor.sealed_secret, totp_context(person_id))
        check, step = mfa.check_totp(secret.decode(), code, now, factor.last_step)
        if check is mfa.CodeCheck.ACCEPTED:
            repos.mfa.set_last_step(person_id, step)
        return check is mfa.CodeCheck.ACCEPTED, check is mfa.CodeCheck.REPLAYED, mfa.OTP
    accepted = repos.mfa.use_recovery_code(person_id, mfa.recovery_code_hash(code), now)
    if accepted:
        audit(uow, "mfa.recovery_code_used", None, person_id, person_id)
    return accepted, False, mfa.RECOVERY


def prove_person(
    db: WorkerDatabase,
    passwords: Passwords,
    master: MasterKey,
    who: PersonClaims,
    proof: c.PersonProof,
    source: str,
    policy: ThrottlePolicy,
) -> Person:
    """Proof of the person behind a token, for a sensitive change to their account: their
    current password (counted by the sign-in throttle, like a sign-in), then, if they have an
    authenticator, a code from it or a recovery code (counted like a sign-in's code). A stolen
    access token alone changes nothing. INVALID_ARGUMENT naming the field that is wrong."""
    with db.read_only() as uow:
        person = _own_person(Repositories(uow.connection), who.person_id)
    if not password_matches(db, passwords, person, proof.current_password, source, policy):
        raise invalid(current_password="is not your current password")  # noqa: S106
    refused: DomainError | None = None
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        factor = repos.mfa.factor(person.id, for_update=True)
        if factor is None or factor.confirmed_at is None:
            return person
        if not proof.mfa_code.strip():
            raise invalid(mfa_code="is required: 6 digits from your authenticator app")
        try:
            code = mfa.check_code_format(proof.mfa_code)
        except InvalidArgument:
            raise invalid(
                mfa_code="6 digits from your authenticator app, or one of your recovery codes"
            ) from None
        now = uow.clock.now()
        counter = _mfa_throttle(repos, person.id, now)
        accepted, replayed, _ = _check_code(uow, master, factor, code)
        if accepted:
            repos.throttle.clear(counter.key)
        else:
            counter.fail(now, policy.pair, policy.window)
            repos.throttle.save([counter])
            audit(uow, "mfa.failed", None, None, person.id, source=source, replayed=replayed)
            refused = invalid(
                mfa_code="was already used; wait for the next one"
                if replayed
                else "is not your authenticator's current code"
            )
    if refused is not None:  # raised after the commit, so that the failure counts
        raise refused
    return person


def start_mfa_enrolment(
    db: WorkerDatabase,
    passwords: Passwords,
    master: MasterKey,
    caller: Caller,
    request: c.StartMfaEnrolmentRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> c.MfaChallenge:
    """A signed-in person chooses to enrol, proving it is them: a challenge for the enrolment
    methods, tied to their session (completing it starts no new one)."""
    who = access.person(caller)
    with db.read_only() as uow:
        factor = Repositories(uow.connection).mfa.factor(who.person_id)
    if factor is not None and factor.confirmed_at is not None:
        raise FailedPrecondition(
            "An authenticator is already enrolled.", reason="MFA_ALREADY_ENROLLED"
        )
    prove_person(db, passwords, master, who, request, source, policy)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        factor = repos.mfa.factor(who.person_id)
        if factor is not None and factor.confirmed_at is not None:
            raise FailedPrecondition(
                "An authenticator is already enrolled.", reason="MFA_ALREADY_ENROLLED"
            )
        challenge = mfa.Challenge.issue(
            person_id=who.person_id,
            tenant_id=who.tenant_id,
            purpose=mfa.Purpose.ENROL,
            now=uow.clock.now(),
            session_id=who.session_id or "",  # "": a token of no session, which goes on too
        )
        repos.mfa.add_challenge(challenge)
    return c.MfaChallenge(challenge=challenge.token, challenge_expires_at=challenge.expires_at)


def begin_mfa_enrolment(
    db: WorkerDatabase, master: MasterKey, request: c.MfaChallengeRef
) -> c.MfaEnrolment:
    """A new authenticator secret for the challenge's person (replacing an unfinished one)."""
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        challenge = _challenge(repos, request.challenge, mfa.Purpose.ENROL, now)
        factor = repos.mfa.factor(challenge.person_id, for_update=True)
        if factor is not None and factor.confirmed_at is not None:
            raise FailedPrecondition(
                "An authenticator is already enrolled.", reason="MFA_ALREADY_ENROLLED"
            )
        person = repos.persons.get(challenge.person_id)
        assert person is not None
        secret = mfa.new_secret()
        sealed = master.wrap(secret.encode(), totp_context(person.id))
        repos.mfa.start_factor(person.id, sealed, now)
    uri = mfa.otpauth_uri(secret, person.email)
    return c.MfaEnrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg(uri))


def qr_svg(text: str) -> str:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
    return buffer.getvalue().decode()


def complete_mfa_enrolment(
    db: WorkerDatabase,
    keys: SigningKeyCache,
    tokens: TokenSettings,
    master: MasterKey,
    request: c.MfaCodeRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> c.MfaEnrolled:
    """The first code from the new authenticator confirms it: recovery codes, and, after the
    enrolment a sign-in demanded, a session whose tokens show the second factor. An enrolment a
    signed-in person started mints no session: theirs goes on."""
    code = mfa.check_code_format(request.code)
    if not mfa.is_totp_code(code):
        raise invalid(code="6 digits from your authenticator app")
    refused: DomainError | None = None
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        challenge = _challenge(repos, request.challenge, mfa.Purpose.ENROL, now)
        counter = _mfa_throttle(repos, challenge.person_id, now)
        factor = repos.mfa.factor(challenge.person_id, for_update=True)
        if factor is None or factor.confirmed_at is not None:
            raise FailedPrecondition(
                "Start the enrolment first (BeginMfaEnrolment).", reason="MFA_NOT_STARTED"
            )
        secret = master.unwrap(factor.sealed_secret, totp_context(challenge.person_id))
        check, step = mfa.check_totp(secret.decode(), code, now, None)
        if check is not mfa.CodeCheck.ACCEPTED:
            refused = _code_refused(uow, challenge, counter, policy, source, False)
        else:
            repos.mfa.confirm_factor(challenge.person_id, step, now)
            codes = mfa.new_recovery_codes()
            repos.mfa.replace_recovery_codes(
                challenge.person_id, [mfa.recovery_code_hash(x) for x in codes], now
            )
            challenge.used_at = now
            repos.mfa.save_challenge(challenge)
            repos.throttle.clear(counter.key)
            audit(uow, "mfa.enrolled", None, challenge.person_id, challenge.person_id)
            if challenge.session_id is None:  # the second step of a sign-in
                person, tenant, membership = _entry_after_code(repos, challenge)
                amr = [mfa.PASSWORD, mfa.MFA, mfa.OTP]
                refresh = _start_session(repos, tokens, person.id, tenant, amr, source, now)
    if refused is not None:
        raise refused
    if challenge.session_id is not None:
        return c.MfaEnrolled(sign_in=None, recovery_codes=codes)
    signed_in = _grant(db, keys, tokens, person, tenant, membership, refresh)
    return c.MfaEnrolled(sign_in=signed_in, recovery_codes=codes)


def _reserve_attempt(
    repos: Repositories, pair: str, account: str, now: datetime, policy: ThrottlePolicy
) -> list[throttle.Reservation]:
    """Checks the waits and counts this attempt in one step, under the counters' row locks and
    before any password is hashed: concurrent guesses each see the ones counted before them.
    A wait refuses even the right password: guessing must not go on."""
    counters = repos.throttle.locked([pair, account], now)
    wait = max(counter.wait(now) for counter in counters.values())
    if wait > timedelta(0):
        raise throttled(wait)
    reserved = [
        throttle.reserve(counters[pair], now, policy.pair, policy.window),
        throttle.reserve(counters[account], now, policy.account, policy.window),
    ]
    repos.throttle.save(list(counters.values()))
    return reserved


def _refund_attempt(
    repos: Repositories, reserved: list[throttle.Reservation], now: datetime
) -> None:
    """A right password takes back the attempt its check counted ahead."""
    counters = repos.throttle.locked([r.key for r in reserved], now)
    for reservation in reserved:
        throttle.refund(counters[reservation.key], reservation)
    repos.throttle.save(list(counters.values()))


def password_matches(
    db: WorkerDatabase,
    passwords: Passwords,
    person: Person,
    password: str,
    source: str,
    policy: ThrottlePolicy,
) -> bool:
    """A password check outside sign-in (accepting an invitation with an existing account,
    changing the password, erasing one's data): the same counters as sign-in's, so that none of
    them is a way round its throttling."""
    pair, account = pair_key(person.email_key, source or "unknown"), account_key(person.email_key)
    with db.unit_of_work() as uow:
        reserved = _reserve_attempt(
            Repositories(uow.connection), pair, account, uow.clock.now(), policy
        )
    if passwords.verify(person.password_hash, password):
        with db.unit_of_work() as uow:
            _refund_attempt(Repositories(uow.connection), reserved, uow.clock.now())
        return True
    with db.unit_of_work() as uow:  # the attempt was counted when it was reserved
        audit(uow, "password.failed", None, None, person.id, source=source)
    return False


def _retry_seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))


def throttled(
    wait: timedelta, what: str = "sign-in attempts", reason: str = "SIGN_IN_THROTTLED"
) -> ResourceExhausted:
    seconds = _retry_seconds(wait)
    return ResourceExhausted(
        f"Too many {what}; try again in {seconds} s.",
        reason=reason,
        metadata={"retry_after_seconds": str(seconds)},
    )


def refresh(
    db: WorkerDatabase, keys: SigningKeyCache, tokens: TokenSettings, request: c.RefreshRequest
) -> c.SignInResponse:
    """Trades a refresh token for a new pair, for the same tenant or (`tenant`) another one of
    the person's. The person's current roles and state are read again: a deactivated member, a
    suspended tenant or a revoked session gets nothing."""
    parsed = parse_secret_token(request.refresh_token)
    refused: DomainError | None = None
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        held = repos.refresh_tokens.get_for_update(parsed[0]) if parsed else None
        if held is None or parsed is None or not held.matches(parsed[1]):
            raise Unauthenticated("This session is not valid.", reason="REFRESH_TOKEN_INVALID")
        verdict = judge(held, now, tokens.refresh_grace)
        if verdict is Verdict.REUSED:
            # A token used twice was copied: end the session for whoever holds it.
            repos.refresh_tokens.revoke_family(held.family_id, now)
            audit(uow, "session.reuse_detected", None, None, held.person_id)
            refused = Unauthenticated(
                "This session was ended because its token was used twice; sign in again.",
                reason="REFRESH_TOKEN_REUSED",
            )
        elif verdict is Verdict.REVOKED:
            raise Unauthenticated("This session has ended; sign in again.", reason="SESSION_ENDED")
        elif verdict is Verdict.EXPIRED:
            raise Unauthenticated(
                "This session has expired; sign in again.", reason="SESSION_EXPIRED"
            )
        else:
            person = repos.persons.get(held.person_id)
            assert person is not None
            tenant = _tenant_named(repos, request.tenant) if request.tenant else None
            if tenant is None and not request.tenant and held.tenant_id:
                tenant = repos.tenants.get(held.tenant_id)
            membership = repos.memberships.of_person_in(tenant.id, person.id) if tenant else None
            try:
                _check_entry(request.tenant or held.tenant_id or "", tenant, membership)
                _require_mfa_if_needed(held.amr, person, tenant, membership)
            except DomainError as exc:
                if not request.tenant:  # the session's own tenant is closed to them now
                    repos.refresh_tokens.revoke_family(held.family_id, now)
                refused = exc
            else:
                if verdict is Verdict.ROTATE:
                    repos.refresh_tokens.mark_used(held, now)
                successor = held.successor(
                    now, tokens.refresh_ttl, tenant_id=tenant.id if tenant else None
                )
                repos.refresh_tokens.add(successor)
    if refused is not None:  # raised after the commit, so that the revocation holds
        raise refused
    return _grant(db, keys, tokens, person, tenant, membership, successor)


def sign_out(db: WorkerDatabase, request: c.SignOutRequest) -> Empty:
    """Ends the session the refresh token belongs to, and its access tokens at once (revoked
    by session id). Unknown sessions: nothing to do."""
    parsed = parse_secret_token(request.refresh_token)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        held = repos.refresh_tokens.get_for_update(parsed[0]) if parsed else None
        if held is not None and parsed is not None and held.matches(parsed[1]):
            repos.refresh_tokens.revoke_family(held.family_id, uow.clock.now())
            revoke_access(
                uow,
                c.AccessRevocationReason.SIGNED_OUT,
                person_id=held.person_id,
                session_id=held.family_id,
            )
    return Empty()


def _end_other_sessions(
    uow: UnitOfWork, person_id: str, keep: str | None, reason: c.AccessRevocationReason
) -> int:
    """Every session of the person but `keep` ends, with its access tokens (a password or email
    change: whoever else was signed in is out, the device it was made on stays in)."""
    ended = Repositories(uow.connection).refresh_tokens.revoke_person(
        person_id, uow.clock.now(), keep_family=keep
    )
    revoke_access(uow, reason, person_id=person_id, except_session_id=keep)
    return ended


def sign_out_everywhere(db: WorkerDatabase, caller: Caller) -> c.SignOutEverywhereResponse:
    person_id = access.person(caller).person_id
    with db.unit_of_work() as uow:
        ended = Repositories(uow.connection).refresh_tokens.revoke_person(
            person_id, uow.clock.now()
        )
        revoke_access(uow, c.AccessRevocationReason.SIGNED_OUT_EVERYWHERE, person_id=person_id)
    return c.SignOutEverywhereResponse(sessions_ended=ended)


def list_my_sign_ins(
    db: WorkerDatabase, caller: Caller, request: c.ListMySignInsRequest
) -> c.ListMySignInsResponse:
    """The caller's own sign-ins and failed attempts, newest first (90 days). Nobody else's:
    tenant admins never see employees' sign-ins."""
    who = access.person(caller)
    with db.read_only() as uow:
        rows, nxt = Repositories(uow.connection).sign_ins.page(
            who.person_id, request.effective_page_size(), request.page_token
        )
    return c.ListMySignInsResponse(
        sign_ins=[
            c.SignInRecord(
                time=r["created_at"],
                outcome=r["outcome"],
                tenant_id=r["tenant_id"] or "",
                source=r["source"],
            )
            for r in rows
        ],
        next_page_token=nxt,
    )


def export_personal_data(db: WorkerDatabase, caller: Caller) -> c.PersonalDataExport:
    """Everything identity keeps about the caller (the personal-data contract): the account,
    memberships, sessions, sign-in history and audit entries about them. Never a secret:
    no password hash, token hash or link."""
    who = access.person(caller)
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        person = _own_person(repos, who.person_id)
        memberships = repos.memberships.of_person(person.id)
        sessions = repos.refresh_tokens.sessions_of(person.id)
        sign_ins = repos.sign_ins.all_of(person.id)
        audit_rows = repos.audit.about(person.id, [m.id for m, _ in memberships])
        second_factor = repos.mfa.summary(person.id)
        now = uow.clock.now()
    data = {
        "person": person_view(person).model_dump(mode="json"),
        "memberships": [
            {
                "member_id": m.id,
                "tenant_id": t.id,
                "tenant_name": t.name,
                "invited_email": m.invited_email,
                "roles": list(m.roles),
                "status": m.status,
                "created_at": m.created_at.isoformat(),
                "updated_at": m.updated_at.isoformat(),
            }
            for m, t in memberships
        ],
        "sessions": sessions,
        "sign_ins": sign_ins,
        "audit": audit_rows,
        "mfa": second_factor,  # when the authenticator was enrolled; never its secret
    }
    return c.PersonalDataExport(service=c.SERVICE, exported_at=now, data=data)


def _tenant_named(repos: Repositories, name: str) -> Tenant | None:
    if not name:
        return None
    return repos.tenants.get(name) or repos.tenants.by_slug(name)


def _check_entry(asked: str, tenant: Tenant | None, membership: Membership | None) -> None:
    """May this person enter the tenant they asked for (none asked: a personal token)?"""
    if asked and (membership is None or membership.status != ACTIVE):
        raise PermissionDenied(
            "You are not an active member of this organisation.", reason="NOT_A_MEMBER"
        )
    if tenant is not None and tenant.is_suspended:
        raise PermissionDenied(
            "This organisation's access to ecoach is suspended.", reason="TENANT_SUSPENDED"
        )


def _grant(
    db: WorkerDatabase,
    keys: SigningKeyCache,
    tokens: TokenSettings,
    person: Person,
    tenant: Tenant | None,
    membership: Membership | None,
    refresh: RefreshToken,
) -> c.SignInResponse:
    token, expires = issue_access_token(
        keys.current(db),
        issuer=tokens.issuer,
        audience=tokens.audience,
        clock=db.clock,
        ttl=tokens.ttl,
        person_id=person.id,
        tenant_id=tenant.id if tenant and membership else None,
        roles=membership.roles if membership else (),
        platform_admin=person.platform_admin and tenant is None,
        locale=person.locale,
        amr=refresh.amr,
        session_id=refresh.family_id,
    )
    return c.SignInResponse(
        access_token=token,
        expires_at=expires,
        person_id=person.id,
        tenant_id=tenant.id if tenant else "",
        refresh_token=refresh.token,
        refresh_expires_at=refresh.expires_at,
    )


# ---------------------------------------------------------------- tenants


def create_tenant(db: WorkerDatabase, caller: Caller, request: c.CreateTenantRequest) -> c.Tenant:
    access.require_operator(caller)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        tenant = Tenant.create(request.name, request.slug, uow.clock.now())
        if repos.tenants.by_slug(tenant.slug):
            raise AlreadyExists("A tenant already uses this slug.", reason="TENANT_SLUG_TAKEN")
        repos.tenants.add(tenant)
        uow.record(tenant_created(tenant))
        audit(uow, "tenant.created", tenant.id, access.person(caller).person_id, tenant.id)
    return tenant_view(tenant)


def get_tenant(db: WorkerDatabase, caller: Caller, request: c.TenantRef) -> c.Tenant:
    access.require_tenant_visible(caller, request.tenant_id)
    with db.read_only() as uow:
        tenant = Repositories(uow.connection).tenants.get(request.tenant_id)
    if tenant is None:
        raise access.tenant_not_found()
    return tenant_view(tenant)


def list_tenants(
    db: WorkerDatabase, caller: Caller, request: c.ListTenantsRequest
) -> c.ListTenantsResponse:
    access.require_operator(caller)
    with db.read_only() as uow:
        rows, nxt = Repositories(uow.connection).tenants.page(
            request.effective_page_size(), request.page_token
        )
    return c.ListTenantsResponse(tenants=[tenant_view(t) for t in rows], next_page_token=nxt)


def get_tenant_settings(
    db: WorkerDatabase, caller: Caller, request: c.TenantRef
) -> c.TenantSettings:
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        _standing(repos, caller, request.tenant_id).require_admin()
        tenant = repos.tenants.get(request.tenant_id)
        if tenant is None:
            raise access.tenant_not_found()
        return settings_view(tenant, repos.memberships.seats_used(tenant.id))


def update_tenant_settings(
    db: WorkerDatabase, caller: Caller, request: c.UpdateTenantSettingsRequest
) -> c.TenantSettings:
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        standing = _standing(repos, caller, request.tenant_id)
        standing.require_admin()
        unknown = sorted(set(request.update_mask) - set(c.TENANT_SETTINGS_FIELDS))
        if unknown:
            raise invalid(
                update_mask=Problem("unknown fields: %(unknown)s", unknown=", ".join(unknown))
            )
        if "seats" in request.update_mask:
            access.require_operator(caller)  # seats are what the organisation bought
        tenant = repos.tenants.get_for_update(request.tenant_id)
        if tenant is None:
            raise access.tenant_not_found()
        changes: dict[str, Any] = {f: getattr(request, f) for f in request.update_mask}
        if "mfa_required_roles" in changes:
            changes["mfa_required_roles"] = [r.value for r in request.mfa_required_roles]
        tenant.update_settings(changes)
        repos.tenants.save(tenant)
        audit(
            uow,
            "tenant.settings_changed",
            tenant.id,
            standing.who.person_id,
            tenant.id,
            fields=sorted(changes),
        )
        return settings_view(tenant, repos.memberships.seats_used(tenant.id))


def suspend_tenant(db: WorkerDatabase, caller: Caller, request: c.TenantRef) -> c.Tenant:
    return _tenant_status(db, caller, request, suspend=True)


def reinstate_tenant(db: WorkerDatabase, caller: Caller, request: c.TenantRef) -> c.Tenant:
    return _tenant_status(db, caller, request, suspend=False)


def _tenant_status(
    db: WorkerDatabase, caller: Caller, request: c.TenantRef, *, suspend: bool
) -> c.Tenant:
    access.require_operator(caller)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        tenant = repos.tenants.get_for_update(request.tenant_id)
        if tenant is None:
            raise access.tenant_not_found()
        who = access.person(caller).person_id
        audit(
            uow, "tenant.suspended" if suspend else "tenant.reinstated", tenant.id, who, tenant.id
        )
        if suspend:
            was_suspended = tenant.is_suspended
            tenant.suspend(uow.clock.now())
            if not was_suspended:
                revoke_access(uow, c.AccessRevocationReason.TENANT_SUSPENDED, tenant_id=tenant.id)
        else:
            tenant.reinstate()
        repos.tenants.save(tenant)
    return tenant_view(tenant)


# ---------------------------------------------------------------- members


def _standing(repos: Repositories, caller: Caller, tenant_id: str) -> access.Standing:
    """The caller's powers in `tenant_id`; another tenant's ids are not found, not forbidden."""
    who = access.require_tenant_visible(caller, tenant_id)
    own = None if who.is_operator else repos.memberships.of_person_in(tenant_id, who.person_id)
    return access.Standing(who, own)


def add_member(
    db: WorkerDatabase, links: LinkSettings, caller: Caller, request: c.AddMemberRequest
) -> c.AddMemberResponse:
    access.require_tenant_visible(caller, request.tenant_id)
    email = check_email(request.email)
    roles = check_roles([r.value for r in request.roles])
    if request.time_zone is not None:
        check_time_zone(request.time_zone)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        _standing(repos, caller, request.tenant_id).require_admin()
        tenant = repos.tenants.get_for_update(request.tenant_id)  # serialises seat counting
        if tenant is None:
            raise access.tenant_not_found()
        inviter = _Inviter(uow, repos, links, tenant, [email])
        inviter.actor = access.person(caller).person_id
        membership, outcome = inviter.invite(
            email, roles, request.display_name, request.locale, request.time_zone
        )
        if outcome == ALREADY_MEMBER:
            raise AlreadyExists("This person is already a member.", reason="ALREADY_MEMBER")
        inviter.write()
    if membership.id in inviter.held:  # committed: the membership stays, pending, unmailed
        raise too_many_invitations(inviter.held[membership.id], added=membership.id)
    return c.AddMemberResponse(
        member_id=membership.id,
        tenant_id=membership.tenant_id,
        email=email,
        roles=[c.Role(r) for r in membership.roles],
    )


ADDED, ALREADY_INVITED, ALREADY_MEMBER = "added", "already_invited", "already_member"

# Invitation mails one tenant may send one address in a window (AddMember, ImportMembers,
# ResendInvitation): enough for a lost mail, too few to make ecoach a way to flood someone's
# inbox. Beyond, the membership is still recorded, pending, the admin is told, and resends the
# invitation later. The count is the tenant's own: telling an admin how often other
# organisations invited an address would tell them who else works with that person.
INVITATIONS_PER_WINDOW = 5
# All tenants together (several admins flooding one inbox): beyond this the invitation is
# recorded but silently not mailed (an error would reveal the other tenants' invitations). Only
# operators create tenants, so this is a backstop, not the first line.
INVITATIONS_PER_WINDOW_ALL_TENANTS = 20
INVITATIONS_WINDOW = timedelta(hours=24)


def too_many_invitations(wait: timedelta, added: str = "") -> ResourceExhausted:
    """RESOURCE_EXHAUSTED TOO_MANY_INVITATIONS, with the wait (and the member id, when the
    membership was recorded all the same)."""
    seconds = _retry_seconds(wait)
    done = "The member was added, but their " if added else "The "
    return ResourceExhausted(
        f"{done}invitation email was not sent: this organisation has sent this address "
        f"{INVITATIONS_PER_WINDOW} invitations in the last "
        f"{int(INVITATIONS_WINDOW.total_seconds() // 3600)} hours. "
        f"Resend the invitation in {seconds} s.",
        reason="TOO_MANY_INVITATIONS",
        metadata={"retry_after_seconds": str(seconds), **({"member_id": added} if added else {})},
    )


class _Inviter:
    """Invites people into one tenant (locked by the caller) within the caller's transaction,
    one person or a whole file alike: a new email creates the person (without a password);
    either way the membership is pending until they accept with the emailed link. It reads what
    it needs in a few statements up front, decides row by row in memory (a refused row leaves
    nothing behind), and `write` adds everything in one statement per table."""

    def __init__(
        self,
        uow: UnitOfWork,
        repos: Repositories,
        links: LinkSettings,
        tenant: Tenant,
        emails: list[str],
    ) -> None:
        self.uow, self.repos, self.links, self.tenant = uow, repos, links, tenant
        self.now = uow.clock.now()
        keys = sorted({normalize_email(e) for e in emails})
        repos.persons.lock_emails(keys)  # concurrent additions of one email are serialised
        self.persons = repos.persons.by_email_keys(keys)
        self.memberships = repos.memberships.of_persons_in(
            tenant.id, [p.id for p in self.persons.values()]
        )
        self.seats_used = repos.memberships.seats_used(tenant.id)
        # Invitations already mailed to these people, by this tenant and by all (the caps).
        known, since = [p.id for p in self.persons.values()], self.now - INVITATIONS_WINDOW
        self.invited_here = repos.links.issued_since_to_many(
            known, INVITATION, since, tenant_id=tenant.id
        )
        self.invited = repos.links.issued_since_to_many(known, INVITATION, since)
        self.held: dict[str, timedelta] = {}  # member id -> wait: added, but not mailed
        self.link_key = _link_key(repos, links.master, self.now)
        self.new_persons: list[Person] = []
        self.new_memberships: list[Membership] = []
        self.new_links: list[PersonLink] = []
        self.events: list[Any] = []
        self.actor: str | None = None  # who invites, for the audit log

    def invite(
        self,
        email: str,
        roles: tuple[str, ...],
        display_name: str,
        locale: str | None,
        time_zone: str | None,
    ) -> tuple[Membership, str]:
        key = normalize_email(email)
        person = self.persons.get(key)
        existing = self.memberships.get(person.id) if person else None
        if existing is not None:
            # Adding again while pending answers the same.
            return existing, ALREADY_INVITED if existing.status == PENDING else ALREADY_MEMBER
        self.tenant.check_seat_for_one_more(self.seats_used)
        created = person is None
        if person is None:
            person = Person.create(
                email=email,
                display_name=display_name,
                locale=locale or self.tenant.default_locale,
                time_zone=time_zone or self.tenant.default_time_zone,
                now=self.now,
            )
        membership = Membership.pending_for(self.tenant.id, person, email, roles, self.now)
        if created:
            self.persons[key] = person
            self.new_persons.append(person)
        self.memberships[person.id] = membership
        self.new_memberships.append(membership)
        self.events.append(membership_changed(membership, "pending"))
        self.seats_used += 1
        here = self.invited_here.setdefault(person.id, [])
        everywhere = self.invited.setdefault(person.id, [])
        wait = throttle.wait_for_cap(here, INVITATIONS_PER_WINDOW, INVITATIONS_WINDOW, self.now)
        if wait > timedelta(0):
            self.held[membership.id] = wait  # recorded; ResendInvitation mails it later
            return membership, ADDED
        if _flooded(everywhere, self.now):
            return membership, ADDED  # recorded, silently unmailed: see the cap's comment
        link, issued = _invitation_link(self.link_key, self.links, membership, self.now)
        self.new_links.append(link)
        self.events.append(issued)
        here.append(self.now)
        everywhere.append(self.now)
        return membership, ADDED

    def write(self) -> None:
        self.repos.persons.add_many(self.new_persons)
        self.repos.memberships.add_many(self.new_memberships)
        self.repos.links.add_many(self.new_links)
        self.uow.record_many(self.events)
        self.repos.audit.add_many(
            [
                _audit_row(self.now, "member.pending", m.tenant_id, self.actor, m.id)
                for m in self.new_memberships
            ]
        )


def _flooded(sent: list[datetime], now: datetime) -> bool:
    """All tenants together have mailed this address as many invitations as one day allows."""
    cap = INVITATIONS_PER_WINDOW_ALL_TENANTS
    return throttle.wait_for_cap(sent, cap, INVITATIONS_WINDOW, now) > timedelta(0)


def _invitation_link(
    link_key: bytes, links: LinkSettings, membership: Membership, now: datetime
) -> tuple[PersonLink, c.InvitationIssued]:
    """A new invitation link for a pending membership and the event after which it is mailed
    (identity's own handler of identity.invitation_issued); only its hash is stored."""
    link = PersonLink.new(
        INVITATION, membership.person_id, now, links.invitation_ttl, detail=membership.id
    )
    link.token_hash = token_hash(derive_link_token(link_key, link.purpose, link.id, link.nonce))
    issued = c.InvitationIssued(
        link_id=link.id,
        member_id=membership.id,
        tenant_id=membership.tenant_id,
        person_id=membership.person_id,
        expires_at=link.expires_at,
    )
    return link, issued


def _reinvite(
    uow: UnitOfWork, repos: Repositories, links: LinkSettings, membership: Membership
) -> None:
    """Re-sending: a new link for a pending membership, and the previous one dies. Refused
    beyond the per-address cap of invitation mails (the address is locked while counting)."""
    now = uow.clock.now()
    person = repos.persons.get(membership.person_id)
    assert person is not None
    repos.persons.lock_emails([person.email_key])
    since = now - INVITATIONS_WINDOW
    here = repos.links.issued_since(person.id, INVITATION, since, tenant_id=membership.tenant_id)
    wait = throttle.wait_for_cap(here, INVITATIONS_PER_WINDOW, INVITATIONS_WINDOW, now)
    if wait > timedelta(0):
        raise too_many_invitations(wait)
    if _flooded(repos.links.issued_since(person.id, INVITATION, since), now):
        return  # the previous link stays valid; nothing tells the admin why (the cap's comment)
    repos.links.supersede_for(INVITATION, membership.id, now)
    link, issued = _invitation_link(_link_key(repos, links.master, now), links, membership, now)
    repos.links.add(link)
    uow.record(issued)


def resend_invitation(
    db: WorkerDatabase, links: LinkSettings, caller: Caller, request: c.MemberRef
) -> c.Member:
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        standing = _standing(repos, caller, request.tenant_id)
        m = _visible_member(repos, standing, request.tenant_id, request.member_id, for_update=True)
        standing.require_admin()
        if m.status != PENDING:
            raise FailedPrecondition(
                "Only a pending invitation can be sent again.", reason="NOT_PENDING"
            )
        _reinvite(uow, repos, links, m)
        audit(uow, "invitation.resent", m.tenant_id, standing.who.person_id, m.id)
        person = repos.persons.get(m.person_id)
    return member_view(m, person)


def send_invitation_mail(
    db: WorkerDatabase, links: LinkSettings, mailer: Mailer, event: c.InvitationIssued
) -> None:
    found = _live_link(db, links, event.link_id)
    if found is None:
        return
    _, person, token = found
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        membership = repos.memberships.get(event.tenant_id, event.member_id)
        tenant = repos.tenants.get(event.tenant_id)
    if membership is None or tenant is None or membership.status != PENDING:
        return  # accepted or revoked meanwhile
    mailer.send(
        membership.invited_email,
        person.locale,
        "invitation",
        name=person.display_name or membership.invited_email,
        tenant=tenant.name,
        link=f"{links.public_url.rstrip('/')}/invite/{token}",
        days=str(links.invitation_ttl.days),
    )


def accept_invitation(
    db: WorkerDatabase,
    passwords: Passwords,
    links: LinkSettings,
    common: frozenset[str],
    request: c.AcceptInvitationRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> c.AcceptInvitationResponse:
    """A new account sets its password; an existing one proves it with its current password
    (throttled like sign-in) and is never given a new one. Accepting gives no token: signing
    in, with a code if the person uses MFA, comes next."""
    with db.unit_of_work() as uow:  # read only: the slow hash runs outside any transaction
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        link = repos.links.by_token_hash(token_hash(request.token))
        if link is not None and (
            link.purpose != INVITATION
            or not hmac.compare_digest(_token(repos, links, link, now), request.token)
        ):
            link = None
        if link is None:
            raise FailedPrecondition("This link is not valid.", reason="LINK_INVALID")
        person = repos.persons.get(link.person_id)
        assert person is not None
        new_account = person.password_hash is None
        link.check_usable(now)  # used, replaced or expired: refused before anything else
    if new_account:
        check_password(
            request.password,
            email=person.email,
            display_name=person.display_name,
            common=common,
            field="password",
        )
        new_hash: str | None = passwords.hash(request.password)
    else:
        if not password_matches(db, passwords, person, request.password, source, policy):
            raise Unauthenticated("The password is incorrect.", reason="INVALID_CREDENTIALS")
        new_hash = None
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        link = repos.links.by_token_hash(token_hash(request.token))  # locked now
        assert link is not None and link.detail is not None
        link.use(now)  # a concurrent acceptance got there first: refused
        membership = repos.memberships.by_id(link.detail, for_update=True)
        if membership is None or membership.status != PENDING:
            raise FailedPrecondition("This invitation was withdrawn.", reason="LINK_REVOKED")
        before = membership.snapshot()
        membership.accept(now)
        repos.memberships.save(membership)
        what = membership.change_since(before)
        if what is not None:
            uow.record(membership_changed(membership, what))
            audit(uow, f"member.{what}", membership.tenant_id, person.id, membership.id)
        if new_hash is not None:
            repos.persons.set_password(person.id, new_hash, now)
        repos.links.mark_used(link)
    return c.AcceptInvitationResponse(
        tenant_id=membership.tenant_id,
        member_id=membership.id,
        email=person.email,
        new_account=new_account,
    )


UNMAILED = (
    "added, but the invitation was not emailed: this organisation has sent this address too "
    "many invitations in the last 24 hours; resend it later"
)


def import_members(
    db: WorkerDatabase, links: LinkSettings, caller: Caller, request: c.ImportMembersRequest
) -> c.ImportMembersResponse:
    """A CSV of people, in one transaction: every good row added, every bad one reported with
    its line; rows already in the tenant are reported, never added twice."""
    access.require_tenant_visible(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        _standing(repos, caller, request.tenant_id).require_admin()
        try:
            data = base64.b64decode(request.csv_base64, validate=True)
        except binascii.Error:
            raise invalid(csv="is not base64") from None
        rows, rejected = parse_roster(data)
        tenant = repos.tenants.get_for_update(request.tenant_id)
        if tenant is None:
            raise access.tenant_not_found()
        counts = {ADDED: 0, ALREADY_MEMBER: 0, ALREADY_INVITED: 0}
        report = [c.RejectedRow(line=r.line, email=r.email, reason=r.reason) for r in rejected]
        inviter = _Inviter(uow, repos, links, tenant, [row.email for row in rows])
        inviter.actor = access.person(caller).person_id
        held = 0
        for row in rows:
            try:
                membership, outcome = inviter.invite(
                    row.email, row.roles, row.name, row.locale, row.time_zone
                )
            except DomainError as exc:
                report.append(c.RejectedRow(line=row.line, email=row.email, reason=exc.message))
                continue
            counts[outcome] += 1
            if outcome != ADDED:
                reason = "already invited" if outcome == ALREADY_INVITED else "already a member"
                report.append(c.RejectedRow(line=row.line, email=row.email, reason=reason))
            elif membership.id in inviter.held:
                held += 1
                report.append(c.RejectedRow(line=row.line, email=row.email, reason=UNMAILED))
        inviter.write()
    refused = len(report) - counts[ALREADY_MEMBER] - counts[ALREADY_INVITED] - held
    return c.ImportMembersResponse(
        added=counts[ADDED],
        already_members=counts[ALREADY_MEMBER],
        already_invited=counts[ALREADY_INVITED],
        rejected=refused,
        rows=sorted(report, key=lambda r: r.line),
    )


def _visible_member(
    repos: Repositories,
    standing: access.Standing,
    tenant_id: str,
    member_id: str,
    *,
    for_update: bool = False,
) -> Membership:
    m = repos.memberships.get(tenant_id, member_id, for_update=for_update)
    if m is None or not standing.may_read_member(m.person_id):
        raise access.member_not_found()
    return m


def get_member(db: WorkerDatabase, caller: Caller, request: c.MemberRef) -> c.Member:
    who = access.require_tenant_visible(caller, request.tenant_id)
    with db.read_only() as uow:
        found = Repositories(uow.connection).memberships.get_for_caller(
            request.tenant_id, request.member_id, "" if who.is_operator else who.person_id
        )
    if found is None:
        raise access.member_not_found()
    member, person, caller_status, caller_roles = found
    standing = access.Standing.of(who, caller_status, caller_roles)
    if not standing.may_read_member(member.person_id) and not _coaches(
        db, standing, request.tenant_id, member.person_id
    ):
        raise access.member_not_found()
    return member_view(member, person)


def _coaches(db: WorkerDatabase, standing: access.Standing, tenant_id: str, person_id: str) -> bool:
    """A coach reads the profile of the people they coach or co-coach here (links kept from
    the spaces service's events); another coach does not."""
    if not standing.active:
        return False
    with db.read_only() as uow:
        return Repositories(uow.connection).coach_links.coaches(
            tenant_id, standing.who.person_id, person_id
        )


def list_my_coachees(
    db: WorkerDatabase, caller: Caller, request: c.TenantRef
) -> c.ListMembersResponse:
    """The members the caller coaches or co-coaches in the token's tenant (their profiles)."""
    who = access.require_tenant_visible(caller, request.tenant_id)
    with db.read_only() as uow:
        found = Repositories(uow.connection).coach_links.coachees_of(
            request.tenant_id, who.person_id
        )
    return c.ListMembersResponse(members=[member_view(m, p) for m, p in found])


def get_space_coaches(db: WorkerDatabase, caller: Caller, request: c.SpaceRef) -> c.SpaceCoaches:
    """The names (only: no email) of an opened space's coach and co-coach, for the people of
    that space: its coachee, coach and co-coach, as identity last learnt them from the spaces
    events. Anyone else (HR, another coach or coachee, a former coach, an operator), and
    everyone while the space is a draft, which links nobody: NOT_FOUND."""
    who = access.require_tenant_visible(caller, request.tenant_id)
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        link = repos.coach_links.of_space(request.tenant_id, request.space_id)
        if link is None or who.person_id not in (
            link.coachee_person_id,
            link.coach_person_id,
            link.co_coach_person_id,
        ):
            raise NotFound("No such space.", reason="SPACE_NOT_FOUND")
        people = repos.persons.many(
            [p for p in (link.coach_person_id, link.co_coach_person_id) if p]
        )

    def name(person_id: str) -> c.CoachName:
        person = people.get(person_id)
        shown = person.display_name if person is not None and person.erased_at is None else ""
        return c.CoachName(person_id=person_id, display_name=shown)

    return c.SpaceCoaches(
        tenant_id=request.tenant_id,
        space_id=request.space_id,
        coach=name(link.coach_person_id),
        co_coach=name(link.co_coach_person_id) if link.co_coach_person_id else None,
    )


def record_space(uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
    """A space's set-up and status from spaces' events: who coaches whom (never from a
    draft: `CoachLinks` reads the status)."""
    Repositories(uow.connection).coach_links.apply(
        {
            "space_id": event.space_id,
            "tenant_id": event.tenant_id,
            "coachee_person_id": event.coachee_person_id,
            "coach_person_id": event.coach_person_id,
            "co_coach_person_id": event.co_coach_person_id,
            "sequence": envelope.sequence,
            "status": event.status.value,
        }
    )


def list_members(
    db: WorkerDatabase, caller: Caller, request: c.ListMembersRequest
) -> c.ListMembersResponse:
    """Admins' list of the tenant's members, searched: one indexed scan of the tenant's
    memberships joined to their persons, names and emails compared in clear (they are contact
    details, not free text encrypted at rest; names through their folded `name_key`)."""
    found = MemberSearch.of(
        request.query,
        request.role.value if request.role else "",
        request.status.value if request.status else "",
    )
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        _standing(repos, caller, request.tenant_id).require_admin()
        rows, nxt = repos.memberships.search(
            request.tenant_id, found, request.effective_page_size(), request.page_token
        )
    return c.ListMembersResponse(members=[member_view(m, p) for m, p in rows], next_page_token=nxt)


UPDATABLE_MEMBER_FIELDS = frozenset({"roles"})


def update_member(db: WorkerDatabase, caller: Caller, request: c.UpdateMemberRequest) -> c.Member:
    def change(m: Membership, standing: access.Standing, now: datetime) -> None:
        # Checked after the caller's rights, so a stranger learns nothing from a bad mask.
        unknown = sorted(set(request.update_mask) - UPDATABLE_MEMBER_FIELDS)
        if unknown:
            raise invalid(
                update_mask=Problem(
                    "only 'roles' can be updated, not %(unknown)s", unknown=", ".join(unknown)
                )
            )
        if m.person_id == standing.who.person_id:  # nobody grants themselves a way to content
            raise PermissionDenied(
                "You cannot change the roles of your own membership; ask another administrator.",
                reason="SELF_ROLE_CHANGE",
            )
        m.change_roles(check_roles([r.value for r in request.roles]), now)

    return _change_member(db, caller, request.tenant_id, request.member_id, change)


def deactivate_member(db: WorkerDatabase, caller: Caller, request: c.MemberRef) -> c.Member:
    """Also withdraws a pending invitation: its link stops working."""

    def change(m: Membership, standing: access.Standing, now: datetime) -> None:
        if m.status == PENDING:
            Repositories(db.connection).links.supersede_for(INVITATION, m.id, now)
        if m.person_id == standing.who.person_id:
            raise PermissionDenied(
                "You cannot deactivate your own membership; ask another administrator.",
                reason="SELF_DEACTIVATION",
            )
        m.deactivate(now)

    return _change_member(db, caller, request.tenant_id, request.member_id, change)


def reactivate_member(db: WorkerDatabase, caller: Caller, request: c.MemberRef) -> c.Member:
    def change(m: Membership, standing: access.Standing, now: datetime) -> None:
        if m.status == DEACTIVATED:  # reactivating takes a seat again
            repos = Repositories(db.connection)
            tenant = repos.tenants.get_for_update(m.tenant_id)
            assert tenant is not None
            tenant.check_seat_for_one_more(repos.memberships.seats_used(tenant.id))
        m.reactivate(now)

    return _change_member(db, caller, request.tenant_id, request.member_id, change)


def _change_member(
    db: WorkerDatabase,
    caller: Caller,
    tenant_id: str,
    member_id: str,
    change: Callable[[Membership, access.Standing, datetime], None],
) -> c.Member:
    """Load the member the caller may see, require admin rights, apply `change`, save."""
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        standing = _standing(repos, caller, tenant_id)
        m = _visible_member(repos, standing, tenant_id, member_id, for_update=True)
        standing.require_admin()
        before = m.snapshot()
        change(m, standing, uow.clock.now())
        repos.memberships.save(m)
        what = m.change_since(before)
        if what is not None:
            uow.record(membership_changed(m, what))
            audit(uow, f"member.{what}", m.tenant_id, standing.who.person_id, m.id)
        if what in _REVOKING_CHANGES and before[0] != PENDING:  # a pending one has no tokens
            revoke_access(
                uow, _REVOKING_CHANGES[what], person_id=m.person_id, tenant_id=m.tenant_id
            )
        if what == "deactivated":  # their sessions there end too: back only by signing in
            repos.refresh_tokens.revoke_membership(m.person_id, m.tenant_id, uow.clock.now())
        person = repos.persons.get(m.person_id)
    return member_view(m, person)


# Membership changes after which the tokens already issued for that membership stop working.
_REVOKING_CHANGES = {
    "deactivated": c.AccessRevocationReason.DEACTIVATED,
    "roles_changed": c.AccessRevocationReason.ROLES_CHANGED,
}


def revoke_access(
    uow: UnitOfWork,
    reason: c.AccessRevocationReason,
    *,
    person_id: str | None = None,
    tenant_id: str | None = None,
    session_id: str | None = None,
    except_session_id: str | None = None,
) -> None:
    """Records a revocation and its broadcast in the unit of work (rule 5): from the commit on,
    every process refuses the access tokens issued before now to the person (in the tenant, if
    given; of one session, or of all but one, if given), or to everyone in the tenant."""
    event = c.AccessRevoked(
        revocation_id=new_id("rev"),
        person_id=person_id,
        tenant_id=tenant_id,
        not_before=uow.clock.now(),
        reason=reason,
        session_id=session_id,
        except_session_id=except_session_id,
    )
    repos = Repositories(uow.connection)
    # Processes fetch one access-token lifetime back; a day keeps them for investigations.
    repos.revocations.prune(event.not_before - timedelta(days=1))
    repos.revocations.add(
        {
            "id": event.revocation_id,
            "person_id": person_id,
            "tenant_id": tenant_id,
            "not_before": event.not_before,
            "reason": reason.value,
            "session_id": session_id,
            "except_session_id": except_session_id,
        }
    )
    uow.record(event)
    audit(uow, "access.revoked", tenant_id, None, person_id, reason=reason.value)


# What a tenant's admins read of their tenant's audit log: administration, never sign-ins.
TENANT_AUDIT_ACTIONS = (
    "member.pending",
    "member.added",
    "member.accepted",
    "member.roles_changed",
    "member.deactivated",
    "member.reactivated",
    "member.erased",
    "invitation.resent",
    "tenant.created",
    "tenant.settings_changed",
    "tenant.suspended",
    "tenant.reinstated",
)


def _audit_row(
    now: datetime,
    action: str,
    tenant_id: str | None,
    actor: str | None,
    subject: str | None,
    **detail: Any,
) -> dict[str, Any]:
    return {
        "created_at": now,
        "action": action,
        "tenant_id": tenant_id,
        "actor_id": actor,
        "subject": subject,
        "detail": detail,
    }


def audit(
    uow: UnitOfWork,
    action: str,
    tenant_id: str | None,
    actor: str | None,
    subject: str | None,
    **detail: Any,
) -> None:
    """One audit-log row, in the transaction of the change it records (no free text)."""
    row = _audit_row(uow.clock.now(), action, tenant_id, actor, subject, **detail)
    Repositories(uow.connection).audit.add_many([row])


def _audit_view(rows: list[dict[str, Any]], nxt: str) -> c.AuditEventList:
    return c.AuditEventList(
        events=[
            c.AuditEvent(
                time=r["created_at"],
                action=r["action"],
                tenant_id=r["tenant_id"] or "",
                actor_id=r["actor_id"] or "",
                subject=r["subject"] or "",
                detail={k: str(v) for k, v in (r["detail"] or {}).items()},
            )
            for r in rows
        ],
        next_page_token=nxt,
    )


def list_tenant_audit_events(
    db: WorkerDatabase, caller: Caller, request: c.ListTenantAuditRequest
) -> c.AuditEventList:
    """A tenant's administrative events, for its admins (and operators)."""
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        _standing(repos, caller, request.tenant_id).require_admin()
        rows, nxt = repos.audit.page(
            request.effective_page_size(),
            request.page_token,
            tenant_id=request.tenant_id,
            actions=TENANT_AUDIT_ACTIONS,
        )
    return _audit_view(rows, nxt)


def list_security_events(
    db: WorkerDatabase, caller: Caller, request: c.ListSecurityEventsRequest
) -> c.AuditEventList:
    """Everything, for operators: security events (failed sign-ins, reused sessions,
    revocations), operators' own actions (tenants, keys), and every tenant's administration."""
    access.require_operator(caller)
    with db.read_only() as uow:
        rows, nxt = Repositories(uow.connection).audit.page(
            request.effective_page_size(), request.page_token, tenant_id=None, actions=None
        )
    return _audit_view(rows, nxt)


def list_access_revocations(
    db: WorkerDatabase, request: c.ListAccessRevocationsRequest
) -> c.ListAccessRevocationsResponse:
    """The revocations since `since`, for a process that starts or reconnects (rule 5)."""
    with db.read_only() as uow:
        rows = Repositories(uow.connection).revocations.since(request.since)
    return c.ListAccessRevocationsResponse(
        revocations=[
            c.AccessRevoked(
                revocation_id=r["id"],
                person_id=r["person_id"],
                tenant_id=r["tenant_id"],
                not_before=r["not_before"],
                reason=r["reason"],
                session_id=r["session_id"],
                except_session_id=r["except_session_id"],
            )
            for r in rows
        ]
    )


# ---------------------------------------------------------------- erasure (personal-data contract)

ERASURE_RECEIPT_PREFIX = "er1."


def erase_my_data(
    db: WorkerDatabase,
    passwords: Passwords,
    services: tuple[str, ...],
    caller: Caller,
    request: c.EraseMyDataRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> c.Erasure:
    """The caller erases their own data everywhere, confirming with their password. The answer
    holds a receipt, the only way left to them to follow the erasure (their account is gone)."""
    who = access.person(caller)
    with db.read_only() as uow:
        person = Repositories(uow.connection).persons.get(who.person_id)
    if person is None or person.erased_at is not None:
        raise Unauthenticated("This account no longer exists.", reason="TOKEN_INVALID")
    if not password_matches(db, passwords, person, request.current_password, source, policy):
        raise invalid(current_password="is not your current password")  # noqa: S106
    receipt = ERASURE_RECEIPT_PREFIX + secrets.token_urlsafe(32)
    erasure = _erase(db, services, person.id, "person", person.id, token_hash(receipt))
    return erasure.model_copy(update={"receipt": receipt})


def erase_person(
    db: WorkerDatabase, services: tuple[str, ...], caller: Caller, request: c.ErasePersonRequest
) -> c.Erasure:
    """An operator erases a person (a request that reached them by other means)."""
    operator = access.require_operator(caller)
    person = _person_for_operator(db, request, erased_too=True)  # erasing twice: ALREADY_ERASED
    return _erase(db, services, person.id, "operator", operator.person_id, None)


def _person_for_operator(
    db: WorkerDatabase, request: c.OperatorPersonRef, erased_too: bool = False
) -> Person:
    if bool(request.person_id) == bool(request.email):
        raise invalid(person_id="give the person's id or their email (exactly one)")
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        person = (
            repos.persons.get(request.person_id)
            if request.person_id
            else repos.persons.by_email_key(normalize_email(request.email))
        )
    if person is None or (person.erased_at is not None and not erased_too):
        raise NotFound("No such person.", reason="PERSON_NOT_FOUND")
    return person


def reset_person_mfa(
    db: WorkerDatabase, caller: Caller, request: c.ResetPersonMfaRequest
) -> c.ResetPersonMfaResponse:
    """An operator resets a person's authenticator (lost, stolen): their recovery codes are
    void, their sessions end, and their next sign-in enrols a new authenticator. Audited. Not
    one's own: another operator does it, so that a stolen operator session cannot drop the
    operator's own second factor."""
    operator = access.require_operator(caller)
    person = _person_for_operator(db, request)
    if person.id == operator.person_id:
        raise PermissionDenied(
            "Another operator must reset your own authenticator.", reason="OWN_ACCOUNT"
        )
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        factor = repos.mfa.factor(person.id, for_update=True)
        if factor is None or factor.confirmed_at is None:
            raise FailedPrecondition(
                "This person has no authenticator to reset.", reason="MFA_NOT_ENROLLED"
            )
        repos.mfa.reset(person.id, uow.clock.now())
        ended = _end_other_sessions(uow, person.id, None, c.AccessRevocationReason.MFA_RESET)
        audit(uow, "mfa.reset", None, operator.person_id, person.id)
    return c.ResetPersonMfaResponse(person_id=person.id, sessions_ended=ended)


def _erase(
    db: WorkerDatabase,
    services: tuple[str, ...],
    person_id: str,
    requested_by: str,
    actor: str,
    receipt_hash: str | None,
) -> c.Erasure:
    """Identity's part, in one transaction with the request to every other service: the account
    and its memberships are anonymised, sessions, links and sign-in history deleted, tokens
    revoked everywhere, and `identity.person_erased` recorded."""
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        person = repos.persons.get_for_update(person_id)
        if person is None:
            raise NotFound("No such person.", reason="PERSON_NOT_FOUND")
        person.erase(now)  # refuses operators and the already erased
        repos.persons.save_erased(person)
        for m, _ in repos.memberships.of_person(person.id):
            if m.status == ERASED:
                continue
            m.erase(person.email, now)
            repos.memberships.save_erased(m)
            uow.record(membership_changed(m, "erased"))
            audit(uow, "member.erased", m.tenant_id, actor, m.id)
        repos.refresh_tokens.delete_person(person.id)
        repos.links.delete_person(person.id)
        repos.sign_ins.delete_person(person.id)
        repos.mfa.delete_person(person.id)
        repos.coach_links.delete_person(person.id)
        repos.audit.forget_sources(person.id)
        revoke_access(uow, c.AccessRevocationReason.ERASED, person_id=person.id)
        erasure_id = new_id("era")
        repos.erasures.add(
            erasure_id, person.id, now, requested_by, receipt_hash, services, done=c.SERVICE
        )
        uow.record(c.PersonErased(erasure_id=erasure_id, person_id=person.id, requested_at=now))
        audit(uow, "person.erased", None, actor, person.id, erasure=erasure_id, by=requested_by)
        row = repos.erasures.get(erasure_id)
    assert row is not None
    return erasure_view(row)


def replay_erasures(
    db: WorkerDatabase, caller: Caller, request: c.ReplayErasuresRequest
) -> c.ReplayErasuresResponse:
    """After a service's database was restored from a backup taken at `since`: every erasure
    made since is published again (new event ids, so every service applies it again; erasing
    twice changes nothing), so that what the restore brought back is erased before anyone reads
    it. Identity's own restored database is replayed by erasing those people again."""
    operator = access.require_operator(caller)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        rows = repos.erasures.since(request.since)
        for row in rows:
            uow.record(
                c.PersonErased(
                    erasure_id=row.id, person_id=row.person_id, requested_at=row.created_at
                )
            )
        audit(
            uow,
            "erasure.replayed",
            None,
            operator.person_id,
            None,
            since=request.since.isoformat(),
            count=len(rows),
        )
    return c.ReplayErasuresResponse(replayed=len(rows))


def record_erasure_step(uow: UnitOfWork, service: str, event: Any) -> None:
    """Another service reported `<service>.person_erased`."""
    Repositories(uow.connection).erasures.complete_step(event.erasure_id, service, uow.clock.now())


def erasure_view(row: dict[str, Any]) -> c.Erasure:
    return c.Erasure(
        erasure_id=row["id"],
        person_id=row["person_id"],
        requested_at=row["created_at"],
        requested_by=row["requested_by"],
        completed_at=row["completed_at"],
        steps=[c.ErasureStep(**s) for s in row["steps"]],
    )


def get_erasure_status(db: WorkerDatabase, request: c.ErasureReceiptRef) -> c.Erasure:
    """Public: the receipt authenticates (the person no longer has an account)."""
    with db.read_only() as uow:
        row = Repositories(uow.connection).erasures.by_receipt(token_hash(request.receipt))
    if row is None:
        raise NotFound("No erasure has this receipt.", reason="ERASURE_NOT_FOUND")
    return erasure_view(row)


def get_erasure(db: WorkerDatabase, caller: Caller, request: c.ErasureRef) -> c.Erasure:
    access.require_operator(caller)
    with db.read_only() as uow:
        row = Repositories(uow.connection).erasures.get(request.erasure_id)
    if row is None:
        raise NotFound("No such erasure.", reason="ERASURE_NOT_FOUND")
    return erasure_view(row)


def list_erasures(
    db: WorkerDatabase, caller: Caller, request: c.ListErasuresRequest
) -> c.ErasureList:
    access.require_operator(caller)
    with db.read_only() as uow:
        rows, nxt = Repositories(uow.connection).erasures.page(
            request.effective_page_size(), request.page_token
        )
    return c.ErasureList(erasures=[erasure_view(r) for r in rows], next_page_token=nxt)


# ---------------------------------------------------------------- for other services


def resolve_members(
    db: WorkerDatabase, request: c.ResolveMembersRequest
) -> c.ResolveMembersResponse:
    """For the spaces service (its service token): the person, roles and status behind member
    ids of one tenant (and whether the person is an operator), so that a space's coachee and
    coaches are checked when it is set up. Unknown ids, or another tenant's, are simply absent."""
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        found = repos.memberships.many_in(request.tenant_id, request.member_ids)
        people = repos.persons.many([m.person_id for m in found])
    return c.ResolveMembersResponse(
        members=[
            c.ResolvedMember(
                member_id=m.id,
                person_id=m.person_id,
                roles=list(m.roles),
                status=m.status,
                operator=m.person_id in people and people[m.person_id].platform_admin,
            )
            for m in found
        ]
    )


def contact_details(
    db: WorkerDatabase, request: c.ContactDetailsRequest
) -> c.ContactDetailsResponse:
    """For scheduling (its service token), at send time: where and how to write to people.
    Erased accounts and unknown ids are simply absent."""
    with db.read_only() as uow:
        found = Repositories(uow.connection).persons.many(request.person_ids)
    return c.ContactDetailsResponse(
        people=[
            c.ContactDetails(
                person_id=p.id,
                email=p.email,
                calendar_email=p.calendar_email or p.email,
                display_name=p.display_name,
                locale=p.locale,
                time_zone=p.time_zone,
            )
            for p in found.values()
            if p.erased_at is None
        ]
    )


def resolve_member_emails(
    db: WorkerDatabase, request: c.ResolveMemberEmailsRequest
) -> c.ResolveMemberEmailsResponse:
    """For the spaces service: the members of one tenant behind emails (a CSV of spaces).
    Emails without a membership there are simply absent."""
    keys = {normalize_email(e): e for e in request.emails}
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        people = repos.persons.by_email_keys(list(keys))
        found = repos.memberships.of_persons_in(request.tenant_id, [p.id for p in people.values()])
    answer = []
    for key, person in people.items():
        m = found.get(person.id)
        if m is not None:
            answer.append(
                c.ResolvedEmail(
                    email=keys[key],
                    member_id=m.id,
                    person_id=m.person_id,
                    roles=list(m.roles),
                    status=m.status,
                    operator=person.platform_admin,
                )
            )
    return c.ResolveMemberEmailsResponse(members=answer)


# ---------------------------------------------------------------- the caller's own records


def get_my_person(db: WorkerDatabase, caller: Caller) -> c.Person:
    who = access.person(caller)
    with db.read_only() as uow:
        person = _own_person(Repositories(uow.connection), who.person_id)
    return person_view(person)


def get_my_membership(db: WorkerDatabase, caller: Caller) -> c.MyMembership:
    who = access.person(caller)
    if who.tenant_id is None:
        raise access.member_not_found()
    with db.read_only() as uow:
        repos = Repositories(uow.connection)
        m = repos.memberships.of_person_in(who.tenant_id, who.person_id)
        tenant = repos.tenants.get(who.tenant_id)
    if m is None or tenant is None:
        raise access.member_not_found()
    return _my_membership(m, tenant)


def _my_membership(m: Membership, tenant: Tenant) -> c.MyMembership:
    return c.MyMembership(
        member_id=m.id,
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        roles=[c.Role(r) for r in m.roles],
        status=c.MembershipStatus(m.status),
    )


def list_my_memberships(db: WorkerDatabase, caller: Caller) -> c.ListMyMembershipsResponse:
    who = access.person(caller)
    with db.read_only() as uow:
        rows = Repositories(uow.connection).memberships.of_person(who.person_id)
    return c.ListMyMembershipsResponse(memberships=[_my_membership(m, t) for m, t in rows])


def accept_membership(db: WorkerDatabase, caller: Caller, request: c.MyTenantRef) -> c.MyMembership:
    who = access.person(caller)
    tenant_id = request.tenant_id or who.tenant_id
    if not tenant_id:
        raise invalid(tenant_id="name the organisation whose invitation you accept")
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        m = repos.memberships.of_person_in(tenant_id, who.person_id)
        tenant = repos.tenants.get(tenant_id)
        if m is None or tenant is None:
            raise access.member_not_found()
        before = m.snapshot()
        m.accept(uow.clock.now())
        repos.memberships.save(m)
        what = m.change_since(before)
        if what is not None:
            uow.record(membership_changed(m, what))
            audit(uow, f"member.{what}", m.tenant_id, m.person_id, m.id)
    return _my_membership(m, tenant)


# ---------------------------------------------------------------- passwords


@dataclass(frozen=True)
class LinkSettings:
    master: MasterKey
    public_url: str
    reset_ttl: timedelta
    invitation_ttl: timedelta = timedelta(days=14)


LINK_KEY = "link-key"


def _link_key(repos: Repositories, master: MasterKey, now: datetime) -> bytes:
    """The key emailed links are derived from, created on first use, wrapped by the master key."""
    wrapped = repos.secrets.get(LINK_KEY)
    if wrapped is None:
        repos.secrets.add_if_missing(LINK_KEY, master.wrap(secrets.token_bytes(32), LINK_KEY), now)
        wrapped = repos.secrets.get(LINK_KEY)
        assert wrapped is not None
    return master.unwrap(wrapped, LINK_KEY)


# Mailed links a person may be sent per purpose and hour (an address confirmation or a reset):
# enough for a typo or a lost mail, too few to make ecoach a way to flood someone's inbox.
LINKS_PER_HOUR = 5


def _link_wait(repos: Repositories, person_id: str, purpose: str, now: datetime) -> timedelta:
    """How long until the person may be sent another link of `purpose` (zero: now)."""
    window = timedelta(hours=1)
    issued = repos.links.issued_since(person_id, purpose, now - window)
    return throttle.wait_for_cap(issued, LINKS_PER_HOUR, window, now)


def _refuse_too_many_links(
    repos: Repositories, person_id: str, purpose: str, now: datetime
) -> None:
    wait = _link_wait(repos, person_id, purpose, now)
    if wait > timedelta(0):
        raise throttled(wait, "confirmation emails in an hour", "TOO_MANY_LINKS")


def _issue_link(
    repos: Repositories,
    links: LinkSettings,
    purpose: str,
    person_id: str,
    now: datetime,
    ttl: timedelta,
    detail: str | None = None,
    session_id: str | None = None,
) -> PersonLink:
    """A new link (replacing any live one of the same purpose), its token's hash stored."""
    repos.links.supersede_live(person_id, purpose, now)
    link = PersonLink.new(purpose, person_id, now, ttl, detail, session_id)
    link.token_hash = token_hash(_token(repos, links, link, now))
    repos.links.add(link)
    return link


def _token(repos: Repositories, links: LinkSettings, link: PersonLink, now: datetime) -> str:
    return derive_link_token(_link_key(repos, links.master, now), link.purpose, link.id, link.nonce)


def _use_link(
    repos: Repositories,
    links: LinkSettings,
    token: str,
    purpose: str | tuple[str, ...],
    now: datetime,
) -> PersonLink:
    """The live link `token` opens (of `purpose`, or one of them), now used;
    FAILED_PRECONDITION (nothing written) if none."""
    purposes = (purpose,) if isinstance(purpose, str) else purpose
    link = repos.links.by_token_hash(token_hash(token))
    if link is not None and (
        link.purpose not in purposes
        or not hmac.compare_digest(_token(repos, links, link, now), token)
    ):
        link = None
    if link is None:
        raise FailedPrecondition("This link is not valid.", reason="LINK_INVALID")
    link.use(now)  # used, replaced or expired: refused
    return link


def _live_link(
    db: WorkerDatabase, links: LinkSettings, link_id: str
) -> tuple[PersonLink, Person, str] | None:
    """For a mail handler: the link, its person and its token, if the link is still live."""
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        link = repos.links.get(link_id)
        person = repos.persons.get(link.person_id) if link else None
        if link is None or person is None or not link.is_live(now):
            return None  # used, expired or replaced by a newer link: nothing to send
        return link, person, _token(repos, links, link, now)


def _minutes(delta: timedelta) -> str:
    return str(int(delta.total_seconds() // 60))


def request_password_reset(
    db: WorkerDatabase, links: LinkSettings, request: c.RequestPasswordResetRequest
) -> Empty:
    """The same answer whether or not the email has an account; a mail only if it has one."""
    email_key = normalize_email(check_email(request.email))
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        person = repos.persons.by_email_key(email_key)
        if person is None:
            return Empty()
        now = uow.clock.now()
        if _link_wait(repos, person.id, PASSWORD_RESET, now) > timedelta(0):
            return Empty()  # the same answer: nothing tells whether the address has an account
        link = _issue_link(repos, links, PASSWORD_RESET, person.id, now, links.reset_ttl)
        uow.record(
            c.PasswordResetRequested(
                reset_id=link.id, person_id=person.id, expires_at=link.expires_at
            )
        )
    return Empty()


def send_password_reset_mail(
    db: WorkerDatabase, links: LinkSettings, mailer: Mailer, event: c.PasswordResetRequested
) -> None:
    """Derive the link again, commit, then send (rule 4: no mail inside a transaction)."""
    found = _live_link(db, links, event.reset_id)
    if found is None:
        return
    _, person, token = found
    mailer.send(
        person.email,
        person.locale,
        "password_reset",
        name=person.display_name or person.email,
        link=f"{links.public_url.rstrip('/')}/reset-password/{token}",
        minutes=_minutes(links.reset_ttl),
    )


def reset_password(
    db: WorkerDatabase,
    passwords: Passwords,
    links: LinkSettings,
    common: frozenset[str],
    request: c.ResetPasswordRequest,
) -> Empty:
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        link = _use_link(repos, links, request.token, PASSWORD_RESET, now)
        person = repos.persons.get(link.person_id)
        assert person is not None
        check_password(
            request.new_password,
            email=person.email,
            display_name=person.display_name,
            common=common,
        )
        repos.persons.set_password(person.id, passwords.hash(request.new_password), now)
        repos.refresh_tokens.revoke_person(person.id, now)  # whoever knew the old one is out
        revoke_access(uow, c.AccessRevocationReason.PASSWORD_RESET, person_id=person.id)
        repos.links.mark_used(link)
    return Empty()


def update_my_profile(
    db: WorkerDatabase, caller: Caller, request: c.UpdateMyProfileRequest
) -> c.Person:
    who = access.person(caller)
    unknown = sorted(set(request.update_mask) - set(c.PROFILE_FIELDS))
    if unknown:
        raise invalid(
            update_mask=Problem(
                "only %(allowed)s, not %(unknown)s",
                allowed=", ".join(c.PROFILE_FIELDS),
                unknown=", ".join(unknown),
            )
        )
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        person = _own_person(repos, who.person_id)
        person.update_profile(
            {f: getattr(request, f) for f in request.update_mask}, uow.clock.now()
        )
        repos.persons.save_profile(person)
    return person_view(person)


def request_email_change(
    db: WorkerDatabase,
    passwords: Passwords,
    links: LinkSettings,
    caller: Caller,
    request: c.RequestEmailChangeRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> Empty:
    """Mails a confirmation link to the new address, and a notice to the current one; nothing
    changes until the link is opened. Whether the address is free is checked when the link is
    opened, so this answer tells nothing. Needs proof of the person (where links go is theirs
    to change, not a token's)."""
    who = access.person(caller)
    new_email = check_email(request.new_email, "new_email")
    with db.read_only() as uow:
        if (
            normalize_email(new_email)
            == _own_person(Repositories(uow.connection), who.person_id).email_key
        ):
            raise invalid(new_email="is already your email address")
    prove_person(db, passwords, links.master, who, request, source, policy)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        person = _own_person(repos, who.person_id)
        now = uow.clock.now()
        _refuse_too_many_links(repos, person.id, EMAIL_CHANGE, now)
        link = _issue_link(
            repos,
            links,
            EMAIL_CHANGE,
            person.id,
            now,
            links.reset_ttl,
            detail=new_email,
            session_id=who.session_id,
        )
        uow.record(
            c.EmailChangeRequested(link_id=link.id, person_id=person.id, expires_at=link.expires_at)
        )
    return Empty()


def send_address_confirmation_mail(
    db: WorkerDatabase,
    links: LinkSettings,
    mailer: Mailer,
    event: c.EmailChangeRequested | c.CalendarEmailRequested,
) -> None:
    """The confirmation link of a new account or calendar address, mailed to that address."""
    found = _live_link(db, links, event.link_id)
    if found is None:
        return
    link, person, token = found
    assert link.detail is not None
    calendar = link.purpose == CALENDAR_EMAIL
    page = "confirm-calendar-email" if calendar else "confirm-email"
    if not calendar:  # the current address hears of it: its owner may not be the one asking
        mailer.send(
            person.email,
            person.locale,
            "email_change_notice",
            name=person.display_name or person.email,
            new_email=link.detail,
        )
    mailer.send(
        link.detail,  # the new address: proving it is the point
        person.locale,
        "calendar_email" if calendar else "email_change",
        name=person.display_name or person.email,
        link=f"{links.public_url.rstrip('/')}/{page}/{token}",
        minutes=_minutes(links.reset_ttl),
    )


def send_coach_change_mail(
    db: WorkerDatabase,
    links: LinkSettings,
    mailer: Mailer,
    event: sc.CoachChanged | sc.CoCoachChanged | sc.CoachChangeProposed,
) -> None:
    """Tells the coachee, neutrally (no name, no space, no topic), that a coach or co-coach of
    one of their spaces changed, or that a change awaits their agreement. Only identity keeps
    addresses: read at send time; an erased coachee gets nothing, and neither does the coachee
    of a draft, which they do not see yet."""
    if event.status == sc.SpaceStatus.DRAFT:
        return
    with db.read_only() as uow:
        person = Repositories(uow.connection).persons.get(event.coachee_person_id)
    if person is None or person.erased_at is not None:
        return
    proposed = isinstance(event, sc.CoachChangeProposed)
    mailer.send(
        person.email,
        person.locale,
        "coach_change_proposed" if proposed else "coach_changed",
        name=person.display_name or person.email,
        url=f"{links.public_url.rstrip('/')}/my-space",  # the coachee's page; names no space
    )


def request_calendar_email(
    db: WorkerDatabase,
    passwords: Passwords,
    links: LinkSettings,
    caller: Caller,
    request: c.RequestCalendarEmailRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> Empty:
    """Mails a confirmation link to the address calendar mail is to go to; nothing changes
    until it is opened. A new request replaces the previous link. Needs proof of the person:
    it is a second place where mail about them goes."""
    who = access.person(caller)
    address = check_email(request.calendar_email, "calendar_email")
    prove_person(db, passwords, links.master, who, request, source, policy)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        person = _own_person(repos, who.person_id)
        key = normalize_email(address)
        if key == person.email_key:
            raise invalid(calendar_email="is your account's address (ClearCalendarEmail)")
        if person.calendar_email and key == normalize_email(person.calendar_email):
            raise invalid(calendar_email="is already your calendar address")
        now = uow.clock.now()
        _refuse_too_many_links(repos, person.id, CALENDAR_EMAIL, now)
        link = _issue_link(
            repos, links, CALENDAR_EMAIL, person.id, now, links.reset_ttl, detail=address
        )
        uow.record(
            c.CalendarEmailRequested(
                link_id=link.id, person_id=person.id, expires_at=link.expires_at
            )
        )
    return Empty()


def clear_calendar_email(db: WorkerDatabase, caller: Caller) -> c.Person:
    """Calendar mail goes to the account's address again; a pending confirmation is void."""
    who = access.person(caller)
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        person = _own_person(repos, who.person_id, for_update=True)
        now = uow.clock.now()
        repos.links.supersede_live(person.id, CALENDAR_EMAIL, now)
        if person.calendar_email is not None:
            person.calendar_email = None
            repos.persons.set_calendar_email(person.id, None, now)
    return person_view(person)


def confirm_email_change(
    db: WorkerDatabase, links: LinkSettings, request: c.ConfirmEmailChangeRequest
) -> c.ConfirmEmailChangeResponse:
    """Opens either kind of address link: the account's new email, or the calendar address."""
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        link = _use_link(repos, links, request.token, (EMAIL_CHANGE, CALENDAR_EMAIL), now)
        assert link.detail is not None
        if link.purpose == CALENDAR_EMAIL:  # no uniqueness: it signs nobody in
            person = repos.persons.get(link.person_id)
            assert person is not None
            same = normalize_email(link.detail) == person.email_key  # the account's by now
            repos.persons.set_calendar_email(link.person_id, None if same else link.detail, now)
            repos.links.mark_used(link)
            return c.ConfirmEmailChangeResponse(confirmed=c.ConfirmedAddress.CALENDAR)
        new_key = normalize_email(link.detail)
        repos.persons.lock_email(new_key)
        if repos.persons.by_email_key(new_key) is not None:
            raise FailedPrecondition(
                "Another account already uses this email address.", reason="EMAIL_TAKEN"
            )
        person = repos.persons.get(link.person_id)
        assert person is not None
        repos.persons.change_email(link.person_id, link.detail, new_key, now)
        if person.calendar_email and normalize_email(person.calendar_email) == new_key:
            repos.persons.set_calendar_email(link.person_id, None, now)  # one address now
        repos.links.mark_used(link)
        # A pending reset link would mail the old address's owner: it goes too.
        repos.links.supersede_live(link.person_id, PASSWORD_RESET, now)
        # Whoever else was signed in is out; the session that asked stays.
        _end_other_sessions(
            uow, link.person_id, link.session_id, c.AccessRevocationReason.EMAIL_CHANGED
        )
    return c.ConfirmEmailChangeResponse(confirmed=c.ConfirmedAddress.ACCOUNT)


def change_password(
    db: WorkerDatabase,
    passwords: Passwords,
    master: MasterKey,
    common: frozenset[str],
    caller: Caller,
    request: c.ChangePasswordRequest,
    source: str = "",
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> Empty:
    """With proof of the person. Every other session ends with its access tokens, and pending
    address links die (asked for by whoever knew the old password, perhaps)."""
    who = access.person(caller)
    person = prove_person(db, passwords, master, who, request, source, policy)
    check_password(
        request.new_password, email=person.email, display_name=person.display_name, common=common
    )
    if request.new_password == request.current_password:
        raise invalid(new_password="must differ from the current password")  # noqa: S106
    new_hash = passwords.hash(request.new_password)  # slow: outside any transaction
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        now = uow.clock.now()
        repos.persons.set_password(person.id, new_hash, now)
        for purpose in (EMAIL_CHANGE, CALENDAR_EMAIL):
            repos.links.supersede_live(person.id, purpose, now)
        _end_other_sessions(
            uow, person.id, who.session_id, c.AccessRevocationReason.PASSWORD_CHANGED
        )
        audit(uow, "password.changed", None, person.id, person.id, source=source)
    return Empty()


# ---------------------------------------------------------------- seeding (no caller: trusted code)


def ensure_person_with_password(
    db: WorkerDatabase,
    passwords: Passwords,
    *,
    email: str,
    display_name: str,
    password: str,
    locale: str = "en",
    time_zone: str = "Europe/Paris",
    platform_admin: bool = False,
) -> Person:
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        repos.persons.lock_email(normalize_email(email))
        person = repos.persons.by_email_key(normalize_email(email))
        if person is None:
            person = Person.create(
                email=email,
                display_name=display_name,
                locale=locale,
                time_zone=time_zone,
                now=uow.clock.now(),
                platform_admin=platform_admin,
            )
            person.password_hash = passwords.hash(password)
            repos.persons.add(person)
    return person


def ensure_totp(db: WorkerDatabase, master: MasterKey, person_id: str, secret: str) -> bool:
    """Trusted code (the demo seed, test set-up): enrols `secret` as the person's confirmed
    authenticator unless they have one. True if it did."""
    with db.unit_of_work() as uow:
        repos = Repositories(uow.connection)
        factor = repos.mfa.factor(person_id, for_update=True)
        if factor is not None and factor.confirmed_at is not None:
            return False
        now = uow.clock.now()
        repos.mfa.start_factor(
            person_id, master.wrap(secret.encode(), totp_context(person_id)), now
        )
        repos.mfa.confirm_factor(person_id, mfa.step_of(now) - mfa.DRIFT_STEPS - 1, now)
    return True
