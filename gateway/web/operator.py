"""The platform operator's pages: the tenants (every tenant, oldest first and paged, creating
one, suspending and reinstating) and the learning record store (LRS) that receives the xAPI
statements of every coachee's e-learning (ADR 0016): its endpoint, key, secret and whether
statements are pushed, with what the content service reports (statements waiting, the last
push, its error). The secret is write-only, as HR's video secret is: the page says whether one
is kept, never shows it, and an empty field keeps it (the service keeps it only while the
endpoint and key stay the same). For a person signed in as operator (a session without a
tenant, after their authenticator's code); anyone else finds nothing (404), and the gateway
decides every call (OPERATOR_ONLY). Form errors and paging: `hr.py`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import grpc
from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.convert import tenant_name
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import identity_pb2 as ipb

from .clients import authed
from .coachee import when
from .hr import FormErrors, done_note, page_token, register_refusals
from .i18n import _
from .pages import Page, clients, not_found, render, session, signed_in, well_formed

operator = Blueprint("operator", __name__, url_prefix="/operator")
register_refusals(operator)

View = TypeVar("View", bound=Callable[..., Any])
Answer = Page | BaseResponse
PAGE_SIZE = 50


def is_operator() -> bool:
    """An operator's session: signed in as operator, without a tenant."""
    me = session()
    return bool(me.operator and not me.tenant_id)


def operator_only(view: View) -> View:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not is_operator():
            return not_found()
        return view(*args, **kwargs)

    return signed_in(guarded)  # type: ignore[return-value]


def state_label(state: int) -> str:
    return {ipb.TENANT_ACTIVE: _("Active"), ipb.TENANT_SUSPENDED: _("Suspended")}.get(state, "?")


def tenant_notes() -> dict[str, str]:
    return {
        "created": _("The organisation is created: add its first administrators next."),
        "suspended": _("The organisation is suspended: its members can no longer sign in to it."),
        "reinstated": _("The organisation is reinstated."),
        "invited": _("The administrator's invitation is on its way."),
    }


@operator.get("/tenants")
@operator_only
def tenants() -> Page:
    return tenants_page()


def tenants_page(
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
    admin_errors: FormErrors | None = None,
) -> Page:
    errors = errors or FormErrors()
    admin_errors = admin_errors or FormErrors()
    failed = errors or admin_errors
    answer = authed(
        clients(),
        clients().tenants.ListTenants,
        ipb.ListTenantsRequest(page_size=PAGE_SIZE, page_token=page_token()),
    )
    return render(
        "operator/tenants.html",
        (errors.status if errors else admin_errors.status) if failed else 200,
        title=_("Organisations"),
        tenants=list(answer.tenants),
        tenant_options=[(t.tenant_id, f"{t.display_name} ({t.slug})") for t in answer.tenants],
        next_page=answer.next_page_token,
        first_page=bool(page_token()),
        errors=errors,
        admin_errors=admin_errors,
        form=form or {},
        done="" if failed else done_note(tenant_notes()),
        state_label=state_label,
        suspended=ipb.TENANT_SUSPENDED,
        when=when,
    )


@operator.post("/tenants")
@operator_only
def create_tenant() -> Answer:
    form = {
        "display_name": request.form.get("display_name", "").strip(),
        "slug": request.form.get("slug", "").strip(),
    }
    try:
        authed(clients(), clients().tenants.CreateTenant, ipb.CreateTenantRequest(**form))
    except grpc.RpcError as exc:
        return tenants_page(FormErrors.of(exc, ("display_name", "slug")), form)
    return redirect(url_for("operator.tenants", done="created"))


@operator.post("/admins")
@operator_only
def add_admin() -> Answer:
    """A tenant's first administrators (HR), invited by email."""
    form = {
        "admin_tenant": request.form.get("admin_tenant", ""),
        "admin_email": request.form.get("admin_email", "").strip(),
    }
    if not well_formed(form["admin_tenant"], 64):
        errors = FormErrors(_("Check the fields marked below."))
        errors.fields["admin_tenant"] = _("Choose an organisation from the list.")
        return tenants_page(form=form, admin_errors=errors)
    try:
        authed(
            clients(),
            clients().members.AddMember,
            ipb.AddMemberRequest(
                parent=tenant_name(form["admin_tenant"]),
                email=form["admin_email"],
                roles=[ipb.TENANT_ADMIN],
            ),
        )
    except grpc.RpcError as exc:
        errors = FormErrors.of(exc, ("email",))
        if "email" in errors.fields:  # the form's field is `admin_email`
            errors.fields["admin_email"] = errors.fields.pop("email")
        return tenants_page(form=form, admin_errors=errors)
    return redirect(url_for("operator.tenants", done="invited"))


@operator.post("/tenants/<tenant_id>/<move>")
@operator_only
def move(tenant_id: str, move: str) -> Answer:
    moves = {
        "suspend": (clients().tenants.SuspendTenant, ipb.SuspendTenantRequest, "suspended"),
        "reinstate": (clients().tenants.ReinstateTenant, ipb.ReinstateTenantRequest, "reinstated"),
    }
    if not well_formed(tenant_id, 64) or move not in moves:
        return not_found()
    method, message, done = moves[move]
    authed(clients(), method, message(name=tenant_name(tenant_id)))
    return redirect(url_for("operator.tenants", done=done))


# --- The learning record store (xAPI) --------------------------------------------------------

LRS_FIELDS = ("endpoint", "key", "secret")


@operator.route("/lrs", methods=["GET", "POST"])
@operator_only
def lrs() -> Answer:
    current = authed(clients(), clients().content.GetLrsSettings, cpb.GetLrsSettingsRequest())
    if request.method == "GET":
        form = {"endpoint": current.endpoint, "key": current.key}
        enabled = current.enabled if current.configured else True
        return lrs_page(current, form, enabled, FormErrors())
    # The secret is read from the form and sent on; it is never put back into a page.
    form = {
        "endpoint": request.form.get("endpoint", "").strip(),
        "key": request.form.get("key", "").strip(),
    }
    enabled = request.form.get("enabled") == "yes"
    try:
        authed(
            clients(),
            clients().content.SetLrsSettings,
            cpb.SetLrsSettingsRequest(
                **form, secret=request.form.get("secret", ""), enabled=enabled
            ),
        )
    except grpc.RpcError as exc:
        return lrs_page(current, form, enabled, FormErrors.of(exc, LRS_FIELDS))
    return redirect(url_for("operator.lrs", done="saved") + "#done")


def lrs_page(
    current: cpb.LrsSettings, form: dict[str, str], enabled: bool, errors: FormErrors
) -> Page:
    return render(
        "operator/lrs.html",
        errors.status if errors else 200,
        title=_("Learning record store (xAPI)"),
        current=current,
        form=form,
        enabled=enabled,
        errors=errors,
        done="" if errors else done_note({"saved": _("Saved.")}),
        when=when,
    )
