"""The coachee's pages: their spaces (project, objectives, goals with their progress over time,
the latest shared notes, the next sessions in the person's own time zone, their coach's name and
the sessions used and left in the engagement), from `DashboardService.GetCoacheeDashboard`
and each goal's history. The notes (`notes.py`), sessions (`sessions.py`) and the person's
own settings (`me.py`) have blueprints of their own.

What the coachee does on the space page: read the resources their coach recommends, newest
first, and mark each read and helpful or not (recommendations.py); open the e-learning
modules their coach gave them, with their progress (modules.py); add a goal and change its
title, description, due date and progress (full progress achieves it) or archive it, with the
coach's own code (`goals.py`);
accept or decline a coach or co-coach proposed by someone who oversees the organisation (ADR
0006); let a coach who joined the running space read what was written before them; pause the
coaching and resume it, each after a confirmation page (pausing cancels the booked sessions).

A space that is not one of the caller's own spaces as coachee does not exist for them: 404,
whoever they are (its coach and HR included: they have pages of their own). Every page under
`/spaces/<space_id>/`, and every form posted there, starts from `my_card`, which says so."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC

import grpc
from flask import Blueprint, abort, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.convert import tenant_name
from gateway.api.pb import spaces_pb2 as spb

from . import goals
from . import library_forms as lf
from . import module_parts as mp
from . import questionnaire_forms as qf
from . import tool_words as tw
from .charts import chart, progress_points
from .clients import authed
from .i18n import _, local_time
from .pages import Page, clients, failed, render, session, signed_in
from .space_moves import MOVES, make_move, moves_for

coachee = Blueprint("coachee", __name__)

Answer = Page | BaseResponse

# The latest shared notes on the page (the gateway logs them as read by the coachee).
NOTES_SHOWN = 3
# The services' ids (`spc_...`, `not_...`, `ses_...`): anything else is not found at once.
SERVICE_ID = re.compile(r"^[a-z]{3}_[0-9a-f]{1,64}$")
# A goal's history drawn: its latest changes.
GOAL_CHANGES = 200


def my_spaces() -> list[spb.CoacheeSpaceCard]:
    me = session()
    if not me.tenant_id or "COACHEE" not in me.roles:
        return []
    board = authed(
        clients(),
        clients().dashboards.GetCoacheeDashboard,
        spb.GetCoacheeDashboardRequest(
            parent=tenant_name(me.tenant_id), notes_per_space=NOTES_SHOWN
        ),
    )
    return list(board.spaces)


def service_id(value: str) -> str:
    """`value` if it can be a service's id; 404 otherwise."""
    if not SERVICE_ID.match(value or ""):
        abort(404)
    return value


def my_card(space_id: str) -> spb.CoacheeSpaceCard:
    """The caller's own space as coachee; 404 for any other (another person's, another
    tenant's, one they coach, a draft)."""
    service_id(space_id)
    for card in my_spaces():
        if card.space.space_id == space_id:
            return card
    abort(404)


def when(stamp: object) -> str:
    return local_time(stamp.ToDatetime(tzinfo=UTC), session().time_zone)  # type: ignore[attr-defined]


def coach_names(card: spb.CoacheeSpaceCard) -> dict[str, str]:
    """Person id -> name, for the people the coachee may see named in their space."""
    names = {session().person_id: _("You")}
    for coach in (card.coaches.coach, card.coaches.co_coach):
        if coach.person_id:
            names[coach.person_id] = coach.display_name or _("A person whose data was erased")
    return names


@coachee.get("/my-space")
@signed_in
def my_space() -> Page:
    """Each space's card, with its toolbox at a glance (a ListTools per space: a coachee has
    a few spaces at most)."""
    cards = my_spaces()
    glances = {c.space.space_id: tw.glance(tw.tools_of(c.space.name)) for c in cards}
    return render("my_space.html", title=_("My space"), cards=cards, glances=glances, when=when)


@dataclass
class SpaceForms:
    """What the space page shows again after a refused change."""

    error: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    goal: dict[str, str] = field(default_factory=dict)  # the new goal as typed
    goal_id: str = ""  # the goal whose change was refused


def done_notice() -> str:
    return {
        "goal": _("The goal is saved."),
        "archived": _("The goal is archived."),
        "accepted": _("You accepted the change: the person proposed now accompanies you."),
        "declined": _("You declined the change: your coaches stay as they were."),
        "shared": _("Your coaches can now read what was written before they joined."),
        "paused": _("Your coaching is paused. Resume it whenever you are ready."),
        "resumed": _("Your coaching is running again: you can book sessions."),
        "marked": _("Your answer is saved: your coach sees it."),
    }.get(request.args.get("done", ""), "")


def seat_label(seat: int) -> str:
    return {spb.SEAT_COACH: _("coach"), spb.SEAT_CO_COACH: _("co-coach")}.get(seat, "")


