"""A space's goals as the people of the space write them: its coach's pages (`coach.py`) and its
coachee's (`coachee.py`) share this. The goal form read and checked in the reader's language,
and the calls that add, change and archive a goal, each answering what the page says when the
service refuses (the message, each field's problem beside its field, the page's status).

Who may write a goal is the spaces service's to decide (its coachee, coach and co-coach); each
blueprint first checks that the space is one the caller takes part in, as it does for its
other pages, and a goal id that is not one of that space's goals is the 404 page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import grpc
from flask import abort
from google.protobuf.field_mask_pb2 import FieldMask

from gateway.api.pb import spaces_pb2 as spb

from .clients import authed
from .i18n import _
from .pages import clients, field_errors

# What the goal form holds, as the API names it.
GOAL_FIELDS = ("title", "description", "due_date", "progress")
# The services' goal ids (`gol_...`); anything else is not found before any call.
GOAL_ID = re.compile(r"^[a-z]{3}_[0-9a-f]{1,64}$")


@dataclass
class GoalRefused:
    """What a goal form shows again after a refused change."""

    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 400
    typed: dict[str, str] = field(default_factory=dict)


def goal_from(form: Any) -> tuple[spb.Goal, dict[str, str]]:
    """A goal's fields as typed, checked for what the page can say in the reader's language."""
    errors = {}
    title = form.get("title", "").strip()
    if not title:
        errors["title"] = _("Give the goal a title.")
    progress = form.get("progress", "0").strip() or "0"
    if not progress.isdigit() or not 0 <= int(progress) <= 100:
        errors["progress"] = _("Write a progress from 0 to 100.")
        progress = "0"
    goal = spb.Goal(
        title=title,
        description=form.get("description", "").strip(),
        due_date=form.get("due_date", "").strip(),
        progress=int(progress),
    )
    return goal, errors


def typed_goal(form: Any) -> dict[str, str]:
    return {k: form.get(k, "") for k in GOAL_FIELDS}


def goal_name(space_name: str, goal_id: str) -> str:
    """The goal's resource name in the space; 404 for what cannot be a goal id."""
    if not GOAL_ID.match(goal_id or ""):
        abort(404)
    return f"{space_name}/goals/{goal_id}"


def _refused(exc: grpc.RpcError, typed: dict[str, str]) -> GoalRefused:
    if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
        abort(404)  # a goal of another space, or one the caller may not see
    message, errors, status = field_errors(exc)
    return GoalRefused(message, errors, status, typed)


def add_goal(space_name: str, form: Any) -> GoalRefused | None:
    """A new goal in the space; None once saved."""
    goal, errors = goal_from(form)
    typed = typed_goal(form)
    if errors:
        return GoalRefused(errors=errors, typed=typed)
    try:
        authed(
            clients(),
            clients().goals.CreateGoal,
            spb.CreateGoalRequest(parent=space_name, goal=goal),
        )
    except grpc.RpcError as exc:
        return _refused(exc, typed)
    return None


def change_goal(space_name: str, goal_id: str, form: Any) -> GoalRefused | None:
    """The goal's title, description, due date and progress as typed (full progress achieves
    it); None once saved."""
    name = goal_name(space_name, goal_id)
    goal, errors = goal_from(form)
    goal.name = name
    typed = typed_goal(form)
    if errors:
        return GoalRefused(errors=errors, typed=typed)
    try:
        authed(
            clients(),
            clients().goals.UpdateGoal,
            spb.UpdateGoalRequest(goal=goal, update_mask=FieldMask(paths=list(GOAL_FIELDS))),
        )
    except grpc.RpcError as exc:
        return _refused(exc, typed)
    return None


def archive_goal(space_name: str, goal_id: str) -> GoalRefused | None:
    """The goal archived (read only from then on); None once done."""
    name = goal_name(space_name, goal_id)
    try:
        authed(clients(), clients().goals.ArchiveGoal, spb.ArchiveGoalRequest(name=name))
    except grpc.RpcError as exc:
        return _refused(exc, {})
    return None
