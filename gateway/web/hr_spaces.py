"""HR's console, the spaces: their set-up (coachee, coach, cadence, sessions, dates) and status,
never their content. The list (paged as ListSpaces pages it), opening a draft (its people found
by a bounded member search, not from the whole member list), a draft's set-up,
giving a space another coach, and the status moves HR may make (archiving a draft or a completed
space; the coach activates, pauses, resumes and completes, the coachee pauses and resumes: the
page says so). The space's words, goals and notes are never read by these templates, even
for an admin who also takes part in a space. Guard, form errors and members: `hr.py`."""

from __future__ import annotations

from typing import Any

import grpc
from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.convert import space_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb

from .clients import authed
from .coachee import when
from .hr import (
    QUERY_LIMIT,
    FormErrors,
    admin_only,
    done_note,
    every_member,
    member_label,
    page_token,
    register_refusals,
    tenant,
    whole_number,
)
from .i18n import _
from .pages import Page, clients, not_found, render, session, well_formed
from .space_moves import MOVES, make_move, move_done, moves_for, status_label

hr_spaces = Blueprint("hr_spaces", __name__, url_prefix="/hr")
register_refusals(hr_spaces)

Answer = Page | BaseResponse
PAGE_SIZE = 50
CADENCES = ("WEEKLY", "EVERY_TWO_WEEKS", "EVERY_FOUR_WEEKS", "MONTHLY")
SET_UP_FIELDS = (
    "coachee_member_id",
    "coach_member_id",
    "co_coach_member_id",
    "cadence",
    "sessions_planned",
    "start_date",
    "end_date",
)


def cadence_label(cadence: str) -> str:
    return {
        "WEEKLY": _("Every week"),
        "EVERY_TWO_WEEKS": _("Every two weeks"),
        "EVERY_FOUR_WEEKS": _("Every four weeks"),
        "MONTHLY": _("Every month"),
    }.get(cadence, cadence)


class People:
    """The tenant's members by id, and who may be a coachee or a coach (active or invited)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.coachees: list[tuple[str, str]] = []
        self.coaches: list[tuple[str, str]] = []
        for m in every_member():
            label = member_label(m)
            self.names[m.member_id] = label
            if m.status not in (ipb.ACTIVE, ipb.PENDING):
                continue
            if ipb.COACHEE in m.roles:
                self.coachees.append((m.member_id, label))
            # An admin is never named coach in a set-up (they are only proposed, ChangeCoach).
            if ipb.COACH in m.roles and ipb.TENANT_ADMIN not in m.roles:
                self.coaches.append((m.member_id, label))

    def name(self, member_id: str) -> str:
        return self.names.get(member_id, _("Former member")) if member_id else ""


def set_up_form(s: spb.SpaceSetUp | None = None) -> dict[str, Any]:
    if s is None:
        return {"cadence": "WEEKLY", "sessions_planned": "10"}
    return {
        "coachee_member_id": s.coachee_member_id,
        "coach_member_id": s.coach_member_id,
        "co_coach_member_id": s.co_coach_member_id,
        "cadence": spb.Cadence.Name(s.cadence),
        "sessions_planned": str(s.sessions_planned),
        "start_date": s.start_date,
        "end_date": s.end_date,
    }


def set_up_from_form(errors: FormErrors) -> tuple[dict[str, Any], spb.SpaceSetUp | None]:
    form = {name: request.form.get(name, "").strip() for name in SET_UP_FIELDS}
    if form["cadence"] not in CADENCES:
        errors.fields["cadence"] = _("Choose a cadence from the list.")
        errors.message = _("Check the fields marked below.")
    sessions = whole_number(errors, "sessions_planned", form["sessions_planned"])
    if errors or sessions is None:
        return form, None
    return form, spb.SpaceSetUp(
        coachee_member_id=form["coachee_member_id"],
        coach_member_id=form["coach_member_id"],
        co_coach_member_id=form["co_coach_member_id"],
        cadence=spb.Cadence.Value(form["cadence"]),
        sessions_planned=sessions,
        start_date=form["start_date"],
        end_date=form["end_date"],
    )


def form_choices(people: People) -> dict[str, Any]:
    none = [("", _("None"))]
    return {
        "coachees": [("", _("Choose…")), *people.coachees],
        "coaches": [("", _("Choose…")), *people.coaches],
        "co_coaches": none + people.coaches,
        "cadences": [(c, cadence_label(c)) for c in CADENCES],
    }


@hr_spaces.get("/spaces")
@admin_only
def spaces() -> Page:
    answer = authed(
        clients(),
        clients().spaces.ListSpaces,
        spb.ListSpacesRequest(parent=tenant(), page_size=PAGE_SIZE, page_token=page_token()),
    )
    return render(
        "hr/spaces.html",
        title=_("Spaces"),
        spaces=list(answer.spaces),
        next_page=answer.next_page_token,
        first_page=bool(page_token()),
        people=People(),
        status_label=status_label,
        cadence_of=lambda s: cadence_label(spb.Cadence.Name(s.set_up.cadence)),
    )


# Opening a space: who is coachee, coach and co-coach is found by a search of at most this many
# members (ListMembers with a query and a role), never by reading the whole member list.
MATCHES = 10
PICKERS = (("coachee", ipb.COACHEE), ("coach", ipb.COACH), ("co_coach", ipb.COACH))
PICKED_FIELD = {
    "coachee_member_id": "coachee",
    "coach_member_id": "coach",
    "co_coach_member_id": "co_coach",
}


class Picker:
    """One person of the new-space form: what HR typed, the members a search found (email,
    label), the one it settled on."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.matches: list[tuple[str, str]] = []
        self.found = ""
        self.member_id = ""


