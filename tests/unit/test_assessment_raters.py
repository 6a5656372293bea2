"""360 feedback's handlers on in-memory repositories: the coachee invites raters; a rater's
link opens the questionnaire as often as asked and takes one submission; results by group for
the coachee and the space's coaches only; addresses gone once answered or expired; events and
answers carry no address."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from services.assessment.domain.raters import LINK_TTL
from services.assessment.handlers import personal_data, raters, spaces
from services.assessment.mails import MAILS
from services.contracts import assessment as c
from services.contracts import spaces as sc
from services.contracts.identity import ContactDetails
from services.kernel.clock import FixedClock
from services.kernel.runtime.mailer import Mailer, Templates
from tests.unit.fakes import FakeDatabase
from tests.unit.fakes.assessment import AssessmentState, assessment_database
from tests.unit.test_assessment_handlers import (
    COACH,
    COACHEE,
    HR,
    MASTER,
    NOW,
    OTHER_COACH,
    STRANGER,
    WHEEL,
    answer,
    assign,
    refused,
    space_event,
)

PEERS = [f"peer{i}@example.com" for i in range(2)]
REPORTS = [f"report{i}@example.com" for i in range(3)]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db(clock: FixedClock) -> FakeDatabase[AssessmentState]:
    database = assessment_database(clock)
    with database.unit_of_work() as uow:
        spaces.record_space(uow, space_event(sc.SpaceActivated))
    return database


class Sent:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.messages.append(message)


def contacts(person_ids: list[str]) -> list[ContactDetails]:
    return [
        ContactDetails(
            person_id=p,
            email="coachee@example.com",
            calendar_email="coachee@example.com",
            display_name="Camille Martin",
            locale="fr",
            time_zone="Europe/Paris",
        )
        for p in person_ids
    ]


def invite(db: Any, ref: str, who: Any = COACHEE) -> c.RaterCounts:
    request = c.InviteRatersRequest(
        assignment_id=ref,
        raters=[c.RaterInvite(email=e, group="peer") for e in PEERS]
        + [c.RaterInvite(email=e, group="direct_report") for e in REPORTS],
    )
    return raters.invite_raters(db, MASTER, who, request)


def mail_links(db: Any) -> dict[str, str]:
    """Each rater's address -> the token of the link mailed to it."""
    transport = Sent()
    mailer = Mailer(transport, "ecoach <no-reply@ecoach.test>", Templates(MAILS))
    for event in db.events_of(c.RaterInvited):
        raters.send_invitation(db, MASTER, contacts, mailer, "https://ecoach.test", event)
    found = {}
    for m in transport.messages:
        body = m.get_content()
        assert "Camille Martin" in str(m["Subject"]) and "questionnaire" in body
        found[str(m["To"])] = body.split("https://ecoach.test/feedback/")[1].split()[0]
    return found


