"""The questionnaire form of the web app (gateway/web/questionnaire_forms.py): every item kind of
an instrument's document read into fields, the form read back into the API's answers (a blank
item unanswered, a bad ranking or number refused beside its item), a kept draft shown again,
answers put in words, and the answer form as rendered sending a kept draft back unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from flask import Flask, g
from werkzeug.datastructures import MultiDict

from gateway.api.pb import assessment_pb2 as apb
from gateway.web import questionnaire_forms as qf
from gateway.web.app import create_app
from gateway.web.pages import render
from gateway.web.session import WebSession


def text(en: str, fr: str = "") -> dict[str, str]:
    return {"en": en, "fr": fr or f"{en} (fr)"}


DOCUMENT = json.dumps(
    {
        "items": [
            {
                "id": "mood",
                "kind": "likert",
                "prompt": text("Mood"),
                "min": 1,
                "max": 3,
                "labels": [text("Low"), text("Middle"), text("High")],
            },
            {
                "id": "colour",
                "kind": "single_choice",
                "prompt": text("Colour"),
                "options": [
                    {"key": "red", "label": text("Red")},
                    {"key": "blue", "label": text("Blue")},
                ],
            },
            {
                "id": "pets",
                "kind": "multiple_choice",
                "prompt": text("Pets"),
                "options": [
                    {"key": "cat", "label": text("Cat")},
                    {"key": "dog", "label": text("Dog")},
                ],
            },
            {
                "id": "energy",
                "kind": "numeric_scale",
                "prompt": text("Energy"),
                "min": 0,
                "max": 10,
            },
            {
                "id": "order",
                "kind": "ranking",
                "prompt": text("Order"),
                "options": [
                    {"key": "a", "label": text("A")},
                    {"key": "b", "label": text("B")},
                    {"key": "c", "label": text("C")},
                ],
            },
            {"id": "why", "kind": "free_text", "prompt": text("Why"), "required": False},
        ]
    }
)


@pytest.fixture
def page() -> Iterator[None]:
    with Flask(__name__).test_request_context():
        g.language = "en"
        yield


def test_every_item_kind_is_read_from_the_document(page: None) -> None:
    items = {i.id: i for i in qf.items_of(DOCUMENT)}
    assert list(items) == ["mood", "colour", "pets", "energy", "order", "why"]
    assert items["mood"].options == [("1", "Low"), ("2", "Middle"), ("3", "High")]
    assert items["colour"].options == [("red", "Red"), ("blue", "Blue")]
    assert (items["energy"].low, items["energy"].high) == (0, 10)
    assert not items["why"].required
    g.language = "fr"
    assert qf.items_of(DOCUMENT)[0].prompt == "Mood (fr)"


def test_the_form_becomes_the_apis_answers_and_blank_items_stay_unanswered(page: None) -> None:
    items = qf.items_of(DOCUMENT)
    form = MultiDict(
        [
            ("item-mood", "2"),
            ("item-colour", "blue"),
            ("item-pets", "cat"),
            ("item-pets", "dog"),
            ("item-energy", "7,5"),
            ("item-order-a", "3"),
            ("item-order-b", "1"),
            ("item-order-c", "2"),
            ("item-why", ""),
        ]
    )
    answers, typed, errors = qf.read_answers(form, items)
    assert errors == {}
    assert answers["mood"].number == 2 and answers["energy"].number == 7.5
    assert answers["colour"].text == "blue"
    assert list(answers["pets"].choices.keys) == ["cat", "dog"]
    assert list(answers["order"].choices.keys) == ["b", "c", "a"]
    assert "why" not in answers
    assert typed["order"] == {"a": "3", "b": "1", "c": "2"}

    attempt = apb.Attempt(answers=answers)
    assert qf.typed_of(attempt, items) == {
        "mood": "2",
        "colour": "blue",
        "pets": ["cat", "dog"],
        "energy": "7.5",
        "order": {"b": "1", "c": "2", "a": "3"},
    }
    words = {i.id: qf.answer_words(i, answers[i.id]) for i in items if i.id in answers}
    assert words == {
        "mood": "2 (Middle)",
        "colour": "Blue",
        "pets": "Cat, Dog",
        "energy": "7.5",
        "order": "B > C > A",
    }


def test_a_bad_ranking_or_number_is_refused_beside_its_item_and_kept_as_typed(
    page: None,
) -> None:
    form = MultiDict([("item-energy", "lots"), ("item-order-a", "1"), ("item-order-b", "1")])
    answers, typed, errors = qf.read_answers(form, qf.items_of(DOCUMENT))
    assert set(errors) == {"energy", "order"}
    assert answers == {}
    assert typed["energy"] == "lots" and typed["order"]["b"] == "1"


class FormFields(HTMLParser):
    """What a browser sends for a form as rendered: checked radios and checkboxes, the values
    of the other inputs, the text of textareas (its own `name=value` pairs, in order)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []
        self.invalid: list[str] = []
        self._textarea = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name") or ""
        if a.get("aria-invalid") == "true":
            self.invalid.append(a.get("id") or name)
        if tag == "textarea":
            self._textarea = name
        elif tag == "input" and name.startswith("item-"):
            if a.get("type") in ("radio", "checkbox"):
                if "checked" in a:
                    self.sent.append((name, a.get("value") or ""))
            else:
                self.sent.append((name, a.get("value") or ""))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.sent.append((self._textarea, data))
            self._textarea = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea:
            self.sent.append((self._textarea, ""))
            self._textarea = ""


