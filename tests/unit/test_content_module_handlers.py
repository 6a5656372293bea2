"""Content's module handlers on in-memory repositories (tests/unit/fakes/content.py): operators
import a folder (every problem named `file:line`, nothing stored on error, the same version
again a no-op); the catalogue; who assigns, takes and reads; progress in the version started,
resumed where left, time spent; events with ids and counts only; export and erasure."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.content.adapters.module_folder import write_files
from services.content.domain.modules import Text
from services.content.domain.xapi import Deployment
from services.content.handlers import modules, personal_data, spaces
from services.content.modules import shipped_module
from services.contracts import content as c
from services.contracts import identity as ic
from services.contracts import spaces as sc
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.errors import DomainError, InvalidArgument
from tests.unit.fakes import FakeDatabase
from tests.unit.fakes.content import ContentState, content_database

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
TENANT, OTHER_TENANT = "tnt_a1", "tnt_b2"
SPACE = "spc_5a"
MASTER: Any = None  # the fakes seal nothing
SLUG = "team-feedback"
DEPLOYMENT = Deployment("https://coach.example")


def person(person_id: str, *roles: str, tenant_id: str | None = TENANT) -> PersonClaims:
    return PersonClaims(person_id, tenant_id, roles, False, "tok", NOW, NOW + timedelta(1))


COACH, COACHEE = person("per_coach", "coach"), person("per_coachee", "coachee")
OTHER_COACH, HR = person("per_other", "coach"), person("per_hr", "tenant_admin")
STRANGER = person("per_coach", "coach", tenant_id=OTHER_TENANT)  # the coach, elsewhere
OPERATOR = PersonClaims("per_op", None, (), True, "tok", NOW, NOW + timedelta(1))


def refused(reason: str, call: Any, *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.reason == reason, caught.value
    return caught.value


def space_event(kind: type[sc.SpaceEvent], status: str = "active", **changes: Any) -> Any:
    data = {
        "space_id": SPACE,
        "tenant_id": TENANT,
        "status": status,
        "coachee_person_id": COACHEE.person_id,
        "coach_person_id": COACH.person_id,
        "co_coach_person_id": None,
        "cadence": "weekly",
        "sessions_planned": 10,
        "starts_on": NOW.date(),
        "updated_at": NOW,
        **changes,
    }
    return kind.model_validate(data)


def folder(version: int = 1, **changes: Any) -> c.ImportModuleRequest:
    """The shipped feedback module's folder, as another module."""
    module = replace(shipped_module("giving-feedback"), slug=SLUG, version=version, **changes)
    files = write_files(module)
    return c.ImportModuleRequest(files=[c.ModuleFile(path=p, text=t) for p, t in files.items()])


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db(clock: FixedClock) -> FakeDatabase[ContentState]:
    database = content_database(clock)
    with database.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpaceActivated))
    return database


def imported(db: Any, version: int = 1, **changes: Any) -> c.ImportModuleResponse:
    return modules.import_module(db, OPERATOR, folder(version, **changes))


def assign(db: Any, who: PersonClaims = COACH, slug: str = SLUG) -> c.ModuleAssignment:
    return modules.assign_module(db, who, c.AssignModuleRequest(space_id=SPACE, slug=slug))


def lesson(assignment: c.ModuleAssignment, key: str = "") -> c.LessonRequest:
    return c.LessonRequest(assignment_id=assignment.assignment_id, lesson=key)


# ---------------------------------------------------------------- importing


def test_an_operator_imports_a_folder_as_the_first_version(db: Any) -> None:
    answer = imported(db)
    assert (answer.imported, answer.module.slug, answer.module.version) == (True, SLUG, 1)
    assert answer.module.source == "imported" and answer.module.lesson_count == 3
    assert list(db.state.versions) == [(SLUG, 1)]
    assert db.state.versions[SLUG, 1].imported_by == OPERATOR.person_id


@pytest.mark.parametrize("who", [COACH, HR, COACHEE])
def test_only_operators_import(db: Any, who: PersonClaims) -> None:
    refused("OPERATOR_ONLY", modules.import_module, db, who, folder())
    assert db.state.versions == {}


