"""360 feedback end to end through the gateway, in a shared deployment whose assessment mails
a real SMTP server (aiosmtpd): the coachee, having answered the wheel of life, asks 2 peers and
3 direct reports for feedback; each receives a mail with a one-time link; opening it (GetRaterForm)
twice still works, answering (SubmitRaterAnswers) works once. The direct reports are shown as a
group, the 2 peers are hidden (merged into "others", itself under 3); HR and another coach see
nothing."""

from __future__ import annotations

import json
from typing import Any

import grpc

from ecoach_dev.deployment import Deployment
from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import assessment_pb2_grpc
from tests.e2e.conftest import make_tenant
from tests.e2e.test_assessment import WHEEL, active_space, another_coach, answers
from tests.support import world_fixtures
from tests.support.api import expect_error, unique_email
from tests.support.smtp import SmtpServer, body, link_token
from tests.support.waiting import wait_for

api = world_fixtures.api
operator = world_fixtures.operator


# The worker's deployment that mails its SMTP server, shared (tests/e2e/conftest.py).
world = world_fixtures.shared


def test_a_360_with_two_peers_merged_and_three_direct_reports_shown(
    world: Deployment, api: Any, operator: Any, smtp: SmtpServer
) -> None:
    team = make_tenant(world, api, operator)
    stub = assessment_pb2_grpc.AssessmentServiceStub(api.channel)
    space = active_space(api, team)

    def assign() -> Any:  # once assessment has learnt the space is active (spaces' events)
        try:
            return stub.AssignInstrument(
                apb.AssignInstrumentRequest(parent=space.name, instrument_id="wheel-of-life"),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    ref = wait_for(assign, 20, "assessment's copy of the space").assignment_id
    stub.SubmitAttempt(
        apb.AnswersRequest(assignment_id=ref, answers=answers(WHEEL)),
        metadata=team.coachee.metadata,
    )
    peers = [unique_email("peer") for _ in range(2)]
    reports = [unique_email("report") for _ in range(3)]
    invited = stub.InviteRaters(
        apb.InviteRatersRequest(
            assignment_id=ref,
            raters=[apb.RaterInvite(email=e, group=apb.PEER) for e in peers]
            + [apb.RaterInvite(email=e, group=apb.DIRECT_REPORT) for e in reports],
        ),
        metadata=team.coachee.metadata,
    )
    assert (invited.invited, invited.answered) == (5, 0)
    refused = expect_error(
        stub.InviteRaters,
        apb.InviteRatersRequest(
            assignment_id=ref, raters=[apb.RaterInvite(email=peers[0], group=apb.PEER)]
        ),
        metadata=team.coach.metadata,
    )
    assert (refused.code, refused.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "SPACE_COACHEE_ONLY",
    )

    tokens = {}
    for address in peers + reports:
        [mail] = smtp.inbox.wait_for(address, containing="/feedback/")
        assert "Coachee" in str(mail["Subject"]) and "Wheel of life" in body(mail)
        tokens[address] = link_token(mail, "feedback")

    # Opening the link twice: the questionnaire both times; no token is needed.
    for _ in range(2):
        form = stub.GetRaterForm(apb.GetRaterFormRequest(token=tokens[reports[0]]))
        assert form.group == apb.DIRECT_REPORT
        assert json.loads(form.document_json)["slug"] == "wheel-of-life"
    for i, address in enumerate(peers + reports):
        values = {k: (v + i) % 10 + 1 for k, v in WHEEL.items()}
        stub.SubmitRaterAnswers(
            apb.SubmitRaterAnswersRequest(token=tokens[address], answers=answers(values))
        )
    # A link used twice is refused the second time; so is opening it.
    again = expect_error(
        stub.SubmitRaterAnswers,
        apb.SubmitRaterAnswersRequest(token=tokens[reports[0]], answers=answers(WHEEL)),
    )
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "LINK_INVALID")
    opened = expect_error(stub.GetRaterForm, apb.GetRaterFormRequest(token=tokens[peers[0]]))
    assert (opened.code, opened.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "LINK_INVALID")

    for reader in (team.coachee, team.coach):
        seen = stub.GetFeedback(apb.GetFeedbackRequest(assignment_id=ref), metadata=reader.metadata)
        assert [(g.group, g.count) for g in seen.groups] == [("self", 1), ("direct_report", 3)]
        assert seen.hidden == 2 and seen.raters.answered == 5
        assert all(len(g.results) == len(seen.groups[0].results) for g in seen.groups)

    # HR and another coach: nothing, as for an assignment that does not exist.
    for who in (team.admin, another_coach(world, api, team)):
        hidden = expect_error(
            stub.GetFeedback, apb.GetFeedbackRequest(assignment_id=ref), metadata=who.metadata
        )
        assert (hidden.code, hidden.reason) == (grpc.StatusCode.NOT_FOUND, "ASSIGNMENT_NOT_FOUND")
