"""The coachee's sessions in one of their spaces: the coming ones, booking one among the coach's
bookable slots (`ListBookableSlots`, one day at a time, in the person's time zone), moving and
cancelling one under the tenant's policy, and joining its video room while it is open.

The policy is the scheduling service's to apply: a refused move or cancellation shows the
reason it gives (the gateway's message in the page's language, e.g. too late to move:
cancel only), and the page states the policy beforehand. A move between the two thresholds
is a request to the coach, and the page says so.

Every page starts from `my_card` (the caller's own space as coachee, else 404), and a session
must belong to that space (another space's, or another person's: 404)."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grpc
from flask import Blueprint, abort, redirect, request, url_for
from google.protobuf.timestamp_pb2 import Timestamp
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.client_errors import call_error
from gateway.api.convert import tenant_name
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import spaces_pb2 as spb

from .clients import authed
from .coachee import my_card, service_id, when
from .i18n import _
from .pages import Page, clients, failed, field_errors, render, session, signed_in
from .pages import now as clock_now

sessions = Blueprint("sessions", __name__)

Answer = Page | BaseResponse
SESSIONS_LISTED = 200


def zone() -> ZoneInfo:
    try:
        return ZoneInfo(session().time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def my_session(card: spb.CoacheeSpaceCard, session_id: str) -> pb.Session:
    """A session of the caller's space; 404 for any other."""
    name = f"{tenant_name(session().tenant_id)}/sessions/{service_id(session_id)}"
    found = authed(clients(), clients().sessions.GetSession, pb.GetSessionRequest(name=name))
    if found.space != card.space.name:
        abort(404)
    return found


