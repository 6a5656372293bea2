"""Isolation rows of assessment's methods (ecoach/v1/assessment.proto: instruments, assignments,
attempts, trends), and the methods without ids that serve each caller what they may read; the
cast and checks are in conftest.py (the world's wheel of life, assigned in acme's space and
submitted once, and a private instrument of acme's coach)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf.message import Message

from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import assessment_pb2_grpc
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.isolation.conftest import (
    NOT_FOUND,
    PERMISSION_DENIED,
    WHEEL_ANSWERS,
    Case,
    World,
    acme_admin,
    acme_coach,
    acme_coachee,
    acme_other_coach,
    assert_cannot_reach,
    assert_hidden_like_missing,
    case_params,
    globex_admin,
    globex_coach,
    globex_coachee,
    hidden_cases,
    parent,
    the_space,
)
from tests.support.api import Session
from tests.support.isolation import as_dict

ASSESSMENT = "ecoach.v1.AssessmentService"


def stub(w: World) -> Any:
    return assessment_pb2_grpc.AssessmentServiceStub(w.api.channel)


def the_assignment(w: World) -> Any:
    """The victim assignment as its coach sees it, with its submitted attempt."""
    s = stub(w)
    ref = w.acme_assignment_id
    got = s.GetAssignment(
        apb.GetAssignmentRequest(assignment_id=ref), metadata=w.acme.coach.metadata
    )
    first = s.GetAttempt(
        apb.GetAttemptRequest(assignment_id=ref, number=1), metadata=w.acme.coachee.metadata
    )
    return as_dict(got), as_dict(first)


def acme_assignments(w: World) -> Any:
    listed = stub(w).ListAssignments(
        apb.ListAssignmentsRequest(parent=the_space(w), page_size=200),
        metadata=w.acme.coach.metadata,
    )
    return [as_dict(a) for a in listed.assignments]


def the_instrument(w: World) -> Any:
    return as_dict(
        stub(w).GetInstrument(
            apb.GetInstrumentRequest(instrument_id=w.acme_instrument_id),
            metadata=w.acme.coach.metadata,
        )
    )


def the_feedback(w: World) -> Any:
    """The victim assignment's 360 as its coachee sees it (raters asked, groups shown)."""
    return as_dict(
        stub(w).GetFeedback(
            apb.GetFeedbackRequest(assignment_id=w.acme_assignment_id),
            metadata=w.acme.coachee.metadata,
        )
    )


def raters(w: World) -> Message:
    return apb.InviteRatersRequest(
        assignment_id=w.acme_assignment_id,
        raters=[apb.RaterInvite(email="rater@example.com", group=apb.PEER)],
    )


def assignment(request: Callable[..., Message], **extra: Any) -> Callable[[World], Message]:
    return lambda w: request(assignment_id=w.acme_assignment_id, **extra)


def answers(w: World) -> Message:
    return apb.AnswersRequest(
        assignment_id=w.acme_assignment_id,
        answers={"health": apb.Answer(number=1)},
    )


def instrument(request: Callable[..., Message], **extra: Any) -> Callable[[World], Message]:
    return lambda w: request(instrument_id=w.acme_instrument_id, **extra)


def renamed_instrument(w: World) -> Message:
    wheel = stub(w).GetInstrument(
        apb.GetInstrumentRequest(instrument_id="wheel-of-life"), metadata=w.acme.coach.metadata
    )
    document = json.loads(wheel.document_json)
    document["slug"] = "stolen"
    return apb.UpdateInstrumentRequest(
        instrument_id=w.acme_instrument_id, document_json=json.dumps(document)
    )


# Who aims at the victim assignment (by its id): nobody outside the space learns it exists.
ASSIGNMENT_INTRUDERS: tuple[tuple[str, Callable[[World], Session]], ...] = (
    ("other-tenant-admin", globex_admin),
    ("other-tenant-coach", globex_coach),
    ("other-tenant-coachee", globex_coachee),
    ("victims-own-hr", acme_admin),
    ("same-tenant-other-coach", acme_other_coach),
)

