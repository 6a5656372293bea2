"""Signing in and out in the browser: password, then a code when the person has an
authenticator (or setting one up when their tenant's policy demands it), the choice of tenant
for people in several, sign-out and sign-out everywhere. And the account's sensitive changes,
each with proof of the person (the password, and a code once an authenticator is set up, ADR
0012): the password, the email address, setting up an authenticator of one's own accord.

Signing in without a tenant gives a personal session; the person then enters their tenant
(directly when they have one, by choice when several). A tenant whose policy requires MFA
refuses a personal session without it (MFA_REQUIRED): the person signs in again to that
tenant, which asks for a code or sets up an authenticator first.
"""

from __future__ import annotations

import secrets
from typing import Any

import grpc
import segno
from flask import Blueprint, g, redirect, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.client_errors import call_error
from gateway.api.pb import identity_pb2 as ipb

from .clients import SignedOut, authed, call, keep
from .i18n import _
from .pages import Page, clients, failed, render, session, signed_in, to_sign_in, well_formed

account = Blueprint("account", __name__)

Answer = Page | BaseResponse


def start_over(**keep_values: Any) -> None:
    g.session = session().signed_out()
    for name, value in keep_values.items():
        setattr(g.session, name, value)
    g.session_changed = True


@account.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Answer:
    me = session()
    if me.signed_in and request.method == "GET":
        return redirect(url_for("home.index"))
    if request.method == "GET":
        return sign_in_page()
    email = request.form.get("email", "").strip()
    if me.signed_in:  # someone else signs in on this browser: end the first session
        end_session()
        me = session()
    try:
        reply = call(
            clients().auth.SignIn,
            ipb.SignInRequest(
                email=email, password=request.form.get("password", ""), tenant=me.tenant_asked
            ),
        )
    except grpc.RpcError as exc:
        message, problems, status = failed(exc)
        return sign_in_page(status, error=message, fields=problems, email=email)
    return after_sign_in(reply)


def sign_in_page(status: int = 200, **values: Any) -> Page:
    notice = ""
    if session().tenant_asked:
        notice = _(
            "This organisation asks for a second factor: sign in again to it with your "
            "password, then your authenticator's code."
        )
    return render("sign_in.html", status, title=_("Sign in"), notice=notice, **values)


def after_sign_in(reply: ipb.SignInResponse) -> BaseResponse:
    me = session()
    me.csrf = secrets.token_urlsafe(32)  # a new session, a new form token
    g.session_changed = True
    if reply.next_step == ipb.VERIFY_MFA:
        me.step, me.challenge = "mfa", reply.challenge
        return redirect(url_for("account.code"))
    if reply.next_step == ipb.ENROL_MFA:
        me.step, me.challenge = "enrol", reply.challenge
        return redirect(url_for("account.enrol"))
    keep(me, reply)
    me.tenant_asked = ""
    load_me()
    return redirect(url_for("home.index"))


def load_me() -> None:
    """Who the session is: name, language, time zone, the tenant's roles."""
    me = session()
    answer = authed(clients(), clients().auth.GetMe, ipb.GetMeRequest())
    me.display_name = answer.person.display_name
    me.email = answer.person.email
    me.locale = answer.person.locale
    me.time_zone = answer.person.time_zone
    me.operator = answer.person.platform_admin
    me.roles = [ipb.Role.Name(r) for r in answer.membership.roles] if me.tenant_id else []
    me.tenant_name = answer.tenant.display_name if me.tenant_id else ""
    g.session_changed = True


@account.route("/sign-in/code", methods=["GET", "POST"])
def code() -> Answer:
    me = session()
    if me.step != "mfa":
        return to_sign_in()
    if request.method == "GET":
        return render("mfa_code.html", title=_("Your authenticator's code"))
    try:
        reply = call(
            clients().auth.VerifyMfa,
            ipb.VerifyMfaRequest(challenge=me.challenge, code=request.form.get("code", "").strip()),
        )
    except grpc.RpcError as exc:
        if call_error(exc).reason == "CHALLENGE_EXPIRED":
            start_over(tenant_asked=me.tenant_asked)
        message, _problems, status = failed(exc)
        return render("mfa_code.html", status, title=_("Your authenticator's code"), error=message)
    return after_sign_in(reply)


