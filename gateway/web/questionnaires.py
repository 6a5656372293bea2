"""A space's questionnaires (ADR 0014): its coach assigns an instrument from the space page, allows
a retake once every attempt is submitted and reads the results of an assignment (each
dimension's score, band and meaning, the coachee's answers, the trend over attempts); its
coachee answers on a page of their own (a draft saved as often as they like, then submitted:
a refused submit shows each item's problem beside it and keeps what was typed), then reads
the same results and trend. The latest results come with the assignment (its attempts' score
values and its band texts, once); the answers shown are one attempt's (the latest, or
`?attempt=<number>`), so a page makes the same few calls after 2 attempts or 200. Both see the
assignment's 360 feedback there (feedback.py): the raters' counts and their answers by group as
the service shows them; the coachee, in an active space, asks people for feedback with the form
beside it (`.../raters`).

The coach's pages start from `coach.coached_space`, the coachee's from `coachee.my_card`, so a
space that is not the caller's is 404 before any assessment call; an assignment of another
space, or one the service does not show the caller, is 404 too. HR has no page here (the
service shows them nothing of it)."""

from __future__ import annotations

import re
from typing import Any

import grpc
from babel.dates import format_date
from flask import Blueprint, abort, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import spaces_pb2 as spb

from . import feedback as fb
from . import questionnaire_forms as qf
from .clients import authed
from .coach import SpaceForms as CoachSpaceForms
from .coach import coach_only, coached_space
from .coach import space_page as coach_space_page
from .coachee import my_card, when
from .i18n import _, language, zone_of
from .pages import Page, clients, failed, field_errors, render, session, signed_in

questionnaires = Blueprint("questionnaires", __name__)

Answer = Page | BaseResponse

# The service's ids (`ins_...`, `asg_...`) and the catalogue's slugs (`wheel-of-life`).
ASSIGNMENT_ID = re.compile(r"^asg_[0-9a-f]{1,64}$")
INSTRUMENT_ID = re.compile(r"^(?:ins_[0-9a-f]{1,64}|[a-z0-9][a-z0-9-]{0,63})$")


def assignment_in(space_name: str, assignment_id: str) -> apb.Assignment:
    """The assignment, if it belongs to the space and the service shows it to the caller;
    404 otherwise (NOT_FOUND becomes the 404 page: app.py)."""
    if not ASSIGNMENT_ID.match(assignment_id or ""):
        abort(404)
    found: apb.Assignment = authed(
        clients(),
        clients().assessment.GetAssignment,
        apb.GetAssignmentRequest(assignment_id=assignment_id),
    )
    if found.space != space_name:
        abort(404)
    return found


def chosen_attempt(submitted: list[apb.AttemptSummary]) -> int:
    """The submitted attempt whose answers the page shows: `?attempt=<number>`, else the
    latest; 0 when none is submitted."""
    numbers = [a.number for a in submitted]
    asked = request.args.get("attempt", "")
    if asked.isdigit() and int(asked) in numbers:
        return int(asked)
    return numbers[-1] if numbers else 0


def results_values(assignment: apb.Assignment, items: list[qf.Item] | None) -> dict[str, Any]:
    """What the results part of a questionnaire's page shows, for its coach and coachee: the
    latest submitted attempt's results (from the assignment: no call per attempt), the
    answers of one attempt (one GetAttempt), and the trend (one GetTrend)."""
    submitted = qf.submitted_attempts(assignment)
    latest = submitted[-1] if submitted else None
    number = chosen_attempt(submitted)
    return {
        "questions_hidden": items is None,
        "assignment": assignment,
        "attempts": submitted,
        "latest": latest,
        "results": qf.results_of(assignment, latest) if latest else [],
        "shown": qf.attempt_answers(assignment, number, items or []) if number else None,
        "attempt_url": lambda n: (
            url_for(str(request.endpoint), **(request.view_args or {}), attempt=n)
            + "#answers-given"
        ),
        "trend": qf.trend_of(assignment),
        "qf": qf,
        "fb": fb,
        "feedback": fb.feedback_of(assignment.assignment_id),
        "when": when,
        "day": lambda at: format_date(
            at.astimezone(zone_of(session().time_zone)), "medium", locale=language()
        ),
    }


# -------------------------------------------------------------------------------- the coach