def space_page(
    card: spb.CoacheeSpaceCard, forms: SpaceForms | None = None, status: int = 200
) -> Page:
    working = [g for g in card.goals if g.status != spb.GOAL_ARCHIVED]
    charts = {}
    for goal in working:  # an archived goal is listed by its title only
        history = authed(
            clients(),
            clients().goals.ListGoalChanges,
            spb.ListGoalChangesRequest(parent=goal.name, page_size=GOAL_CHANGES),
        )
        points = progress_points(
            [(c.change_time.ToDatetime(tzinfo=UTC), c.changes_json) for c in history.changes]
        )
        charts[goal.goal_id] = chart(points)
    return render(
        "space.html",
        status,
        title=card.space.content.project or _("My space"),
        card=card,
        goals=working,
        archived=[g for g in card.goals if g.status == spb.GOAL_ARCHIVED],
        charts=charts,
        forms=forms or SpaceForms(),
        notice=done_notice(),
        seat_label=seat_label,
        status_words=status_words,
        when=when,
        local=lambda at: local_time(at, session().time_zone),
        questionnaires=qf.assignments_of(card.space.name),
        qf=qf,
        recommendations=lf.recommendations_of(card.space.name),
        names=coach_names(card),
        lf=lf,
        module_assignments=mp.assignments_of(card.space.name),
        mp=mp,
        toolbox=tw.tools_of(card.space.name),
        tw=tw,
    )


@coachee.get("/spaces/<space_id>")
@signed_in
def space(space_id: str) -> Page:
    return space_page(my_card(space_id))


def to_space(space_id: str, done: str = "", anchor: str = "") -> BaseResponse:
    shown = {"done": done} if done else {}
    return redirect(url_for("coachee.space", space_id=space_id, **shown) + anchor)


# ------------------------------------------------------------------------------------ goals


@coachee.post("/spaces/<space_id>/goals")
@signed_in
def create_goal(space_id: str) -> Answer:
    card = my_card(space_id)
    refused = goals.add_goal(card.space.name, request.form)
    if refused:
        forms = SpaceForms(error=refused.message, errors=refused.errors, goal=refused.typed)
        return space_page(card, forms, refused.status)
    return to_space(space_id, "goal", "#goals-heading")


@coachee.post("/spaces/<space_id>/goals/<goal_id>")
@signed_in
def update_goal(space_id: str, goal_id: str) -> Answer:
    card = my_card(space_id)
    refused = goals.change_goal(card.space.name, goal_id, request.form)
    if refused:
        forms = SpaceForms(error=refused.message, errors=refused.errors, goal_id=goal_id)
        return space_page(card, forms, refused.status)
    return to_space(space_id, "goal", f"#goal-{goal_id}")


@coachee.post("/spaces/<space_id>/goals/<goal_id>/archive")
@signed_in
def archive_goal(space_id: str, goal_id: str) -> Answer:
    card = my_card(space_id)
    refused = goals.archive_goal(card.space.name, goal_id)
    if refused:
        return space_page(card, SpaceForms(error=refused.message), refused.status)
    return to_space(space_id, "archived", "#goals-heading")


# ------------------------------------------------------------------------ the coaches


@coachee.post("/spaces/<space_id>/coach-change/<answer>")
@signed_in
def answer_coach_change(space_id: str, answer: str) -> Answer:
    """The coachee accepts or declines the coach change waiting for them. One answered
    meanwhile (in another tab), replaced, or whose person may no longer coach here: the
    space page again with the service's reason."""
    if answer not in ("accept", "decline"):
        abort(404)
    card = my_card(space_id)
    name = card.space.name
    try:
        if answer == "accept":
            authed(
                clients(),
                clients().spaces.AcceptCoachChange,
                spb.AcceptCoachChangeRequest(name=name),
            )
        else:
            authed(
                clients(),
                clients().spaces.DeclineCoachChange,
                spb.DeclineCoachChangeRequest(name=name),
            )
    except grpc.RpcError as exc:
        message, _problems, status = failed(exc)
        return space_page(my_card(space_id), SpaceForms(error=message), status)
    return to_space(space_id, "accepted" if answer == "accept" else "declined")


@coachee.post("/spaces/<space_id>/share-earlier-content")
@signed_in
def share_earlier_content(space_id: str) -> Answer:
    card = my_card(space_id)
    authed(
        clients(),
        clients().spaces.ShareEarlierContent,
        spb.ShareEarlierContentRequest(name=card.space.name),
    )
    return to_space(space_id, "shared")


# --------------------------------------------------------------------- pause and resume


def status_words(status: int) -> str:
    """The space's status as the coachee reads it ("running" rather than the coach's "active")."""
    return {
        spb.SPACE_ACTIVE: _("Running"),
        spb.SPACE_PAUSED: _("Paused"),
        spb.SPACE_COMPLETED: _("Completed"),
    }.get(status, _("Archived"))


def move_title(move: str) -> str:
    return {
        "pause": _("Pause my coaching?"),
        "resume": _("Resume my coaching?"),
    }[move]


def move_space(space_id: str, move: str) -> Answer:
    """GET: the confirmation page (it works without script); POST: the move, then the space
    page with its outcome. A space not in the status the move starts from: the space page
    with the service's reason."""
    card = my_card(space_id)
    if request.method == "GET":
        if MOVES[move] not in moves_for(card.space):
            return to_space(space_id)
        return render("space_move.html", title=move_title(move), card=card, move=move)
    try:
        make_move(card.space, move)
    except grpc.RpcError as exc:
        message, _problems, status = failed(exc)
        return space_page(card, SpaceForms(error=message), status)
    return to_space(space_id, "paused" if move == "pause" else "resumed")


@coachee.route("/spaces/<space_id>/pause", methods=["GET", "POST"])
@signed_in
def pause(space_id: str) -> Answer:
    return move_space(space_id, "pause")


@coachee.route("/spaces/<space_id>/resume", methods=["GET", "POST"])
@signed_in
def resume(space_id: str) -> Answer:
    return move_space(space_id, "resume")
