"""HR's console, the tenant's set-up: its settings and seats (TenantService), the scheduling
policy, the video provider (its secret is write-only: the page says whether one is kept, never
shows it, and an empty field keeps it), and the tenant's audit log, newest first, in the
admin's time zone. Guard, form errors and members' names: `hr.py`."""

from __future__ import annotations

from typing import Any

import grpc
from flask import Blueprint, redirect, request, url_for
from google.protobuf.field_mask_pb2 import FieldMask
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.convert import settings_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as spb

from .clients import authed
from .coachee import when
from .hr import (
    ROLES,
    FormErrors,
    admin_only,
    done_note,
    every_member,
    page_token,
    register_refusals,
    role_label,
    role_options,
    tenant,
    whole_number,
)
from .i18n import _
from .pages import Page, clients, render, session

hr_setup = Blueprint("hr_setup", __name__, url_prefix="/hr")
register_refusals(hr_setup)

Answer = Page | BaseResponse
AUDIT_PAGE_SIZE = 50
VIDEO_PROVIDERS = ("VIDEO_PROVIDER_NONE", "VIDEO_PROVIDER_JITSI", "VIDEO_PROVIDER_LIVEKIT")
# The public Jitsi server is for development only (the gateway refuses it in production): it is
# offered only when it is already the tenant's (or the deployment's default) choice.
PUBLIC_JITSI = "VIDEO_PROVIDER_JITSI_PUBLIC"


def saved_note() -> str:
    return done_note({"saved": _("Saved.")})


def policy_name() -> str:
    return f"tenants/{session().tenant_id}/schedulingPolicy"


def video_name() -> str:
    return f"tenants/{session().tenant_id}/videoSettings"


# --- Tenant settings and seats ---------------------------------------------------------------


@hr_setup.route("/settings", methods=["GET", "POST"])
@admin_only
def settings() -> Answer:
    name = settings_name(session().tenant_id)
    current = authed(
        clients(), clients().tenants.GetTenantSettings, ipb.GetTenantSettingsRequest(name=name)
    )
    if request.method == "GET":
        return settings_page(current)
    chosen = [r for r in request.form.getlist("mfa_required_roles") if r in ROLES]
    wanted = ipb.TenantSettings(
        name=name,
        default_locale=request.form.get("default_locale", ""),
        default_time_zone=request.form.get("default_time_zone", "").strip(),
        mfa_required_roles=[ipb.Role.Value(r) for r in chosen],
    )
    try:
        authed(
            clients(),
            clients().tenants.UpdateTenantSettings,
            ipb.UpdateTenantSettingsRequest(
                settings=wanted,
                update_mask=FieldMask(
                    paths=["default_locale", "default_time_zone", "mfa_required_roles"]
                ),
            ),
        )
    except grpc.RpcError as exc:
        errors = FormErrors.of(exc, ("default_locale", "default_time_zone", "mfa_required_roles"))
        wanted.seats_used = current.seats_used
        if current.HasField("seats"):
            wanted.seats = current.seats
        return settings_page(wanted, errors)
    return redirect(url_for("hr_setup.settings", done="saved"))


def settings_page(s: ipb.TenantSettings, errors: FormErrors | None = None) -> Page:
    errors = errors or FormErrors()
    if s.HasField("seats"):
        seats = _("%(used)s of %(seats)s seats are used.", used=s.seats_used, seats=s.seats)
    else:
        seats = _("%(used)s seats are used; this organisation has no limit.", used=s.seats_used)
    return render(
        "hr/settings.html",
        errors.status if errors else 200,
        title=_("Settings"),
        s=s,
        seats=seats,
        errors=errors,
        done="" if errors else saved_note(),
        role_options=role_options(),
        mfa_roles=[ipb.Role.Name(r) for r in s.mfa_required_roles],
        role_label=role_label,
    )


# --- Scheduling policy -----------------------------------------------------------------------


@hr_setup.route("/scheduling-policy", methods=["GET", "POST"])
@admin_only
def policy() -> Answer:
    name = policy_name()
    if request.method == "GET":
        current = authed(
            clients(),
            clients().policies.GetSchedulingPolicy,
            spb.GetSchedulingPolicyRequest(name=name),
        )
        form = {
            "free_hours": str(current.free_hours),
            "request_hours": str(current.request_hours),
            "late_cancel_uses_session": current.late_cancel_uses_session,
        }
        return policy_page(form, FormErrors())
    form = {
        "free_hours": request.form.get("free_hours", ""),
        "request_hours": request.form.get("request_hours", ""),
        "late_cancel_uses_session": request.form.get("late_cancel_uses_session") == "yes",
    }
    errors = FormErrors()
    free = whole_number(errors, "free_hours", form["free_hours"])
    late = whole_number(errors, "request_hours", form["request_hours"])
    if free is None or late is None:
        return policy_page(form, errors)
    try:
        authed(
            clients(),
            clients().policies.UpdateSchedulingPolicy,
            spb.UpdateSchedulingPolicyRequest(
                policy=spb.SchedulingPolicy(
                    name=name,
                    free_hours=free,
                    request_hours=late,
                    late_cancel_uses_session=bool(form["late_cancel_uses_session"]),
                )
            ),
        )
    except grpc.RpcError as exc:
        return policy_page(form, FormErrors.of(exc, ("free_hours", "request_hours")))
    return redirect(url_for("hr_setup.policy", done="saved"))