@questionnaires.post("/coach/spaces/<space_id>/questionnaires")
@coach_only
def assign(space_id: str) -> Answer:
    space = coached_space(space_id)
    instrument_id = request.form.get("instrument_id", "").strip()
    if not INSTRUMENT_ID.match(instrument_id):
        errors = {"instrument_id": _("Choose a questionnaire from the list.")}
        return coach_space_page(space, CoachSpaceForms(errors=errors), 400)
    try:
        authed(
            clients(),
            clients().assessment.AssignInstrument,
            apb.AssignInstrumentRequest(parent=space.name, instrument_id=instrument_id),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        return coach_space_page(space, CoachSpaceForms(error=message, errors=errors), status)
    return redirect(url_for("coach.space", space_id=space_id, done="assigned") + "#questionnaires")


@questionnaires.post("/coach/spaces/<space_id>/questionnaires/<assignment_id>/retake")
@coach_only
def allow_retake(space_id: str, assignment_id: str) -> Answer:
    space = coached_space(space_id)
    assignment = assignment_in(space.name, assignment_id)
    try:
        authed(
            clients(),
            clients().assessment.AllowRetake,
            apb.AllowRetakeRequest(assignment_id=assignment.assignment_id),
        )
    except grpc.RpcError as exc:
        message, _problems, status = failed(exc)
        return coach_space_page(space, CoachSpaceForms(error=message), status)
    return redirect(url_for("coach.space", space_id=space_id, done="retake") + "#questionnaires")


@questionnaires.get("/coach/spaces/<space_id>/questionnaires/<assignment_id>")
@coach_only
def coach_results(space_id: str, assignment_id: str) -> Answer:
    space = coached_space(space_id)
    assignment = assignment_in(space.name, assignment_id)
    items = qf.instrument_items(assignment)
    return render(
        "questionnaire.html",
        title=qf.text(assignment.title),
        viewer="coach",
        space_id=space.space_id,
        back=url_for("coach.space", space_id=space.space_id) + "#questionnaires",
        **results_values(assignment, items),
    )


# ------------------------------------------------------------------------------ the coachee


def done_notice() -> str:
    return {
        "draft": _("Your draft is saved. Come back to it whenever you like."),
        "submitted": _("Your answers are submitted. Your results are below."),
        "invited": _("Your invitations are on their way. The counts below follow the answers."),
    }.get(request.args.get("done", ""), "")


def coachee_page(
    space_id: str,
    card: spb.CoacheeSpaceCard,
    assignment: apb.Assignment,
    items: list[qf.Item] | None,
    *,
    typed: qf.Typed | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
    invite: fb.InviteForm | None = None,
) -> Page:
    """The coachee's page of an assignment: the answer form (what was typed and each item's
    problem), the results so far, and the 360 (the invite form as typed)."""
    active = card.space.status == spb.SPACE_ACTIVE
    return render(
        "questionnaire.html",
        status,
        title=qf.text(assignment.title),
        viewer="coachee",
        space_id=space_id,
        back=url_for("coachee.space", space_id=space_id) + "#questionnaires",
        items=items or [],
        typed=typed or {},
        errors=errors or {},
        error=error,
        notice=done_notice(),
        answering=items is not None and assignment.status in qf.OPEN and active,
        can_invite=active,
        invite=invite or fb.InviteForm(),
        **results_values(assignment, items),
    )


def draft_typed(assignment: apb.Assignment, items: list[qf.Item] | None) -> qf.Typed:
    """The answers of the coachee's draft, as the form shows them (none without a draft)."""
    if assignment.status != apb.IN_PROGRESS or not assignment.attempts:
        return {}
    draft = authed(
        clients(),
        clients().assessment.GetAttempt,
        apb.GetAttemptRequest(
            assignment_id=assignment.assignment_id, number=assignment.attempts[-1].number
        ),
    )
    return qf.typed_of(draft, items or [])


@questionnaires.route("/spaces/<space_id>/questionnaires/<assignment_id>", methods=["GET", "POST"])
@signed_in
def answer(space_id: str, assignment_id: str) -> Answer:
    """GET: the questionnaire to answer (the draft's answers kept) and the results so far.
    POST: the answers saved as a draft, or submitted (`action`)."""
    card = my_card(space_id)
    assignment = assignment_in(card.space.name, assignment_id)
    items = qf.instrument_items(assignment)
    if request.method == "GET":
        typed = draft_typed(assignment, items)
        return coachee_page(space_id, card, assignment, items, typed=typed)
    answers, typed, errors = qf.read_answers(request.form, items or [])
    submit = request.form.get("action") == "submit"
    error, status = "", 400
    if errors:
        error = _("Some answers need a look: see beside each question.")
    else:
        method = clients().assessment.SubmitAttempt if submit else clients().assessment.SaveDraft
        try:
            authed(
                clients(),
                method,
                apb.AnswersRequest(assignment_id=assignment.assignment_id, answers=answers),
            )
        except grpc.RpcError as exc:
            error, errors, status = field_errors(exc)
        else:
            done = "submitted" if submit else "draft"
            return redirect(
                url_for(
                    "questionnaires.answer",
                    space_id=space_id,
                    assignment_id=assignment_id,
                    done=done,
                )
                + ("#results" if submit else "#answer")
            )
    assignment = assignment_in(card.space.name, assignment_id)
    return coachee_page(
        space_id, card, assignment, items, typed=typed, errors=errors, error=error, status=status
    )


@questionnaires.post("/spaces/<space_id>/questionnaires/<assignment_id>/raters")
@signed_in
def invite(space_id: str, assignment_id: str) -> Answer:
    """The coachee asks people for 360 feedback on the assignment (feedback.py); a refused
    request shows each field's problem beside it and keeps what was typed."""
    card = my_card(space_id)
    assignment = assignment_in(card.space.name, assignment_id)
    form = fb.InviteForm(
        emails=request.form.get("rater_emails", ""), group=request.form.get("rater_group", "")
    )
    problems = fb.invite_raters(assignment.assignment_id, form)
    if problems is not None:
        items = qf.instrument_items(assignment)
        typed = draft_typed(assignment, items)
        return coachee_page(
            space_id, card, assignment, items, typed=typed, status=problems.status, invite=problems
        )
    return redirect(
        url_for(
            "questionnaires.answer", space_id=space_id, assignment_id=assignment_id, done="invited"
        )
        + "#feedback"
    )
