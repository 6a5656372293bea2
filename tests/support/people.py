"""Trusted set-up that no API offers on purpose: the platform's first operator.

Operators always sign in with a second factor: `create_operator` enrols `OPERATOR_TOTP_SECRET`
as theirs, and `sign_in_operator` signs in with the password and the current code (from the
deployment's clock, which tests may move). A code is accepted once: one operator signs in at
most once per 30 seconds (later sessions refresh, or use another operator)."""

from __future__ import annotations

import secrets

from gateway.api.pb import identity_pb2 as pb
from services.contracts import identity as ic
from services.identity.adapters.passwords import Passwords
from services.identity.domain.mfa import current_code
from services.identity.handlers.seeding import ensure_person_with_password, ensure_totp
from services.identity.storage.unit import IdentityUnit
from services.kernel.clock import SystemClock, clock_for
from services.kernel.config import Settings
from services.kernel.crypto import master_key_from
from services.kernel.runtime.outbox import record_event
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from tests.support.api import Api, Session, session_of

OPERATOR_PASSWORD = "operator-test-password-1"
OPERATOR_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def create_operator(config: Settings, email: str | None = None) -> str:
    email = email or f"operator-{secrets.token_hex(4)}@ecoach.test"
    engine = make_engine(config.database_url_for("identity"), pool_size=1)
    try:
        db = WorkerDatabase(engine, SystemClock(), unit=IdentityUnit)
        person = ensure_person_with_password(
            db,
            Passwords(),
            email=email,
            display_name="Operator",
            password=OPERATOR_PASSWORD,
            platform_admin=True,
        )
        master = master_key_from(config)
        ensure_totp(db, master, person.id, OPERATOR_TOTP_SECRET)
        db.close()
    finally:
        engine.dispose()
    return email


def totp_code(config: Settings, secret: str = OPERATOR_TOTP_SECRET) -> str:
    """The code an authenticator would show now, by the deployment's (test) clock."""
    return current_code(secret, clock_for(config.env, config.test_clock_path).now())


def sign_in_operator(api: Api, config: Settings, email: str | None = None) -> Session:
    """An operator token: a new operator (or `email`'s), password then code."""
    email = email or create_operator(config)
    first = api.auth.SignIn(pb.SignInRequest(email=email, password=OPERATOR_PASSWORD), timeout=30)
    assert first.next_step == pb.VERIFY_MFA, first
    verified = api.auth.VerifyMfa(
        pb.VerifyMfaRequest(challenge=first.challenge, code=totp_code(config)), timeout=30
    )
    return session_of(verified)


def set_password(config: Settings, email: str, password: str) -> None:
    """Trusted test code doing what following a new person's invitation link does: sets the
    password and accepts the invitation that created the account (memberships created with the
    person). Invitations of an existing account stay pending. Tests of the real flow follow the
    mailed link (tests/e2e/test_invitations.py)."""
    from sqlalchemy import select, update

    from services.identity.domain.model import normalize_email
    from services.identity.storage.tables import memberships, persons

    engine = make_engine(config.database_url_for("identity"), pool_size=1)
    try:
        with engine.begin() as conn:
            person = conn.execute(
                select(persons.c.id, persons.c.created_at).where(
                    persons.c.email_key == normalize_email(email)
                )
            ).one()
            conn.execute(
                update(persons)
                .where(persons.c.id == person.id)
                .values(password_hash=Passwords().hash(password))
            )
            accepted = conn.execute(
                update(memberships)
                .where(
                    memberships.c.person_id == person.id,
                    memberships.c.status == "pending",
                    memberships.c.created_at == person.created_at,
                )
                .values(status="active", accepted_at=person.created_at)
                .returning(memberships)
            ).all()
            # As accepting does: the memberships' new state for the services that keep a copy
            # (reporting authorises its tenant admins on it).
            now = clock_for(config.env, config.test_clock_path).now()
            for m in accepted:
                event = ic.MembershipChanged(
                    change=ic.MembershipChange.ACCEPTED,
                    member_id=m.id,
                    tenant_id=m.tenant_id,
                    person_id=m.person_id,
                    roles=[ic.Role(r) for r in m.roles],
                    status=ic.MembershipStatus.ACTIVE,
                    created_at=m.created_at,
                    updated_at=m.updated_at,
                    accepted_at=m.accepted_at,
                    department=m.department,
                    site=m.site,
                    programme=m.programme,
                )
                record_event(conn, event, now)
    finally:
        engine.dispose()
