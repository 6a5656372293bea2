"""`make run`'s demo seed on a database of its own (identity's, migrated for this test): the demo
accounts and the cohort HR's reports group, each membership with its department and site and
an event that says so; a second run changes nothing; a demo seeded before the cohorts existed
gets them once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from ecoach_dev.deployment import fresh_prefix
from services.identity.seed import DEMO_ACCOUNTS, DEMO_COHORT, DEMO_TENANT_SLUG, seed_demo
from services.identity.storage.tables import memberships, persons
from services.kernel.config import Settings, settings
from services.kernel.runtime.migrations import drop_database, upgrade
from services.kernel.runtime.outbox import outbox
from services.kernel.runtime.sql import make_engine


@pytest.fixture
def config() -> Iterator[Settings]:
    own = settings().model_copy(update={"database_prefix": fresh_prefix()})
    upgrade("identity", own)
    yield own
    drop_database(own.server_url(), own.database_name("identity"))


def cohorts(config: Settings) -> dict[str, tuple[str | None, str | None, str]]:
    """Each demo member's (department, site, status), by email."""
    engine = make_engine(config.database_url_for("identity"), pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    persons.c.email,
                    memberships.c.department,
                    memberships.c.site,
                    memberships.c.status,
                ).join(memberships, memberships.c.person_id == persons.c.id)
            ).all()
    finally:
        engine.dispose()
    return {r.email: (r.department, r.site, r.status) for r in rows}


def outbox_changes(config: Settings) -> list[tuple[str, str | None]]:
    engine = make_engine(config.database_url_for("identity"), pool_size=1)
    try:
        with engine.connect() as conn:
            envelopes = conn.execute(
                select(outbox.c.envelope)
                .where(outbox.c.event_type == "identity.membership_changed")
                .order_by(outbox.c.id)
            ).scalars()
            return [(e["payload"]["change"], e["payload"]["department"]) for e in envelopes]
    finally:
        engine.dispose()


def test_the_demo_has_a_cohort_of_twelve_in_two_departments_once(config: Settings) -> None:
    tenant, created = seed_demo(config)
    assert created and tenant.slug == DEMO_TENANT_SLUG
    found = cohorts(config)
    coachees = [a for a in (*DEMO_ACCOUNTS, *DEMO_COHORT) if a.role == "coachee"]
    assert len(coachees) == 12 and len(found) == 2 + 12  # HR, coach and the coachees
    assert {found[a.email] for a in coachees} <= {
        ("Sales", "Lyon", "active"),
        ("Support", "Lyon", "active"),
        ("Support", "Paris", "active"),
    }
    # The issue 25 example: Sales 7, Support 5, of whom 4 in Lyon.
    assert Counter(found[a.email][:2] for a in coachees) == {
        ("Sales", "Lyon"): 7,
        ("Support", "Lyon"): 4,
        ("Support", "Paris"): 1,
    }
    events = outbox_changes(config)
    assert Counter(events) == {("added", "Sales"): 7, ("added", "Support"): 5, ("added", None): 2}

    assert seed_demo(config) == (tenant, False)
    assert cohorts(config) == found and outbox_changes(config) == events


def test_a_demo_seeded_before_the_cohorts_gets_them_once(config: Settings) -> None:
    seed_demo(config)
    engine = make_engine(config.database_url_for("identity"), pool_size=1)
    try:
        with engine.begin() as conn:  # as seeded by an earlier version
            conn.execute(update(memberships).values(department=None, site=None))
    finally:
        engine.dispose()
    before = outbox_changes(config)
    _, created = seed_demo(config)
    assert created
    noah = next(a for a in DEMO_ACCOUNTS if a.role == "coachee")
    assert cohorts(config)[noah.email] == ("Sales", "Lyon", "active")
    again = outbox_changes(config)[len(before) :]
    assert Counter(again) == {
        ("attributes_changed", "Sales"): 7,
        ("attributes_changed", "Support"): 5,
    }
    assert seed_demo(config)[1] is False
    assert len(outbox_changes(config)) == len(before) + 12