def test_a_360_two_peers_merged_three_direct_reports_shown(
    db: FakeDatabase[AssessmentState],
) -> None:
    ref = assign(db).assignment_id
    answer(db, ref, WHEEL, submit=True)
    refused("SPACE_COACHEE_ONLY", invite, db, ref, COACH)
    for nobody in (OTHER_COACH, HR, STRANGER):
        refused("ASSIGNMENT_NOT_FOUND", invite, db, ref, nobody)
    counts = invite(db, ref)
    assert (counts.invited, counts.answered, counts.expired) == (5, 0, 0)
    # Events carry ids and state only; nothing keeps a token in clear.
    events = db.events_of(c.RaterInvited)
    assert len(events) == 5 and all("@" not in e.model_dump_json() for e in events)
    links = mail_links(db)
    assert sorted(links) == sorted(PEERS + REPORTS)
    stored = list(db.state.raters.values())
    assert all(links[r.email or ""] != r.token_hash for r in stored)

    token = links[REPORTS[0]]
    for _ in range(2):  # a GET never uses the link up
        form = raters.get_rater_form(db, MASTER, c.RaterTokenRequest(token=token))
        assert form.group == "direct_report" and form.document.slug == "wheel-of-life"
    for i, email in enumerate(PEERS + REPORTS):
        values = {k: (v + i) % 10 + 1 for k, v in WHEEL.items()}
        request = c.RaterAnswersRequest(token=links[email], answers=values)
        raters.submit_rater_answers(db, MASTER, request)
    refused(
        "LINK_INVALID",
        raters.submit_rater_answers,
        db,
        MASTER,
        c.RaterAnswersRequest(token=token, answers=WHEEL),
    )
    refused("LINK_INVALID", raters.get_rater_form, db, MASTER, c.RaterTokenRequest(token=token))
    refused("LINK_INVALID", raters.get_rater_form, db, MASTER, c.RaterTokenRequest(token="x" * 43))
    # Answered: every address is gone.
    assert all(r.email is None for r in db.state.raters.values())
    assert len(db.events_of(c.RaterAnswered)) == 5

    for reader in (COACHEE, COACH):
        seen = raters.get_feedback(db, MASTER, reader, c.AssignmentRef(assignment_id=ref))
        assert [(g.group, g.count) for g in seen.groups] == [("self", 1), ("direct_report", 3)]
        assert seen.hidden == 2 and seen.raters.answered == 5
        assert len(seen.groups[1].results) == len(seen.groups[0].results) == 9
    for nobody in (OTHER_COACH, HR, STRANGER):
        refused(
            "ASSIGNMENT_NOT_FOUND",
            raters.get_feedback,
            db,
            MASTER,
            nobody,
            c.AssignmentRef(assignment_id=ref),
        )


def test_an_unanswered_link_expires_and_its_address_goes(
    db: FakeDatabase[AssessmentState], clock: FixedClock
) -> None:
    ref = assign(db).assignment_id
    invite(db, ref)
    links = mail_links(db)
    clock.advance(LINK_TTL - timedelta(seconds=1))
    assert raters.expire_links(db) == 0
    clock.advance(timedelta(seconds=1))
    assert raters.expire_links(db) == 5
    assert all(r.email is None and r.status == "expired" for r in db.state.raters.values())
    assert len(db.events_of(c.RaterExpired)) == 5
    token = links[PEERS[0]]
    refused("LINK_INVALID", raters.get_rater_form, db, MASTER, c.RaterTokenRequest(token=token))
    # Nothing left to mail.
    assert mail_links(db) == {}


def test_raters_are_capped_and_the_coachee_s_export_holds_counts_only(
    db: FakeDatabase[AssessmentState],
) -> None:
    ref = assign(db).assignment_id
    for _ in range(6):
        invite(db, ref)
    refused("TOO_MANY_RATERS", invite, db, ref)
    export = personal_data.export_personal_data(db, MASTER, COACHEE)
    (entry,) = export.data["assignments_as_coachee"]
    assert entry["raters"] == {"invited": 30, "answered": 0, "expired": 0}
    assert "@example.com" not in str(export.data)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_invitation_mail_speaks_the_coachee_s_language(locale: str) -> None:
    rendered = Templates(MAILS).render(
        "rater_invitation", locale, name="Ada", title="T", until="2027-01-01", link="L"
    )
    assert "Ada" in rendered.subject and "L" in rendered.body


def test_the_rater_links_are_throttled_per_link_and_per_client_address() -> None:
    from services.assessment.adapters.throttle import RaterLimiter
    from services.kernel.errors import DomainError

    limiter = RaterLimiter(per_link_hour=3, per_address_hour=5)
    for _ in range(3):
        limiter.check("link-a", "10.0.0.1")
    with pytest.raises(DomainError) as caught:
        limiter.check("link-a", "10.0.0.2")
    assert caught.value.reason == "RATER_LINK_THROTTLED"
    assert int((caught.value.metadata or {})["retry_after_seconds"]) >= 1
    limiter.check("link-b", "10.0.0.1")
    limiter.check("link-c", "10.0.0.1")  # the address's 5th request this hour
    # Then the address is out, whatever the link.
    with pytest.raises(DomainError):
        limiter.check("link-d", "10.0.0.1")
