"""The coach's pages: their desk (the coachees of the tenant they are in, with status, last
activity, sessions to mark and shared notes new since their last visit; the sessions waiting to
be marked; the reschedule requests waiting for them; their other tenants, one switch away), a
coachee's space as its coach (set-up, content, goals with their history, shared and private
notes with a Markdown preview, its questionnaires (questionnaires.py), the resources recommended
into it (recommendations.py, with the library's search to pick one), its e-learning modules
with the coachee's progress (modules.py), the lifecycle moves its
status allows: space_moves.py), their availability with its exceptions, their calendar, and
marking attendance.

The desk is per tenant (ADR 0011: each tenant's MFA policy and suspension hold): a coach in
several tenants sees the one they are in and switches to another with one button (SwitchTenant,
through `account.tenants`). A space is looked up in the session's tenant and shown only when
the caller is its coach or co-coach: another coach's, a former coach's, another tenant's or HR's
view of it is 404, like a space that does not exist.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import grpc
from babel.dates import format_date, format_datetime
from flask import Blueprint, abort, redirect, request, url_for
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.client_errors import call_error
from gateway.api.convert import space_name, tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as schpb
from gateway.api.pb import spaces_pb2 as spb
from services.kernel.markdown import render as render_markdown

from . import goals
from . import library_forms as lf
from . import module_parts as mp
from . import questionnaire_forms as qf
from .clients import authed
from .i18n import _, language, local_time, zone_of
from .pages import Page, clients, failed, not_found, render, session, signed_in
from .pages import now as clock_now
from .space_moves import (
    MOVES,
    make_move,
    move_consequence,
    move_done,
    move_hint,
    move_label,
    moves_for,
    refusal,
    status_label,
)

coach = Blueprint("coach", __name__, url_prefix="/coach")

Answer = Page | BaseResponse

COACH_RELATIONS = (spb.AS_COACH, spb.AS_CO_COACH)
WEEKDAYS = range(1, 8)  # schpb.MONDAY .. schpb.SUNDAY
RANGES_PER_DAY = 3
# The ids the services make (services/kernel/ids.py); anything else is not found before any call.
AN_ID = re.compile(r"^[a-z]{3}_[0-9a-f]{1,64}$")
HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
NOTE_LONGEST = 20_000
# Fields the spaces service names by its own words, not the API's (gateway/api/spaces.py).
SERVICE_FIELDS = {"starts_on": "start_date", "ends_on": "end_date"}
# Where a form sends the person back after marking attendance.
BACK = {"desk": "home.desk", "calendar": "coach.calendar"}


def an_id(value: str) -> bool:
    return bool(AN_ID.match(value))


def is_coach() -> bool:
    me = session()
    return bool(me.signed_in and me.tenant_id and "COACH" in me.roles)


def coach_only(view: Any) -> Any:
    """Pages for a signed-in coach in a tenant; for anyone else they do not exist."""

    @signed_in
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not is_coach():
            return not_found()
        return view(*args, **kwargs)

    guarded.__name__ = view.__name__
    guarded.__doc__ = view.__doc__
    return guarded


def call(method: Any, request_: Any) -> Any:
    return authed(clients(), method, request_)


def when(stamp: Timestamp) -> str:
    return local_time(stamp.ToDatetime(tzinfo=UTC), session().time_zone)


def hour(stamp: Timestamp) -> str:
    zone = zone_of(session().time_zone)
    return format_datetime(stamp.ToDatetime(tzinfo=UTC), "HH:mm", tzinfo=zone, locale=language())


def day_title(day: date) -> str:
    return format_date(day, "EEEE d MMMM y", locale=language())


def session_status_label(status: int) -> str:
    return {
        schpb.SESSION_BOOKED: _("Booked"),
        schpb.SESSION_CANCELLED: _("Cancelled"),
        schpb.SESSION_HELD: _("Held"),
        schpb.SESSION_NO_SHOW_COACHEE: _("The coachee did not come"),
        schpb.SESSION_NO_SHOW_COACH: _("The coach did not come"),
    }.get(status, "")


def cadence_choices() -> list[tuple[int, str]]:
    return [
        (spb.WEEKLY, _("Every week")),
        (spb.EVERY_TWO_WEEKS, _("Every two weeks")),
        (spb.EVERY_FOUR_WEEKS, _("Every four weeks")),
        (spb.MONTHLY, _("Every month")),
    ]


def attendance_choices() -> list[tuple[int, str]]:
    return [
        (schpb.ATTENDANCE_HELD, _("Held")),
        (schpb.ATTENDANCE_NO_SHOW_COACHEE, _("The coachee did not come")),
        (schpb.ATTENDANCE_NO_SHOW_COACH, _("I could not come")),
    ]


def weekday_name(weekday: int) -> str:
    # 2024-01-01 was a Monday.
    return format_date(date(2024, 1, weekday), "EEEE", locale=language())


def done_notice() -> str:
    return {
        "marked": _("The attendance is marked."),
        "approved": _("The session is moved to the time the coachee asked for."),
        "declined": _("The request is declined: the session stays as it was."),
        "availability": _("Your availability is saved."),
        "goal": _("The goal is saved."),
        "archived": _("The goal is archived."),
        "note": _("The note is saved."),
        "set-up": _("The set-up is saved."),
        "exception": _("The exception is added to your availability."),
        "exception-removed": _("The exception is removed from your availability."),
        "assigned": _("The questionnaire is assigned: the coachee can answer it."),
        "retake": _("The coachee can answer the questionnaire once more."),
        "recommended": _("The resource is recommended: the coachee sees it with your note."),
        "module": _("The module is assigned: the coachee finds it in their space."),
        **{move: move_done(move) for move in MOVES},
    }.get(request.args.get("done", ""), "")


def field_errors(exc: grpc.RpcError) -> tuple[str, dict[str, str], int]:
    """The call's message, its wrong fields by their last name, and the page's status."""
    message, _problems, status = failed(exc)
    errors = {}
    for name, problem in call_error(exc).fields:
        last = re.sub(r"^.*?\.", "", name) if "." in name else name
        errors[SERVICE_FIELDS.get(last, last)] = problem
    return message, errors, status


# ------------------------------------------------------------------------------------- desk


def coachee_names(board: spb.CoachDashboard) -> dict[str, str]:
    return {e.space.name: e.coachee_display_name for e in board.coachees}


def other_tenants() -> list[ipb.MyMembership]:
    """The coach's other tenants (active memberships with the COACH role)."""
    mine = call(clients().members.ListMyMemberships, ipb.ListMyMembershipsRequest())
    return [
        m
        for m in mine.memberships
        if m.status == ipb.ACTIVE and ipb.COACH in m.roles and m.tenant_id != session().tenant_id
    ]