def test_a_malformed_folder_gets_every_problem_by_file_and_line_and_changes_nothing(
    db: Any,
) -> None:
    request = folder()
    broken = []
    for f in request.files:
        text = f.text
        if f.path == "module.md":
            text = text.replace("minutes: ", "minutes: -")
        if f.path.endswith("02-deliver.fr.md"):
            text = text.replace("title: ", "titre: ", 1)
        broken.append(c.ModuleFile(path=f.path, text=text))
    with pytest.raises(InvalidArgument) as caught:
        modules.import_module(db, OPERATOR, c.ImportModuleRequest(files=broken))
    named = [v.field for v in caught.value.fields]
    assert any(n.startswith("module.md:") and "minutes" in n for n in named), named
    assert any(n.startswith("lessons/02-deliver.fr.md:") for n in named), named
    assert db.state.versions == {} and db.commits == 1  # the space's copy only


def test_the_same_version_again_changes_nothing_and_the_next_one_is_stored(db: Any) -> None:
    imported(db)
    again = imported(db)
    assert again.imported is False and list(db.state.versions) == [(SLUG, 1)]
    title = Text(en="Feedback, again", fr="Le feedback, encore")
    assert imported(db, 2, title=title).imported is True
    assert sorted(db.state.versions) == [(SLUG, 1), (SLUG, 2)]


def test_a_changed_version_or_a_skipped_one_is_refused_in_module_md(db: Any) -> None:
    imported(db)
    title = Text(en="Rewritten", fr="Réécrit")
    error = refused("INVALID_ARGUMENT", modules.import_module, db, OPERATOR, folder(1, title=title))
    assert [v.field for v in error.fields] == ["module.md version"]
    error = refused("INVALID_ARGUMENT", modules.import_module, db, OPERATOR, folder(3, title=title))
    assert [v.field for v in error.fields] == ["module.md version"]
    assert list(db.state.versions) == [(SLUG, 1)]


# ---------------------------------------------------------------- the catalogue


def test_the_catalogue_is_the_shipped_modules_and_the_imported_ones(db: Any) -> None:
    imported(db)
    listed = modules.list_modules(db, COACHEE, c.ListModulesRequest())
    slugs = {m.slug: m.source for m in listed.modules}
    assert slugs[SLUG] == "imported" and slugs["giving-feedback"] == "shipped"
    assert len(slugs) == 4
    got = modules.get_module(db, COACH, c.ModuleRef(slug=SLUG))
    assert [lesson["key"] for lesson in got.document["lessons"]] == [
        "prepare",
        "deliver",
        "follow-up",
    ]
    refused("MODULE_NOT_FOUND", modules.get_module, db, COACH, c.ModuleRef(slug=SLUG, version=2))
    refused("MODULE_NOT_FOUND", modules.get_module, db, COACH, c.ModuleRef(slug="nothing-here"))


def test_hr_does_not_read_the_catalogue(db: Any) -> None:
    refused("COACH_OR_COACHEE_ONLY", modules.list_modules, db, HR, c.ListModulesRequest())
    refused("COACH_OR_COACHEE_ONLY", modules.get_module, db, HR, c.ModuleRef(slug=SLUG))


# ---------------------------------------------------------------- assigning


def test_the_spaces_coach_assigns_a_module_once(db: Any) -> None:
    imported(db)
    made = assign(db)
    assert (made.slug, made.coachee_person_id, made.progress.status) == (
        SLUG,
        COACHEE.person_id,
        "not_started",
    )
    refused("MODULE_ALREADY_ASSIGNED", assign, db)
    assert assign(db, slug="managing-priorities").title.en  # a shipped one


def test_only_the_spaces_coach_assigns_into_an_active_space(db: Any) -> None:
    imported(db)
    refused("SPACE_COACH_ONLY", assign, db, COACHEE)
    for outsider in (OTHER_COACH, HR, STRANGER):
        refused("SPACE_NOT_FOUND", assign, db, outsider)
    refused("MODULE_NOT_FOUND", assign, db, COACH, "nothing-here")
    with db.unit_of_work() as uow:
        paused = space_event(sc.SpacePaused, "paused", updated_at=NOW + timedelta(1))
        spaces.record_space(uow, paused)
    refused("SPACE_NOT_ACTIVE", assign, db)
    assert db.state.assignments == {}


# ---------------------------------------------------------------- progress


