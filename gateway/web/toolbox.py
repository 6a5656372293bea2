"""The space's toolbox (issue 24, ADR 0018) in the web app.

The coach (and co-coach) has a page per space, linked from the space's page: its tools in
order with their kind, label, state and rule in words; a form to add one (what it opens: one of
the space's own questionnaires, recommended resources or modules, its video room or a note
template with its text; the name the coachee sees; the conditions that must all hold before it
opens: a date, a number of sessions held, another tool done, by hand; none opens it at once),
and buttons to open, lock again, move up or down and remove each tool. What to add is one
choice (kind and target together), so a kind cannot be sent with another kind's target.

The coachee sees the toolbox on their space page (coachee.py, tool_words.py): open tools lead to
their target's own page, and a note template to a new note started from its text; locked tools
say why in the coachee's words, from `locked_reasons` only.

Every coach page starts from `coach.coached_space` (another coach's, a former coach's, HR's
or another tenant's view is 404); every coachee page from `coachee.my_card`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import grpc
from flask import Blueprint, abort, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.convert import tenant_name
from gateway.api.pb import spaces_pb2 as spb

from . import library_forms as lf
from . import module_parts as mp
from . import questionnaire_forms as qf
from . import tool_words as tw
from . import toolbox_copy as tc
from .clients import authed
from .coach import an_id, call, coach_only, coached_space
from .coachee import my_card
from .i18n import _
from .notes import editor as note_editor
from .pages import Page, clients, field_errors, not_found, render, session, signed_in

toolbox = Blueprint("toolbox", __name__)

Answer = Page | BaseResponse
LABEL_LONGEST = 200
TEMPLATE_LONGEST = 20_000
# What the coach adds: a kind with a target of the space (`kind:target_id`), or a kind alone.
TARGETED = {
    "assessment": spb.TOOL_ASSESSMENT,
    "resource": spb.TOOL_RESOURCE,
    "module": spb.TOOL_MODULE,
}
ALONE = {"video_room": spb.TOOL_VIDEO_ROOM, "note_template": spb.TOOL_NOTE_TEMPLATE}
WHAT = re.compile(r"^(assessment|resource|module):([a-z]{3}_[0-9a-f]{1,64})$")
ACTIONS = ("unlock", "lock", "up", "down", "remove")
# The service's field names (after their last dot) -> the form's.
FORM_FIELDS = {"kind": "what", "target_id": "what", "after_tool_id": "after_tool"}


@dataclass
class ToolForm:
    """The add form as typed, with each field's problem, and the page's error."""

    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str = ""


def done_notice() -> str:
    return {
        "added": _("The tool is in the toolbox."),
        "unlock": _("The tool is open: the coachee can use it."),
        "lock": _("The tool is locked: it stays so until you open it."),
        "up": _("The tool is moved."),
        "down": _("The tool is moved."),
        "remove": _("The tool is out of the toolbox."),
    }.get(request.args.get("done", ""), "")


def choices(space: spb.Space, tools: list[spb.Tool]) -> list[tuple[str, list[tuple[str, str]]]]:
    """What may be added, by group: the space's own items not in the toolbox yet, then the
    tools with no target."""
    taken = {t.target_id for t in tools if t.target_id}
    questionnaires = [
        (f"assessment:{a.assignment_id}", qf.text(a.title))
        for a in qf.assignments_of(space.name)
        if a.assignment_id not in taken
    ]
    resources = [
        (f"resource:{r.recommendation_id}", r.resource.title or r.recommendation_id)
        for r in lf.recommendations_of(space.name)
        if r.recommendation_id not in taken
    ]
    modules = [
        (f"module:{a.assignment_id}", mp.text(a.title))
        for a in mp.assignments_of(space.name)
        if a.assignment_id not in taken
    ]
    groups = [
        (_("Questionnaires of the space"), questionnaires),
        (_("Resources recommended in the space"), resources),
        (_("Modules of the space"), modules),
        (
            _("Without a target"),
            [("video_room", _("Video room")), ("note_template", _("Note template"))],
        ),
    ]
    return [(title, options) for title, options in groups if options]


def other_spaces(space: spb.Space) -> list[tuple[str, str]]:
    """The caller's other spaces of this tenant (their desk's roster), to copy a toolbox from:
    (space id, the coachee's name and the space's start)."""
    board = call(
        clients().dashboards.GetCoachDashboard,
        spb.GetCoachDashboardRequest(parent=tenant_name(session().tenant_id)),
    )
    found = []
    for e in board.coachees:
        if e.space.space_id != space.space_id:
            name = e.coachee_display_name or _("A coachee")
            start = e.space.set_up.start_date
            found.append((e.space.space_id, f"{name} · {start}" if start else name))
    return found


def toolbox_page(
    space: spb.Space,
    form: ToolForm | None = None,
    status: int = 200,
    report: tc.Report | None = None,
    copy_error: str = "",
) -> Page:
    listed = tw.tools_of(space.name)
    tools = list(listed.tools)
    return render(
        "coach_toolbox.html",
        status,
        title=_("Toolbox"),
        space=space,
        tools=tools,
        sessions_held=listed.sessions_held,
        labels=tw.labels_of(tools),
        choices=choices(space, tools) if space.status != spb.SPACE_ARCHIVED else [],
        form=form or ToolForm(),
        notice=done_notice(),
        tw=tw,
        others=other_spaces(space) if space.status != spb.SPACE_ARCHIVED else [],
        report=report,
        copy_error=copy_error,
    )


@toolbox.get("/coach/spaces/<space_id>/toolbox")
@coach_only
def coach_toolbox(space_id: str) -> Answer:
    space = coached_space(space_id)
    source_id = request.args.get("copied_from", "")
    if not source_id:
        return toolbox_page(space)
    # After a copy (the POST redirected here): the report, read back from the ids it carried.
    source = coached_space(source_id)
    report = tc.report_from_query(
        dict(request.args),
        list(tw.tools_of(space.name).tools),
        list(tw.tools_of(source.name).tools),
        an_id,
    )
    return toolbox_page(space, report=report)


def read_tool(tools: list[spb.Tool]) -> tuple[spb.Tool | None, ToolForm]:
    """The add form as a Tool, or None with each field's problem."""
    names = ("what", "label", "template", "on_date", "after_sessions_held", "after_tool")
    typed = {k: request.form.get(k, "").strip() for k in names}
    typed["template"] = request.form.get("template", "")
    typed["by_hand"] = "yes" if request.form.get("by_hand") == "yes" else ""
    errors: dict[str, str] = {}
    tool = spb.Tool(label=typed["label"])
    what = WHAT.match(typed["what"])
    if what:
        tool.kind, tool.target_id = TARGETED[what.group(1)], what.group(2)  # type: ignore[assignment]
    elif typed["what"] in ALONE:
        tool.kind = ALONE[typed["what"]]  # type: ignore[assignment]
    else:
        errors["what"] = _("Choose what the tool opens.")
    if not typed["label"]:
        errors["label"] = _("Write the name the coachee will see.")
    elif len(typed["label"]) > LABEL_LONGEST or "\n" in typed["label"]:
        errors["label"] = _("Write at most 200 characters, on one line.")
    if tool.kind == spb.TOOL_NOTE_TEMPLATE:
        if not typed["template"].strip():
            errors["template"] = _("Write the note the coachee will start from.")
        elif len(typed["template"]) > TEMPLATE_LONGEST:
            errors["template"] = _("Write at most 20000 characters.")
        tool.template = typed["template"]
    if typed["on_date"]:
        try:
            tool.rule.on_date = date.fromisoformat(typed["on_date"]).isoformat()
        except ValueError:
            errors["on_date"] = _("Choose a date.")
    held = typed["after_sessions_held"]
    if held:
        if not held.isdigit() or not 1 <= int(held) <= 200:
            errors["after_sessions_held"] = _("Write a number of sessions from 1 to 200.")
        else:
            tool.rule.after_sessions_held = int(held)
    if typed["after_tool"]:
        other = next((t for t in tools if t.tool_id == typed["after_tool"]), None)
        if other is None:
            errors["after_tool"] = _("Choose a tool of this toolbox.")
        else:
            tool.rule.after_tool = other.name
    tool.rule.by_hand = bool(typed["by_hand"])
    form = ToolForm(typed, errors)
    return (None if errors else tool), form


