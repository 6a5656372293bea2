"""The coachee's pages: their spaces (project, objectives, goals with their progress over time,
the latest shared notes, the next sessions in the person's own time zone, their coach's name and
the sessions used and left in the engagement), from `DashboardService.GetCoacheeDashboard`
and each goal's history. The notes (`notes.py`), sessions (`sessions.py`) and the person's
own settings (`me.py`) have blueprints of their own.

A space that is not one of the caller's own spaces as coachee does not exist for them: 404,
whoever they are (its coach and HR included: they have pages of their own). Every page under
`/spaces/<space_id>/` starts from `my_card`, which says so."""

from __future__ import annotations

import re
from datetime import UTC

from flask import Blueprint, abort

from gateway.api.convert import tenant_name
from gateway.api.pb import spaces_pb2 as spb

from .charts import chart, progress_points
from .clients import authed
from .i18n import _, local_time
from .pages import Page, clients, render, session, signed_in

coachee = Blueprint("coachee", __name__)

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
    return render("my_space.html", title=_("My space"), cards=my_spaces(), when=when)


@coachee.get("/spaces/<space_id>")
@signed_in
def space(space_id: str) -> Page:
    card = my_card(space_id)
    charts = {}
    for goal in card.goals:
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
        title=card.space.content.project or _("My space"),
        card=card,
        charts=charts,
        when=when,
        local=lambda at: local_time(at, session().time_zone),
    )
