"""Trusted set-up that no API offers on purpose: the platform's first operator."""

from __future__ import annotations

import secrets

from services.identity.handlers import ensure_person_with_password
from services.identity.passwords import Passwords
from services.kernel.clock import SystemClock
from services.kernel.config import Settings
from services.kernel.runtime.sql import WorkerDatabase, make_engine

OPERATOR_PASSWORD = "operator-test-password-1"


def create_operator(config: Settings, email: str | None = None) -> str:
    email = email or f"operator-{secrets.token_hex(4)}@ecoach.test"
    engine = make_engine(config.database_url_for("identity"), pool_size=1)
    try:
        db = WorkerDatabase(engine, SystemClock())
        ensure_person_with_password(
            db,
            Passwords(),
            email=email,
            display_name="Operator",
            password=OPERATOR_PASSWORD,
            platform_admin=True,
        )
        db.close()
    finally:
        engine.dispose()
    return email


def set_password(config: Settings, email: str, password: str) -> None:
    """Trusted test code doing what following a new person's invitation link does: sets the
    password and accepts the invitation that created the account (memberships created with the
    person). Invitations of an existing account stay pending. Tests of the real flow follow the
    mailed link (tests/e2e/test_invitations.py)."""
    from sqlalchemy import select, update

    from services.identity.domain.model import normalize_email
    from services.identity.storage import memberships, persons

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
            conn.execute(
                update(memberships)
                .where(
                    memberships.c.person_id == person.id,
                    memberships.c.status == "pending",
                    memberships.c.created_at == person.created_at,
                )
                .values(status="active", accepted_at=person.created_at)
            )
    finally:
        engine.dispose()
