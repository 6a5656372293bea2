"""A person's own settings that are not about signing in: their calendar (reminders, the title
of their entries, the calendar feed whose address is shown once), their profile (name,
language, time zone) and their data (export as one JSON file, erasure confirmed with their
password). Any signed-in person may use them; each call is about the caller only, so there is
no one else's id to try. (Password, email and authenticator pages live with the account.)"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any
from zoneinfo import available_timezones

import grpc
from flask import Blueprint, Response, g, redirect, request, url_for
from google.protobuf.field_mask_pb2 import FieldMask
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as pb

from .account import end_session
from .clients import authed
from .i18n import _, local_time
from .pages import Page, clients, field_errors, render, session, signed_in

me_pages = Blueprint("me", __name__)

Answer = Page | BaseResponse
# The reminders offered, in minutes before a session (the service takes 5 to 10,080, at most
# four of them).
REMINDER_CHOICES = (15, 60, 180, 1440, 2880, 10080)
TIME_ZONES = sorted(available_timezones())


def reminder_label(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return _("1 day before") if days == 1 else _("%(count)s days before", count=days)
    if minutes % 60 == 0:
        hours = minutes // 60
        return _("1 hour before") if hours == 1 else _("%(count)s hours before", count=hours)
    return _("%(count)s minutes before", count=minutes)


def calendar_page(status: int = 200, **values: Any) -> Page:
    settings = values.pop("settings", None) or authed(
        clients(), clients().calendar.GetMyCalendarSettings, pb.GetMyCalendarSettingsRequest()
    )
    feed_since = ""
    if settings.HasField("feed_create_time"):
        feed_since = local_time(
            settings.feed_create_time.ToDatetime(tzinfo=UTC), session().time_zone
        )
    return render(
        "my_calendar.html",
        status,
        title=_("My calendar"),
        settings=settings,
        feed_since=feed_since,
        choices=[(m, reminder_label(m)) for m in REMINDER_CHOICES],
        **values,
    )


@me_pages.get("/me/calendar")
@signed_in
def calendar() -> Page:
    return calendar_page(done=request.args.get("done", ""))


@me_pages.post("/me/calendar")
@signed_in
def update_calendar() -> Answer:
    form = request.form
    minutes = []
    for value in form.getlist("reminder_minutes"):
        if not value.isdigit():
            return calendar_page(400, errors={"reminder_minutes": _("Choose among the list.")})
        minutes.append(int(value))
    off = form.get("reminders_off") == "on"
    if not off and not minutes:
        return calendar_page(
            400, errors={"reminder_minutes": _("Choose at least one reminder, or turn them off.")}
        )
    wanted = pb.CalendarSettings(
        reminders_off=off,
        reminder_minutes=minutes,
        title=form.get("title", ""),
        show_coach_name=form.get("show_coach_name") == "on",
    )
    try:
        authed(
            clients(),
            clients().calendar.UpdateMyCalendarSettings,
            pb.UpdateMyCalendarSettingsRequest(settings=wanted),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        current = authed(
            clients(), clients().calendar.GetMyCalendarSettings, pb.GetMyCalendarSettingsRequest()
        )
        wanted.feed_create_time.CopyFrom(current.feed_create_time)
        return calendar_page(status, settings=wanted, error=message, errors=errors)
    return redirect(url_for("me.calendar", done="saved"))


@me_pages.post("/me/calendar/feed")
@signed_in
def create_feed() -> Page:
    feed = authed(clients(), clients().calendar.CreateCalendarFeed, pb.CreateCalendarFeedRequest())
    return calendar_page(feed_url=feed.url)


@me_pages.post("/me/calendar/feed/delete")
@signed_in
def delete_feed() -> Answer:
    try:
        authed(clients(), clients().calendar.DeleteCalendarFeed, pb.DeleteCalendarFeedRequest())
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            raise
    return redirect(url_for("me.calendar", done="feed-deleted"))


def profile_page(status: int = 200, **values: Any) -> Page:
    person = authed(clients(), clients().auth.GetMe, ipb.GetMeRequest()).person
    shown = {
        "display_name": person.display_name,
        "locale": person.locale,
        "time_zone": person.time_zone,
    }
    shown.update(values.pop("shown", {}))
    # What each organisation's HR set on the person's membership (their own, shown read-only:
    # the groups HR's reports count them in, never them alone).
    mine = authed(clients(), clients().members.ListMyMemberships, ipb.ListMyMembershipsRequest())
    labelled = [
        m
        for m in mine.memberships
        if m.status == ipb.ACTIVE and (m.department or m.site or m.programme)
    ]
    return render(
        "my_profile.html",
        status,
        title=_("My profile"),
        shown=shown,
        time_zones=TIME_ZONES,
        labelled=labelled,
        **values,
    )


@me_pages.route("/me/profile", methods=["GET", "POST"])
@signed_in
def profile() -> Answer:
    if request.method == "GET":
        return profile_page(done=request.args.get("done", ""))
    shown = {k: request.form.get(k, "") for k in ("display_name", "locale", "time_zone")}
    try:
        person = authed(
            clients(),
            clients().auth.UpdateMyProfile,
            ipb.UpdateMyProfileRequest(
                **shown, update_mask=FieldMask(paths=["display_name", "locale", "time_zone"])
            ),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        return profile_page(status, shown=shown, error=message, errors=errors)
    me = session()  # the pages' language, times and name follow at once
    me.display_name, me.locale, me.time_zone = (
        person.display_name,
        person.locale,
        person.time_zone,
    )
    g.session_changed = True
    return redirect(url_for("me.profile", done="saved"))


@me_pages.get("/me/data")
@signed_in
def data() -> Page:
    return render("my_data.html", title=_("My data"))


@me_pages.post("/me/data/export")
@signed_in
def export() -> Response:
    """Every service's document about the person, in one JSON file to keep."""
    documents = authed(clients(), clients().auth.ExportMyData, ipb.ExportMyDataRequest())
    bundle = [
        {
            "service": d.service,
            "export_time": d.export_time.ToJsonString(),
            "data": json.loads(d.data) if d.content_type == "application/json" else None,
        }
        for d in documents
    ]
    return Response(
        json.dumps({"documents": bundle}, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="ecoach-my-data.json"'},
    )


@me_pages.post("/me/data/erase")
@signed_in
def erase() -> Page:
    if request.form.get("confirm") != "on":
        return render(
            "my_data.html",
            400,
            title=_("My data"),
            errors={"confirm": _("Tick the box to confirm that everything goes, for good.")},
        )
    try:
        erasure = authed(
            clients(),
            clients().auth.EraseMyData,
            ipb.EraseMyDataRequest(current_password=request.form.get("current_password", "")),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        return render("my_data.html", status, title=_("My data"), error=message, errors=errors)
    end_session()  # every token of theirs already stopped working
    return render("erased.html", title=_("Your data is being erased"), receipt=erasure.receipt)
