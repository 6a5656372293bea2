"""Assessment end to end through the gateway: a coach assigns the wheel of life in an active
space, the coachee drafts and submits and sees their results; the coach allows a retake; three
months later (the test clock) the coachee answers again and the trend shows both attempts. HR,
another coach and another tenant see nothing; bad input is INVALID_ARGUMENT naming the field
and changes nothing; the coachee's export holds their answers."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import grpc

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import assessment_pb2_grpc, spaces_pb2_grpc
from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support.api import Api, Session, expect_error, unique_email
from tests.support.clock import move_test_clock
from tests.support.people import set_password
from tests.support.spaces import add_person
from tests.support.waiting import wait_for

WHEEL = {
    "health": 4,
    "work": 5,
    "money": 6,
    "relationships": 8,
    "family": 9,
    "friends": 4,
    "growth": 6,
    "leisure": 3,
}
THREE_MONTHS = 91 * 86400


def answers(values: dict[str, Any]) -> dict[str, apb.Answer]:
    return {k: apb.Answer(number=v) for k, v in values.items()}


def active_space(api: Api, team: TenantWorld) -> spb.Space:
    spaces = spaces_pb2_grpc.SpaceServiceStub(api.channel)
    space = spaces.CreateSpace(
        spb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id),
            set_up=spb.SpaceSetUp(
                coachee_member_id=team.coachee_member,
                coach_member_id=team.coach_member,
                cadence=spb.WEEKLY,
                sessions_planned=8,
                start_date="2027-02-01",
            ),
        ),
        metadata=team.coach.metadata,
    )
    return spaces.ActivateSpace(spb.SpaceMoveRequest(name=space.name), metadata=team.coach.metadata)


def another_coach(deployment: Deployment, api: Api, team: TenantWorld) -> Session:
    email = unique_email("another-coach")
    api.members.AddMember(
        pb.AddMemberRequest(parent=tenant_name(team.tenant_id), email=email, roles=[pb.COACH]),
        metadata=team.admin.metadata,
    )
    set_password(deployment.config, email, PASSWORD)
    return api.sign_in(email, PASSWORD, team.tenant_id)


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(pb.GetMeRequest(), metadata=who.metadata).person.email)


def test_a_wheel_of_life_assigned_answered_twice_three_months_apart_with_its_trend(
    deployment: Deployment, api: Api, operator: Session, globex: TenantWorld
) -> None:
    team = make_tenant(deployment, api, operator)
    stub = assessment_pb2_grpc.AssessmentServiceStub(api.channel)
    space = active_space(api, team)

    # Every coach and coachee of every tenant reads the catalogue.
    listed = stub.ListInstruments(apb.ListInstrumentsRequest(), metadata=team.coachee.metadata)
    assert len([i for i in listed.instruments if i.built_in]) >= 8
    wheel = stub.GetInstrument(
        apb.GetInstrumentRequest(instrument_id="wheel-of-life"), metadata=globex.coach.metadata
    )
    assert json.loads(wheel.document_json)["slug"] == "wheel-of-life"

    def assign() -> Any:  # once assessment has learnt the space is active (spaces' events)
        try:
            return stub.AssignInstrument(
                apb.AssignInstrumentRequest(parent=space.name, instrument_id="wheel-of-life"),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    assigned = wait_for(assign, 20, "assessment's copy of the space")
    assert (assigned.status, assigned.version, assigned.space) == (apb.ASSIGNED, 1, space.name)
    ref = assigned.assignment_id

    # Bad input: INVALID_ARGUMENT naming the field, and nothing changes.
    bad = expect_error(
        stub.AssignInstrument,
        apb.AssignInstrumentRequest(parent=space.name, instrument_id="Not An Id!"),
        metadata=team.coach.metadata,
    )
    assert (bad.code, bad.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("instrument_id",))
    draft = stub.SaveDraft(
        apb.AnswersRequest(assignment_id=ref, answers=answers({"health": 4})),
        metadata=team.coachee.metadata,
    )
    assert draft.status == apb.ATTEMPT_DRAFT and draft.answers["health"].number == 4
    bad = expect_error(
        stub.SubmitAttempt,
        apb.AnswersRequest(assignment_id=ref, answers=answers(dict(WHEEL, health=11))),
        metadata=team.coachee.metadata,
    )
    assert (bad.code, bad.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("answers.health",))
    kept = stub.GetAttempt(
        apb.GetAttemptRequest(assignment_id=ref, number=1), metadata=team.coachee.metadata
    )
    assert dict(kept.answers) == dict(draft.answers) and kept.status == apb.ATTEMPT_DRAFT
    listed_assignments = stub.ListAssignments(
        apb.ListAssignmentsRequest(parent=space.name), metadata=team.coach.metadata
    )
    assert [a.assignment_id for a in listed_assignments.assignments] == [ref]
    # A draft is the coachee's alone.
    hidden = expect_error(
        stub.GetAttempt,
        apb.GetAttemptRequest(assignment_id=ref, number=1),
        metadata=team.coach.metadata,
    )
    assert hidden.code == grpc.StatusCode.NOT_FOUND

    first = stub.SubmitAttempt(
        apb.AnswersRequest(assignment_id=ref, answers=answers(WHEEL)),
        metadata=team.coachee.metadata,
    )
    assert first.status == apb.ATTEMPT_SUBMITTED
    results = {r.dimension: r for r in first.results}
    assert set(WHEEL) <= set(results)
    assert results["health"].raw == 4 and 0 <= results["health"].score <= 100
    assert results["health"].band.en and results["health"].interpretation.fr
    seen = stub.GetAttempt(
        apb.GetAttemptRequest(assignment_id=ref, number=1), metadata=team.coach.metadata
    )
    assert seen.answers["family"].number == 9 and len(seen.results) == len(first.results)

    # HR, another coach, another tenant: nothing, as for an assignment that does not exist.
    for who in (team.admin, another_coach(deployment, api, team), globex.coach, globex.admin):
        for call, request in (
            (stub.GetAssignment, apb.GetAssignmentRequest(assignment_id=ref)),
            (stub.GetTrend, apb.GetTrendRequest(assignment_id=ref)),
            (stub.GetAttempt, apb.GetAttemptRequest(assignment_id=ref, number=1)),
        ):
            refused = expect_error(call, request, metadata=who.metadata)
            assert (refused.code, refused.reason) == (
                grpc.StatusCode.NOT_FOUND,
                "ASSIGNMENT_NOT_FOUND",
            )
        refused = expect_error(
            stub.ListAssignments,
            apb.ListAssignmentsRequest(parent=space.name),
            metadata=who.metadata,
        )
        assert refused.code == grpc.StatusCode.NOT_FOUND

    no_more = expect_error(
        stub.SaveDraft,
        apb.AnswersRequest(assignment_id=ref, answers=answers({"health": 5})),
        metadata=team.coachee.metadata,
    )
    assert (no_more.code, no_more.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "NO_ATTEMPT_LEFT",
    )
    retake = stub.AllowRetake(
        apb.AllowRetakeRequest(assignment_id=ref), metadata=team.coach.metadata
    )
    assert (retake.status, retake.attempts_allowed) == (apb.RETAKE_ALLOWED, 2)

    # An operator rotates the tenant's key in assessment: the assignment's data key is re-wrapped
    # under the new one; the first attempt's sealed answers open as before (here, and in the
    # export below, after the retake).
    rotation = stub.RotateTenantKey(
        spb.RotateTenantKeyRequest(parent=tenant_name(team.tenant_id)), metadata=operator.metadata
    )
    assert rotation.key_id and rotation.rewrapped >= 1
    reopened = stub.GetAttempt(
        apb.GetAttemptRequest(assignment_id=ref, number=1), metadata=team.coachee.metadata
    )
    assert reopened.answers["health"].number == 4

    coachee_email, coach_email = email_of(api, team.coachee), email_of(api, team.coach)
    clock: Path = deployment.config.test_clock_path
    try:
        move_test_clock(clock, THREE_MONTHS)
        coachee = api.sign_in(coachee_email, PASSWORD, team.tenant_id)
        second = stub.SubmitAttempt(
            apb.AnswersRequest(assignment_id=ref, answers=answers(dict(WHEEL, health=8))),
            metadata=coachee.metadata,
        )
        assert second.number == 2
        coach = api.sign_in(coach_email, PASSWORD, team.tenant_id)
        trend = stub.GetTrend(apb.GetTrendRequest(assignment_id=ref), metadata=coach.metadata)
        health = next(line for line in trend.dimensions if line.dimension == "health")
        assert [p.number for p in health.points] == [1, 2] and health.change > 0
        apart = health.points[1].submit_time.ToDatetime(tzinfo=UTC) - health.points[
            0
        ].submit_time.ToDatetime(tzinfo=UTC)
        assert apart.days >= 90
        done = stub.GetAssignment(
            apb.GetAssignmentRequest(assignment_id=ref), metadata=coach.metadata
        )
        assert done.status == apb.SUBMITTED
        assert [a.status for a in done.attempts] == [apb.ATTEMPT_SUBMITTED] * 2
        # Attempts as summaries (no answers: those are GetAttempt's), their score values
        # pointing into the bands the assignment gives once.
        assert not any(f.name == "answers" for f in apb.AttemptSummary.DESCRIPTOR.fields)
        dimensions = {d.dimension: d for d in done.dimensions}
        latest = {s.dimension: s for s in done.attempts[1].scores}
        assert set(latest) == set(dimensions) >= set(WHEEL)
        assert latest["health"].raw == 8 and dimensions["health"].highest == 10
        whole = stub.GetAttempt(
            apb.GetAttemptRequest(assignment_id=ref, number=2), metadata=coach.metadata
        )
        for r in whole.results:
            band = dimensions[r.dimension].bands[latest[r.dimension].band]
            assert (band.label, band.meaning, latest[r.dimension].score) == (
                r.band,
                r.interpretation,
                r.score,
            )

        # The coachee's export holds their assignment, both attempts and their answers.
        documents = list(
            api.auth.ExportMyData(pb.ExportMyDataRequest(), metadata=coachee.metadata, timeout=30)
        )
        (mine,) = [json.loads(d.data) for d in documents if d.service == "assessment"]
        (exported,) = mine["assignments_as_coachee"]
        assert [a["answers"]["health"] for a in exported["attempts"]] == [4, 8]

    finally:
        move_test_clock(clock, 0)


def test_a_former_coach_loses_the_questionnaires_and_the_new_coach_gets_them(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    """The coach assigns a private instrument of their own: the coachee reads it through the
    assignment only. HR gives the space to another coach: the assignment follows the space
    (assessment learns it from spaces' events), the new coach reads the instrument through it;
    the former coach reads and changes nothing of the assignment any more."""
    team = make_tenant(deployment, api, operator)
    stub = assessment_pb2_grpc.AssessmentServiceStub(api.channel)
    spaces = spaces_pb2_grpc.SpaceServiceStub(api.channel)
    space = active_space(api, team)
    document = json.loads(
        stub.GetInstrument(
            apb.GetInstrumentRequest(instrument_id="wheel-of-life"), metadata=team.coach.metadata
        ).document_json
    )
    document["slug"] = "my-wheel"
    private = stub.CreateInstrument(
        apb.CreateInstrumentRequest(document_json=json.dumps(document)),
        metadata=team.coach.metadata,
    ).instrument_id

    def assign() -> Any:
        try:
            return stub.AssignInstrument(
                apb.AssignInstrumentRequest(parent=space.name, instrument_id=private),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    ref = wait_for(assign, 20, "assessment's copy of the space").assignment_id
    hidden = expect_error(
        stub.GetInstrument,
        apb.GetInstrumentRequest(instrument_id=private),
        metadata=team.coachee.metadata,
    )
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    through = apb.GetInstrumentRequest(instrument_id=private, assignment_id=ref)
    read = stub.GetInstrument(through, metadata=team.coachee.metadata)
    assert (json.loads(read.document_json)["slug"], read.version) == ("my-wheel", 1)
    for bad in (
        apb.GetInstrumentRequest(instrument_id=private, assignment_id=ref, version=2),
        apb.GetInstrumentRequest(instrument_id="wheel-of-life", assignment_id=ref),
    ):
        refused = expect_error(stub.GetInstrument, bad, metadata=team.coachee.metadata)
        assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "INSTRUMENT_NOT_FOUND")
    bad_id = expect_error(
        stub.GetInstrument,
        apb.GetInstrumentRequest(instrument_id=private, assignment_id="not an id"),
        metadata=team.coachee.metadata,
    )
    assert (bad_id.code, bad_id.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("assignment_id",))
    stub.SubmitAttempt(
        apb.AnswersRequest(assignment_id=ref, answers=answers(WHEEL)),
        metadata=team.coachee.metadata,
    )

    new_member, new_coach = add_person(deployment, api, team, pb.COACH, "New-Coach")
    spaces.ChangeCoach(
        spb.ChangeCoachRequest(name=space.name, coach_member_id=new_member),
        metadata=team.admin.metadata,
    )

    def new_coach_reads() -> Any:
        try:
            return stub.GetAssignment(
                apb.GetAssignmentRequest(assignment_id=ref), metadata=new_coach.metadata
            )
        except grpc.RpcError:
            return None

    assert wait_for(new_coach_reads, 20, "assessment to learn the new coach").space == space.name
    assert stub.GetInstrument(through, metadata=new_coach.metadata).instrument_id == private
    for call, request in (
        (stub.GetAssignment, apb.GetAssignmentRequest(assignment_id=ref)),
        (stub.GetTrend, apb.GetTrendRequest(assignment_id=ref)),
        (stub.GetAttempt, apb.GetAttemptRequest(assignment_id=ref, number=1)),
        (stub.AllowRetake, apb.AllowRetakeRequest(assignment_id=ref)),
        (stub.GetFeedback, apb.GetFeedbackRequest(assignment_id=ref)),
        (stub.GetInstrument, through),
    ):
        refused = expect_error(call, request, metadata=team.coach.metadata)
        assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "ASSIGNMENT_NOT_FOUND")
    refused = expect_error(
        stub.AssignInstrument,
        apb.AssignInstrumentRequest(parent=space.name, instrument_id="values"),
        metadata=team.coach.metadata,
    )
    assert refused.code == grpc.StatusCode.NOT_FOUND
    refused = expect_error(
        stub.ListAssignments,
        apb.ListAssignmentsRequest(parent=space.name),
        metadata=team.coach.metadata,
    )
    assert refused.code == grpc.StatusCode.NOT_FOUND
    # Nothing changed: one assignment, one attempt, no retake allowed.
    kept = stub.ListAssignments(
        apb.ListAssignmentsRequest(parent=space.name), metadata=new_coach.metadata
    )
    assert [(a.assignment_id, a.status, a.attempts_allowed) for a in kept.assignments] == [
        (ref, apb.SUBMITTED, 1)
    ]
    # The new coach may allow the retake the former one could not.
    retake = stub.AllowRetake(
        apb.AllowRetakeRequest(assignment_id=ref), metadata=new_coach.metadata
    )
    assert retake.attempts_allowed == 2