CASES: list[Case] = [
    # ------------------------------------------------------------ assignments (by id)
    *(
        Case(
            method=f"{ASSESSMENT}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=NOT_FOUND,
            reason="ASSIGNMENT_NOT_FOUND",
            read_back=the_assignment,
        )
        for method, request in (
            ("GetAssignment", assignment(apb.GetAssignmentRequest)),
            ("GetAttempt", assignment(apb.GetAttemptRequest, number=1)),
            ("GetTrend", assignment(apb.GetTrendRequest)),
            ("AllowRetake", assignment(apb.AllowRetakeRequest)),
            ("SaveDraft", answers),
            ("SubmitAttempt", answers),
        )
        for label, caller in ASSIGNMENT_INTRUDERS
    ),
    # Within the space, each does their part only.
    Case(
        method=f"{ASSESSMENT}/AllowRetake",
        label="victims-coachee-allows-own-retake",
        caller=acme_coachee,
        request=assignment(apb.AllowRetakeRequest),
        code=PERMISSION_DENIED,
        reason="SPACE_COACH_ONLY",
        read_back=the_assignment,
    ),
    *(
        Case(
            method=f"{ASSESSMENT}/{method}",
            label="victims-coach-answers-for-the-coachee",
            caller=acme_coach,
            request=answers,
            code=PERMISSION_DENIED,
            reason="SPACE_COACHEE_ONLY",
            read_back=the_assignment,
        )
        for method in ("SaveDraft", "SubmitAttempt")
    ),
    # ------------------------------------------------------------ 360 feedback (by id)
    *(
        Case(
            method=f"{ASSESSMENT}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=NOT_FOUND,
            reason="ASSIGNMENT_NOT_FOUND",
            read_back=the_feedback,
        )
        for method, request in (
            ("InviteRaters", raters),
            ("GetFeedback", assignment(apb.GetFeedbackRequest)),
        )
        for label, caller in ASSIGNMENT_INTRUDERS
    ),
    Case(
        method=f"{ASSESSMENT}/InviteRaters",
        label="victims-coach-invites-raters",
        caller=acme_coach,
        request=raters,
        code=PERMISSION_DENIED,
        reason="SPACE_COACHEE_ONLY",
        read_back=the_feedback,
    ),
    # ------------------------------------------------------------ a space's assignments
    *(
        Case(
            method=f"{ASSESSMENT}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=NOT_FOUND,
            reason="SPACE_NOT_FOUND",
            read_back=acme_assignments,
        )
        for method, request in (
            ("ListAssignments", lambda w: apb.ListAssignmentsRequest(parent=the_space(w))),
            (
                "AssignInstrument",
                lambda w: apb.AssignInstrumentRequest(
                    parent=the_space(w), instrument_id="wheel-of-life"
                ),
            ),
        )
        for label, caller in ASSIGNMENT_INTRUDERS
    ),
    Case(
        method=f"{ASSESSMENT}/AssignInstrument",
        label="victims-coachee-assigns",
        caller=acme_coachee,
        request=lambda w: apb.AssignInstrumentRequest(
            parent=the_space(w), instrument_id="wheel-of-life"
        ),
        code=PERMISSION_DENIED,
        reason="SPACE_COACH_ONLY",
        read_back=acme_assignments,
    ),
    # ------------------------------------------------------------ an instrument through an assignment
    *(
        Case(
            method=f"{ASSESSMENT}/GetInstrument",
            label=f"{label}-through-the-assignment",
            caller=caller,
            request=assignment(apb.GetInstrumentRequest, instrument_id="wheel-of-life"),
            code=NOT_FOUND,
            reason="ASSIGNMENT_NOT_FOUND",
            read_back=the_assignment,
        )
        for label, caller in ASSIGNMENT_INTRUDERS
        if label not in ("other-tenant-admin", "victims-own-hr")  # no reader: PERMISSION_DENIED
    ),
    # The space's coachee names their assignment to read a private instrument it does not use.
    Case(
        method=f"{ASSESSMENT}/GetInstrument",
        label="victims-coachee-another-instrument-through-the-assignment",
        caller=acme_coachee,
        request=lambda w: apb.GetInstrumentRequest(
            instrument_id=w.acme_instrument_id, assignment_id=w.acme_assignment_id
        ),
        code=NOT_FOUND,
        reason="INSTRUMENT_NOT_FOUND",
        read_back=the_instrument,
    ),
    # ------------------------------------------------------------ a coach's private instrument
    *(
        Case(
            method=f"{ASSESSMENT}/GetInstrument",
            label=label,
            caller=caller,
            request=instrument(apb.GetInstrumentRequest),
            code=NOT_FOUND,
            reason="INSTRUMENT_NOT_FOUND",
            read_back=the_instrument,
        )
        for label, caller in (
            ("other-tenant-coach", globex_coach),
            ("other-tenant-coachee", globex_coachee),
            ("same-tenant-other-coach", acme_other_coach),
            ("same-tenant-coachee", acme_coachee),
        )
    ),
    *(
        Case(
            method=f"{ASSESSMENT}/UpdateInstrument",
            label=label,
            caller=caller,
            request=renamed_instrument,
            code=NOT_FOUND,
            reason="INSTRUMENT_NOT_FOUND",
            read_back=the_instrument,
        )
        for label, caller in (
            ("other-tenant-coach", globex_coach),
            ("same-tenant-other-coach", acme_other_coach),
        )
    ),
    *(
        Case(
            method=f"{ASSESSMENT}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=PERMISSION_DENIED,
            reason=reason,
            read_back=the_instrument,
        )
        for method, request, label, caller, reason in (
            (
                "GetInstrument",
                instrument(apb.GetInstrumentRequest),
                "victims-own-hr",
                acme_admin,
                "COACH_OR_COACHEE_ONLY",
            ),
            ("UpdateInstrument", renamed_instrument, "victims-own-hr", acme_admin, "COACH_ONLY"),
            (
                "UpdateInstrument",
                renamed_instrument,
                "same-tenant-coachee",
                acme_coachee,
                "COACH_ONLY",
            ),
        )
    ),
    # ------------------------------------------------------------ keys (operators only)
    *(
        Case(
            method=f"{ASSESSMENT}/RotateTenantKey",
            label=label,
            caller=caller,
            request=parent(spb.RotateTenantKeyRequest),
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=the_assignment,
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("other-tenant-admin", globex_admin),
        )
    ),
]

