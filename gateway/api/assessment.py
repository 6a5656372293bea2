"""gRPC servicer for the assessment service: AssessmentService."""

from __future__ import annotations

import json
import math
from typing import Any

from services.contracts import assessment as c
from services.contracts.assessment import AssessmentApi
from services.kernel.errors import invalid

from . import convert as cv
from .calls import Backend, CallContext, handler
from .convert import parse_space, space_name
from .pb import assessment_pb2 as pb
from .pb import assessment_pb2_grpc as pb_grpc
from .pb import spaces_pb2 as spb

_ASSIGNMENT_STATUS = {
    "assigned": pb.ASSIGNED,
    "in_progress": pb.IN_PROGRESS,
    "submitted": pb.SUBMITTED,
    "retake_allowed": pb.RETAKE_ALLOWED,
}
_ATTEMPT_STATUS = {"draft": pb.ATTEMPT_DRAFT, "submitted": pb.ATTEMPT_SUBMITTED}
_RATER_GROUP = {
    "manager": pb.MANAGER,
    "peer": pb.PEER,
    "direct_report": pb.DIRECT_REPORT,
    "other": pb.OTHER,
}
_RATER_GROUP_IN = {v: k for k, v in _RATER_GROUP.items()}


def _text(t: Any) -> pb.LocalizedText:
    return pb.LocalizedText(en=t.en, fr=t.fr)


