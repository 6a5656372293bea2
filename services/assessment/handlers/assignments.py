"""Assignments: a space's coach (or co-coach) assigns an instrument version to an active space;
its coachee saves drafts and submits; results per dimension for the coachee and the space's
coaches; a retake when the coach allows it; the trend over submitted attempts. Anyone else
learns nothing (NOT_FOUND)."""

from __future__ import annotations

from services.contracts import assessment as c
from services.kernel.caller import Caller, require_person
from services.kernel.crypto import MasterKey
from services.kernel.ids import new_id
from services.kernel.space_copy import Relation
from services.kernel.tool_copy import visible

from ..domain.assignments import (
    SUBMITTED,
    Assignment,
    not_found,
    require_active,
)
from ..domain.scoring import check_answers, score, trend
from ..storage.unit import Db
from .access import access, coach_only, coachee_only, space_relation
from .instruments import resolve
from .tools import KIND
from .views import assignment_view, attempt_view, event_of, line


def assign_instrument(
    db: Db, master: MasterKey, caller: Caller, request: c.AssignInstrumentRequest
) -> c.Assignment:
    who = require_person(caller)
    with db.unit_of_work() as uow:
        if space_relation(uow, who, request.space_id) != Relation.COACH:
            raise coach_only()
        space = uow.spaces.get(request.space_id)
        assert space is not None
        require_active(space)
        instrument = resolve(uow, who, request.instrument_id, request.version)
        now = uow.clock.now()
        assignment = Assignment(
            id=new_id("asg"),
            tenant_id=space.tenant_id,
            space_id=space.space_id,
            coachee_person_id=space.coachee_person_id,
            instrument_id=request.instrument_id,
            instrument=instrument,
            attempts_allowed=1,
            assigned_by_person_id=who.person_id,
            created_at=now,
            updated_at=now,
        )
        uow.assignments.unlocked(master).add(assignment)
        uow.record(event_of(c.AssignmentCreated, assignment))
    return assignment_view(assignment)


def get_assignment(
    db: Db, master: MasterKey, caller: Caller, request: c.AssignmentRef
) -> c.Assignment:
    who = require_person(caller)
    with db.read_only() as uow:
        assignment, _ = access(uow, master, who, request.assignment_id)
    return assignment_view(assignment)


def list_assignments(
    db: Db, master: MasterKey, caller: Caller, request: c.ListAssignmentsRequest
) -> c.AssignmentList:
    """The space's assignments; the coachee's without those a locked tool holds (a page may
    then be shorter than asked; its token still goes on)."""
    who = require_person(caller)
    with db.read_only() as uow:
        relation = space_relation(uow, who, request.space_id)
        found, token = uow.assignments.page_of_space(
            request.space_id, request.effective_page_size(), request.page_token
        )
        tools = uow.tools.of_targets(KIND, [a.id for a in found])
    shown = visible(found, relation, request.space_id, tools, lambda a: a.id)
    return c.AssignmentList(assignments=[assignment_view(a) for a in shown], next_page_token=token)


def _answer(
    db: Db, master: MasterKey, caller: Caller, request: c.AnswersRequest, *, submit: bool
) -> c.Attempt:
    who = require_person(caller)
    with db.unit_of_work() as uow:
        assignment, relation = access(uow, master, who, request.assignment_id, for_update=True)
        if relation != Relation.COACHEE:
            raise coachee_only()
        space = uow.spaces.get(assignment.space_id)
        assert space is not None
        require_active(space)
        kept = check_answers(assignment.instrument, request.answers, complete=submit)
        now = uow.clock.now()
        attempt = assignment.open_attempt(now)
        attempt.answers = kept
        attempt.updated_at = now
        assignment.updated_at = now
        if submit:
            result = score(assignment.instrument, kept)
            attempt.status = SUBMITTED
            attempt.submitted_at = now
            attempt.scores = [
                {
                    "dimension": s.dimension,
                    "score": s.normalised,
                    "raw": s.raw,
                    "lowest": s.lowest,
                    "highest": s.highest,
                    "band": assignment.instrument.dimension(s.dimension).bands.index(s.band),
                }
                for s in result.scores
            ]
        uow.assignments.save(assignment, attempt)
        if submit:
            uow.record(event_of(c.AttemptSubmitted, assignment, attempt_number=attempt.number))
    return attempt_view(assignment, attempt, with_answers=True)


def save_draft(db: Db, master: MasterKey, caller: Caller, request: c.AnswersRequest) -> c.Attempt:
    """Partial answers, each checked; the draft is replaced whole."""
    return _answer(db, master, caller, request, submit=False)


def submit_attempt(
    db: Db, master: MasterKey, caller: Caller, request: c.AnswersRequest
) -> c.Attempt:
    """Every required item answered; scored with the version assigned."""
    return _answer(db, master, caller, request, submit=True)


def get_attempt(db: Db, master: MasterKey, caller: Caller, request: c.AttemptRef) -> c.Attempt:
    """The coachee sees their answers, draft or not; the space's coaches a submitted attempt
    only (a draft is the coachee's until they submit it)."""
    who = require_person(caller)
    with db.read_only() as uow:
        assignment, relation = access(uow, master, who, request.assignment_id, attempts=False)
        attempt = uow.assignments.attempt_of(assignment, request.number)
    if attempt is None or (relation == Relation.COACH and attempt.status != SUBMITTED):
        raise not_found()
    return attempt_view(assignment, attempt, with_answers=True)


def allow_retake(
    db: Db, master: MasterKey, caller: Caller, request: c.AssignmentRef
) -> c.Assignment:
    who = require_person(caller)
    with db.unit_of_work() as uow:
        assignment, relation = access(uow, master, who, request.assignment_id, for_update=True)
        if relation != Relation.COACH:
            raise coach_only()
        assignment.allow_retake(uow.clock.now())
        uow.assignments.save(assignment)
        uow.record(event_of(c.RetakeAllowed, assignment))
    return assignment_view(assignment)


def get_trend(db: Db, master: MasterKey, caller: Caller, request: c.AssignmentRef) -> c.Trend:
    """Each dimension's score (0-100) over the submitted attempts, oldest first."""
    who = require_person(caller)
    with db.read_only() as uow:
        assignment, _ = access(uow, master, who, request.assignment_id, attempts=False)
        submitted = uow.assignments.submitted_scores(assignment.id)
    dimensions = {d.id: d for d in assignment.instrument.dimensions}
    numbers = {at: number for number, at, _ in submitted}
    lines = []
    for t in trend([(at, scores) for _, at, scores in submitted]):
        lines.append(  # the service's own values: not validated again (200 points a line)
            c.TrendLine.model_construct(
                dimension=t.dimension,
                title=line(dimensions[t.dimension].title),
                points=[
                    c.TrendPoint(number=numbers[at], submitted_at=at, score=value)
                    for at, value in t.points
                ],
                change=t.change,
            )
        )
    return c.Trend(assignment_id=assignment.id, dimensions=lines)
