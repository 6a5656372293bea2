"""Content's module handlers on its real database: stored versions (the latest of each slug,
an old one still read), an assignment once per space (the unique constraint), progress saved
and read back in the version started, the export, and an erasure applied twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.content.adapters.module_folder import write_files
from services.content.domain.modules import Text
from services.content.domain.xapi import Deployment
from services.content.handlers import modules, personal_data, spaces
from services.content.modules import shipped_module
from services.content.storage.tables import module_assignments, module_progress
from services.content.storage.unit import ContentUnit
from services.contracts import content as c
from services.contracts import identity as ic
from services.contracts import spaces as sc
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.config import settings
from services.kernel.crypto import MasterKey, master_key_from
from services.kernel.errors import DomainError
from services.kernel.ids import new_id
from services.kernel.runtime.sql import WorkerDatabase, make_engine

START = datetime(2027, 3, 1, 9, tzinfo=UTC)
DEPLOYMENT = Deployment("https://coach.example")


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


def person(person_id: str, tenant_id: str | None, *roles: str) -> PersonClaims:
    return PersonClaims(person_id, tenant_id, roles, False, "tok", START, START + timedelta(1))


OPERATOR = PersonClaims(new_id("per"), None, (), True, "tok", START, START + timedelta(1))


def folder(slug: str, version: int, title: str) -> c.ImportModuleRequest:
    module = replace(
        shipped_module("managing-priorities"),
        slug=slug,
        version=version,
        title=Text(en=title, fr=title),
    )
    files = write_files(module)
    return c.ImportModuleRequest(files=[c.ModuleFile(path=p, text=t) for p, t in files.items()])


def test_a_module_imported_twice_assigned_taken_exported_and_erased(
    db: WorkerDatabase[ContentUnit], master: MasterKey, clock: FixedClock
) -> None:
    slug = "priorities-" + new_id("x")[4:14]
    assert modules.import_module(db, OPERATOR, folder(slug, 1, "First")).imported
    assert not modules.import_module(db, OPERATOR, folder(slug, 1, "First")).imported
    assert modules.import_module(db, OPERATOR, folder(slug, 2, "Second")).imported

    tenant = new_id("tnt")
    coach = person(new_id("per"), tenant, "coach")
    coachee = person(new_id("per"), tenant, "coachee")
    listed = modules.list_modules(db, coachee, c.ListModulesRequest(page_size=200))
    [latest] = [m for m in listed.modules if m.slug == slug]
    assert (latest.version, latest.title.en, latest.source) == (2, "Second", "imported")
    old = modules.get_module(db, coach, c.ModuleRef(slug=slug, version=1))
    assert old.title.en == "First" and old.document["version"] == 1

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
    made = modules.assign_module(db, coach, c.AssignModuleRequest(space_id=space_id, slug=slug))
    with pytest.raises(DomainError) as caught:
        modules.assign_module(db, coach, c.AssignModuleRequest(space_id=space_id, slug=slug))
    assert caught.value.reason == "MODULE_ALREADY_ASSIGNED"

    ref = made.assignment_id
    first = modules.open_lesson(db, coachee, c.LessonRequest(assignment_id=ref))
    clock.advance(timedelta(minutes=2))
    lesson = first.lessons[0]
    done = modules.complete_lesson(
        db, DEPLOYMENT, coachee, c.LessonRequest(assignment_id=ref, lesson=lesson)
    )
    assert (done.version, done.seconds, done.lessons_completed) == (2, 120, [lesson])
    assert done.position == first.lessons[1]
    modules.import_module(db, OPERATOR, folder(slug, 3, "Third"))
    [listed_one] = modules.list_module_assignments(
        db, coach, c.ListModuleAssignmentsRequest(space_id=space_id)
    ).assignments
    assert listed_one.title.en == "Second" and listed_one.progress == done  # the version started

    exported = personal_data.export_personal_data(db, master, coachee)
    [entry] = [e for e in exported.data["modules_assigned_to_me"] if e["assignment_id"] == ref]
    assert entry["progress"]["seconds"] == 120

    erased = ic.PersonErased(
        erasure_id=new_id("era"), person_id=coachee.person_id, requested_at=START
    )
    with db.unit_of_work() as uow:
        personal_data.erase_personal_data(uow, master, erased)
        personal_data.erase_personal_data(uow, master, erased)  # a replay
    with db.read_only() as uow:
        assignments_left = uow.connection.execute(
            select(module_assignments.c.id).where(module_assignments.c.space_id == space_id)
        ).all()
        progress_left = uow.connection.execute(
            select(module_progress.c.assignment_id).where(module_progress.c.assignment_id == ref)
        ).all()
    assert assignments_left == [] and progress_left == []