def _document_in(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise invalid(document_json="is neither YAML nor JSON") from None
    if not isinstance(document, dict):
        raise invalid(document_json="is neither YAML nor JSON")
    return document


def instrument_out(i: c.Instrument) -> pb.Instrument:
    return pb.Instrument(
        instrument_id=i.instrument_id,
        slug=i.slug,
        version=i.version,
        title=_text(i.title),
        built_in=i.built_in,
        shared=i.shared,
        owner_person_id=i.owner_person_id,
        document_json=(
            json.dumps(i.document.model_dump(mode="json", by_alias=True), ensure_ascii=False)
            if i.document is not None
            else ""
        ),
    )


def _answer_in(item_id: str, a: Any) -> Any:
    kind = a.WhichOneof("value")
    if kind == "number":
        if not math.isfinite(a.number):
            raise invalid(**{f"answers.{item_id}": "must be a number"})
        return int(a.number) if float(a.number).is_integer() else a.number
    if kind == "text":
        return a.text
    if kind == "choices":
        return list(a.choices.keys)
    return None  # not answered


def _answer_out(value: Any) -> pb.Answer:
    if isinstance(value, list):
        return pb.Answer(choices=pb.Choices(keys=value))
    if isinstance(value, str):
        return pb.Answer(text=value)
    return pb.Answer(number=float(value))


def _result_out(r: c.DimensionResult) -> pb.DimensionResult:
    return pb.DimensionResult(
        dimension=r.dimension,
        title=_text(r.title),
        score=r.score,
        raw=r.raw,
        lowest=r.lowest,
        highest=r.highest,
        band=_text(r.band),
        interpretation=_text(r.interpretation),
    )


def _counts_out(r: c.RaterCounts) -> pb.RaterCounts:
    return pb.RaterCounts(
        assignment_id=r.assignment_id, invited=r.invited, answered=r.answered, expired=r.expired
    )


def feedback_out(f: c.Feedback) -> pb.Feedback:
    return pb.Feedback(
        assignment_id=f.assignment_id,
        groups=[
            pb.FeedbackGroup(
                group=g.group,
                count=g.count,
                results=[_result_out(r) for r in g.results],
                comments=[
                    pb.GroupComment(item_id=m.item_id, prompt=_text(m.prompt), texts=m.texts)
                    for m in g.comments
                ],
            )
            for g in f.groups
        ],
        hidden=f.hidden,
        raters=_counts_out(f.raters),
    )


def attempt_out(a: c.Attempt) -> pb.Attempt:
    attempt = pb.Attempt(
        assignment_id=a.assignment_id,
        number=a.number,
        status=_ATTEMPT_STATUS[a.status],
        start_time=cv.timestamp(a.started_at),
        update_time=cv.timestamp(a.updated_at),
        results=[_result_out(r) for r in a.results],
    )
    if a.submitted_at is not None:
        attempt.submit_time.CopyFrom(cv.timestamp(a.submitted_at))
    for item_id, value in (a.answers or {}).items():
        attempt.answers[item_id].CopyFrom(_answer_out(value))
    return attempt


def _summary_out(a: c.AttemptSummary) -> pb.AttemptSummary:
    summary = pb.AttemptSummary(
        number=a.number,
        status=_ATTEMPT_STATUS[a.status],
        start_time=cv.timestamp(a.started_at),
        update_time=cv.timestamp(a.updated_at),
        scores=[
            pb.ScoreValue(dimension=s["dimension"], score=s["score"], raw=s["raw"], band=s["band"])
            for s in a.scores
        ],
    )
    if a.submitted_at is not None:
        summary.submit_time.CopyFrom(cv.timestamp(a.submitted_at))
    return summary


def _dimension_out(d: c.DimensionBands) -> pb.DimensionBands:
    return pb.DimensionBands(
        dimension=d.dimension,
        title=_text(d.title),
        lowest=d.lowest,
        highest=d.highest,
        bands=[
            pb.BandText(
                lower=b.lower, upper=b.upper, label=_text(b.label), meaning=_text(b.meaning)
            )
            for b in d.bands
        ],
    )


def assignment_out(a: c.Assignment) -> pb.Assignment:
    return pb.Assignment(
        assignment_id=a.assignment_id,
        space=space_name(a.tenant_id, a.space_id),
        instrument_id=a.instrument_id,
        slug=a.slug,
        version=a.version,
        title=_text(a.title),
        status=_ASSIGNMENT_STATUS[a.status],
        attempts_allowed=a.attempts_allowed,
        assigner_person_id=a.assigned_by_person_id,
        create_time=cv.timestamp(a.created_at),
        update_time=cv.timestamp(a.updated_at),
        attempts=[_summary_out(t) for t in a.attempts],
        dimensions=[_dimension_out(d) for d in a.dimensions],
    )


def _answers_in(request: Any) -> dict[str, Any]:
    answers = {}
    for item_id, a in request.answers.items():
        value = _answer_in(item_id, a)
        if value is not None:
            answers[item_id] = value
    return answers


def _space_id(name: str) -> str:
    return parse_space(name, "parent")["space_id"]


class AssessmentService(pb_grpc.AssessmentServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ListInstruments(self, request: Any, call: CallContext) -> pb.ListInstrumentsResponse:
        answer = call.call(
            AssessmentApi.list_instruments,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListInstrumentsResponse(
            instruments=[instrument_out(i) for i in answer.instruments],
            next_page_token=answer.next_page_token,
        )

    @handler
    def GetInstrument(self, request: Any, call: CallContext) -> pb.Instrument:
        answer = call.call(
            AssessmentApi.get_instrument,
            instrument_id=request.instrument_id,
            version=request.version,
            assignment_id=request.assignment_id or None,
        )
        return instrument_out(answer)

    @handler
    def CreateInstrument(self, request: Any, call: CallContext) -> pb.Instrument:
        answer = call.call(
            AssessmentApi.create_instrument,
            document=_document_in(request.document_json),
            shared=request.shared,
        )
        return instrument_out(answer)

    @handler
    def UpdateInstrument(self, request: Any, call: CallContext) -> pb.Instrument:
        answer = call.call(
            AssessmentApi.update_instrument,
            instrument_id=request.instrument_id,
            document=_document_in(request.document_json),
            shared=request.shared,
        )
        return instrument_out(answer)

    @handler
    def AssignInstrument(self, request: Any, call: CallContext) -> pb.Assignment:
        answer = call.call(
            AssessmentApi.assign_instrument,
            space_id=_space_id(request.parent),
            instrument_id=request.instrument_id,
            version=request.version,
        )
        return assignment_out(answer)

    @handler
    def GetAssignment(self, request: Any, call: CallContext) -> pb.Assignment:
        answer = call.call(AssessmentApi.get_assignment, assignment_id=request.assignment_id)
        return assignment_out(answer)

    @handler
    def ListAssignments(self, request: Any, call: CallContext) -> pb.ListAssignmentsResponse:
        answer = call.call(
            AssessmentApi.list_assignments,
            space_id=_space_id(request.parent),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListAssignmentsResponse(
            assignments=[assignment_out(a) for a in answer.assignments],
            next_page_token=answer.next_page_token,
        )

    def _answers(self, request: Any) -> dict[str, Any]:
        return {"assignment_id": request.assignment_id, "answers": _answers_in(request)}

    @handler
    def SaveDraft(self, request: Any, call: CallContext) -> pb.Attempt:
        return attempt_out(call.call(AssessmentApi.save_draft, **self._answers(request)))

    @handler
    def SubmitAttempt(self, request: Any, call: CallContext) -> pb.Attempt:
        return attempt_out(call.call(AssessmentApi.submit_attempt, **self._answers(request)))

    @handler
    def GetAttempt(self, request: Any, call: CallContext) -> pb.Attempt:
        answer = call.call(
            AssessmentApi.get_attempt, assignment_id=request.assignment_id, number=request.number
        )
        return attempt_out(answer)

    @handler
    def AllowRetake(self, request: Any, call: CallContext) -> pb.Assignment:
        answer = call.call(AssessmentApi.allow_retake, assignment_id=request.assignment_id)
        return assignment_out(answer)

    @handler
    def GetTrend(self, request: Any, call: CallContext) -> pb.Trend:
        answer = call.call(AssessmentApi.get_trend, assignment_id=request.assignment_id)
        trend = pb.Trend(assignment_id=answer.assignment_id)
        for line in answer.dimensions:
            trend.dimensions.add(
                dimension=line.dimension,
                title=_text(line.title),
                points=[
                    pb.TrendPoint(
                        number=p["number"],
                        submit_time=cv.timestamp(p["submitted_at"]),
                        score=p["score"],
                    )
                    for p in line.points
                ],
                change=line.change,
            )
        return trend

    @handler
    def RotateTenantKey(self, request: Any, call: CallContext) -> spb.TenantKeyRotation:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        answer = call.call(AssessmentApi.rotate_tenant_key, tenant_id=tenant_id)
        return spb.TenantKeyRotation(
            key_id=answer.key_id, rewrapped=answer.rewrapped, retired=answer.retired
        )

    @handler
    def InviteRaters(self, request: Any, call: CallContext) -> pb.RaterCounts:
        raters = []
        for index, r in enumerate(request.raters):
            if r.group not in _RATER_GROUP_IN:
                raise invalid(**{f"raters[{index}].group": "is required"})
            raters.append({"email": r.email, "group": _RATER_GROUP_IN[r.group]})
        answer = call.call(
            AssessmentApi.invite_raters, assignment_id=request.assignment_id, raters=raters
        )
        return _counts_out(answer)

    @handler
    def GetFeedback(self, request: Any, call: CallContext) -> pb.Feedback:
        answer = call.call(AssessmentApi.get_feedback, assignment_id=request.assignment_id)
        return feedback_out(answer)

    @handler
    def GetRaterForm(self, request: Any, call: CallContext) -> pb.RaterForm:
        answer = call.call(AssessmentApi.get_rater_form, token=request.token)
        return pb.RaterForm(
            group=_RATER_GROUP[answer.group],
            expire_time=cv.timestamp(answer.expires_at),
            document_json=json.dumps(
                answer.document.model_dump(mode="json", by_alias=True), ensure_ascii=False
            ),
        )

    @handler
    def SubmitRaterAnswers(self, request: Any, call: CallContext) -> pb.RaterReceipt:
        answer = call.call(
            AssessmentApi.submit_rater_answers, token=request.token, answers=_answers_in(request)
        )
        return pb.RaterReceipt(answer_time=cv.timestamp(answer.answered_at))


def add_to_server(server: Any, backend: Backend) -> list[str]:
    pb_grpc.add_AssessmentServiceServicer_to_server(AssessmentService(backend), server)
    return [pb.DESCRIPTOR.services_by_name["AssessmentService"].full_name]
