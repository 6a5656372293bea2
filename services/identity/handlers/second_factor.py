"""Multi-factor sign-in: challenges, codes, recovery codes, enrolment, an operator's reset."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.contracts import identity as c
from services.kernel.caller import Caller, PersonClaims
from services.kernel.crypto import MasterKey
from services.kernel.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    Unauthenticated,
    invalid,
)

from ..adapters.passwords import Passwords
from ..adapters.qr import qr_svg
from ..domain import access, mfa
from ..domain.model import Membership, Person, Tenant
from ..domain.sealing import totp_context
from ..domain.sessions import parse as parse_secret_token
from ..domain.throttle import ThrottlePolicy, account_key
from ..storage.unit import Db, IdentityUnit
from .common import (
    TokenSettings,
    audit,
    check_entry,
    end_other_sessions,
    own_person,
    person_for_operator,
    throttled,
)
from .sessions import grant, start_session
from .signing_keys import SigningKeyCache
from .throttling import password_matches


def _challenge(uow: IdentityUnit, token: str, purpose: mfa.Purpose, now: datetime) -> mfa.Challenge:
    parsed = parse_secret_token(token, mfa.CHALLENGE_PREFIX)
    held = uow.mfa.challenge_for_update(parsed[0]) if parsed else None
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


def _mfa_throttle(uow: IdentityUnit, person_id: str, now: datetime) -> Any:
    """The person's code counter (whatever the challenge): guessing codes is slowed like
    guessing passwords, and a wait applies to every further code."""
    key = account_key("mfa\n" + person_id)
    counter = uow.throttle.locked([key], now)[key]
    wait = counter.wait(now)
    if wait > timedelta(0):
        raise throttled(wait)
    return counter


def _code_refused(
    uow: IdentityUnit,
    challenge: mfa.Challenge,
    counter: Any,
    policy: ThrottlePolicy,
    source: str,
    replayed: bool,
) -> DomainError:
    """Counts a wrong code (the challenge dies after a few) and says so after the commit."""
    now = uow.clock.now()
    challenge.failures += 1
    uow.mfa.save_challenge(challenge)
    counter.fail(now, policy.pair, policy.window)
    uow.throttle.save([counter])
    uow.sign_ins.add(challenge.person_id, "failed", challenge.tenant_id, source, now)
    audit(uow, "mfa.failed", None, None, challenge.person_id, source=source, replayed=replayed)
    if replayed:
        return Unauthenticated(
            "This code was already used; wait for the next one.", reason="MFA_CODE_REUSED"
        )
    return Unauthenticated("This code is not valid.", reason="MFA_CODE_INVALID")


def _entry_after_code(
    uow: IdentityUnit, challenge: mfa.Challenge
) -> tuple[Person, Tenant | None, Membership | None]:
    """The person and where they asked to go, read again: things may have changed since the
    password step."""
    person = uow.persons.get(challenge.person_id)
    assert person is not None
    tenant = uow.tenants.get(challenge.tenant_id) if challenge.tenant_id else None
    membership = uow.memberships.of_person_in(tenant.id, person.id) if tenant else None
    check_entry(challenge.tenant_id or "", tenant, membership)
    return person, tenant, membership


def verify_mfa(
    db: Db,
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
        now = uow.clock.now()
        challenge = _challenge(uow, request.challenge, mfa.Purpose.VERIFY, now)
        counter = _mfa_throttle(uow, challenge.person_id, now)
        factor = uow.mfa.factor(challenge.person_id, for_update=True)
        if factor is None or factor.confirmed_at is None:
            raise Unauthenticated(
                "This sign-in step is not valid; sign in again.", reason="CHALLENGE_INVALID"
            )
        accepted, replayed, how = _check_code(uow, master, factor, code)
        if not accepted:
            refused = _code_refused(uow, challenge, counter, policy, source, replayed)
        else:
            challenge.used_at = now
            uow.mfa.save_challenge(challenge)
            uow.throttle.clear(counter.key)
            person, tenant, membership = _entry_after_code(uow, challenge)
            amr = [mfa.PASSWORD, mfa.MFA, how]
            refresh = start_session(uow, tokens, person.id, tenant, amr, source, now)
    if refused is not None:  # raised after the commit, so that the failure counts
        raise refused
    return grant(db, keys, tokens, person, tenant, membership, refresh)


def _check_code(
    uow: IdentityUnit, master: MasterKey, factor: Any, code: str
) -> tuple[bool, bool, str]:
    """Whether `code` (normalised) is the person's current authenticator code, never accepted
    before, or one of their unused recovery codes (then spent): (accepted, replayed, how)."""
    now = uow.clock.now()
    person_id = factor.person_id
    if mfa.is_totp_code(code):
        secret = master.unwrap(factor.sealed_secret, totp_context(person_id))
        check, step = mfa.check_totp(secret.decode(), code, now, factor.last_step)
        if check is mfa.CodeCheck.ACCEPTED:
            uow.mfa.set_last_step(person_id, step)
        return check is mfa.CodeCheck.ACCEPTED, check is mfa.CodeCheck.REPLAYED, mfa.OTP
    accepted = uow.mfa.use_recovery_code(person_id, mfa.recovery_code_hash(code), now)
    if accepted:
        audit(uow, "mfa.recovery_code_used", None, person_id, person_id)
    return accepted, False, mfa.RECOVERY


def prove_person(
    db: Db,
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
        person = own_person(uow, who.person_id)
    if not password_matches(db, passwords, person, proof.current_password, source, policy):
        raise invalid(current_password="is not your current password")  # noqa: S106
    refused: DomainError | None = None
    with db.unit_of_work() as uow:
        factor = uow.mfa.factor(person.id, for_update=True)
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
        counter = _mfa_throttle(uow, person.id, now)
        accepted, replayed, _ = _check_code(uow, master, factor, code)
        if accepted:
            uow.throttle.clear(counter.key)
        else:
            counter.fail(now, policy.pair, policy.window)
            uow.throttle.save([counter])
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
    db: Db,
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
        factor = uow.mfa.factor(who.person_id)
    if factor is not None and factor.confirmed_at is not None:
        raise FailedPrecondition(
            "An authenticator is already enrolled.", reason="MFA_ALREADY_ENROLLED"
        )
    prove_person(db, passwords, master, who, request, source, policy)
    with db.unit_of_work() as uow:
        factor = uow.mfa.factor(who.person_id)
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
        uow.mfa.add_challenge(challenge)
    return c.MfaChallenge(challenge=challenge.token, challenge_expires_at=challenge.expires_at)


def begin_mfa_enrolment(db: Db, master: MasterKey, request: c.MfaChallengeRef) -> c.MfaEnrolment:
    """A new authenticator secret for the challenge's person (replacing an unfinished one)."""
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        challenge = _challenge(uow, request.challenge, mfa.Purpose.ENROL, now)
        factor = uow.mfa.factor(challenge.person_id, for_update=True)
        if factor is not None and factor.confirmed_at is not None:
            raise FailedPrecondition(
                "An authenticator is already enrolled.", reason="MFA_ALREADY_ENROLLED"
            )
        person = uow.persons.get(challenge.person_id)
        assert person is not None
        secret = mfa.new_secret()
        sealed = master.wrap(secret.encode(), totp_context(person.id))
        uow.mfa.start_factor(person.id, sealed, now)
    uri = mfa.otpauth_uri(secret, person.email)
    return c.MfaEnrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg(uri))