@toolbox.post("/coach/spaces/<space_id>/toolbox")
@coach_only
def add(space_id: str) -> Answer:
    space = coached_space(space_id)
    tool, form = read_tool(list(tw.tools_of(space.name).tools))
    if tool is None:
        return toolbox_page(space, form, 400)
    try:
        authed(
            clients(),
            clients().toolbox.AddTool,
            spb.AddToolRequest(parent=space.name, tool=tool),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        form.error = message
        form.errors = {FORM_FIELDS.get(k, k): v for k, v in errors.items()}
        return toolbox_page(space, form, status)
    return redirect(url_for("toolbox.coach_toolbox", space_id=space_id, done="added"))


@toolbox.post("/coach/spaces/<space_id>/toolbox/<tool_id>/<action>")
@coach_only
def act(space_id: str, tool_id: str, action: str) -> Answer:
    """Open, lock again, move up or down, or remove one tool."""
    if action not in ACTIONS or not an_id(tool_id):
        return not_found()
    space = coached_space(space_id)
    tools = list(tw.tools_of(space.name).tools)
    tool = next((t for t in tools if t.tool_id == tool_id), None)
    if tool is None:
        return not_found()
    box = clients().toolbox
    try:
        if action == "unlock":
            authed(clients(), box.UnlockTool, spb.UnlockToolRequest(name=tool.name))
        elif action == "lock":
            authed(clients(), box.LockTool, spb.LockToolRequest(name=tool.name))
        elif action == "remove":
            authed(clients(), box.RemoveTool, spb.RemoveToolRequest(name=tool.name))
        else:
            place = tools.index(tool) + (-1 if action == "up" else 1)
            if 0 <= place < len(tools):
                authed(clients(), box.MoveTool, spb.MoveToolRequest(name=tool.name, position=place))
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            return not_found()
        message, _errors, status = field_errors(exc)
        return toolbox_page(space, ToolForm(error=message), status)
    anchor = "" if action == "remove" else f"#tool-{tool_id}"
    return redirect(url_for("toolbox.coach_toolbox", space_id=space_id, done=action) + anchor)


@toolbox.post("/coach/spaces/<space_id>/toolbox/copy")
@coach_only
def copy(space_id: str) -> Answer:
    """Start from another space's toolbox (toolbox_copy.py): both spaces must be the caller's
    (another's, a former coach's or another tenant's space: 404 before anything is made)."""
    space = coached_space(space_id)
    source_id = request.form.get("from_space", "").strip()
    if not source_id or source_id == space_id or not an_id(source_id):
        return toolbox_page(space, status=400, copy_error=_("Choose another of your spaces."))
    source = coached_space(source_id)
    if space.status == spb.SPACE_ARCHIVED:
        return not_found()
    report = tc.copy_toolbox(source, space)
    # Redirected, so that reloading the page never copies again (the report travels as ids).
    target = url_for(
        "toolbox.coach_toolbox", space_id=space_id, **tc.report_query(source_id, report)
    )
    return redirect(target + "#copy-report", 303)


# ------------------------------------------------------------------------------ the coachee


@toolbox.get("/spaces/<space_id>/toolbox/<tool_id>/note")
@signed_in
def note_from_template(space_id: str, tool_id: str) -> Answer:
    """A new note started from an open note template (saved through the notes' own form)."""
    card = my_card(space_id)
    tools = tw.tools_of(card.space.name).tools
    tool = next((t for t in tools if t.tool_id == tool_id), None)
    if tool is None or tool.kind != spb.TOOL_NOTE_TEMPLATE or tool.state != spb.TOOL_UNLOCKED:
        abort(404)
    return note_editor(card, kind="SHARED", body=tool.template)
