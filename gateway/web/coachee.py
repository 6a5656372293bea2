"""The coachee's pages: their space(s), read only for now (project, objectives, goals, the
latest shared notes, the next sessions in the person's own time zone), from one
`DashboardService.GetCoacheeDashboard` call. A space that is not one of the caller's own
spaces as coachee does not exist for them: 404, whoever they are."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint

from gateway.api.convert import tenant_name
from gateway.api.pb import spaces_pb2 as spb

from .clients import authed
from .i18n import _, local_time
from .pages import Page, clients, not_found, render, session, signed_in, well_formed

coachee = Blueprint("coachee", __name__)

# The latest shared notes on the page (the gateway logs them as read by the coachee).
NOTES_SHOWN = 3


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


def when(stamp: object) -> str:
    return local_time(stamp.ToDatetime(tzinfo=UTC), session().time_zone)  # type: ignore[attr-defined]


@coachee.get("/my-space")
@signed_in
def my_space() -> Page:
    return render("my_space.html", title=_("My space"), cards=my_spaces(), when=when)


@coachee.get("/spaces/<space_id>")
@signed_in
def space(space_id: str) -> Page:
    if not well_formed(space_id, 64):
        return not_found()
    cards = [c for c in my_spaces() if c.space.space_id == space_id]
    if not cards:
        return not_found()
    return render("space.html", title=_("My space"), card=cards[0], when=when)
