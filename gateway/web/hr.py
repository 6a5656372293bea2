"""HR's console: the pages of a person whose current tenant role is TENANT_ADMIN. This module
holds what the HR pages share (the guard, form errors beside their fields, the tenant's members
by id) and the members' pages: the list (searched and paged as ListMembers searches and pages
it: a GET form, so a search is a link), adding one, a member's roles, cohort (department, site,
programme), invitation, deactivation and reactivation, and the CSV import (ImportMembers is one
synchronous call: its result page lists every row not added).
`hr_setup.py` has the tenant's settings, scheduling policy, video provider and audit log;
`hr_spaces.py` the spaces' set-up and status.

Everything here is set-up and status, never content (notes, goals, a space's words): the
gateway gives HR none, and no HR template reads any. The session's roles only choose whether
the pages show; the gateway decides every call, and what it refuses to HR (an id of another
tenant, a role taken away since sign-in) is a 404 here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any, TypeVar

import grpc
from flask import Blueprint, redirect, request, url_for
from google.protobuf.field_mask_pb2 import FieldMask
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.client_errors import call_error
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as ipb

from .clients import authed
from .coachee import when
from .i18n import _
from .pages import Page, clients, failed, not_found, render, session, signed_in, well_formed

hr = Blueprint("hr", __name__, url_prefix="/hr")

View = TypeVar("View", bound=Callable[..., Any])
Answer = Page | BaseResponse

ROLES = ("TENANT_ADMIN", "COACH", "COACHEE")
STATUSES = ("PENDING", "ACTIVE", "DEACTIVATED", "ERASED")
# A member's cohort attributes (SetMemberAttributes), the labels HR's reports group by.
COHORT = ("department", "site", "programme")
# ListMembers' limit for a search text (longer: the gateway refuses it, the page says why).
QUERY_LIMIT = 100
PAGE_SIZE = 50
# Reading every member (for names in the spaces and the audit log): at most this many pages.
MEMBER_PAGES = 50
# The CSV import's limit (ImportMembers: 1 MiB); a larger upload is refused before any call.
IMPORT_MAX_BYTES = 1024 * 1024
# An API page token is opaque but short; anything longer is not one.
TOKEN_LIMIT = 512


def role_label(role: str) -> str:
    return {
        "TENANT_ADMIN": _("Tenant administrator (HR)"),
        "COACH": _("Coach"),
        "COACHEE": _("Coachee"),
    }.get(role, role)


def member_status_label(status: int) -> str:
    return {
        ipb.PENDING: _("Invited"),
        ipb.ACTIVE: _("Active"),
        ipb.DEACTIVATED: _("Deactivated"),
        ipb.ERASED: _("Erased"),
    }.get(status, "?")


def role_options() -> list[tuple[str, str]]:
    return [(r, role_label(r)) for r in ROLES]


def roles_of(m: ipb.Member) -> str:
    return ", ".join(role_label(ipb.Role.Name(r)) for r in m.roles)


def is_admin() -> bool:
    me = session()
    return bool(me.tenant_id) and "TENANT_ADMIN" in me.roles


def admin_only(view: View) -> View:
    """HR's pages: sign-in first; anyone who is not the tenant's admin now finds nothing."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not is_admin():
            return not_found()
        return view(*args, **kwargs)

    return signed_in(guarded)  # type: ignore[return-value]


def tenant() -> str:
    return tenant_name(session().tenant_id)


def member_of(member_id: str) -> str:
    return member_name(session().tenant_id, member_id)


def page_token() -> str:
    token = request.args.get("page", "")
    return token if len(token) <= TOKEN_LIMIT else ""


def refused(exc: grpc.RpcError) -> Page:
    """What a read the gateway refuses shows: another tenant's id, or an admin no more: 404."""
    if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):  # type: ignore[attr-defined]
        return not_found()
    message, _problems, status = failed(exc)
    return render("message.html", status, title=_("Something went wrong"), error=message)