def complete_mfa_enrolment(
    db: Db,
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
        now = uow.clock.now()
        challenge = _challenge(uow, request.challenge, mfa.Purpose.ENROL, now)
        counter = _mfa_throttle(uow, challenge.person_id, now)
        factor = uow.mfa.factor(challenge.person_id, for_update=True)
        if factor is None or factor.confirmed_at is not None:
            raise FailedPrecondition(
                "Start the enrolment first (BeginMfaEnrolment).", reason="MFA_NOT_STARTED"
            )
        secret = master.unwrap(factor.sealed_secret, totp_context(challenge.person_id))
        check, step = mfa.check_totp(secret.decode(), code, now, None)
        if check is not mfa.CodeCheck.ACCEPTED:
            refused = _code_refused(uow, challenge, counter, policy, source, False)
        else:
            uow.mfa.confirm_factor(challenge.person_id, step, now)
            codes = mfa.new_recovery_codes()
            uow.mfa.replace_recovery_codes(
                challenge.person_id, [mfa.recovery_code_hash(x) for x in codes], now
            )
            challenge.used_at = now
            uow.mfa.save_challenge(challenge)
            uow.throttle.clear(counter.key)
            audit(uow, "mfa.enrolled", None, challenge.person_id, challenge.person_id)
            if challenge.session_id is None:  # the second step of a sign-in
                person, tenant, membership = _entry_after_code(uow, challenge)
                amr = [mfa.PASSWORD, mfa.MFA, mfa.OTP]
                refresh = start_session(uow, tokens, person.id, tenant, amr, source, now)
    if refused is not None:
        raise refused
    if challenge.session_id is not None:
        return c.MfaEnrolled(sign_in=None, recovery_codes=codes)
    signed_in = grant(db, keys, tokens, person, tenant, membership, refresh)
    return c.MfaEnrolled(sign_in=signed_in, recovery_codes=codes)


def reset_person_mfa(
    db: Db, caller: Caller, request: c.ResetPersonMfaRequest
) -> c.ResetPersonMfaResponse:
    """An operator resets a person's authenticator (lost, stolen): their recovery codes are
    void, their sessions end, and their next sign-in enrols a new authenticator. Audited. Not
    one's own: another operator does it, so that a stolen operator session cannot drop the
    operator's own second factor."""
    operator = access.require_operator(caller)
    person = person_for_operator(db, request)
    if person.id == operator.person_id:
        raise PermissionDenied(
            "Another operator must reset your own authenticator.", reason="OWN_ACCOUNT"
        )
    with db.unit_of_work() as uow:
        factor = uow.mfa.factor(person.id, for_update=True)
        if factor is None or factor.confirmed_at is None:
            raise FailedPrecondition(
                "This person has no authenticator to reset.", reason="MFA_NOT_ENROLLED"
            )
        uow.mfa.reset(person.id, uow.clock.now())
        ended = end_other_sessions(uow, person.id, None, c.AccessRevocationReason.MFA_RESET)
        audit(uow, "mfa.reset", None, operator.person_id, person.id)
    return c.ResetPersonMfaResponse(person_id=person.id, sessions_ended=ended)