def policy() -> pb.SchedulingPolicy | None:
    """The tenant's rules, to state them; None for the moment scheduling has not learnt a new
    tenant yet (it applies its defaults meanwhile)."""
    name = f"{tenant_name(session().tenant_id)}/schedulingPolicy"
    try:
        return authed(
            clients(),
            clients().policies.GetSchedulingPolicy,
            pb.GetSchedulingPolicyRequest(name=name),
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            return None
        raise


@sessions.get("/spaces/<space_id>/sessions")
@signed_in
def index(space_id: str) -> Page:
    card = my_card(space_id)
    listed = authed(
        clients(),
        clients().sessions.ListSessions,
        pb.ListSessionsRequest(parent=card.space.name, page_size=SESSIONS_LISTED),
    )
    now = clock_now()
    rooms = {s.session_id: s.room for s in card.next_sessions}
    coming, past = [], []
    for s in listed.sessions:
        if s.status == pb.SESSION_BOOKED and s.end_time.ToDatetime(tzinfo=UTC) > now:
            if s.session_id in rooms:
                s.room.CopyFrom(rooms[s.session_id])
            coming.append(s)
        else:
            past.append(s)
    return render(
        "sessions.html",
        title=_("My sessions"),
        card=card,
        coming=coming,
        past=list(reversed(past)),
        when=when,
        policy=policy(),
        done=request.args.get("done", ""),
    )


def chosen_day() -> tuple[date, dict[str, str]]:
    """The day asked (`?date=`), else today in the person's time zone."""
    today = clock_now().astimezone(zone()).date()
    asked = request.args.get("date", "")
    if not asked:
        return today, {}
    try:
        return date.fromisoformat(asked), {}
    except ValueError:
        return today, {"date": _("Give a date such as %(example)s.", example=today.isoformat())}


def slot_page(
    card: spb.CoacheeSpaceCard,
    template_values: dict[str, Any],
    status: int = 200,
    error: str = "",
    errors: dict[str, str] | None = None,
) -> Page:
    day, day_errors = chosen_day()
    errors = {**day_errors, **(errors or {})}
    slots: list[pb.Slot] = []
    if "date" not in errors:
        try:
            slots = list(
                authed(
                    clients(),
                    clients().availability.ListBookableSlots,
                    pb.ListBookableSlotsRequest(
                        parent=card.space.name,
                        start_date=day.isoformat(),
                        end_date=day.isoformat(),
                        time_zone=str(zone()),
                    ),
                ).slots
            )
        except grpc.RpcError as exc:
            message, slot_errors, status = field_errors(exc)
            error = error or message
            errors = {**errors, "date": slot_errors.get("start_date") or message}
    return render(
        "slots.html",
        status,
        card=card,
        day=day,
        previous_day=(day - timedelta(days=1)).isoformat(),
        next_day=(day + timedelta(days=1)).isoformat(),
        slots=slots,
        error=error,
        errors=errors,
        when=when,
        **template_values,
    )


def start_asked() -> Timestamp | None:
    start = Timestamp()
    try:
        start.FromJsonString(request.form.get("start", ""))
    except ValueError:
        return None
    return start


@sessions.route("/spaces/<space_id>/sessions/book", methods=["GET", "POST"])
@signed_in
def book(space_id: str) -> Answer:
    card = my_card(space_id)
    values = {"title": _("Book a session"), "moving": None}
    if request.method == "GET":
        return slot_page(card, values)
    start = start_asked()
    if start is None:
        return slot_page(card, values, 400, errors={"start": _("Choose a time among the list.")})
    try:
        authed(
            clients(),
            clients().sessions.BookSession,
            pb.BookSessionRequest(parent=card.space.name, start_time=start),
        )
    except grpc.RpcError as exc:
        message, _errors, status = failed(exc)
        return slot_page(card, values, status, error=message)
    return redirect(url_for("sessions.index", space_id=space_id, done="booked"))


@sessions.route("/spaces/<space_id>/sessions/<session_id>/move", methods=["GET", "POST"])
@signed_in
def move(space_id: str, session_id: str) -> Answer:
    card = my_card(space_id)
    moving = my_session(card, session_id)
    values = {"title": _("Move a session"), "moving": moving, "policy": policy()}
    if request.method == "GET":
        return slot_page(card, values)
    start = start_asked()
    if start is None:
        return slot_page(card, values, 400, errors={"start": _("Choose a time among the list.")})
    try:
        answer = authed(
            clients(),
            clients().sessions.RescheduleSession,
            pb.RescheduleSessionRequest(name=moving.name, start_time=start, scope=pb.SCOPE_THIS),
        )
    except grpc.RpcError as exc:
        message, _errors, status = failed(exc)
        return slot_page(card, values, status, error=message)
    done = "requested" if answer.outcome == pb.REQUESTED else "moved"
    return redirect(url_for("sessions.index", space_id=space_id, done=done))


@sessions.route("/spaces/<space_id>/sessions/<session_id>/cancel", methods=["GET", "POST"])
@signed_in
def cancel(space_id: str, session_id: str) -> Answer:
    card = my_card(space_id)
    cancelling = my_session(card, session_id)
    values = {
        "title": _("Cancel a session"),
        "card": card,
        "cancelling": cancelling,
        "policy": policy(),
        "when": when,
    }
    if request.method == "GET":
        return render("cancel.html", **values)
    try:
        answer = authed(
            clients(),
            clients().sessions.CancelSession,
            pb.CancelSessionRequest(name=cancelling.name, scope=pb.SCOPE_THIS),
        )
    except grpc.RpcError as exc:
        message, _errors, status = failed(exc)
        return render("cancel.html", status, error=message, **values)
    late = any(s.late for s in answer.sessions)
    return redirect(
        url_for("sessions.index", space_id=space_id, done="cancelled-late" if late else "cancelled")
    )


@sessions.get("/spaces/<space_id>/sessions/<session_id>/join")
@signed_in
def join(space_id: str, session_id: str) -> Answer:
    """To the video room while it is open; otherwise why not (not open yet, closed...)."""
    card = my_card(space_id)
    joining = my_session(card, session_id)
    try:
        room = authed(
            clients(),
            clients().sessions.GetSessionRoom,
            pb.GetSessionRoomRequest(name=joining.name),
        )
    except grpc.RpcError as exc:
        if call_error(exc).code == grpc.StatusCode.NOT_FOUND:
            raise
        message, _errors, status = failed(exc)
        return render("message.html", status, title=_("The room is not open"), error=message)
    return redirect(room.url)