def search_members(text: str, role: int) -> list[ipb.Member]:
    answer = authed(
        clients(),
        clients().members.ListMembers,
        ipb.ListMembersRequest(parent=tenant(), query=text, role=role, page_size=MATCHES),
    )
    return list(answer.members)


def usable(m: ipb.Member) -> bool:
    return m.status in (ipb.ACTIVE, ipb.PENDING)


def pick(name: str, role: int, picker: Picker, errors: FormErrors, *, settle: bool) -> None:
    """Search for what HR typed; `settle`: the exact email, or the one member found, becomes
    the choice, and otherwise the field says why (in the page's language)."""
    if not picker.text:
        return
    try:
        found = [m for m in search_members(picker.text, role) if usable(m)]
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
            raise
        errors.fields[name] = _("Enter at most %(n)s characters on one line.", n=QUERY_LIMIT)
        return
    picker.matches = [(m.email, member_label(m)) for m in found]
    exact = [m for m in found if m.email.casefold() == picker.text.casefold()]
    chosen = exact or (found if len(found) == 1 else [])
    if chosen:
        picker.member_id, picker.found = chosen[0].member_id, member_label(chosen[0])
        picker.text = chosen[0].email
        return
    if found:
        if settle:
            errors.fields[name] = _("Several members match: choose one from the list.")
        return
    anyone = [
        m for m in search_members(picker.text, 0) if m.email.casefold() == picker.text.casefold()
    ]
    if anyone and not usable(anyone[0]):
        errors.fields[name] = _("This membership is not active.")
    elif anyone and role == ipb.COACHEE:
        errors.fields[name] = _("This member does not have the Coachee role.")
    elif anyone:
        errors.fields[name] = _("This member does not have the Coach role.")
    else:
        errors.fields[name] = _("No member of the organisation matches this.")


@hr_spaces.route("/spaces/new", methods=["GET", "POST"])
@admin_only
def new_space() -> Answer:
    errors = FormErrors()
    if request.method == "GET":
        return new_space_page(set_up_form(), {n: Picker("") for n, _r in PICKERS}, errors)
    pickers = {n: Picker(request.form.get(n, "").strip()[:254]) for n, _r in PICKERS}
    settle = request.form.get("step") != "search"
    for name, role in PICKERS:
        pick(name, role, pickers[name], errors, settle=settle)
    form, set_up = set_up_from_form(FormErrors() if not settle else errors)
    form.update({n: p.text for n, p in pickers.items()})
    if not settle or errors or set_up is None:
        if errors.fields and not errors.message:
            errors.message = _("Check the fields marked below.")
        return new_space_page(form, pickers, errors)
    for field, name in PICKED_FIELD.items():
        setattr(set_up, field, pickers[name].member_id)
    try:
        space = authed(
            clients(),
            clients().spaces.CreateSpace,
            spb.CreateSpaceRequest(parent=tenant(), set_up=set_up),
        )
    except grpc.RpcError as exc:
        refused = FormErrors.of(exc, SET_UP_FIELDS)
        for field, name in PICKED_FIELD.items():
            if field in refused.fields:
                refused.fields[name] = refused.fields.pop(field)
        return new_space_page(form, pickers, refused)
    return redirect(url_for("hr_spaces.space", space_id=space.space_id, done="created"))


