"""Content's xAPI storage on its real database: statements recorded once with the progress, one
pseudonym per person and tenant, the LRS secret sealed (never in the row as written) and re-sealed
after a master-key rotation, the push to a local LRS over HTTP (pending, then pushed, never sent
again), the export, and an erasure applied twice."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.content.domain.xapi import Deployment, registration_of
from services.content.handlers import modules, personal_data, spaces, xapi
from services.content.storage.tables import learners, lrs_settings, statements
from services.content.storage.unit import ContentUnit
from services.content.storage.xapi import rewrap_lrs_secret
from services.contracts import content as c
from services.contracts import identity as ic
from services.contracts import spaces as sc
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.config import settings
from services.kernel.crypto import MasterKey, master_key_from
from services.kernel.ids import new_id
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from tests.support.lrs import LocalLrs

START = datetime(2027, 3, 1, 9, tzinfo=UTC)
DEPLOYMENT = Deployment("https://coach.example")
OPERATOR = PersonClaims(new_id("per"), None, (), True, "tok", START, START + timedelta(1))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def db(clock: FixedClock) -> Iterator[WorkerDatabase[ContentUnit]]:
    engine = make_engine(settings().database_url_for("content"), pool_size=2)
    database = WorkerDatabase(engine, clock, unit=ContentUnit)
    yield database
    database.close()
    engine.dispose()


@pytest.fixture
def master() -> MasterKey:
    return master_key_from(settings())


def person(person_id: str, tenant_id: str, *roles: str) -> PersonClaims:
    return PersonClaims(person_id, tenant_id, roles, False, "tok", START, START + timedelta(1))


def taken_module(db: WorkerDatabase[ContentUnit]) -> tuple[PersonClaims, str]:
    """A coachee in a new tenant who completed the shipped priorities module and answered a
    reflection: their claims and the assignment's id."""
    tenant = new_id("tnt")
    coach = person(new_id("per"), tenant, "coach")
    coachee = person(new_id("per"), tenant, "coachee")
    space_id = new_id("spc")
    event = sc.SpaceActivated.model_validate(
        {
            "space_id": space_id,
            "tenant_id": tenant,
            "status": "active",
            "coachee_person_id": coachee.person_id,
            "coach_person_id": coach.person_id,
            "co_coach_person_id": None,
            "cadence": "weekly",
            "sessions_planned": 8,
            "starts_on": START.date(),
            "updated_at": START,
        }
    )
    with db.unit_of_work() as uow:
        spaces.record_space(uow, event)
    made = modules.assign_module(
        db, coach, c.AssignModuleRequest(space_id=space_id, slug="managing-priorities")
    )
    ref = made.assignment_id
    for key in ("where-time-goes", "important-or-urgent", "protect-your-time"):
        request = c.LessonRequest(assignment_id=ref, lesson=key)
        modules.complete_lesson(db, DEPLOYMENT, coachee, request)
        modules.complete_lesson(db, DEPLOYMENT, coachee, request)  # again: no new statement
    answered = c.BlockAnsweredRequest(
        assignment_id=ref, lesson="where-time-goes", block=1, kind="reflection"
    )
    modules.record_block_answered(db, DEPLOYMENT, coachee, answered)
    modules.record_block_answered(db, DEPLOYMENT, coachee, answered)
    return coachee, ref


def test_statements_recorded_once_pushed_once_exported_and_erased(
    db: WorkerDatabase[ContentUnit], master: MasterKey
) -> None:
    coachee, ref = taken_module(db)
    with db.read_only() as uow:
        rows = uow.connection.execute(
            select(statements.c.statement, statements.c.pushed_at).where(
                statements.c.assignment_id == ref
            )
        ).all()
        [pseudonym] = uow.connection.execute(
            select(learners.c.pseudonym).where(learners.c.person_id == coachee.person_id)
        ).scalars()
    assert len(rows) == 5 and all(r.pushed_at is None for r in rows)
    assert {r.statement["actor"]["account"]["name"] for r in rows} == {pseudonym}

    with LocalLrs() as lrs:
        request = c.LrsSettingsInput(endpoint=lrs.endpoint, key=lrs.key, secret=lrs.secret)
        xapi.set_lrs_settings(db, master, False, OPERATOR, request)
        with db.read_only() as uow:
            sealed = uow.connection.execute(select(lrs_settings.c.secret_sealed)).scalar_one()
        assert lrs.secret not in sealed

        lrs.fail_next(3)  # every try of the first push: the statements wait
        assert xapi.push_pending(db, master) == 0
        failed = xapi.get_lrs_settings(db, master, OPERATOR)
        assert failed.last_error == "the LRS answered 503, after 3 tries"
        assert failed.pending >= 5

        registration = str(registration_of(ref))

        def mine() -> list[str]:
            found = lrs.stored()
            return [s["id"] for s in found if s["context"]["registration"] == registration]

        for _ in range(20):  # older pending statements of other tests go first
            if len(mine()) == 5:
                break
            xapi.push_pending(db, master)
        assert sorted(mine()) == sorted(r.statement["id"] for r in rows)
        with db.read_only() as uow:
            pending = uow.connection.execute(
                select(statements.c.id).where(
                    statements.c.assignment_id == ref, statements.c.pushed_at.is_(None)
                )
            ).all()
        assert pending == []
        posts = lrs.posts
        assert xapi.push_pending(db, master) == 0 and lrs.posts == posts  # nothing again
        xapi.set_lrs_settings(
            db, master, False, OPERATOR, request.model_copy(update={"enabled": False})
        )
    assert xapi.get_lrs_settings(db, master, OPERATOR).last_error is None

    exported = personal_data.export_personal_data(db, master, coachee)
    document = exported.data["my_xapi_statements"]
    assert sorted(s["id"] for s in document["statements"]) == sorted(
        r.statement["id"] for r in rows
    )

    erased = ic.PersonErased(
        erasure_id=new_id("era"), person_id=coachee.person_id, requested_at=START
    )
    with db.unit_of_work() as uow:
        personal_data.erase_personal_data(uow, master, erased)
        personal_data.erase_personal_data(uow, master, erased)  # a replay
    with db.read_only() as uow:
        left = uow.connection.execute(
            select(statements.c.id).where(statements.c.person_id == coachee.person_id)
        ).all()
        names = uow.connection.execute(
            select(learners.c.pseudonym).where(learners.c.person_id == coachee.person_id)
        ).all()
    assert left == [] and names == []


class _Undo(Exception):
    """Raised to roll a unit back: the test's rotation stays in the test."""


def test_the_lrs_secret_is_sealed_again_under_a_new_master_key(
    db: WorkerDatabase[ContentUnit], master: MasterKey
) -> None:
    request = c.LrsSettingsInput(
        endpoint="https://lrs.example/xapi", key="k", secret="s3", enabled=False
    )
    xapi.set_lrs_settings(db, master, True, OPERATOR, request)
    rotated = MasterKey(os.urandom(32), previous=master)
    with pytest.raises(_Undo), db.unit_of_work() as uow:
        assert rewrap_lrs_secret(uow.connection, rotated) == 1
        assert rewrap_lrs_secret(uow.connection, rotated) == 0  # already under the new key
        reopened = uow.xapi.settings(rotated)
        assert reopened is not None and reopened.secret == "s3"
        raise _Undo
    assert xapi.get_lrs_settings(db, master, OPERATOR).has_secret
