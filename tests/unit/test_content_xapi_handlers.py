"""Content's xAPI use cases on in-memory repositories: statements recorded with the progress
they describe (once each, the learner as a pseudonym, nothing that names the person), a block
answered by the coachee only and in the version started, the operator's LRS settings (the secret
write-only), the push of pending statements (once), export and erasure."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import pytest

from services.content.adapters.lrs import LrsRejected, LrsSettings, LrsUnavailable
from services.content.handlers import modules, personal_data, spaces, xapi
from services.contracts import content as c
from services.contracts import identity as ic
from services.contracts import spaces as sc
from services.kernel.clock import FixedClock
from services.kernel.errors import InvalidArgument
from tests.unit.fakes import FakeDatabase
from tests.unit.fakes.content import ContentState, content_database
from tests.unit.test_content_module_handlers import (
    COACH,
    COACHEE,
    DEPLOYMENT,
    HR,
    MASTER,
    NOW,
    OPERATOR,
    OTHER_COACH,
    STRANGER,
    assign,
    imported,
    lesson,
    refused,
    space_event,
)

EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db(clock: FixedClock) -> FakeDatabase[ContentState]:
    database = content_database(clock)
    with database.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpaceActivated))
    return database


def verbs(db: Any) -> list[str]:
    return sorted(s.statement["verb"]["id"] for s in db.state.statements.values())


def answered(made: c.ModuleAssignment, key: str, block: int, kind: str) -> c.BlockAnsweredRequest:
    return c.BlockAnsweredRequest.model_validate(
        {"assignment_id": made.assignment_id, "lesson": key, "block": block, "kind": kind}
    )


def test_completing_lessons_records_experienced_then_completed_once_each(db: Any) -> None:
    imported(db)
    made = assign(db)
    for key in ("prepare", "deliver", "follow-up"):
        modules.complete_lesson(db, DEPLOYMENT, COACHEE, lesson(made, key))
    modules.complete_lesson(db, DEPLOYMENT, COACHEE, lesson(made, "prepare"))  # again
    assert verbs(db) == [COMPLETED] + [EXPERIENCED] * 3
    completed = next(
        s.statement for s in db.state.statements.values() if s.statement["verb"]["id"] == COMPLETED
    )
    assert (
        completed["object"]["id"] == "https://coach.example/xapi/activities/modules/team-feedback"
    )
    assert completed["result"]["completion"] is True
    assert completed["context"]["revision"] == "1"


def test_statements_name_the_learner_by_a_pseudonym_and_nothing_else_of_them(db: Any) -> None:
    imported(db)
    made = assign(db)
    modules.complete_lesson(db, DEPLOYMENT, COACHEE, lesson(made, "prepare"))
    modules.record_block_answered(
        db, DEPLOYMENT, COACHEE, answered(made, "prepare", 1, "reflection")
    )
    [pseudonym] = db.state.learners.values()
    for kept in db.state.statements.values():
        assert kept.statement["actor"]["account"] == {
            "homePage": "https://coach.example",
            "name": pseudonym,
        }
        text = json.dumps(kept.statement)
        assert COACHEE.person_id not in text and "@" not in text
        assert "response" not in text and "score" not in text


def test_the_coachee_records_a_block_answered_once(db: Any) -> None:
    imported(db)
    made = assign(db)
    request = answered(made, "deliver", 2, "reflection")
    modules.record_block_answered(db, DEPLOYMENT, COACHEE, request)
    modules.record_block_answered(db, DEPLOYMENT, COACHEE, request)
    assert verbs(db) == [ANSWERED]
    [kept] = db.state.statements.values()
    assert kept.statement["object"]["id"].endswith("/lessons/deliver/blocks/2")
    assert db.state.progress[made.assignment_id][2].version == 1  # the module started with it


@pytest.mark.parametrize(
    ("key", "block", "kind", "field"),
    [
        ("nowhere", 0, "reflection", "lesson"),
        ("prepare", 2, "reflection", "block"),
        ("prepare", 0, "reflection", "kind"),
        ("follow-up", 2, "quiz", "kind"),
    ],
)
def test_a_block_the_version_does_not_hold_is_refused_by_its_field(
    db: Any, key: str, block: int, kind: str, field: str
) -> None:
    imported(db)
    made = assign(db)
    with pytest.raises(InvalidArgument) as caught:
        modules.record_block_answered(db, DEPLOYMENT, COACHEE, answered(made, key, block, kind))
    assert [f.field for f in caught.value.fields] == [field]
    assert db.state.statements == {}


def test_only_the_coachee_records_an_answer(db: Any) -> None:
    imported(db)
    made = assign(db)
    request = answered(made, "prepare", 1, "reflection")
    refused("SPACE_COACHEE_ONLY", modules.record_block_answered, db, DEPLOYMENT, COACH, request)
    for outsider in (OTHER_COACH, HR, STRANGER):
        refused(
            "MODULE_ASSIGNMENT_NOT_FOUND",
            modules.record_block_answered,
            db,
            DEPLOYMENT,
            outsider,
            request,
        )
    assert db.state.statements == {}


# ---------------------------------------------------------------- the operator's LRS

SETTINGS = c.LrsSettingsInput(endpoint="https://lrs.example/xapi/", key="k1", secret="s3cret")


def test_the_operator_sets_the_lrs_and_never_reads_the_secret_back(db: Any) -> None:
    view = xapi.set_lrs_settings(db, MASTER, True, OPERATOR, SETTINGS)
    assert view.has_secret and view.enabled and view.configured
    assert "s3cret" not in view.model_dump_json()
    kept = xapi.set_lrs_settings(
        db, MASTER, True, OPERATOR, SETTINGS.model_copy(update={"secret": "", "enabled": False})
    )
    assert kept.has_secret and not kept.enabled
    assert db.state.lrs is not None and db.state.lrs.secret == "s3cret"
    got = xapi.get_lrs_settings(db, MASTER, OPERATOR)
    assert got.endpoint == "https://lrs.example/xapi/" and "s3cret" not in got.model_dump_json()


def test_a_new_endpoint_needs_its_secret_and_production_needs_https(db: Any) -> None:
    xapi.set_lrs_settings(db, MASTER, True, OPERATOR, SETTINGS)
    moved = SETTINGS.model_copy(update={"endpoint": "http://lrs.local/xapi", "secret": ""})
    with pytest.raises(InvalidArgument) as caught:
        xapi.set_lrs_settings(db, MASTER, True, OPERATOR, moved)
    assert sorted(f.field for f in caught.value.fields) == ["endpoint", "secret"]
    local = moved.model_copy(update={"secret": "other"})
    assert xapi.set_lrs_settings(db, MASTER, False, OPERATOR, local).endpoint == local.endpoint


@pytest.mark.parametrize("who", [COACH, COACHEE, HR, STRANGER])
def test_only_operators_see_or_set_the_lrs(db: Any, who: Any) -> None:
    refused("OPERATOR_ONLY", xapi.get_lrs_settings, db, MASTER, who)
    refused("OPERATOR_ONLY", xapi.set_lrs_settings, db, MASTER, False, who, SETTINGS)


class FakeLrs:
    """An LrsClient stand-in: what it was given, and how it answers."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.failure: Exception | None = None
        self.settings: list[LrsSettings] = []

    def __call__(self, settings: LrsSettings) -> FakeLrs:
        self.settings.append(settings)
        return self

    def __enter__(self) -> FakeLrs:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def send(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        if self.failure is not None:
            raise self.failure
        self.received += [dict(s) for s in statements]
        return [str(s["id"]) for s in statements]


def completed_module(db: Any) -> c.ModuleAssignment:
    imported(db)
    made = assign(db)
    for key in ("prepare", "deliver", "follow-up"):
        modules.complete_lesson(db, DEPLOYMENT, COACHEE, lesson(made, key))
    return made


def test_pending_statements_are_pushed_once(db: Any, clock: FixedClock) -> None:
    completed_module(db)
    lrs = FakeLrs()
    assert xapi.push_pending(db, MASTER, lrs) == 0  # no LRS set: nothing sent
    xapi.set_lrs_settings(db, MASTER, True, OPERATOR, SETTINGS)
    assert xapi.get_lrs_settings(db, MASTER, OPERATOR).pending == 4
    clock.advance(timedelta(minutes=1))
    assert xapi.push_pending(db, MASTER, lrs) == 4
    assert lrs.settings[0].secret == "s3cret"
    assert xapi.push_pending(db, MASTER, lrs) == 0
    assert len(lrs.received) == 4
    view = xapi.get_lrs_settings(db, MASTER, OPERATOR)
    assert view.pending == 0 and view.last_push_at == NOW + timedelta(minutes=1)
    assert view.last_error is None


@pytest.mark.parametrize(
    "failure", [LrsUnavailable("the LRS answered 503"), LrsRejected("refused (401)", 401)]
)
def test_a_failed_push_keeps_the_statements_and_says_why(db: Any, failure: Exception) -> None:
    completed_module(db)
    xapi.set_lrs_settings(db, MASTER, True, OPERATOR, SETTINGS)
    lrs = FakeLrs()
    lrs.failure = failure
    assert xapi.push_pending(db, MASTER, lrs) == 0
    view = xapi.get_lrs_settings(db, MASTER, OPERATOR)
    assert view.pending == 4 and view.last_error == str(failure)
    lrs.failure = None
    assert xapi.push_pending(db, MASTER, lrs) == 4
    assert xapi.get_lrs_settings(db, MASTER, OPERATOR).last_error is None


def test_a_disabled_lrs_receives_nothing(db: Any) -> None:
    completed_module(db)
    xapi.set_lrs_settings(
        db, MASTER, True, OPERATOR, SETTINGS.model_copy(update={"enabled": False})
    )
    lrs = FakeLrs()
    assert xapi.push_pending(db, MASTER, lrs) == 0 and lrs.received == []


# ---------------------------------------------------------------- personal data


def test_the_coachee_exports_their_statements_and_erasure_takes_them(db: Any) -> None:
    completed_module(db)
    exported = personal_data.export_personal_data(db, MASTER, COACHEE)
    document = exported.data["my_xapi_statements"]
    assert document["xapi_version"] == "1.0.3"
    assert [s["verb"]["id"] for s in document["statements"]].count(EXPERIENCED) == 3
    assert (
        personal_data.export_personal_data(db, MASTER, COACH).data["my_xapi_statements"][
            "statements"
        ]
        == []
    )
    with db.unit_of_work() as uow:
        personal_data.erase_personal_data(
            uow,
            MASTER,
            ic.PersonErased(erasure_id="era_1", person_id=COACHEE.person_id, requested_at=NOW),
        )
    assert db.state.statements == {} and db.state.learners == {}
