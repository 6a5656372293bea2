"""The web app's 360 feedback (gateway/web/feedback.py) over a fake assessment API: the rater's
page opened twice shows the questionnaire both times in the browser's language and uses
nothing up; an unknown, used or malformed link gets the same no-longer-valid page; a refused
answer is shown beside its item with what was typed kept; the throttle's wait is passed on; the
coachee's invite form reads its addresses, and a refused invitation (a bad address, too many
people) comes back as problems beside its fields, not as an error page."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from flask import g
from flask.testing import FlaskClient
from google.protobuf import any_pb2
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2, status_pb2

from gateway.api.pb import assessment_pb2 as apb
from gateway.web import feedback as fb
from gateway.web.app import create_app
from gateway.web.session import WebSession

TOKEN = "T" * 43
DOCUMENT = {
    "slug": "values",
    "title": {"en": "Values", "fr": "Valeurs"},
    "items": [
        {
            "id": "mood",
            "kind": "likert",
            "prompt": {"en": "Mood", "fr": "Humeur"},
            "min": 1,
            "max": 3,
            "labels": [{"en": "Low"}, {"en": "Middle"}, {"en": "High"}],
        },
        {"id": "energy", "kind": "numeric_scale", "prompt": {"en": "Energy"}, "min": 0, "max": 10},
        {"id": "why", "kind": "free_text", "prompt": {"en": "Why"}, "required": False},
    ],
}


class Refused(grpc.RpcError):
    """A failed call as the gRPC gateway answers it: a code, a message, and its details."""

    def __init__(self, code: grpc.StatusCode, message: str, *details: Any) -> None:
        super().__init__(message)
        self._code, self._message = code, message
        packed = []
        for detail in details:
            wrapped = any_pb2.Any()
            wrapped.Pack(detail)
            packed.append(wrapped)
        self._status = status_pb2.Status(code=code.value[0], message=message, details=packed)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._message

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return (("grpc-status-details-bin", self._status.SerializeToString()),)


def bad_request(message: str, **fields: str) -> Refused:
    violations = [
        error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
        for f, d in fields.items()
    ]
    return Refused(
        grpc.StatusCode.INVALID_ARGUMENT,
        message,
        error_details_pb2.BadRequest(field_violations=violations),
    )


LINK_INVALID = Refused(grpc.StatusCode.FAILED_PRECONDITION, "This link is not valid.")


@dataclass
class FakeAssessment:
    """The assessment stub: what each method answers (a reply, or an error to raise), and
    every request received."""

    answers: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, Any, dict[str, str]]] = field(default_factory=list)

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_") or method not in type(self).METHODS:
            raise AttributeError(method)

        def invoke(request: Any, metadata: Any = (), timeout: float = 0) -> Any:
            self.calls.append((method, request, dict(metadata)))
            answer = self.answers[method]
            if isinstance(answer, BaseException):
                raise answer
            return answer

        return invoke

    METHODS = ("GetRaterForm", "SubmitRaterAnswers", "InviteRaters", "GetFeedback")

    def called(self, method: str) -> list[Any]:
        return [request for name, request, _ in self.calls if name == method]


def rater_form() -> apb.RaterForm:
    until = Timestamp()
    until.FromJsonString("2030-03-01T10:00:00Z")
    return apb.RaterForm(group=apb.PEER, expire_time=until, document_json=json.dumps(DOCUMENT))


@pytest.fixture
def fake() -> FakeAssessment:
    return FakeAssessment({"GetRaterForm": rater_form()})


@pytest.fixture
def web(fake: FakeAssessment) -> Iterator[FlaskClient]:
    app = create_app("127.0.0.1:1", os.urandom(32))
    app.extensions["ecoach_clients"].assessment = fake
    yield app.test_client()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_opening_the_link_twice_shows_the_questionnaire_and_uses_nothing_up(
    web: FlaskClient, fake: FakeAssessment
) -> None:
    for _ in range(2):
        page = web.get(f"/feedback/{TOKEN}", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "<h1>Valeurs</h1>" in html and "Humeur" in html
        assert 'id="item-energy"' in html and 'id="item-why"' in html
        assert "Envoyer mes réponses" in html
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["Cache-Control"] == "no-store"
    assert [r.token for r in fake.called("GetRaterForm")] == [TOKEN, TOKEN]
    assert fake.called("SubmitRaterAnswers") == []
    english = web.get(f"/feedback/{TOKEN}?lang=en").get_data(as_text=True)
    assert "<h1>Values</h1>" in english and "You answer as a peer" in english


@pytest.mark.parametrize("token", [TOKEN, "x" * 200, "bad token!", "a.b"])
def test_an_unknown_used_or_malformed_link_gets_the_same_page(
    web: FlaskClient, fake: FakeAssessment, token: str
) -> None:
    fake.answers["GetRaterForm"] = LINK_INVALID
    page = web.get(f"/feedback/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert "This link is no longer valid" in html
    assert "Values" not in html and "Mood" not in html
    assert fake.called("SubmitRaterAnswers") == []


def test_a_refused_answer_is_shown_beside_its_item_and_what_was_typed_is_kept(
    web: FlaskClient, fake: FakeAssessment
) -> None:
    csrf = csrf_of(web.get(f"/feedback/{TOKEN}").get_data(as_text=True))
    fake.answers["SubmitRaterAnswers"] = bad_request(
        "Some fields are invalid: answers.mood", **{"answers.mood": "is required"}
    )
    page = web.post(
        f"/feedback/{TOKEN}",
        data={"csrf_token": csrf, "item-energy": "7", "item-why": "Calm under pressure"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert re.search(r'id="item-mood-error">is required<', html)
    assert 'value="7"' in html and "Calm under pressure</textarea>" in html
    [sent] = fake.called("SubmitRaterAnswers")
    assert sent.token == TOKEN and sent.answers["energy"].number == 7

    # A number the page can tell is wrong: refused before any call.
    page = web.post(f"/feedback/{TOKEN}", data={"csrf_token": csrf, "item-energy": "lots"})
    assert page.status_code == 400 and 'id="item-energy-error"' in page.get_data(as_text=True)
    assert len(fake.called("SubmitRaterAnswers")) == 1


def test_answers_sent_once_then_the_link_is_no_longer_valid(
    web: FlaskClient, fake: FakeAssessment
) -> None:
    csrf = csrf_of(web.get(f"/feedback/{TOKEN}").get_data(as_text=True))
    fake.answers["SubmitRaterAnswers"] = apb.RaterReceipt()
    answers = {"csrf_token": csrf, "item-mood": "2", "item-energy": "6"}
    done = web.post(f"/feedback/{TOKEN}", data=answers)
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    fake.answers["GetRaterForm"] = LINK_INVALID
    again = web.post(f"/feedback/{TOKEN}", data=answers)
    assert again.status_code == 404
    assert "no longer valid" in again.get_data(as_text=True)
    assert len(fake.called("SubmitRaterAnswers")) == 1


def test_a_throttled_link_says_when_to_come_back(web: FlaskClient, fake: FakeAssessment) -> None:
    fake.answers["GetRaterForm"] = Refused(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "Too many attempts on this link.",
        error_details_pb2.RetryInfo(retry_delay=Duration(seconds=120)),
    )
    page = web.get(f"/feedback/{TOKEN}")
    assert page.status_code == 429 and page.headers["Retry-After"] == "120"
    assert "Too many attempts" in page.get_data(as_text=True)


@pytest.fixture
def signed_in(fake: FakeAssessment) -> Iterator[None]:
    app = create_app("127.0.0.1:1", os.urandom(32))
    app.extensions["ecoach_clients"].assessment = fake
    with app.test_request_context("/"):
        g.language, g.client_address = "en", "127.0.0.1"
        g.session = WebSession(access_token="t", access_expires=4e9, refresh_token="r")
        yield


def test_the_invite_form_sends_each_address_once_in_the_chosen_group(
    signed_in: None, fake: FakeAssessment
) -> None:
    fake.answers["InviteRaters"] = apb.RaterCounts(invited=2)
    typed = "ana@example.org\nbob@example.org, ANA@example.org ;\n\n"
    form = fb.InviteForm(emails=typed, group="direct_report")
    assert fb.invite_raters("asg_1", form) is None
    [sent] = fake.called("InviteRaters")
    assert sent.assignment_id == "asg_1"
    assert [(r.email, r.group) for r in sent.raters] == [
        ("ana@example.org", apb.DIRECT_REPORT),
        ("bob@example.org", apb.DIRECT_REPORT),
    ]


def test_an_empty_invite_form_is_refused_before_any_call(
    signed_in: None, fake: FakeAssessment
) -> None:
    refused = fb.invite_raters("asg_1", fb.InviteForm(emails=" \n", group="boss"))
    assert refused is not None and set(refused.errors) == {"rater_emails", "rater_group"}
    assert refused.status == 400 and fake.called("InviteRaters") == []


def test_a_bad_address_is_named_beside_the_addresses_and_kept_as_typed(
    signed_in: None, fake: FakeAssessment
) -> None:
    fake.answers["InviteRaters"] = bad_request(
        "Some fields are invalid: raters.1.email",
        **{"raters.1.email": "must be an email address"},
    )
    typed = "ana@example.org\nnot-an-address"
    refused = fb.invite_raters("asg_1", fb.InviteForm(emails=typed, group="peer"))
    assert refused is not None and refused.status == 400
    assert refused.errors == {"rater_emails": "not-an-address: must be an email address"}
    assert refused.emails == typed and refused.group == "peer"


def test_too_many_people_is_said_on_the_form(signed_in: None, fake: FakeAssessment) -> None:
    fake.answers["InviteRaters"] = Refused(
        grpc.StatusCode.FAILED_PRECONDITION, "At most 30 raters per assessment."
    )
    refused = fb.invite_raters("asg_1", fb.InviteForm(emails="a@example.org", group="peer"))
    assert refused is not None and refused.status == 400
    assert refused.error == "At most 30 raters per assessment."
    fake.answers["InviteRaters"] = bad_request(
        "Some fields are invalid: raters", raters="holds at most 30 items"
    )
    many = "\n".join(f"p{i}@example.org" for i in range(31))
    refused = fb.invite_raters("asg_1", fb.InviteForm(emails=many, group="peer"))
    assert refused is not None and refused.errors == {"rater_emails": "holds at most 30 items"}
    assert len(fake.called("InviteRaters")[-1].raters) == 31


def test_the_results_table_follows_the_services_groups(signed_in: None) -> None:
    def result(dimension: str, score: float) -> apb.DimensionResult:
        return apb.DimensionResult(
            dimension=dimension, title=apb.LocalizedText(en=dimension.title()), score=score
        )

    shown = apb.Feedback(
        groups=[
            apb.FeedbackGroup(group="self", count=1, results=[result("a", 10), result("b", 20)]),
            apb.FeedbackGroup(group="direct_report", count=3, results=[result("a", 30)]),
        ],
        hidden=2,
    )
    rows = fb.dimension_rows(shown)
    assert [(title, [r.score if r else None for r in rs]) for title, rs in rows] == [
        ("A", [10, 30]),
        ("B", [20, None]),
    ]
    assert fb.raters_shown(shown)
    assert not fb.raters_shown(apb.Feedback(groups=[shown.groups[0]], hidden=2))
    assert [fb.group_label(g.group) for g in shown.groups] == [
        "Self-assessment",
        "Direct reports",
    ]


def test_an_unexpected_failure_is_logged_without_the_links_token(
    web: FlaskClient, fake: FakeAssessment, caplog: pytest.LogCaptureFixture
) -> None:
    fake.answers["GetRaterForm"] = RuntimeError("the gateway answered nonsense")
    with caplog.at_level(logging.ERROR):
        page = web.get(f"/feedback/{TOKEN}")
    assert page.status_code == 500
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/feedback/<token>" in logged and TOKEN not in caplog.text
