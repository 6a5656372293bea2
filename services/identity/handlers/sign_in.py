"""Sign-in with a password (its second step, if any: second_factor)."""

from __future__ import annotations

from datetime import timedelta

from services.contracts import identity as c
from services.kernel.errors import Unauthenticated

from ..adapters.passwords import Passwords
from ..domain import mfa
from ..domain.model import normalize_email
from ..domain.throttle import ThrottlePolicy, account_key, pair_key
from ..storage.unit import Db
from .common import TokenSettings, audit, check_entry, tenant_named
from .sessions import grant, mfa_needed, start_session
from .signing_keys import SigningKeyCache
from .throttling import refund_attempt, reserve_attempt


def sign_in(
    db: Db,
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
        reserved = reserve_attempt(uow, pair, account, uow.clock.now(), policy)
        person = uow.persons.by_email_key(email_key)
        tenant = tenant_named(uow, request.tenant)
        membership = (
            uow.memberships.of_person_in(tenant.id, person.id) if tenant and person else None
        )
    # An unknown email verifies a dummy hash: it costs what a wrong password costs.
    if not passwords.verify(person.password_hash if person else None, request.password):
        with db.unit_of_work() as uow:  # the attempt was counted when it was reserved
            now = uow.clock.now()
            if person is not None:  # the person's own history shows the attempt
                uow.sign_ins.add(person.id, "failed", tenant.id if tenant else None, source, now)
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
    check_entry(request.tenant, tenant, membership)
    rehashed = (
        passwords.hash(request.password) if passwords.needs_rehash(person.password_hash) else None
    )
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        if rehashed is not None:  # made with older parameters: today's from now on
            uow.persons.set_password(person.id, rehashed, now)
        refund_attempt(uow, reserved, now)
        uow.throttle.clear(pair)
        uow.throttle.prune(now - timedelta(days=1))
        factor = uow.mfa.factor(person.id)
        enrolled = factor is not None and factor.confirmed_at is not None
        # An operator reset the authenticator: a new one is enrolled, whatever the policy.
        reset = factor is not None and not enrolled and factor.reset_at is not None
        if enrolled or reset or mfa_needed(person, tenant, membership):
            # A second step: a code, or (the policy requires one) enrolling an authenticator.
            challenge = mfa.Challenge.issue(
                person_id=person.id,
                tenant_id=tenant.id if tenant else None,
                purpose=mfa.Purpose.VERIFY if enrolled else mfa.Purpose.ENROL,
                now=now,
            )
            uow.mfa.add_challenge(challenge)
            return c.SignInResponse(
                person_id=person.id,
                tenant_id=tenant.id if tenant else "",
                next_step="verify_mfa" if enrolled else "enrol_mfa",
                challenge=challenge.token,
                challenge_expires_at=challenge.expires_at,
            )
        refresh = start_session(uow, tokens, person.id, tenant, [mfa.PASSWORD], source, now)
    return grant(db, keys, tokens, person, tenant, membership, refresh)
