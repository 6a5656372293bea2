"""xAPI statements of a coachee's e-learning: valid xAPI 1.0.3, and nothing the operator's LRS
may not hold (ADR 0016)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from services.content.domain import xapi
from tests.support.lrs import statement_errors

DEPLOYMENT = xapi.Deployment("https://ecoach.example.org/")
AT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
ANSWER = "Je redoute la conversation avec mon manager"
LEARNER = "lrn_" + "a" * 24


def attempt(**changes: Any) -> xapi.Attempt:
    fields: dict[str, Any] = {
        "attempt_id": "prg_0123456789abcdef01234567",
        "learner": xapi.new_pseudonym(),
        "module_id": "mod_feedback",
        "module_version": 2,
        "language": "fr",
        "title": "Donner du feedback",
    }
    return xapi.Attempt(**(fields | changes))


def every_statement(of: xapi.Attempt) -> list[xapi.Statement]:
    return [
        xapi.lesson_experienced(
            DEPLOYMENT, of, "les_1", key="evt_1", at=AT, time_spent=timedelta(seconds=182.5)
        ),
        xapi.lesson_experienced(DEPLOYMENT, of, "les_2", key="evt_2", at=AT),
        xapi.prompt_answered(DEPLOYMENT, of, "les_2", "blk_3", "reflection", key="evt_3", at=AT),
        xapi.prompt_answered(DEPLOYMENT, of, "les_2", "blk_4", "quiz", key="evt_4", at=AT),
        xapi.module_completed(DEPLOYMENT, of, key="evt_5", at=AT, time_spent=timedelta(hours=1)),
    ]


def test_every_statement_is_valid_against_the_xapi_schema() -> None:
    for statement in every_statement(attempt()):
        assert statement_errors(statement.to_json()) == []


def test_the_schema_check_does_find_what_is_not_xapi() -> None:
    good = every_statement(attempt())[0].to_json()
    assert statement_errors({**good, "timestamp": "yesterday"}) != []
    assert statement_errors({**good, "verb": {"id": "experienced"}}) != []
    assert statement_errors({**good, "id": "evt_1"}) != []
    assert statement_errors({k: v for k, v in good.items() if k != "actor"}) != []


def test_statements_use_adl_verbs_version_1_0_3_and_utc_timestamps() -> None:
    verbs = [s.to_json()["verb"]["id"] for s in every_statement(attempt())]
    assert verbs == [
        "http://adlnet.gov/expapi/verbs/experienced",
        "http://adlnet.gov/expapi/verbs/experienced",
        "http://adlnet.gov/expapi/verbs/answered",
        "http://adlnet.gov/expapi/verbs/answered",
        "http://adlnet.gov/expapi/verbs/completed",
    ]
    paris = timezone(timedelta(hours=1))
    made = xapi.module_completed(DEPLOYMENT, attempt(), key="k", at=AT.astimezone(paris))
    assert made.to_json()["timestamp"] == "2026-12-06T09:30:00.000Z"
    assert made.to_json()["version"] == "1.0.3"
    with pytest.raises(ValueError, match="timezone-aware"):
        xapi.module_completed(DEPLOYMENT, attempt(), key="k", at=datetime(2026, 12, 6, 9, 30))


def test_the_actor_is_a_pseudonymous_account_on_the_deployment_never_an_email() -> None:
    learner = xapi.new_pseudonym()
    for statement in every_statement(attempt(learner=learner)):
        actor = statement.to_json()["actor"]
        assert actor == {
            "objectType": "Agent",
            "account": {"homePage": "https://ecoach.example.org", "name": learner},
        }
    for not_a_pseudonym in (
        "ada@example.org",
        "mailto:ada@example.org",
        "Ada Lovelace",
        "per_5f0c2a9d8e7b6a5f4e3d2c1b",  # a person id
        "lrn_short",
    ):
        with pytest.raises(ValueError, match="pseudonym"):
            attempt(learner=not_a_pseudonym)
        with pytest.raises(ValidationError):
            xapi.Account(home_page="https://ecoach.example.org", name=not_a_pseudonym)


def test_pseudonyms_are_random_and_opaque() -> None:
    made = {xapi.new_pseudonym() for _ in range(100)}
    assert len(made) == 100
    assert all(p.startswith("lrn_") and "@" not in p for p in made)


def test_an_answered_statement_says_that_not_what_nor_a_score() -> None:
    answered = xapi.prompt_answered(
        DEPLOYMENT, attempt(), "les_2", "blk_3", "reflection", key="e", at=AT
    ).to_json()
    assert answered["result"] == {"completion": True}
    assert answered["object"]["definition"] == {
        "type": "http://adlnet.gov/expapi/activities/question"
    }
    quiz = xapi.prompt_answered(DEPLOYMENT, attempt(), "les_2", "blk_4", "quiz", key="f", at=AT)
    assert quiz.to_json()["object"]["definition"]["type"].endswith("/activities/assessment")


def test_the_models_have_no_place_for_an_answer_a_score_or_an_email() -> None:
    good = every_statement(attempt())[2].to_json()
    refused = [
        {**good, "result": {"completion": True, "response": ANSWER}},
        {**good, "result": {"score": {"scaled": 0.8}}},
        {**good, "result": {"success": True}},
        {**good, "actor": {"objectType": "Agent", "mbox": "mailto:ada@example.org"}},
        {**good, "actor": {**good["actor"], "name": "Ada Lovelace"}},
        {**good, "context": {**good["context"], "extensions": {"https://x.org/a": ANSWER}}},
    ]
    for data in refused:
        with pytest.raises(ValidationError):
            xapi.Statement.from_json(data)


def test_no_statement_holds_free_text_an_email_or_a_person_id() -> None:
    person_id = "per_5f0c2a9d8e7b6a5f4e3d2c1b"
    text = json.dumps([s.to_json() for s in every_statement(attempt(title=None))])
    assert "@" not in text
    assert person_id not in text
    assert ANSWER not in text
    assert '"name": {' not in text  # no title was given: none is sent


def test_titles_are_sent_only_when_given_in_the_module_language() -> None:
    titled = xapi.module_completed(DEPLOYMENT, attempt(), key="k", at=AT).to_json()
    assert titled["object"]["definition"]["name"] == {"fr": "Donner du feedback"}
    untitled = xapi.module_completed(DEPLOYMENT, attempt(title=None), key="k", at=AT).to_json()
    assert "name" not in untitled["object"]["definition"]


def test_activity_ids_sit_under_the_deployment_url_and_are_built_from_ids() -> None:
    lesson, _, answered, _, completed = (s.to_json() for s in every_statement(attempt()))
    base = "https://ecoach.example.org/xapi/activities/modules/mod_feedback"
    assert completed["object"]["id"] == base
    assert lesson["object"]["id"] == f"{base}/lessons/les_1"
    assert lesson["context"]["contextActivities"] == {
        "parent": [completed["object"]],
    }
    assert answered["object"]["id"] == f"{base}/lessons/les_2/blocks/blk_3"
    assert answered["context"]["contextActivities"]["parent"] == [
        {"objectType": "Activity", "id": f"{base}/lessons/les_2"}
    ]
    assert answered["context"]["contextActivities"]["grouping"] == [completed["object"]]
    with pytest.raises(ValueError, match="activity id"):
        xapi.lesson_experienced(DEPLOYMENT, attempt(), "../admin", key="k", at=AT)


def test_every_statement_of_an_attempt_carries_its_registration_and_version() -> None:
    first, second = attempt(), attempt(attempt_id="prg_ffffffffffffffffffffffff")
    registrations = {s.to_json()["context"]["registration"] for s in every_statement(first)}
    assert registrations == {str(xapi.registration_of(first.attempt_id))}
    assert uuid.UUID(registrations.pop()).version == 5
    assert xapi.registration_of(second.attempt_id) != xapi.registration_of(first.attempt_id)
    contexts = [s.to_json()["context"] for s in every_statement(first)]
    assert {(c["revision"], c["language"], c["platform"]) for c in contexts} == {
        ("2", "fr", "ecoach")
    }


def test_the_same_fact_built_twice_is_the_same_statement() -> None:
    one = xapi.module_completed(DEPLOYMENT, attempt(learner=LEARNER), key="e", at=AT)
    again = xapi.module_completed(DEPLOYMENT, attempt(learner=LEARNER), key="e", at=AT)
    other = xapi.module_completed(DEPLOYMENT, attempt(learner=LEARNER), key="f", at=AT)
    assert one.to_json() == again.to_json()
    assert one.id != other.id


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "PT0S"), (0.5, "PT0.5S"), (61, "PT1M1S"), (3600, "PT1H"), (3661.25, "PT1H1M1.25S")],
)
def test_durations_are_iso_8601_to_the_hundredth(seconds: float, expected: str) -> None:
    assert xapi.xapi_duration(timedelta(seconds=seconds)) == expected


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        xapi.xapi_duration(timedelta(seconds=-1))


def test_the_deployment_url_must_be_a_plain_http_url() -> None:
    for bad in ("ftp://ecoach.example.org", "ecoach.example.org", "https://u:p@ecoach.org"):
        with pytest.raises(ValueError, match="public URL"):
            xapi.Deployment(bad)


def test_the_export_gives_the_statements_as_sent_oldest_first() -> None:
    of = attempt()
    late = xapi.module_completed(DEPLOYMENT, of, key="b", at=AT + timedelta(days=1)).to_json()
    early = xapi.lesson_experienced(DEPLOYMENT, of, "les_1", key="a", at=AT).to_json()
    document = xapi.export_document([late, early])
    assert document == {"xapi_version": "1.0.3", "statements": [early, late]}
    json.dumps(document)  # a JSON document as it is