EXEMPT: dict[str, str] = {
    f"{ASSESSMENT}/ListInstruments": (
        "no ids: the catalogue, and the caller's own instruments and their tenant's shared ones "
        "(test_the_instruments_listed_are_the_catalogue_and_ones_own_tenants)"
    ),
    f"{ASSESSMENT}/GetRaterForm": (
        "public, no ids: opens by the rater link's secret alone, and an unknown, used or expired "
        "one is LINK_INVALID alike (tests/e2e/test_assessment_360.py)"
    ),
    f"{ASSESSMENT}/SubmitRaterAnswers": (
        "public, no ids: answers by the rater link's secret alone, once; an unknown, used or "
        "expired one is LINK_INVALID alike (tests/e2e/test_assessment_360.py)"
    ),
    f"{ASSESSMENT}/CreateInstrument": (
        "no ids: creates an instrument of the caller's own, in their tenant "
        "(test_the_instruments_listed_are_the_catalogue_and_ones_own_tenants)"
    ),
}


# ---------------------------------------------------------------- the cases


@pytest.mark.parametrize("case", case_params(CASES))
def test_a_caller_cannot_reach_what_is_not_theirs(world: World, case: Case) -> None:
    assert_cannot_reach(world, case)


@pytest.mark.parametrize("case", case_params(hidden_cases(CASES)))
def test_a_hidden_object_is_refused_exactly_like_one_that_does_not_exist(
    world: World, case: Case
) -> None:
    assert_hidden_like_missing(world, case)


def test_the_instruments_listed_are_the_catalogue_and_ones_own_tenants(world: World) -> None:
    """ListInstruments answers every coach and coachee the catalogue; a coach's private
    instrument only to its author; one created by another tenant's coach, even shared, never
    to acme."""
    s = stub(world)

    def custom(who: Session) -> set[str]:
        listed = s.ListInstruments(
            apb.ListInstrumentsRequest(page_size=200), metadata=who.metadata
        ).instruments
        assert {"wheel-of-life", "values"} <= {i.instrument_id for i in listed if i.built_in}
        return {i.instrument_id for i in listed if not i.built_in}

    assert world.acme_instrument_id in custom(world.acme.coach)
    for label, who in (
        ("the victim's other coach", world.acme_other_coach),
        ("the victim's coachee", world.acme.coachee),
        ("the other tenant's coach", world.globex.coach),
        ("the other tenant's coachee", world.globex.coachee),
    ):
        assert world.acme_instrument_id not in custom(who), label
    wheel = s.GetInstrument(
        apb.GetInstrumentRequest(instrument_id="wheel-of-life"),
        metadata=world.globex.coach.metadata,
    )
    document = json.loads(wheel.document_json)
    document["slug"] = "globex-shared"
    shared = s.CreateInstrument(
        apb.CreateInstrumentRequest(document_json=json.dumps(document), shared=True),
        metadata=world.globex.coach.metadata,
    )
    assert shared.instrument_id in custom(world.globex.coachee)
    assert shared.instrument_id not in custom(world.acme.coach)
    assert WHEEL_ANSWERS  # the world's coachee answered them