def desk_page(status: int = 200, error: str = "") -> Page:
    """The coach's desk (served at `/desk`, the home of a person with the COACH role)."""
    me = session()
    board = call(
        clients().dashboards.GetCoachDashboard,
        spb.GetCoachDashboardRequest(parent=tenant_name(me.tenant_id)),
    )
    return render(
        "coach_desk.html",
        status,
        title=_("My coachees"),
        board=board,
        names=coachee_names(board),
        others=other_tenants(),
        when=when,
        status_label=status_label,
        attendance=attendance_choices(),
        notice=done_notice(),
        error=error,
    )


@coach.post("/requests/<request_id>/<decision>")
@coach_only
def decide(request_id: str, decision: str) -> Answer:
    if not an_id(request_id) or decision not in ("approve", "decline"):
        return not_found()
    name = f"{tenant_name(session().tenant_id)}/rescheduleRequests/{request_id}"
    try:
        if decision == "approve":
            call(
                clients().requests.ApproveRescheduleRequest,
                schpb.ApproveRescheduleRequestRequest(name=name),
            )
        else:
            call(
                clients().requests.DeclineRescheduleRequest,
                schpb.DeclineRescheduleRequestRequest(name=name),
            )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            return not_found()
        message, _problems, status = failed(exc)
        return desk_page(status, message)
    done = "approved" if decision == "approve" else "declined"
    return redirect(url_for("home.desk", done=done))


