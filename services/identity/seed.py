"""The demo data `make run` creates once: a tenant, an operator, an HR admin, a coach, a coachee,
and eleven more coachees in two departments (`DEMO_COHORT`), so that HR's reports have groups
of at least five to show (ecoach_dev/demo_space.py opens their spaces).

Idempotent: a second run finds everything and changes nothing. Passwords are demo passwords,
printed by `make run`; never use this outside development. Operators always sign in with an
authenticator: the seed enrols one for the demo operator and keeps its otpauth URI in
`var/demo-operator.totp` (`ecoach totp --file var/demo-operator.totp` prints the current code,
or scan the URI into an authenticator app).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from services.kernel.clock import SystemClock
from services.kernel.config import Settings
from services.kernel.crypto import master_key_from
from services.kernel.runtime.sql import WorkerDatabase, make_engine

from .adapters.passwords import Passwords
from .domain import mfa
from .domain.model import Membership, Tenant
from .handlers.seeding import ensure_person_with_password, ensure_totp
from .handlers.views import membership_changed, tenant_created
from .storage.unit import Db, IdentityUnit

DEMO_TENANT_SLUG = "acme"


class DemoRefused(RuntimeError):
    """The demo seed was asked for in production."""


@dataclass(frozen=True)
class DemoAccount:
    label: str
    name: str
    email: str
    password: str
    role: str | None  # None: the operator, who has no membership
    locale: str = "en"
    department: str | None = None  # cohort attributes, for HR's reports
    site: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("operator", "Olivia Ops", "operator@ecoach.test", "operator-demo-2026", None),
    DemoAccount(
        "HR admin", "Hélène Dubois", "hr@acme.test", "hr-admin-demo-2026", "tenant_admin", "fr"
    ),
    DemoAccount("coach", "Camille Laurent", "coach@acme.test", "coach-demo-2026", "coach"),
    DemoAccount(
        "coachee",
        "Noah Martin",
        "coachee@acme.test",
        "coachee-demo-2026",
        "coachee",
        "fr",
        "Sales",
        "Lyon",
    ),
)

# With Noah: Sales 7 (Lyon), Support 5 (4 in Lyon, 1 in Paris). HR's report by department
# shows both; filtered to Lyon, Support's 4 are hidden (the issue 25 example). They sign in
# with the coachee's demo password; `make run` prints only the first.
_COHORT = (
    ("Léa Bernard", "fr", "Sales", "Lyon"),
    ("Hugo Petit", "fr", "Sales", "Lyon"),
    ("Emma Wilson", "en", "Sales", "Lyon"),
    ("Louis Moreau", "fr", "Sales", "Lyon"),
    ("Chloé Girard", "fr", "Sales", "Lyon"),
    ("James Carter", "en", "Sales", "Lyon"),
    ("Inès Roux", "fr", "Support", "Lyon"),
    ("Lucas Fournier", "fr", "Support", "Lyon"),
    ("Olivia Brown", "en", "Support", "Lyon"),
    ("Jules Lambert", "fr", "Support", "Lyon"),
    ("Sarah Nguyen", "en", "Support", "Paris"),
)
DEMO_COHORT = tuple(
    DemoAccount(
        "coachee",
        name,
        f"coachee{n:02}@acme.test",
        "coachee-demo-2026",
        "coachee",
        locale,
        department,
        site,
    )
    for n, (name, locale, department, site) in enumerate(_COHORT, start=2)
)


def seed_demo(config: Settings) -> tuple[Tenant, bool]:
    """Returns the demo tenant and whether anything was created. Refused in production: its
    accounts' passwords are printed by `make run` and written in this file."""
    if config.env == "production":
        raise DemoRefused("the demo data (known passwords) is never created in production")
    engine = make_engine(config.database_url_for("identity"), pool_size=1)
    db: Db = WorkerDatabase(engine, SystemClock(), unit=IdentityUnit)
    passwords = Passwords()
    created = False
    try:
        with db.unit_of_work() as uow:
            tenant = uow.tenants.by_slug(DEMO_TENANT_SLUG)
            if tenant is None:
                tenant = Tenant.create("Acme", DEMO_TENANT_SLUG, uow.clock.now())
                uow.tenants.add(tenant)
                # The outbox carries it to the other services once identity's relay runs.
                uow.record(tenant_created(tenant))
                created = True
        for account in (*DEMO_ACCOUNTS, *DEMO_COHORT):
            person = ensure_person_with_password(
                db,
                passwords,
                email=account.email,
                display_name=account.name,
                password=account.password,
                locale=account.locale,
                platform_admin=account.role is None,
            )
            if account.role is None:
                _enrol_operator(config, db, person.id, account.email)
                continue
            with db.unit_of_work() as uow:
                now = uow.clock.now()
                membership = uow.memberships.of_person_in(tenant.id, person.id)
                if membership is None:
                    membership = Membership.for_new_person(
                        tenant.id, person, account.email, (account.role,), now
                    )
                    membership.set_cohort(account.department, account.site, None, now)
                    uow.memberships.add(membership)
                    uow.record(membership_changed(membership, "added"))
                    created = True
                elif membership.cohort == (None, None, None) and account.department:
                    # seeded before the demo had cohorts (or HR unset it): the demo's again
                    membership.set_cohort(account.department, account.site, None, now)
                    uow.memberships.save(membership)
                    uow.record(membership_changed(membership, "attributes_changed"))
                    created = True
    finally:
        db.close()
        engine.dispose()
    return tenant, created


def operator_totp_file(config: Settings) -> Path:
    return config.var_dir / "demo-operator.totp"


def _enrol_operator(config: Settings, db: Db, person_id: str, email: str) -> None:
    """The demo operator's authenticator; its otpauth URI in var/demo-operator.totp (0600)."""
    secret = mfa.new_secret()
    master = master_key_from(config)
    if ensure_totp(db, master, person_id, secret):
        path = operator_totp_file(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        os.chmod(path, 0o600)
        path.write_text(mfa.otpauth_uri(secret, email) + "\n")