@account.route("/sign-in/authenticator", methods=["GET", "POST"])
def enrol() -> Answer:
    """Setting up an authenticator that the tenant's policy requires, from the sign-in's
    limited challenge (a self-started enrolment, from the account page, comes later)."""
    me = session()
    if me.step != "enrol":
        return to_sign_in()
    if request.method == "POST":
        try:
            done = call(
                clients().auth.CompleteMfaEnrolment,
                ipb.CompleteMfaEnrolmentRequest(
                    challenge=me.challenge, code=request.form.get("code", "").strip()
                ),
            )
        except grpc.RpcError as exc:
            message, _problems, status = failed(exc)
            return enrolment_page(status, error=message)
        keep(me, done.sign_in)
        me.tenant_asked = ""
        load_me()
        return render(
            "recovery_codes.html", title=_("Your recovery codes"), codes=list(done.recovery_codes)
        )
    return enrolment_page()


def enrolment_page(status: int = 200, **values: Any) -> Page:
    """A new secret each time the page is shown (it replaces one not confirmed yet)."""
    try:
        setup = call(
            clients().auth.BeginMfaEnrolment,
            ipb.BeginMfaEnrolmentRequest(challenge=session().challenge),
        )
    except grpc.RpcError as exc:
        start_over()
        message, _problems, status = failed(exc)
        return sign_in_page(status, error=message)
    qr = segno.make(setup.otpauth_uri, error="m").svg_inline(scale=5, omitsize=True)
    return render(
        "enrol.html",
        status,
        title=_("Set up your authenticator"),
        qr=Markup(qr),  # noqa: S704 (segno's own SVG of the URI: no markup of anyone's)
        secret=setup.secret,
        **values,
    )


@account.route("/tenants", methods=["GET", "POST"])
@signed_in
def tenants() -> Answer:
    if request.method == "POST":
        chosen = request.form.get("tenant", "")
        if not well_formed(chosen, 64):
            return render("message.html", 400, title=_("Choose an organisation from the list."))
        return switch(chosen)
    mine = authed(clients(), clients().members.ListMyMemberships, ipb.ListMyMembershipsRequest())
    active = [m for m in mine.memberships if m.status == ipb.ACTIVE]
    if len(active) == 1 and not session().tenant_id:
        return switch(active[0].tenant_id)
    return render("tenants.html", title=_("Choose an organisation"), memberships=active)


def switch(tenant_id: str) -> Answer:
    me = session()
    try:
        reply = call(
            clients().auth.SwitchTenant,
            ipb.SwitchTenantRequest(refresh_token=me.refresh_token, tenant=tenant_id),
        )
    except grpc.RpcError as exc:
        if call_error(exc).reason == "MFA_REQUIRED":
            end_session()
            start_over(tenant_asked=tenant_id)
            return redirect(url_for("account.sign_in"))
        message, _problems, status = failed(exc)
        return render("message.html", status, title=_("Choose an organisation"), error=message)
    keep(me, reply)
    load_me()
    return redirect(url_for("home.index"))


def end_session() -> None:
    """Ends this browser's ecoach session (always succeeds at the gateway)."""
    me = session()
    if me.refresh_token:
        try:
            call(clients().auth.SignOut, ipb.SignOutRequest(refresh_token=me.refresh_token))
        except grpc.RpcError:
            pass  # the cookie goes anyway; the session ends by itself when it expires
    start_over()


@account.post("/sign-out")
def sign_out() -> Answer:
    end_session()
    return redirect(url_for("account.sign_in"))


@account.post("/sign-out-everywhere")
@signed_in
def sign_out_everywhere() -> Answer:
    try:
        authed(clients(), clients().auth.SignOutEverywhere, ipb.SignOutEverywhereRequest())
    except SignedOut:
        pass
    start_over()
    return sign_in_page(notice_done=_("You are signed out on every device."))


# ---------------------------------------------------------------- sensitive account changes


def field_problems(exc: grpc.RpcError) -> tuple[str, dict[str, str], int]:
    """The gateway's message, each field's problem by field name (shown beside the field), the
    page's status."""
    message, _problems, status = failed(exc)
    errors = dict(call_error(exc).fields)
    # The proof's problems as the page asks for them (the gateway's words come in the page's
    # language too, ADR 0013, but speak of the API's fields).
    if "current_password" in errors:
        errors["current_password"] = _("This is not your current password.")
    if "mfa_code" in errors:
        errors["mfa_code"] = _(
            "Type the 6 digits your authenticator app shows now, or one of your recovery codes."
        )
    return message, errors, status