def register_refusals(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(grpc.RpcError, refused)


register_refusals(hr)


def field_problem(name: str) -> str:
    """What a field of HR's forms expects, in the page's language, shown beside it when the
    gateway refuses it: more than the gateway's own words for the field (which come in the
    page's language too, ADR 0013), since it speaks of the form's inputs."""
    hours = _("A whole number of hours from 1 to 720.")
    coach = _("Choose a member with the Coach role, other than the coachee.")
    zone = _("Enter an IANA time zone such as Europe/Paris.")
    language = _("Choose French or English.")
    cohort = _("At most 80 characters, on one line; leave it empty to unset it.")
    return {
        "email": _("Enter an email address such as name@example.com."),
        "admin_email": _("Enter an email address such as name@example.com."),
        "time_zone": zone,
        "default_time_zone": zone,
        "locale": language,
        "default_locale": language,
        "roles": _("Choose at least one role."),
        "free_hours": hours,
        "request_hours": _("A whole number of hours from 0 up to the free changes' hours."),
        "server_url": _("An https address (wss for LiveKit), such as https://meet.example.com."),
        "app_id": _("Enter the app id your video provider gave you."),
        "app_secret": _("At least 32 characters, as your video provider gave it."),
        "endpoint": _(
            "The LRS's xAPI address, such as https://lrs.example.com/xapi/, without query or"
            " credentials."
        ),
        "open_minutes_before": _("A whole number of minutes from 0 to 120."),
        "close_minutes_after": _("A whole number of minutes from 0 to 240."),
        "coachee_member_id": _("Choose a member with the Coachee role."),
        "coach_member_id": coach,
        "co_coach_member_id": coach,
        "new_coach": coach,
        "sessions_planned": _("A whole number of sessions from 1 to 200."),
        "start_date": _("Enter a date."),
        "end_date": _("Enter a date on or after the start date, or nothing."),
        "display_name": _("Enter a name on one line."),
        "department": cohort,
        "site": cohort,
        "programme": cohort,
        "slug": _("Lowercase letters, digits and hyphens, not taken by another organisation."),
    }.get(name, "")


class FormErrors:
    """A refused form: the gateway's message (in the page's language), each problem beside its
    field (`field_problem`), the problems no field of the form shows above it."""

    def __init__(
        self, message: str = "", fields: dict[str, str] | None = None, status: int = 400
    ) -> None:
        self.message = message
        self.fields = fields or {}
        self.others: list[str] = []
        self.status = status

    @classmethod
    def of(cls, exc: grpc.RpcError, known: tuple[str, ...]) -> FormErrors:
        message, _problems, status = failed(exc)
        errors = cls(message, status=status)
        if exc.code() == grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
            return errors
        for path, problem in call_error(exc).fields:
            name = path.split(".")[-1].split("[")[0]
            if name in known and name not in errors.fields:
                errors.fields[name] = field_problem(name) or problem
            else:
                errors.others.append(problem)
        return errors

    def __bool__(self) -> bool:
        return bool(self.message or self.fields)


def whole_number(errors: FormErrors, name: str, value: str) -> int | None:
    """A number field of a form; beside the field when it is not a whole number."""
    try:
        return int(value.strip())
    except ValueError:
        errors.fields[name] = _("Enter a whole number.")
        errors.message = errors.message or _("Check the fields marked below.")
        return None


def done_note(notes: dict[str, str]) -> str:
    """The confirmation after a change (POST, then redirect with `?done=`): known keys only."""
    return notes.get(request.args.get("done", ""), "")


def every_member() -> Iterator[ipb.Member]:
    token = ""
    for _page in range(MEMBER_PAGES):
        answer = authed(
            clients(),
            clients().members.ListMembers,
            ipb.ListMembersRequest(parent=tenant(), page_size=200, page_token=token),
        )
        yield from answer.members
        token = answer.next_page_token
        if not token:
            return


def member_label(m: ipb.Member) -> str:
    return f"{m.display_name} ({m.email})" if m.display_name else m.email


# --- Members -------------------------------------------------------------------------------


def member_notes() -> dict[str, str]:
    return {
        "invited": _("Added: the invitation is on its way."),
        "roles": _("The roles are saved."),
        "cohort": _("The department, site and programme are saved."),
        "resent": _("A new invitation is on its way; the previous link no longer works."),
        "deactivated": _("The membership is deactivated."),
        "reactivated": _("The membership is reactivated."),
    }


@hr.get("/")
@admin_only
def index() -> BaseResponse:
    return redirect(url_for("hr.members"))


@hr.get("/members")
@admin_only
def members() -> Page:
    return members_page()


def member_search() -> dict[str, str]:
    """The members page's search, from its GET form: a text, a role, a status (unknown values
    are ignored, as a link may be old)."""
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    return {
        "q": request.args.get("q", "").strip(),
        "role": role if role in ROLES else "",
        "status": status if status in STATUSES else "",
    }


def members_page(
    status: int = 200, errors: FormErrors | None = None, form: dict[str, Any] | None = None
) -> Page:
    search = member_search()
    search_errors = FormErrors()
    members: list[ipb.Member] = []
    next_page = ""
    try:
        answer = authed(
            clients(),
            clients().members.ListMembers,
            ipb.ListMembersRequest(
                parent=tenant(),
                page_size=PAGE_SIZE,
                page_token=page_token(),
                query=search["q"],
                role=ipb.Role.Value(search["role"]) if search["role"] else 0,
                status=ipb.MembershipStatus.Value(search["status"]) if search["status"] else 0,
            ),
        )
        members, next_page = list(answer.members), answer.next_page_token
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
            raise
        search_errors = FormErrors.of(exc, ("query",))
        if "query" in search_errors.fields:
            search_errors.fields["q"] = _(
                "Enter at most %(n)s characters on one line.", n=QUERY_LIMIT
            )
        status = 400
    return render(
        "hr/members.html",
        status,
        title=_("Members"),
        members=members,
        next_page=next_page,
        first_page=bool(page_token()),
        search=search,
        searching=any(search.values()),
        search_errors=search_errors,
        status_options=[(s, member_status_label(ipb.MembershipStatus.Value(s))) for s in STATUSES],
        errors=errors or FormErrors(),
        form=form or {"roles": ["COACHEE"]},
        role_options=role_options(),
        roles_of=roles_of,
        status_label=member_status_label,
    )


@hr.post("/members")
@admin_only
def add_member() -> Answer:
    form = {
        "email": request.form.get("email", "").strip(),
        "display_name": request.form.get("display_name", "").strip(),
        "locale": request.form.get("locale", ""),
        "time_zone": request.form.get("time_zone", "").strip(),
        "roles": [r for r in request.form.getlist("roles") if r in ROLES],
    }
    try:
        added = authed(
            clients(),
            clients().members.AddMember,
            ipb.AddMemberRequest(
                parent=tenant(),
                email=form["email"],
                roles=[ipb.Role.Value(r) for r in form["roles"]],
                display_name=form["display_name"],
                locale=form["locale"],
                time_zone=form["time_zone"],
            ),
        )
    except grpc.RpcError as exc:
        errors = FormErrors.of(exc, ("email", "display_name", "locale", "time_zone", "roles"))
        return members_page(errors.status, errors, form)
    return redirect(url_for("hr.member", member_id=added.member_id, done="invited"))


def get_member(member_id: str) -> ipb.Member:
    return authed(
        clients(), clients().members.GetMember, ipb.GetMemberRequest(name=member_of(member_id))
    )


@hr.get("/members/<member_id>")
@admin_only
def member(member_id: str) -> Page:
    if not well_formed(member_id, 64):
        return not_found()
    return member_page(get_member(member_id))


def member_page(
    m: ipb.Member,
    status: int = 200,
    errors: FormErrors | None = None,
    typed: dict[str, str] | None = None,
) -> Page:
    """The member's page; `typed`: a refused cohort form's values, shown again as typed."""
    stored = {name: getattr(m, name) for name in COHORT}
    return render(
        "hr/member.html",
        status,
        title=member_label(m),
        m=m,
        done=done_note(member_notes()) if status == 200 else "",
        errors=errors or FormErrors(),
        role_options=role_options(),
        cohort=stored,
        cohort_form=typed or stored,
        mine=[ipb.Role.Name(r) for r in m.roles],
        roles_of=roles_of,
        status_label=member_status_label,
        pending=m.status == ipb.PENDING,
        deactivated=m.status == ipb.DEACTIVATED,
        erased=m.status == ipb.ERASED,
        when=when,
    )


def change_member(
    member_id: str,
    done: str,
    act: Callable[[str], object],
    fields: tuple[str, ...] = ("roles",),
    typed: dict[str, str] | None = None,
) -> Answer:
    """A change to one member; refused: the member's page again, with why beside `fields`."""
    if not well_formed(member_id, 64):
        return not_found()
    try:
        act(member_of(member_id))
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            return not_found()
        errors = FormErrors.of(exc, fields)
        return member_page(get_member(member_id), errors.status, errors, typed)
    return redirect(url_for("hr.member", member_id=member_id, done=done))


@hr.post("/members/<member_id>/roles")
@admin_only
def member_roles(member_id: str) -> Answer:
    chosen = [ipb.Role.Value(r) for r in request.form.getlist("roles") if r in ROLES]

    def act(name: str) -> object:
        return authed(
            clients(),
            clients().members.UpdateMember,
            ipb.UpdateMemberRequest(
                member=ipb.Member(name=name, roles=chosen), update_mask=FieldMask(paths=["roles"])
            ),
        )

    return change_member(member_id, "roles", act)


@hr.post("/members/<member_id>/cohort")
@admin_only
def member_cohort(member_id: str) -> Answer:
    """All three labels at once, as typed (the gateway trims and checks them)."""
    typed = {name: request.form.get(name, "") for name in COHORT}

    def act(name: str) -> object:
        return authed(
            clients(),
            clients().members.SetMemberAttributes,
            ipb.SetMemberAttributesRequest(name=name, **typed),
        )

    return change_member(member_id, "cohort", act, COHORT, typed)


@hr.post("/members/<member_id>/resend")
@admin_only
def resend(member_id: str) -> Answer:
    return change_member(
        member_id,
        "resent",
        lambda name: authed(
            clients(), clients().members.ResendInvitation, ipb.ResendInvitationRequest(name=name)
        ),
    )


@hr.post("/members/<member_id>/deactivate")
@admin_only
def deactivate(member_id: str) -> Answer:
    return change_member(
        member_id,
        "deactivated",
        lambda name: authed(
            clients(), clients().members.DeactivateMember, ipb.DeactivateMemberRequest(name=name)
        ),
    )


@hr.post("/members/<member_id>/reactivate")
@admin_only
def reactivate(member_id: str) -> Answer:
    return change_member(
        member_id,
        "reactivated",
        lambda name: authed(
            clients(), clients().members.ReactivateMember, ipb.ReactivateMemberRequest(name=name)
        ),
    )


@hr.route("/members/import", methods=["GET", "POST"])
@admin_only
def import_members() -> Page:
    """One synchronous call: the page that answers the upload is the result (counts, then every
    row not added with its line and why)."""
    title = _("Import members from a CSV file")
    if request.method == "GET":
        return render("hr/import.html", title=title, errors=FormErrors(), result=None)
    upload = request.files.get("csv")
    data = upload.read(IMPORT_MAX_BYTES + 1) if upload else b""
    errors = FormErrors()
    if not data:
        errors.fields["csv"] = _("Choose a CSV file.")
    elif len(data) > IMPORT_MAX_BYTES:
        errors.fields["csv"] = _("The file is larger than 1 MiB: split it.")
    if errors.fields:
        errors.message = _("Check the fields marked below.")
        return render("hr/import.html", 400, title=title, errors=errors, result=None)
    try:
        result = authed(
            clients(),
            clients().members.ImportMembers,
            ipb.ImportMembersRequest(parent=tenant(), csv=data),
        )
    except grpc.RpcError as exc:
        errors = FormErrors.of(exc, ("csv",))
        return render("hr/import.html", errors.status, title=title, errors=errors, result=None)
    return render("hr/import.html", title=title, errors=errors, result=result)
