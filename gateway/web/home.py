"""Where `/` leads: sign-in for a signed-out person, their home for a signed-in one. The
coachee's home is their space; coaches, HR and operators have a first page saying who they are
signed in as (their desks come later)."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response as BaseResponse

from .coach import desk_page as coach_desk
from .i18n import _
from .pages import Page, render, session, signed_in, to_sign_in

home = Blueprint("home", __name__)


@home.get("/")
def index() -> BaseResponse:
    me = session()
    if not me.signed_in:
        return to_sign_in()
    if not me.tenant_id and not me.operator:
        return redirect(url_for("account.tenants"))
    if "COACHEE" in me.roles:
        return redirect(url_for("coachee.my_space"))
    if "TENANT_ADMIN" in me.roles:
        return redirect(url_for("hr.members"))
    return redirect(url_for("home.desk"))


@home.get("/desk")
@signed_in
def desk() -> Page:
    me = session()
    if me.tenant_id and "COACH" in me.roles:
        return coach_desk()  # the coach's desk (coach.py)
    roles = {
        "TENANT_ADMIN": _("Tenant administrator (HR)"),
        "COACH": _("Coach"),
        "COACHEE": _("Coachee"),
    }
    shown = [roles[r] for r in me.roles if r in roles]
    if me.operator and not me.tenant_id:
        shown.append(_("Platform operator"))
    return render("desk.html", title=_("Welcome"), roles=shown)