def proof(form: Any) -> dict[str, str]:
    """The proof of the person every sensitive change carries."""
    return {
        "current_password": form.get("current_password", ""),
        "mfa_code": form.get("mfa_code", "").strip(),
    }


def account_form(template: str, title: str, status: int = 200, **values: Any) -> Page:
    return render(template, status, title=title, errors=values.pop("errors", {}), **values)


@account.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password() -> Answer:
    title = _("Change your password")
    if request.method == "GET":
        return account_form("account_password.html", title)
    try:
        authed(
            clients(),
            clients().auth.ChangePassword,
            ipb.ChangePasswordRequest(
                new_password=request.form.get("new_password", ""), **proof(request.form)
            ),
        )
    except SignedOut:
        return to_sign_in()
    except grpc.RpcError as exc:
        message, errors, status = field_problems(exc)
        return account_form("account_password.html", title, status, error=message, errors=errors)
    return render(
        "message.html",
        title=_("Your password has been changed"),
        done=_("Your other devices are signed out; this one stays signed in."),
    )


@account.route("/account/email", methods=["GET", "POST"])
@signed_in
def change_email() -> Answer:
    title = _("Change your email address")
    if request.method == "GET":
        return account_form("account_email.html", title)
    new_email = request.form.get("new_email", "").strip()
    try:
        authed(
            clients(),
            clients().auth.RequestEmailChange,
            ipb.RequestEmailChangeRequest(new_email=new_email, **proof(request.form)),
        )
    except SignedOut:
        return to_sign_in()
    except grpc.RpcError as exc:
        message, errors, status = field_problems(exc)
        return account_form(
            "account_email.html", title, status, error=message, errors=errors, new_email=new_email
        )
    return render(
        "message.html",
        title=_("Check your mailbox"),
        done=_(
            "We sent a confirmation link to %(email)s. Your address changes when you open it.",
            email=new_email,
        ),
    )


@account.route("/account/authenticator", methods=["GET", "POST"])
@signed_in
def enrol_self() -> Answer:
    """Setting up an authenticator of one's own accord: the password first (proof of the
    person), then the QR code and the first code. The session goes on (no new one)."""
    me = session()
    title = _("Set up an authenticator")
    if request.method == "GET":
        me.step = me.challenge = ""
        return account_form("account_authenticator.html", title)
    try:
        if me.step != "enrol-self":
            started = authed(
                clients(),
                clients().auth.StartMfaEnrolment,
                ipb.StartMfaEnrolmentRequest(**proof(request.form)),
            )
            me.step, me.challenge = "enrol-self", started.challenge
            g.session_changed = True
            return self_enrolment_page()
        done = call(
            clients().auth.CompleteMfaEnrolment,
            ipb.CompleteMfaEnrolmentRequest(
                challenge=me.challenge, code=request.form.get("code", "").strip()
            ),
        )
    except SignedOut:
        return to_sign_in()
    except grpc.RpcError as exc:
        message, errors, status = field_problems(exc)
        if me.step == "enrol-self":
            if call_error(exc).reason.startswith("CHALLENGE_"):
                me.step = me.challenge = ""
                return account_form("account_authenticator.html", title, status, error=message)
            return self_enrolment_page(status, error=message)
        return account_form(
            "account_authenticator.html", title, status, error=message, errors=errors
        )
    me.step = me.challenge = ""
    g.session_changed = True
    return render(
        "recovery_codes.html", title=_("Your recovery codes"), codes=list(done.recovery_codes)
    )


def self_enrolment_page(status: int = 200, **values: Any) -> Page:
    setup = call(
        clients().auth.BeginMfaEnrolment,
        ipb.BeginMfaEnrolmentRequest(challenge=session().challenge),
    )
    qr = segno.make(setup.otpauth_uri, error="m").svg_inline(scale=5, omitsize=True)
    return render(
        "enrol.html",
        status,
        title=_("Set up an authenticator"),
        qr=Markup(qr),  # noqa: S704 (segno's own SVG of the URI: no markup of anyone's)
        secret=setup.secret,
        action=url_for("account.enrol_self"),
        own_accord=True,
        **values,
    )