def test_the_coachee_completes_the_module_over_two_days_and_resumes_where_they_left(
    db: Any, clock: FixedClock
) -> None:
    imported(db)
    made = assign(db)
    opened = modules.open_lesson(db, COACHEE, lesson(made))
    assert (opened.status, opened.position, opened.version) == ("started", "prepare", 1)
    clock.advance(timedelta(minutes=4))
    modules.complete_lesson(db, DEPLOYMENT, COACHEE, lesson(made, "prepare"))
    clock.advance(timedelta(minutes=3))
    first_day = modules.open_lesson(db, COACHEE, lesson(made, "deliver"))
    assert first_day.seconds == 7 * 60

    clock.advance(timedelta(days=1))
    resumed = modules.open_lesson(db, COACHEE, lesson(made))
    assert resumed.position == "deliver"
    assert resumed.seconds == 7 * 60 + 5 * 60  # a day away counts as at most 5 minutes
    modules.complete_lesson(db, DEPLOYMENT, COACHEE, lesson(made, "deliver"))
    clock.advance(timedelta(minutes=2))
    done = modules.complete_lesson(db, DEPLOYMENT, COACHEE, lesson(made, "follow-up"))
    assert done.status == "completed" and done.completed_at == clock.now()
    assert done.lessons_completed == ["prepare", "deliver", "follow-up"]
    assert done.seconds == 14 * 60

    kinds = [type(e) for e in db.events]
    assert kinds == [
        c.ModuleStarted,
        c.LessonCompleted,
        c.LessonCompleted,
        c.LessonCompleted,
        c.ModuleCompleted,
    ]
    again = modules.complete_lesson(db, DEPLOYMENT, COACHEE, lesson(made, "prepare"))
    assert again.status == "completed" and len(db.events) == 5  # completed once
    last = db.events[-1]
    assert last.model_dump().keys() == {
        "assignment_id",
        "tenant_id",
        "space_id",
        "coachee_person_id",
        "slug",
        "version",
        "status",
        "lesson_count",
        "lessons_completed",
        "seconds",
        "updated_at",
    }


def test_the_coachee_keeps_the_version_they_started(db: Any) -> None:
    imported(db)
    made = assign(db)
    modules.open_lesson(db, COACHEE, lesson(made))
    imported(db, 2, title=Text(en="New", fr="Nouveau"))
    progress = modules.get_module_progress(
        db, COACH, c.ModuleAssignmentRef(assignment_id=made.assignment_id)
    )
    assert progress.version == 1
    [listed] = modules.list_module_assignments(
        db, COACHEE, c.ListModuleAssignmentsRequest(space_id=SPACE)
    ).assignments
    assert listed.title.en != "New" and listed.progress.version == 1


def test_a_shipped_version_started_is_kept_in_the_database(db: Any) -> None:
    made = assign(db, slug="managing-priorities")
    modules.open_lesson(db, COACHEE, lesson(made))
    version = shipped_module("managing-priorities").version
    assert db.state.versions["managing-priorities", version].source == "shipped"


def test_a_lesson_of_another_module_is_refused(db: Any) -> None:
    imported(db)
    made = assign(db)
    error = refused("INVALID_ARGUMENT", modules.open_lesson, db, COACHEE, lesson(made, "nope"))
    assert [v.field for v in error.fields] == ["lesson"]
    assert db.state.progress == {} and db.events == []


def test_only_the_coachee_takes_the_module_and_only_the_spaces_people_read_it(db: Any) -> None:
    imported(db)
    made = assign(db)
    ref = c.ModuleAssignmentRef(assignment_id=made.assignment_id)
    refused("SPACE_COACHEE_ONLY", modules.open_lesson, db, COACH, lesson(made))
    refused(
        "SPACE_COACHEE_ONLY",
        modules.complete_lesson,
        db,
        DEPLOYMENT,
        COACH,
        lesson(made, "prepare"),
    )
    for outsider in (OTHER_COACH, HR, STRANGER):
        refused("MODULE_ASSIGNMENT_NOT_FOUND", modules.open_lesson, db, outsider, lesson(made))
        refused("MODULE_ASSIGNMENT_NOT_FOUND", modules.get_module_progress, db, outsider, ref)
        refused(
            "SPACE_NOT_FOUND",
            modules.list_module_assignments,
            db,
            outsider,
            c.ListModuleAssignmentsRequest(space_id=SPACE),
        )
    assert modules.get_module_progress(db, COACH, ref).status == "not_started"
    assert db.state.progress == {}