@coach.post("/sessions/<session_id>/attendance")
@coach_only
def mark(session_id: str) -> Answer:
    back = request.form.get("back", "desk")
    if not an_id(session_id) or back not in BACK:
        return not_found()
    try:
        attendance = int(request.form.get("attendance", ""))
    except ValueError:
        attendance = 0
    if attendance not in dict(attendance_choices()):
        return render("message.html", 400, title=_("Choose what happened at the session."))
    name = f"{tenant_name(session().tenant_id)}/sessions/{session_id}"
    try:
        call(
            clients().sessions.MarkAttendance,
            schpb.MarkAttendanceRequest(name=name, attendance=attendance),  # type: ignore[arg-type]
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            return not_found()
        message, _problems, status = failed(exc)
        if back == "desk":
            return desk_page(status, message)
        return render("message.html", status, title=_("Something went wrong"), error=message)
    return redirect(url_for(BACK[back], done="marked"))


# ------------------------------------------------------------------------------ a space


def coached_space(space_id: str) -> spb.Space:
    """The space, if the caller coaches or co-coaches it in the session's tenant; else 404."""
    if not an_id(space_id):
        abort(404)
    space: spb.Space = call(
        clients().spaces.GetSpace,
        spb.GetSpaceRequest(name=space_name(session().tenant_id, space_id)),
    )  # NOT_FOUND becomes the 404 page (app.py)
    if space.relation not in COACH_RELATIONS:
        abort(404)
    return space


@dataclass
class SpaceForms:
    """What the forms of a space's page show again after a refused change."""

    error: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    goal: dict[str, str] = field(default_factory=dict)  # the new goal's fields
    goal_id: str = ""  # the goal whose update was refused
    set_up: dict[str, str] = field(default_factory=dict)  # the set-up as typed
    note: dict[str, str] = field(default_factory=dict)  # the new note's body and kind
    preview: str = ""
    recommendation: dict[str, str] = field(default_factory=dict)  # resource and note as typed


def space_page(space: spb.Space, forms: SpaceForms | None = None, status: int = 200) -> Page:
    forms = forms or SpaceForms()
    listed = call(
        clients().goals.ListGoals, spb.ListGoalsRequest(parent=space.name, page_size=200)
    ).goals
    notes = call(
        clients().notes.ListNotes,
        spb.ListNotesRequest(
            parent=space.name, page_size=50, kinds=[spb.SHARED, spb.COACH_PRIVATE]
        ),
    ).notes
    roster = call(
        clients().dashboards.GetCoachDashboard,
        spb.GetCoachDashboardRequest(parent=tenant_name(session().tenant_id)),
    )
    entry = next((e for e in roster.coachees if e.space.name == space.name), None)
    questionnaires = qf.assignments_of(space.name)
    module_assignments = mp.assignments_of(space.name)
    find = request.args.get("find", "").strip()[: lf.QUERY_LIMIT]
    return render(
        "coach_space.html",
        status,
        title=(entry.coachee_display_name if entry and entry.coachee_display_name else "")
        or _("A coachee's space"),
        space=space,
        entry=entry,
        goals=[g for g in listed if g.status != spb.GOAL_ARCHIVED],
        archived=[g for g in listed if g.status == spb.GOAL_ARCHIVED],
        notes=notes,
        forms=forms,
        when=when,
        status_label=status_label,
        moves=moves_for(space),
        move_label=move_label,
        move_hint=move_hint,
        cadences=cadence_choices(),
        notice=done_notice(),
        html=Markup,  # bodies the service rendered and sanitised (services/kernel/markdown)
        questionnaires=questionnaires,
        instruments=qf.instrument_choices() if space.status == spb.SPACE_ACTIVE else [],
        qf=qf,
        recommendations=lf.recommendations_of(space.name),
        find=find,
        offered=lf.resource_choices(find) if space.status == spb.SPACE_ACTIVE else [],
        lf=lf,
        module_assignments=module_assignments,
        module_choices=mp.module_choices(module_assignments)
        if space.status == spb.SPACE_ACTIVE
        else [],
        mp=mp,
    )


@coach.get("/spaces/<space_id>")
@coach_only
def space(space_id: str) -> Answer:
    return space_page(coached_space(space_id))


def to_space(space_id: str, done: str, anchor: str = "") -> BaseResponse:
    return redirect(url_for("coach.space", space_id=space_id, done=done) + anchor)


@coach.post("/spaces/<space_id>/set-up")
@coach_only
def set_up(space_id: str) -> Answer:
    space = coached_space(space_id)
    form = request.form
    typed = {k: form.get(k, "") for k in ("cadence", "sessions_planned", "start_date", "end_date")}
    errors = {}
    try:
        cadence = int(form.get("cadence", ""))
    except ValueError:
        cadence = 0
    if cadence not in dict(cadence_choices()):
        errors["cadence"] = _("Choose how often the sessions are.")
    planned = form.get("sessions_planned", "").strip()
    if not planned.isdigit() or not 1 <= int(planned) <= 200:
        errors["sessions_planned"] = _("Write a number of sessions from 1 to 200.")
    starts, ends = asked_day(typed["start_date"], date.min), asked_day(typed["end_date"], date.max)
    if typed["end_date"] and ends < starts:
        errors["end_date"] = _("The end date must not be before the start date.")
    if errors:
        return space_page(space, SpaceForms(errors=errors, set_up=typed), 400)
    wanted = spb.SpaceSetUp()
    wanted.CopyFrom(space.set_up)
    wanted.cadence = cadence  # type: ignore[assignment]
    wanted.sessions_planned = int(planned)
    wanted.start_date = form.get("start_date", "").strip()
    wanted.end_date = form.get("end_date", "").strip()
    for read_only in ("coachee_person_id", "coach_person_id", "co_coach_person_id"):
        wanted.ClearField(read_only)  # type: ignore[arg-type]
    try:
        call(
            clients().spaces.UpdateSpaceSetUp,
            spb.UpdateSpaceSetUpRequest(name=space.name, set_up=wanted),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        forms = SpaceForms(error=message, errors=errors, set_up=typed)
        return space_page(space, forms, status)
    return to_space(space_id, "set-up", "#set-up")


@coach.route("/spaces/<space_id>/moves/<move>", methods=["GET", "POST"])
@coach_only
def move_space(space_id: str, move: str) -> Answer:
    """A lifecycle move (activate, pause, resume, complete, archive). One that cannot be undone
    (`Move.confirm`) is first shown on a page that asks again; its form comes back here with
    `confirmed`. A move the space no longer allows is refused by the service: the space's page
    then says why, with the space as it is now."""
    space = coached_space(space_id)
    if move not in MOVES or (request.method == "GET" and not MOVES[move].confirm):
        return not_found()
    if MOVES[move].confirm and request.form.get("confirmed") != "yes":
        if MOVES[move] not in moves_for(space):
            return redirect(url_for("coach.space", space_id=space_id) + "#lifecycle")
        question, consequence = move_consequence(move)
        return render(
            "coach_move.html",
            title=question,
            space=space,
            move=move,
            label=move_label(move),
            consequence=consequence,
        )
    try:
        make_move(space, move)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            return not_found()
        message, status = refusal(exc)
        return space_page(coached_space(space_id), SpaceForms(error=message), status)
    return to_space(space_id, move, "#lifecycle")


@coach.post("/spaces/<space_id>/goals")
@coach_only
def create_goal(space_id: str) -> Answer:
    space = coached_space(space_id)
    refused = goals.add_goal(space.name, request.form)
    if refused:
        forms = SpaceForms(error=refused.message, errors=refused.errors, goal=refused.typed)
        return space_page(space, forms, refused.status)
    return to_space(space_id, "goal", "#goals")


@coach.post("/spaces/<space_id>/goals/<goal_id>")
@coach_only
def update_goal(space_id: str, goal_id: str) -> Answer:
    space = coached_space(space_id)
    refused = goals.change_goal(space.name, goal_id, request.form)
    if refused:
        forms = SpaceForms(error=refused.message, errors=refused.errors, goal_id=goal_id)
        return space_page(space, forms, refused.status)
    return to_space(space_id, "goal", f"#goal-{goal_id}")


@coach.post("/spaces/<space_id>/goals/<goal_id>/archive")
@coach_only
def archive_goal(space_id: str, goal_id: str) -> Answer:
    space = coached_space(space_id)
    refused = goals.archive_goal(space.name, goal_id)
    if refused:
        return space_page(space, SpaceForms(error=refused.message), refused.status)
    return to_space(space_id, "archived", "#goals")


@coach.get("/spaces/<space_id>/goals/<goal_id>/history")
@coach_only
def goal_history(space_id: str, goal_id: str) -> Answer:
    space = coached_space(space_id)
    name = goals.goal_name(space.name, goal_id)
    goal = call(clients().goals.GetGoal, spb.GetGoalRequest(name=name))
    changes = call(
        clients().goals.ListGoalChanges, spb.ListGoalChangesRequest(parent=name, page_size=200)
    ).changes
    return render(
        "coach_goal_history.html",
        title=_("History of a goal"),
        space=space,
        goal=goal,
        changes=[(c, changed_fields(c.changes_json)) for c in changes],
        when=when,
    )


def changed_fields(changes_json: str) -> list[tuple[str, str, str]]:
    try:
        changes = json.loads(changes_json or "{}")
    except ValueError:
        return []
    shown = []
    for name, change in sorted(changes.items()):
        if isinstance(change, dict):
            before, after = change.get("before"), change.get("after")
        else:
            before, after = None, change
        shown.append(
            (name, "" if before is None else str(before), "" if after is None else str(after))
        )
    return shown


def shown_value(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def note_kind(value: str) -> int:
    return {"shared": spb.SHARED, "private": spb.COACH_PRIVATE}.get(value, 0)


def note_body() -> tuple[str, str]:
    body = request.form.get("body", "")
    if not body.strip():
        return body, _("Write the note first.")
    if len(body) > NOTE_LONGEST:
        return body, _("A note holds at most 20,000 characters.")
    return body, ""


@coach.post("/spaces/<space_id>/notes")
@coach_only
def create_note(space_id: str) -> Answer:
    space = coached_space(space_id)
    body, problem = note_body()
    kind = request.form.get("kind", "")
    typed = {"body": body, "kind": kind}
    errors = {"body": problem} if problem else {}
    if not note_kind(kind):
        errors["kind"] = _("Choose who may read the note.")
    if request.form.get("action") == "preview" or errors:
        preview = Markup(render_markdown(body)) if body.strip() and not problem else ""  # noqa: S704 (nh3)
        forms = SpaceForms(errors=errors, note=typed, preview=preview)
        return space_page(space, forms, 400 if errors else 200)
    try:
        call(
            clients().notes.CreateNote,
            spb.CreateNoteRequest(
                parent=space.name,
                note=spb.Note(kind=note_kind(kind), body=body),  # type: ignore[arg-type]
            ),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        return space_page(space, SpaceForms(error=message, errors=errors, note=typed), status)
    return to_space(space_id, "note", "#notes")


@coach.post("/preview")
@coach_only
def preview() -> Answer:
    """The note's Markdown as it will show (htmx swaps it into the editor's preview): the
    service's own renderer and sanitiser."""
    body, problem = note_body()
    if problem:
        return render("coach_preview.html", preview="", problem=problem)
    return render("coach_preview.html", preview=Markup(render_markdown(body)), problem="")  # noqa: S704 (sanitised by nh3)


@coach.route("/spaces/<space_id>/notes/<note_id>/edit", methods=["GET", "POST"])
@coach_only
def edit_note(space_id: str, note_id: str) -> Answer:
    space = coached_space(space_id)
    if not an_id(note_id):
        return not_found()
    name = f"{space.name}/notes/{note_id}"
    note = call(clients().notes.GetNote, spb.GetNoteRequest(name=name))
    if note.author_person_id != session().person_id or note.kind == spb.JOURNAL:
        return not_found()
    values: dict[str, Any] = {"body": note.body, "preview": "", "problem": "", "error": ""}
    status = 200
    if request.method == "POST":
        body, problem = note_body()
        values.update(body=body, problem=problem)
        if problem:
            status = 400
        elif request.form.get("action") == "preview":
            values["preview"] = Markup(render_markdown(body))  # noqa: S704 (sanitised by nh3)
        else:
            try:
                call(
                    clients().notes.UpdateNote,
                    spb.UpdateNoteRequest(
                        note=spb.Note(name=name, body=body), update_mask=FieldMask(paths=["body"])
                    ),
                )
            except grpc.RpcError as exc:
                message, _errors, status = field_errors(exc)
                values["error"] = message
            else:
                return to_space(space_id, "note", f"#note-{note_id}")
    return render(
        "coach_note_edit.html",
        status,
        title=_("Edit a note"),
        space=space,
        note=note,
        **values,
    )


# -------------------------------------------------------------------------- availability


@dataclass
class WeekRow:
    key: str  # the inputs' names: d<weekday>r<row>
    weekday: int
    start: str = ""
    end: str = ""


def week_rows(availability: schpb.Availability) -> list[list[WeekRow]]:
    days: list[list[WeekRow]] = []
    for weekday in WEEKDAYS:
        hours = sorted(
            (h for h in availability.weekly if h.weekday == weekday), key=lambda h: h.start_time
        )
        rows = [
            WeekRow(f"d{weekday}r{i}", weekday, h.start_time, h.end_time)
            for i, h in enumerate(hours)
        ]
        rows += [WeekRow(f"d{weekday}r{i}", weekday) for i in range(len(rows), RANGES_PER_DAY)]
        days.append(rows)
    return days


def read_week(form: Any) -> tuple[list[list[WeekRow]], list[WeekRow], dict[str, str]]:
    """The weekly hours as typed; the ranges to save, in order; each row's problem."""
    days, kept, errors = [], [], {}
    for weekday in WEEKDAYS:
        rows = []
        i = 0
        while f"d{weekday}r{i}_start" in form or i < RANGES_PER_DAY:
            key = f"d{weekday}r{i}"
            row = WeekRow(
                key,
                weekday,
                form.get(f"{key}_start", "").strip(),
                form.get(f"{key}_end", "").strip(),
            )
            rows.append(row)
            i += 1
            if i > 20:
                break
            if not row.start and not row.end:
                continue
            if not row.start or not row.end:
                errors[key] = _("Give both a start and an end.")
            elif not HHMM.match(row.start) or not HHMM.match(row.end) or row.start == "24:00":
                errors[key] = _("Write the times as HH:MM (24:00 for the end of the day).")
            elif row.start >= row.end:
                errors[key] = _("The end must come after the start.")
            else:
                kept.append(row)
        days.append(rows)
    return days, kept, errors


def whole(form: Any, name: str, low: int, high: int, errors: dict[str, str]) -> int | None:
    text = form.get(name, "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        errors[name] = _("Write a whole number from %(low)s to %(high)s.", low=low, high=high)
        return None
    return int(text)


def availability_page(
    availability: schpb.Availability,
    days: list[list[WeekRow]] | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
    error: str = "",
    adding: dict[str, str] | None = None,
) -> Page:
    """The weekly editor and the exceptions; `adding`: the new exception's fields as typed,
    their problems in `errors` under the same names."""
    values = {
        "time_zone": availability.time_zone or session().time_zone or "UTC",
        "session_minutes": ", ".join(str(m) for m in availability.session_minutes) or "60",
        "buffer_minutes": str(availability.buffer_minutes),
        "min_notice_minutes": str(
            availability.min_notice_minutes if availability.HasField("min_notice_minutes") else 720
        ),
        "horizon_days": str(
            availability.horizon_days if availability.HasField("horizon_days") else 90
        ),
    }
    values.update(typed or {})
    return render(
        "coach_availability.html",
        status,
        title=_("My availability"),
        days=days or week_rows(availability),
        weekday_name=weekday_name,
        values=values,
        errors=errors or {},
        error=error,
        exceptions=exception_rows(availability),
        zone=availability_zone(availability),
        kinds=exception_kinds(),
        adding=adding or {"kind": "day_off"},
        notice=done_notice(),
    )


@coach.route("/availability", methods=["GET", "POST"])
@coach_only
def availability() -> Answer:
    current: schpb.Availability = call(
        clients().availability.GetMyAvailability, schpb.GetMyAvailabilityRequest()
    )
    if request.method == "GET":
        return availability_page(current)
    form = request.form
    days, kept, errors = read_week(form)
    typed = {
        k: form.get(k, "")
        for k in (
            "time_zone",
            "session_minutes",
            "buffer_minutes",
            "min_notice_minutes",
            "horizon_days",
        )
    }
    lengths = []
    for part in typed["session_minutes"].replace(";", ",").split(","):
        if part.strip():
            if not part.strip().isdigit() or len(part.strip()) > 3:
                errors["session_minutes"] = _(
                    "Write the lengths in minutes, separated by commas (for example 60, 30)."
                )
                break
            lengths.append(int(part.strip()))
    buffer = whole(form, "buffer_minutes", 0, 240, errors)
    notice = whole(form, "min_notice_minutes", 0, 100_000, errors)
    horizon = whole(form, "horizon_days", 1, 730, errors)
    if not typed["time_zone"].strip():
        errors["time_zone"] = _("Give your time zone, for example Europe/Paris.")
    if errors:
        return availability_page(current, days, errors, typed, 400)
    wanted = schpb.Availability(
        time_zone=typed["time_zone"].strip(),
        weekly=[
            schpb.WeeklyHours(weekday=r.weekday, start_time=r.start, end_time=r.end)  # type: ignore[arg-type]
            for r in kept
        ],
        exceptions=list(current.exceptions),
        session_minutes=lengths,
        buffer_minutes=buffer,
        min_notice_minutes=notice,
        horizon_days=horizon,
    )
    try:
        call(
            clients().availability.UpdateMyAvailability,
            schpb.UpdateMyAvailabilityRequest(availability=wanted),
        )
    except grpc.RpcError as exc:
        message, found, status = field_errors(exc)
        for name, problem in found.items():
            weekly = re.match(r"weekly\[(\d+)\]", name)
            if weekly and int(weekly.group(1)) < len(kept):
                errors[kept[int(weekly.group(1))].key] = problem
            else:
                errors[re.sub(r"\[\d+\]$", "", name)] = problem
        return availability_page(current, days, errors, typed, status, message)
    return redirect(url_for("coach.availability", done="availability"))


# ------------------------------------------------------------------- availability exceptions
# Dates off (a whole day or some hours) and extra hours, in the availability's time zone. The
# API replaces the availability whole (UpdateMyAvailability): adding or removing one exception
# sends the rest back as it was read.

EXCEPTIONS_MOST = 500  # Availability.exceptions, scheduling.proto
KIND_NAMES = {"day_off": schpb.DAY_OFF, "extra": schpb.EXTRA}


def exception_kinds() -> list[tuple[str, str]]:
    return [
        ("day_off", _("Not available (the whole day, or only the hours given)")),
        ("extra", _("Available besides the weekly hours (give the hours)")),
    ]


def availability_zone(availability: schpb.Availability) -> str:
    return availability.time_zone or session().time_zone or "UTC"


def exception_key(e: schpb.AvailabilityException) -> str:
    """Names one exception in a form: its date, kind and hours (an index could name another
    one once the list changed in another tab)."""
    return f"{e.date}.{int(e.kind)}.{e.start_time}.{e.end_time}"


@dataclass
class ExceptionRow:
    key: str
    day: str  # the date as people read it
    what: str
    hours: str
    past: bool


def exception_rows(availability: schpb.Availability) -> list[ExceptionRow]:
    today = clock_now().astimezone(zone_of(availability_zone(availability))).date()
    rows = []
    for e in sorted(availability.exceptions, key=lambda e: (e.date, e.start_time)):
        on = asked_day(e.date, date.min)
        if e.kind == schpb.EXTRA:
            what = _("Extra hours")
        else:
            what = _("Not available")
        hours = (
            _("from %(start)s to %(end)s", start=e.start_time, end=e.end_time)
            if e.start_time
            else _("the whole day")
        )
        rows.append(ExceptionRow(exception_key(e), day_title(on), what, hours, on < today))
    return rows


def read_exception(
    form: Any, today: date
) -> tuple[dict[str, str], dict[str, str], schpb.AvailabilityException | None]:
    """The new exception as typed, each field's problem, and the exception when it has none."""
    typed = {k: form.get(f"exception_{k}", "").strip() for k in ("date", "kind", "start", "end")}
    errors: dict[str, str] = {}
    try:
        on = date.fromisoformat(typed["date"]) if typed["date"] else None
    except ValueError:
        on = None
        errors["exception_date"] = _("Write the date as YYYY-MM-DD, for example 2026-12-24.")
    if on is None and not errors:
        errors["exception_date"] = _("Give the date.")
    elif on is not None and on < today:
        errors["exception_date"] = _("This date has passed: choose today or a later day.")
    if typed["kind"] not in KIND_NAMES:
        errors["exception_kind"] = _("Choose whether you are available or not.")
    start, end = typed["start"], typed["end"]
    for name, value in (("start", start), ("end", end)):
        if value and (not HHMM.match(value) or (name == "start" and value == "24:00")):
            errors[f"exception_{name}"] = _(
                "Write the times as HH:MM (24:00 for the end of the day)."
            )
    if not ({"exception_start", "exception_end"} & errors.keys()):
        if start and not end:
            errors["exception_end"] = _("Give both a start and an end.")
        elif end and not start:
            errors["exception_start"] = _("Give both a start and an end.")
        elif start and end and start >= end:
            errors["exception_end"] = _("The end must come after the start.")
        elif not start and typed["kind"] == "extra":
            errors["exception_start"] = _("Give the extra hours: a start and an end.")
    if errors or on is None:
        return typed, errors, None
    added = schpb.AvailabilityException(
        date=on.isoformat(),
        kind=KIND_NAMES[typed["kind"]],  # type: ignore[arg-type]
        start_time=start,
        end_time=end,
    )
    return typed, errors, added


def save_exceptions(
    current: schpb.Availability, exceptions: list[schpb.AvailabilityException]
) -> None:
    """The availability as it was read, with these exceptions."""
    wanted = schpb.Availability()
    wanted.CopyFrom(current)
    wanted.time_zone = availability_zone(current)
    del wanted.exceptions[:]
    wanted.exceptions.extend(exceptions)
    call(
        clients().availability.UpdateMyAvailability,
        schpb.UpdateMyAvailabilityRequest(availability=wanted),
    )


@coach.post("/availability/exceptions")
@coach_only
def add_exception() -> Answer:
    current: schpb.Availability = call(
        clients().availability.GetMyAvailability, schpb.GetMyAvailabilityRequest()
    )
    today = clock_now().astimezone(zone_of(availability_zone(current))).date()
    typed, errors, added = read_exception(request.form, today)
    if added is not None:
        if exception_key(added) in {exception_key(e) for e in current.exceptions}:
            errors["exception_date"] = _("This exception is already in your list.")
        elif len(current.exceptions) >= EXCEPTIONS_MOST:
            errors["exception_date"] = _(
                "You have 500 exceptions, the most there may be: remove past ones first."
            )
    if errors or added is None:
        return availability_page(current, status=400, errors=errors, adding=typed)
    try:
        save_exceptions(current, [*current.exceptions, added])
    except grpc.RpcError as exc:
        message, _problems, status = failed(exc)
        new = f"exceptions[{len(current.exceptions)}]"
        for name, problem in call_error(exc).fields:
            if name.startswith(new):
                errors["exception_date" if name.endswith(".date") else "exception_end"] = problem
        return availability_page(current, status=status, error=message, errors=errors, adding=typed)
    return redirect(url_for("coach.availability", done="exception") + "#exceptions")


@coach.post("/availability/exceptions/remove")
@coach_only
def remove_exception() -> Answer:
    current: schpb.Availability = call(
        clients().availability.GetMyAvailability, schpb.GetMyAvailabilityRequest()
    )
    key = request.form.get("exception", "")
    kept = [e for e in current.exceptions if exception_key(e) != key]
    if len(kept) == len(current.exceptions):
        return not_found()  # none of the coach's exceptions (removed meanwhile, or made up)
    try:
        save_exceptions(current, kept)
    except grpc.RpcError as exc:
        message, _errors, status = field_errors(exc)
        return availability_page(current, status=status, error=message)
    return redirect(url_for("coach.availability", done="exception-removed") + "#exceptions")


# ------------------------------------------------------------------------------- calendar


def asked_day(asked: str, today: date) -> date:
    try:
        return date.fromisoformat(asked) if asked else today
    except ValueError:
        return today


def calendar_range(view: str, day: date) -> tuple[date, date, date, date]:
    """The days shown, the first day after them, and the previous and next periods' days."""
    if view == "month":
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        before = (first - timedelta(days=1)).replace(day=1)
        return first, after, before, after
    first = day - timedelta(days=day.weekday())
    return first, first + timedelta(days=7), first - timedelta(days=7), first + timedelta(days=7)


@coach.get("/calendar")
@coach_only
def calendar() -> Answer:
    me = session()
    view = "month" if request.args.get("view") == "month" else "week"
    zone = zone_of(me.time_zone)
    today = clock_now().astimezone(zone).date()
    anchor = asked_day(request.args.get("date", ""), today)
    first, after, before, later = calendar_range(view, anchor)
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(after, time(0), zone)
    window = Timestamp(), Timestamp()
    window[0].FromDatetime(start.astimezone(UTC))
    window[1].FromDatetime(end.astimezone(UTC))
    found = call(
        clients().sessions.ListMySessions,
        schpb.ListMySessionsRequest(start_time=window[0], end_time=window[1]),
    ).sessions
    board = call(
        clients().dashboards.GetCoachDashboard,
        spb.GetCoachDashboardRequest(parent=tenant_name(me.tenant_id)),
    )
    names = coachee_names(board)
    by_day: dict[date, list[schpb.Session]] = {}
    for s in found:
        by_day.setdefault(s.start_time.ToDatetime(tzinfo=UTC).astimezone(zone).date(), []).append(s)
    days = [first + timedelta(days=i) for i in range((after - first).days)]
    if view == "month":
        days = [d for d in days if d in by_day]
    now = clock_now()
    return render(
        "coach_calendar.html",
        title=_("My calendar"),
        view=view,
        days=days,
        by_day=by_day,
        names=names,
        day_title=day_title,
        hour=hour,
        session_status_label=session_status_label,
        attendance=attendance_choices(),
        period=(
            format_date(first, "MMMM y", locale=language())
            if view == "month"
            else _("Week of %(day)s", day=format_date(first, "d MMMM y", locale=language()))
        ),
        first=first.isoformat(),
        anchor=anchor.isoformat(),
        before=before.isoformat(),
        later=later.isoformat(),
        today=today.isoformat(),
        # A session cancelled by either side that took place after all is corrected the same
        # way (not one the platform cancelled).
        markable=lambda s: (
            (s.status != schpb.SESSION_CANCELLED or s.cancelled_by != schpb.SIDE_SYSTEM)
            and s.start_time.ToDatetime(tzinfo=UTC) <= now
            and s.name.startswith(tenant_name(me.tenant_id) + "/")
        ),
        notice=done_notice(),
    )