def new_space_page(form: dict[str, Any], pickers: dict[str, Picker], errors: FormErrors) -> Page:
    return render(
        "hr/new_space.html",
        errors.status if errors else 200,
        title=_("Open a space"),
        form=form,
        errors=errors,
        pickers=pickers,
        cadences=[(c, cadence_label(c)) for c in CADENCES],
    )


def space_notes() -> dict[str, str]:
    return {
        "created": _(
            "The space is open as a draft: its coach activates it when the coaching starts."
        ),
        "set_up": _("The set-up is saved."),
        "coach": _("The coach change is saved."),
        "archive": move_done("archive"),
    }


def get_space(space_id: str) -> spb.Space:
    return authed(
        clients(),
        clients().spaces.GetSpace,
        spb.GetSpaceRequest(name=space_name(session().tenant_id, space_id)),
    )


@hr_spaces.get("/spaces/<space_id>")
@admin_only
def space(space_id: str) -> Page:
    if not well_formed(space_id, 64):
        return not_found()
    return space_page(get_space(space_id))


def space_page(
    s: spb.Space,
    errors: FormErrors | None = None,
    form: dict[str, Any] | None = None,
    coach_errors: FormErrors | None = None,
) -> Page:
    """Set-up and status only: `s.content` is never passed to the template."""
    people = People()
    errors = errors or FormErrors()
    coach_errors = coach_errors or FormErrors()
    failed = errors or coach_errors
    pending = None
    if s.HasField("pending_coach_change"):
        pending = people.name(s.pending_coach_change.proposed_member_id)
    return render(
        "hr/space.html",
        (errors.status if errors else coach_errors.status) if failed else 200,
        title=_("Space of %(coachee)s", coachee=people.name(s.set_up.coachee_member_id)),
        space_id=s.space_id,
        space_status=status_label(s.status),
        set_up=s.set_up,
        draft=s.status == spb.SPACE_DRAFT,
        # The one move a tenant admin may make (space_moves.py: archiving a draft or a
        # completed space).
        archivable=MOVES["archive"] in moves_for(s),
        pending=pending,
        people=people,
        cadence=cadence_label(spb.Cadence.Name(s.set_up.cadence)),
        form=form or set_up_form(s.set_up),
        errors=errors,
        coach_errors=coach_errors,
        done="" if failed else done_note(space_notes()),
        when=when,
        updated=s.update_time,
        **form_choices(people),
    )


@hr_spaces.post("/spaces/<space_id>/set-up")
@admin_only
def update_set_up(space_id: str) -> Answer:
    if not well_formed(space_id, 64):
        return not_found()
    current = get_space(space_id)
    errors = FormErrors()
    form, set_up = set_up_from_form(errors)
    if set_up is None:
        return space_page(current, errors, form)
    try:
        authed(
            clients(),
            clients().spaces.UpdateSpaceSetUp,
            spb.UpdateSpaceSetUpRequest(name=current.name, set_up=set_up),
        )
    except grpc.RpcError as exc:
        return space_page(current, FormErrors.of(exc, SET_UP_FIELDS), form)
    return redirect(url_for("hr_spaces.space", space_id=space_id, done="set_up"))


@hr_spaces.post("/spaces/<space_id>/coach")
@admin_only
def change_coach(space_id: str) -> Answer:
    if not well_formed(space_id, 64):
        return not_found()
    current = get_space(space_id)
    try:
        authed(
            clients(),
            clients().spaces.ChangeCoach,
            spb.ChangeCoachRequest(
                name=current.name, coach_member_id=request.form.get("new_coach", "")
            ),
        )
    except grpc.RpcError as exc:
        errors = FormErrors.of(exc, ("coach_member_id",))
        if "coach_member_id" in errors.fields:  # the form's field is `new_coach`
            errors.fields["new_coach"] = errors.fields.pop("coach_member_id")
        return space_page(current, coach_errors=errors)
    return redirect(url_for("hr_spaces.space", space_id=space_id, done="coach"))


@hr_spaces.post("/spaces/<space_id>/archive")
@admin_only
def archive(space_id: str) -> Answer:
    if not well_formed(space_id, 64):
        return not_found()
    current = get_space(space_id)
    try:
        make_move(current, "archive")
    except grpc.RpcError as exc:
        errors = FormErrors.of(exc, ())
        return space_page(current, errors)
    return redirect(url_for("hr_spaces.space", space_id=space_id, done="archive"))
