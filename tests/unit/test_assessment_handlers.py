"""Assessment's handlers on in-memory repositories (tests/unit/fakes/assessment.py): who may
assign, answer, read and allow a retake; drafts, submissions and their checks; the trend;
instruments' privacy and versions; events that carry no answers; the erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.assessment.domain.assignments import SpaceCopy
from services.assessment.handlers import assignments, instruments, personal_data, spaces
from services.contracts import assessment as c
from services.contracts import identity as ic
from services.contracts import spaces as sc
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.errors import DomainError
from tests.unit.fakes import FakeDatabase
from tests.unit.fakes.assessment import AssessmentState, assessment_database

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
TENANT, OTHER_TENANT = "tnt_a1", "tnt_b2"
SPACE = "spc_5a"
MASTER: Any = None  # the fakes seal nothing
WHEEL = {
    "health": 7,
    "work": 5,
    "money": 6,
    "relationships": 8,
    "family": 9,
    "friends": 4,
    "growth": 6,
    "leisure": 3,
}


def person(person_id: str, *roles: str, tenant_id: str = TENANT) -> PersonClaims:
    return PersonClaims(person_id, tenant_id, roles, False, "tok", NOW, NOW + timedelta(1))


COACH, COACHEE = person("per_coach", "coach"), person("per_coachee", "coachee")
OTHER_COACH, HR = person("per_other", "coach"), person("per_hr", "tenant_admin")
STRANGER = person("per_coach", "coach", tenant_id=OTHER_TENANT)  # the coach, elsewhere


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


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db(clock: FixedClock) -> FakeDatabase[AssessmentState]:
    database = assessment_database(clock)
    with database.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpaceActivated))
    return database


def assign(db: Any, who: PersonClaims = COACH, instrument_id: str = "wheel-of-life") -> Any:
    request = c.AssignInstrumentRequest(space_id=SPACE, instrument_id=instrument_id)
    return assignments.assign_instrument(db, MASTER, who, request)


def answer(db: Any, ref: str, values: dict[str, Any], *, submit: bool, who: Any = COACHEE) -> Any:
    request = c.AnswersRequest(assignment_id=ref, answers=values)
    handler = assignments.submit_attempt if submit else assignments.save_draft
    return handler(db, MASTER, who, request)


def test_the_space_s_coach_assigns_to_an_active_space_and_nobody_else(db: Any) -> None:
    refused("SPACE_COACH_ONLY", assign, db, COACHEE)
    for nobody in (OTHER_COACH, HR, STRANGER):
        refused("SPACE_NOT_FOUND", assign, db, nobody)
    refused("INSTRUMENT_NOT_FOUND", assign, db, COACH, "no-such-instrument")
    assigned = assign(db)
    assert (assigned.status, assigned.slug, assigned.attempts_allowed) == (
        "assigned",
        "wheel-of-life",
        1,
    )
    (event,) = db.events_of(c.AssignmentCreated)
    assert event.assignment_id == assigned.assignment_id and event.instrument_version == 1

    with db.unit_of_work() as uow:
        spaces.record_space(
            uow, space_event(sc.SpacePaused, "paused", updated_at=NOW + timedelta(1))
        )
    refused("SPACE_NOT_ACTIVE", assign, db)


SUMMARY_FIELDS = ("number", "status", "started_at", "updated_at", "submitted_at", "scores")


def test_drafts_submissions_retakes_and_the_trend(db: Any, clock: FixedClock) -> None:
    ref = assign(db).assignment_id
    draft = answer(db, ref, {"health": 7}, submit=False)
    assert (draft.status, draft.answers) == ("draft", {"health": 7})
    refused("SPACE_COACHEE_ONLY", answer, db, ref, WHEEL, submit=True, who=COACH)

    # An incomplete or wrong submission names each item and changes nothing.
    bad = refused("INVALID_ARGUMENT", answer, db, ref, {"health": 11, "nope": 1}, submit=True)
    assert {f.field for f in bad.fields} >= {"answers.health", "answers.nope", "answers.work"}
    kept = assignments.get_attempt(db, MASTER, COACHEE, c.AttemptRef(assignment_id=ref, number=1))
    assert (kept.status, kept.answers) == ("draft", {"health": 7})
    # A draft is the coachee's alone.
    refused(
        "ASSIGNMENT_NOT_FOUND",
        assignments.get_attempt,
        db,
        MASTER,
        COACH,
        c.AttemptRef(assignment_id=ref, number=1),
    )

    first = answer(db, ref, WHEEL, submit=True)
    assert first.status == "submitted" and first.submitted_at == NOW
    health = next(r for r in first.results if r.dimension == "health")
    assert (health.raw, health.lowest, health.highest) == (7, 1, 10)
    assert health.score == pytest.approx(600 / 9) and health.band.en
    (event,) = db.events_of(c.AttemptSubmitted)
    assert event.attempt_number == 1 and "answers" not in event.model_dump()
    assert set(event.model_dump()) == {  # ids and state: never answers nor scores
        "assignment_id",
        "tenant_id",
        "space_id",
        "instrument_id",
        "instrument_slug",
        "instrument_version",
        "status",
        "attempts_allowed",
        "updated_at",
        "attempt_number",
    }

    refused("NO_ATTEMPT_LEFT", answer, db, ref, {"health": 5}, submit=False)
    refused(
        "SPACE_COACH_ONLY",
        assignments.allow_retake,
        db,
        MASTER,
        COACHEE,
        c.AssignmentRef(assignment_id=ref),
    )
    allowed = assignments.allow_retake(db, MASTER, COACH, c.AssignmentRef(assignment_id=ref))
    assert (allowed.status, allowed.attempts_allowed) == ("retake_allowed", 2)
    refused(
        "RETAKE_NOT_NEEDED",
        assignments.allow_retake,
        db,
        MASTER,
        COACH,
        c.AssignmentRef(assignment_id=ref),
    )

    clock.advance(timedelta(days=91))
    answer(db, ref, dict(WHEEL, health=10), submit=True)
    trend = assignments.get_trend(db, MASTER, COACH, c.AssignmentRef(assignment_id=ref))
    line = next(t for t in trend.dimensions if t.dimension == "health")
    assert [(p["number"], round(p["score"], 1)) for p in line.points] == [(1, 66.7), (2, 100.0)]
    assert line.change == pytest.approx(100 - 600 / 9)
    seen = assignments.get_assignment(db, MASTER, COACH, c.AssignmentRef(assignment_id=ref))
    assert seen.status == "submitted" and [a.number for a in seen.attempts] == [1, 2]
    # Attempts are summaries: score values only, no answers; the texts come once, with the
    # dimensions, and the values point into them as the whole attempt (GetAttempt) says.
    listed = seen.model_dump(mode="json")
    assert all(set(a) == {*SUMMARY_FIELDS} for a in listed["attempts"])
    assert all(
        set(s) == {"dimension", "score", "raw", "band"} for s in listed["attempts"][0]["scores"]
    )
    dimensions = {d.dimension: d for d in seen.dimensions}
    assert len(dimensions) == len(seen.attempts[0].scores) == len(first.results)
    health_bands = dimensions["health"]
    assert (health_bands.lowest, health_bands.highest) == (1, 10)
    whole = assignments.get_attempt(db, MASTER, COACH, c.AttemptRef(assignment_id=ref, number=2))
    assert whole.answers == dict(WHEEL, health=10)
    for summary, result in zip(seen.attempts[1].scores, whole.results, strict=True):
        band = dimensions[summary["dimension"]].bands[summary["band"]]
        assert (summary["dimension"], summary["score"], summary["raw"]) == (
            result.dimension,
            result.score,
            result.raw,
        )
        assert (band.label, band.meaning) == (result.band, result.interpretation)


def test_nobody_outside_the_space_learns_anything_and_a_former_coach_loses_access(db: Any) -> None:
    ref = assign(db).assignment_id
    answer(db, ref, WHEEL, submit=True)
    ask = c.AssignmentRef(assignment_id=ref)
    for nobody in (OTHER_COACH, HR, STRANGER):
        for call, request in (
            (assignments.get_assignment, ask),
            (assignments.get_trend, ask),
            (assignments.allow_retake, ask),
            (assignments.get_attempt, c.AttemptRef(assignment_id=ref, number=1)),
        ):
            refused("ASSIGNMENT_NOT_FOUND", call, db, MASTER, nobody, request)
        refused(
            "SPACE_NOT_FOUND",
            assignments.list_assignments,
            db,
            MASTER,
            nobody,
            c.ListAssignmentsRequest(space_id=SPACE),
        )

    with db.unit_of_work() as uow:
        spaces.record_space(
            uow,
            space_event(
                sc.CoachChanged,
                coach_person_id=OTHER_COACH.person_id,
                previous_coach_person_id=COACH.person_id,
                updated_at=NOW + timedelta(1),
            ),
        )
    refused("ASSIGNMENT_NOT_FOUND", assignments.get_assignment, db, MASTER, COACH, ask)
    assert assignments.get_assignment(db, MASTER, OTHER_COACH, ask).assignment_id == ref
    # An older event arriving late does not bring the former coach back.
    with db.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpaceActivated))
    refused("ASSIGNMENT_NOT_FOUND", assignments.get_assignment, db, MASTER, COACH, ask)


def test_a_coach_s_instrument_is_private_then_shared_in_the_tenant_and_versioned(db: Any) -> None:
    wheel = instruments.get_instrument(
        db, MASTER, COACH, c.InstrumentRef(instrument_id="wheel-of-life")
    )
    assert wheel.document is not None
    refused(
        "COACH_OR_COACHEE_ONLY",
        instruments.get_instrument,
        db,
        MASTER,
        HR,
        c.InstrumentRef(instrument_id="wheel-of-life"),
    )
    document = wheel.document.model_copy(update={"slug": "my-wheel"})
    refused(
        "COACH_ONLY",
        instruments.create_instrument,
        db,
        COACHEE,
        c.CreateInstrumentRequest(document=document),
    )
    mine = instruments.create_instrument(db, COACH, c.CreateInstrumentRequest(document=document))
    ref = c.InstrumentRef(instrument_id=mine.instrument_id)
    for nobody in (OTHER_COACH, COACHEE, STRANGER):
        refused("INSTRUMENT_NOT_FOUND", instruments.get_instrument, db, MASTER, nobody, ref)
    # The rules a schema cannot say, named as the request names them.
    broken = document.model_copy(
        update={"dimensions": [document.dimensions[0].model_copy(update={"items": ["nope"]})]}
    )
    bad = refused(
        "INVALID_ARGUMENT",
        instruments.create_instrument,
        db,
        COACH,
        c.CreateInstrumentRequest(document=broken),
    )
    assert all(f.field.startswith("document.") for f in bad.fields)

    shared = instruments.update_instrument(
        db,
        COACH,
        c.UpdateInstrumentRequest(instrument_id=mine.instrument_id, document=document, shared=True),
    )
    assert (shared.version, shared.shared) == (2, True)
    assert instruments.get_instrument(db, MASTER, OTHER_COACH, ref).version == 2
    refused(
        "INSTRUMENT_AUTHOR_ONLY",
        instruments.update_instrument,
        db,
        OTHER_COACH,
        c.UpdateInstrumentRequest(instrument_id=mine.instrument_id, document=document),
    )
    refused("INSTRUMENT_NOT_FOUND", instruments.get_instrument, db, MASTER, STRANGER, ref)
    listed = instruments.list_instruments(db, COACHEE, c.ListInstrumentsRequest(page_size=200))
    assert [i.instrument_id for i in listed.instruments if not i.built_in] == [mine.instrument_id]
    first_page = instruments.list_instruments(db, COACHEE, c.ListInstrumentsRequest(page_size=3))
    assert len(first_page.instruments) == 3 and first_page.next_page_token == "3"

    # An assignment keeps the version assigned.
    assigned = assign(db, COACH, mine.instrument_id)
    assert assigned.version == 2


def test_the_erasure_of_a_coachee_and_of_a_coach(db: Any) -> None:
    ref = assign(db).assignment_id
    answer(db, ref, WHEEL, submit=True)
    export = personal_data.export_personal_data(db, MASTER, COACHEE)
    (mine,) = export.data["assignments_as_coachee"]
    assert mine["attempts"][0]["answers"] == WHEEL
    wheel = instruments.get_instrument(
        db, MASTER, COACH, c.InstrumentRef(instrument_id="wheel-of-life")
    )
    assert wheel.document is not None
    document = wheel.document.model_copy(update={"slug": "private"})
    instruments.create_instrument(db, COACH, c.CreateInstrumentRequest(document=document))
    assert len(personal_data.export_personal_data(db, MASTER, COACH).data["instruments"]) == 1

    for who in (COACHEE, COACH):
        event = ic.PersonErased(erasure_id="era_1", person_id=who.person_id, requested_at=NOW)
        for _ in range(2):  # a replay changes nothing
            with db.unit_of_work() as uow:
                personal_data.erase_personal_data(uow, MASTER, event)
    assert db.state.assignments == {} and db.state.instruments == []
    assert db.state.spaces[SPACE].coachee_person_id == "erased"
    done = [e for e in db.events if getattr(e, "TYPE", "") == "assessment.person_erased"]
    assert [e.person_id for e in done] == ["per_coachee"] * 2 + ["per_coach"] * 2


def test_space_copies_keep_the_newest_state() -> None:
    db = assessment_database(FixedClock(NOW))
    with db.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpaceCreated, "draft"))
        spaces.record_space(uow, space_event(sc.SpaceActivated, updated_at=NOW + timedelta(1)))
        spaces.record_space(uow, space_event(sc.SpaceCreated, "draft"))
    assert db.state.spaces[SPACE] == SpaceCopy(
        SPACE, TENANT, "active", COACHEE.person_id, COACH.person_id, None, NOW + timedelta(1)
    )


def test_the_fakes_have_the_names_of_the_unit_of_work() -> None:
    from services.assessment.storage.unit import AssessmentUnit
    from services.kernel.runtime.sql import Repository
    from tests.unit.fakes.assessment import assessment_repositories

    declared = {k for k, v in vars(AssessmentUnit).items() if isinstance(v, Repository)}
    assert set(assessment_repositories(AssessmentState())) == declared


def test_an_answer_is_a_number_a_text_or_texts_and_a_bad_one_is_named_by_its_item() -> None:
    build = c.AssessmentApi.save_draft.build
    ok = build(assignment_id="asg_0a", answers={"a": 7, "b": 2.5, "c": "x", "d": ["k"]})
    assert ok.answers == {"a": 7, "b": 2.5, "c": "x", "d": ["k"]}
    for value, problem in ((True, "must be a number"), ([1], "must be a list of option keys")):
        with pytest.raises(DomainError) as caught:
            build(assignment_id="asg_0a", answers={"health": value})
        assert [(f.field, f.description) for f in caught.value.fields] == [
            ("answers.health", problem)
        ]


def test_the_space_s_people_read_an_assigned_private_instrument_through_its_assignment(
    db: Any,
) -> None:
    wheel = instruments.get_instrument(
        db, MASTER, COACH, c.InstrumentRef(instrument_id="wheel-of-life")
    )
    assert wheel.document is not None
    document = wheel.document.model_copy(update={"slug": "my-wheel"})
    mine = instruments.create_instrument(db, COACH, c.CreateInstrumentRequest(document=document))
    ref = assign(db, COACH, mine.instrument_id).assignment_id
    through = c.InstrumentRef(instrument_id=mine.instrument_id, assignment_id=ref)
    direct = c.InstrumentRef(instrument_id=mine.instrument_id)
    refused("INSTRUMENT_NOT_FOUND", instruments.get_instrument, db, MASTER, COACHEE, direct)
    read = instruments.get_instrument(db, MASTER, COACHEE, through)
    assert read.document is not None and (read.document.slug, read.version) == ("my-wheel", 1)
    # A new version later: the assignment still reads the one it uses.
    instruments.update_instrument(
        db, COACH, c.UpdateInstrumentRequest(instrument_id=mine.instrument_id, document=document)
    )
    assert instruments.get_instrument(db, MASTER, COACHEE, through).version == 1
    for wrong in (
        through.model_copy(update={"version": 2}),
        through.model_copy(update={"instrument_id": "wheel-of-life"}),
    ):
        refused("INSTRUMENT_NOT_FOUND", instruments.get_instrument, db, MASTER, COACHEE, wrong)
    for nobody in (OTHER_COACH, STRANGER):
        refused("ASSIGNMENT_NOT_FOUND", instruments.get_instrument, db, MASTER, nobody, through)
    refused("COACH_OR_COACHEE_ONLY", instruments.get_instrument, db, MASTER, HR, through)