def policy_page(form: dict[str, Any], errors: FormErrors) -> Page:
    return render(
        "hr/policy.html",
        errors.status if errors else 200,
        title=_("Scheduling policy"),
        form=form,
        errors=errors,
        done="" if errors else saved_note(),
    )


# --- Video provider --------------------------------------------------------------------------


def provider_label(provider: str) -> str:
    return {
        "VIDEO_PROVIDER_NONE": _("None: sessions have no video room"),
        "VIDEO_PROVIDER_JITSI": _("Jitsi Meet (with tokens)"),
        "VIDEO_PROVIDER_LIVEKIT": _("LiveKit"),
        PUBLIC_JITSI: _("Public Jitsi server (development only)"),
    }.get(provider, provider)


@hr_setup.route("/video", methods=["GET", "POST"])
@admin_only
def video() -> Answer:
    name = video_name()
    current = authed(
        clients(), clients().video.GetVideoSettings, spb.GetVideoSettingsRequest(name=name)
    )
    if request.method == "GET":
        form = {
            "provider": spb.VideoProvider.Name(current.provider),
            "server_url": current.server_url,
            "app_id": current.app_id,
            "open_minutes_before": str(current.open_minutes_before),
            "close_minutes_after": str(current.close_minutes_after),
        }
        return video_page(current, form, FormErrors())
    # The secret is read from the form and sent on; it is never put back into a page.
    form = {
        "provider": request.form.get("provider", ""),
        "server_url": request.form.get("server_url", "").strip(),
        "app_id": request.form.get("app_id", "").strip(),
        "open_minutes_before": request.form.get("open_minutes_before", ""),
        "close_minutes_after": request.form.get("close_minutes_after", ""),
    }
    errors = FormErrors()
    if form["provider"] not in (*VIDEO_PROVIDERS, PUBLIC_JITSI):
        errors.fields["provider"] = _("Choose a provider from the list.")
        errors.message = _("Check the fields marked below.")
    before = whole_number(errors, "open_minutes_before", form["open_minutes_before"])
    after = whole_number(errors, "close_minutes_after", form["close_minutes_after"])
    if errors:
        return video_page(current, form, errors)
    try:
        authed(
            clients(),
            clients().video.UpdateVideoSettings,
            spb.UpdateVideoSettingsRequest(
                settings=spb.VideoSettings(
                    name=name,
                    provider=spb.VideoProvider.Value(form["provider"]),
                    server_url=form["server_url"],
                    app_id=form["app_id"],
                    app_secret=request.form.get("app_secret", ""),
                    open_minutes_before=before,
                    close_minutes_after=after,
                )
            ),
        )
    except grpc.RpcError as exc:
        known = ("provider", "server_url", "app_id", "app_secret", "open_minutes_before")
        return video_page(current, form, FormErrors.of(exc, (*known, "close_minutes_after")))
    return redirect(url_for("hr_setup.video", done="saved"))


def video_page(current: spb.VideoSettings, form: dict[str, str], errors: FormErrors) -> Page:
    offered = list(VIDEO_PROVIDERS)
    if PUBLIC_JITSI in (form["provider"], spb.VideoProvider.Name(current.provider)):
        offered.append(PUBLIC_JITSI)
    return render(
        "hr/video.html",
        errors.status if errors else 200,
        title=_("Video provider"),
        current=current,
        form=form,
        providers=[(p, provider_label(p)) for p in offered],
        errors=errors,
        done="" if errors else saved_note(),
        when=when,
    )


# --- Audit log -------------------------------------------------------------------------------


def action_label(action: str) -> str:
    return {
        "member.pending": _("Member invited"),
        "member.accepted": _("Invitation accepted"),
        "member.roles_changed": _("Roles changed"),
        "member.deactivated": _("Member deactivated"),
        "member.reactivated": _("Member reactivated"),
        "invitation.resent": _("Invitation sent again"),
        "tenant.created": _("Organisation created"),
        "tenant.settings_changed": _("Settings changed"),
        "tenant.suspended": _("Organisation suspended"),
        "tenant.reinstated": _("Organisation reinstated"),
    }.get(action, action)


@hr_setup.get("/audit")
@admin_only
def audit() -> Page:
    answer = authed(
        clients(),
        clients().audit.ListTenantAuditEvents,
        ipb.ListTenantAuditEventsRequest(
            parent=tenant(), page_size=AUDIT_PAGE_SIZE, page_token=page_token()
        ),
    )
    people: dict[str, str] = {}
    members: dict[str, str] = {}
    for m in every_member():
        label = m.display_name or m.email
        members[m.member_id] = label
        if m.person_id:
            people[m.person_id] = label
    return render(
        "hr/audit.html",
        title=_("Audit log"),
        events=list(answer.events),
        next_page=answer.next_page_token,
        first_page=bool(page_token()),
        actor=lambda e: (
            people.get(e.actor_id, _("Someone outside the organisation"))
            if e.actor_id
            else _("ecoach")
        ),
        subject=lambda e: members.get(e.subject, e.subject),
        action_label=action_label,
        when=when,
    )
