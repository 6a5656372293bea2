"""The resources a coach recommends into a space (issue 23): the coach picks one of the library's
resources they read (the space page's search narrows the list) and writes a note to the
coachee; the coachee reads the recommendations on their space page, newest first, with the note
and the link, and marks each read and helpful or not; the coach sees the marks.

The coach's forms start from `coach.coached_space`, the coachee's from `coachee.my_card`, so a
space that is not the caller's is 404 before any content call; a recommendation of another
space is 404 too. HR has no page here (the service shows them nothing of it)."""

from __future__ import annotations

import grpc
from flask import Blueprint, abort, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.pb import content_pb2 as cpb

from . import library_forms as lf
from .clients import authed
from .coach import SpaceForms as CoachSpaceForms
from .coach import an_id, coach_only, coached_space
from .coach import space_page as coach_space_page
from .coachee import SpaceForms as CoacheeSpaceForms
from .coachee import my_card
from .coachee import space_page as coachee_space_page
from .i18n import _
from .pages import Page, clients, failed, field_errors, signed_in

recommendations = Blueprint("recommendations", __name__)

Answer = Page | BaseResponse
NOTE_LONGEST = 2000
# The coachee's buttons: (read, useful) where None keeps what they said before.
MARKS: dict[str, tuple[bool, bool | None]] = {
    "read": (True, None),
    "unread": (False, None),
    "useful": (True, True),
    "not-useful": (True, False),
}


# -------------------------------------------------------------------------------- the coach


@recommendations.post("/coach/spaces/<space_id>/recommendations")
@coach_only
def recommend(space_id: str) -> Answer:
    space = coached_space(space_id)
    typed = {
        "resource_id": request.form.get("resource_id", "").strip(),
        "note": request.form.get("note", ""),
    }
    errors = {}
    if not an_id(typed["resource_id"]):
        errors["resource_id"] = _("Choose a resource from the list.")
    if len(typed["note"]) > NOTE_LONGEST:
        errors["note"] = _("Write at most 2000 characters.")
    if errors:
        forms = CoachSpaceForms(errors=errors, recommendation=typed)
        return coach_space_page(space, forms, 400)
    try:
        authed(
            clients(),
            clients().content.RecommendResource,
            cpb.RecommendResourceRequest(
                parent=space.name, resource_id=typed["resource_id"], note=typed["note"]
            ),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            errors, status = {"resource_id": _("Choose a resource from the list.")}, 400
        forms = CoachSpaceForms(error=message, errors=errors, recommendation=typed)
        return coach_space_page(space, forms, status)
    return redirect(
        url_for("coach.space", space_id=space_id, done="recommended") + "#recommendations"
    )


# ------------------------------------------------------------------------------ the coachee


@recommendations.post("/spaces/<space_id>/recommendations/<recommendation_id>")
@signed_in
def mark(space_id: str, recommendation_id: str) -> Answer:
    card = my_card(space_id)
    mark = request.form.get("mark", "")
    listed = {r.recommendation_id: r for r in lf.recommendations_of(card.space.name)}
    if mark not in MARKS or recommendation_id not in listed:
        abort(404)
    read, useful = MARKS[mark]
    before = listed[recommendation_id]
    if useful is None and before.HasField("useful"):
        useful = before.useful
    wanted = cpb.MarkRecommendationRequest(recommendation_id=recommendation_id, read=read)
    if useful is not None:
        wanted.useful = useful
    try:
        authed(clients(), clients().content.MarkRecommendation, wanted)
    except grpc.RpcError as exc:
        message, _problems, status = failed(exc)
        return coachee_space_page(my_card(space_id), CoacheeSpaceForms(error=message), status)
    return redirect(
        url_for("coachee.space", space_id=space_id, done="marked")
        + f"#recommendation-{recommendation_id}"
    )