def test_a_former_coach_loses_the_assignment(db: Any) -> None:
    imported(db)
    made = assign(db)
    with db.unit_of_work() as uow:
        changed = space_event(
            sc.SpaceSetUpChanged,
            coach_person_id=OTHER_COACH.person_id,
            updated_at=NOW + timedelta(1),
        )
        spaces.record_space(uow, changed)
    ref = c.ModuleAssignmentRef(assignment_id=made.assignment_id)
    refused("MODULE_ASSIGNMENT_NOT_FOUND", modules.get_module_progress, db, COACH, ref)
    assert modules.get_module_progress(db, OTHER_COACH, ref).status == "not_started"


# ---------------------------------------------------------------- personal data


def test_the_coachee_exports_their_modules_and_erasure_takes_them(db: Any) -> None:
    imported(db)
    made = assign(db)
    modules.complete_lesson(db, DEPLOYMENT, COACHEE, lesson(made, "prepare"))
    exported = personal_data.export_personal_data(db, MASTER, COACHEE)
    [entry] = exported.data["modules_assigned_to_me"]
    assert entry["progress"]["lessons_completed"] == ["prepare"]
    with db.unit_of_work() as uow:
        personal_data.erase_personal_data(
            uow,
            MASTER,
            ic.PersonErased(erasure_id="era_1", person_id=COACHEE.person_id, requested_at=NOW),
        )
    assert db.state.assignments == {} and db.state.progress == {}
    assert (
        personal_data.export_personal_data(db, MASTER, COACHEE).data["modules_assigned_to_me"] == []
    )


def test_erasing_the_coach_and_the_operator_keeps_the_module_and_assignment(db: Any) -> None:
    imported(db)
    made = assign(db)
    with db.unit_of_work() as uow:
        for who in (COACH, OPERATOR):
            personal_data.erase_personal_data(
                uow,
                MASTER,
                ic.PersonErased(erasure_id="era_2", person_id=who.person_id, requested_at=NOW),
            )
    assert db.state.assignments[made.assignment_id].assigned_by_person_id == "erased"
    assert db.state.versions[SLUG, 1].imported_by == "erased"


def test_a_path_given_twice_is_refused_by_its_place(db: Any) -> None:
    request = folder()
    twice = c.ImportModuleRequest(files=[*request.files, request.files[0]])
    error = refused("INVALID_ARGUMENT", modules.import_module, db, OPERATOR, twice)
    assert [v.field for v in error.fields] == [f"files[{len(request.files)}].path"]
    assert db.state.versions == {}


def test_a_paused_space_keeps_its_progress_as_it_is(db: Any) -> None:
    imported(db)
    made = assign(db)
    modules.open_lesson(db, COACHEE, lesson(made))
    before = copy.deepcopy(db.state.progress)
    with db.unit_of_work() as uow:
        paused = space_event(sc.SpacePaused, "paused", updated_at=NOW + timedelta(1))
        spaces.record_space(uow, paused)
    refused(
        "SPACE_NOT_ACTIVE",
        modules.complete_lesson,
        db,
        DEPLOYMENT,
        COACHEE,
        lesson(made, "prepare"),
    )
    refused("SPACE_NOT_ACTIVE", modules.open_lesson, db, COACHEE, lesson(made))
    assert db.state.progress == before
    ref = c.ModuleAssignmentRef(assignment_id=made.assignment_id)
    assert modules.get_module_progress(db, COACH, ref).status == "started"  # still read


def test_a_module_exports_as_the_folder_import_takes_back(db: Any) -> None:
    from services.content.adapters.module_folder import read_files

    shipped = shipped_module("giving-feedback")
    request = c.ModuleRef(slug="giving-feedback")
    exported = modules.export_module(db, COACH, request)
    assert (exported.slug, exported.version) == ("giving-feedback", shipped.version)
    assert read_files({f.path: f.text.encode() for f in exported.files}) == shipped
    assert modules.export_module(db, OPERATOR, request).files == exported.files
    refused("COACH_OR_COACHEE_ONLY", modules.export_module, db, HR, request)
    missing = c.ModuleRef(slug="giving-feedback", version=99)
    refused("MODULE_NOT_FOUND", modules.export_module, db, COACH, missing)