def test_the_answer_form_shows_a_kept_draft_that_sends_the_same_answers_back() -> None:
    app = create_app("127.0.0.1:1", b"k" * 32)
    with app.test_request_context("/"):
        g.language, g.session = "en", WebSession()
        items = qf.items_of(DOCUMENT)
        kept = {
            "mood": apb.Answer(number=3),
            "colour": apb.Answer(text="red"),
            "pets": apb.Answer(choices=apb.Choices(keys=["dog"])),
            "energy": apb.Answer(number=6),
            "order": apb.Answer(choices=apb.Choices(keys=["c", "a", "b"])),
            "why": apb.Answer(text="Because"),
        }
        assignment = apb.Assignment(assignment_id="asg_1", status=apb.IN_PROGRESS)
        html, _status = render(
            "questionnaire.html",
            title="A questionnaire",
            viewer="coachee",
            space_id="spc_1",
            back="/",
            items=items,
            typed=qf.typed_of(apb.Attempt(answers=kept), items),
            errors={"energy": "is too high"},
            error="",
            notice="",
            answering=True,
            assignment=assignment,
            attempts=[],
            latest=None,
            trend=[],
            qf=qf,
            when=str,
            day=str,
        )
        fields = FormFields()
        fields.feed(html)
        answers, _typed, errors = qf.read_answers(MultiDict(fields.sent), items)
    assert errors == {} and answers == kept
    assert fields.invalid == ["item-energy"]
    assert 'id="item-energy-error"' in html


def test_the_latest_results_are_read_from_the_assignment_s_score_values_and_band_texts() -> None:
    def loc(en: str) -> apb.LocalizedText:
        return apb.LocalizedText(en=en, fr=f"{en} (fr)")

    def band(label: str) -> apb.BandText:
        return apb.BandText(label=loc(label), meaning=loc(f"{label} means"))

    assignment = apb.Assignment(
        dimensions=[
            apb.DimensionBands(
                dimension="health", title=loc("Health"), bands=[band("Low"), band("High")]
            ),
            apb.DimensionBands(dimension="work", title=loc("Work"), bands=[band("Calm")]),
        ],
        attempts=[
            apb.AttemptSummary(
                number=1,
                status=apb.ATTEMPT_SUBMITTED,
                scores=[
                    apb.ScoreValue(dimension="health", score=80, raw=8, band=1),
                    apb.ScoreValue(dimension="work", score=10, raw=1, band=0),
                    # a value pointing nowhere is left out rather than shown with no meaning
                    apb.ScoreValue(dimension="work", score=10, raw=1, band=3),
                    apb.ScoreValue(dimension="gone", score=10, raw=1, band=0),
                ],
            )
        ],
    )
    (latest,) = qf.submitted_attempts(assignment)
    shown = qf.results_of(assignment, latest)
    assert [(r.dimension, r.title.en, r.score, r.band.en, r.interpretation.en) for r in shown] == [
        ("health", "Health", 80, "High", "High means"),
        ("work", "Work", 10, "Calm", "Calm means"),
    ]
