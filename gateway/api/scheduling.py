"""gRPC servicers for the scheduling service: availability, sessions, reschedule requests and
the tenant's policy."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from google.protobuf import empty_pb2

from services.contracts import scheduling as c
from services.contracts.identity import IdentityApi
from services.contracts.scheduling import SchedulingApi
from services.kernel.errors import ResourceExhausted, invalid
from services.kernel.validation import date_problem

from . import convert as cv
from .calls import Backend, CallContext, handler
from .convert import parse_space, space_name
from .pb import scheduling_pb2 as pb
from .pb import scheduling_pb2_grpc as pb_grpc

_ID = r"([a-z]{3}_[0-9a-f]+)"
_SESSION = re.compile(rf"^tenants/{_ID}/sessions/{_ID}$")
_REQUEST = re.compile(rf"^tenants/{_ID}/rescheduleRequests/{_ID}$")
_POLICY = re.compile(rf"^tenants/{_ID}/schedulingPolicy$")
_VIDEO = re.compile(rf"^tenants/{_ID}/videoSettings$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ---------------------------------------------------------------- names


def session_name(tenant_id: str, session_id: str) -> str:
    return f"tenants/{tenant_id}/sessions/{session_id}"


def request_name(tenant_id: str, request_id: str) -> str:
    return f"tenants/{tenant_id}/rescheduleRequests/{request_id}"


def policy_name(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/schedulingPolicy"


def video_settings_name(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/videoSettings"


def parse_session(value: str, field: str = "name") -> dict[str, str]:
    match = _SESSION.match(value or "")
    if not match:
        raise invalid(
            **{field: "must be a session name: tenants/{tenant_id}/sessions/{session_id}"}
        )
    return {"tenant_id": match.group(1), "session_id": match.group(2)}


def parse_request(value: str, field: str = "name") -> dict[str, str]:
    match = _REQUEST.match(value or "")
    if not match:
        raise invalid(
            **{field: "must be a request name: tenants/{tenant_id}/rescheduleRequests/{request_id}"}
        )
    return {"tenant_id": match.group(1), "request_id": match.group(2)}


def parse_policy(value: str, field: str = "name") -> str:
    match = _POLICY.match(value or "")
    if not match:
        raise invalid(**{field: "must be tenants/{tenant_id}/schedulingPolicy"})
    return match.group(1)


def parse_video_settings(value: str, field: str = "name") -> str:
    match = _VIDEO.match(value or "")
    if not match:
        raise invalid(**{field: "must be tenants/{tenant_id}/videoSettings"})
    return match.group(1)


# ---------------------------------------------------------------- values in


_instant = cv.instant_in


def _date(value: str, field: str) -> str:
    if not _DATE.match(value or ""):
        raise invalid(**{field: "must be a date: YYYY-MM-DD"})
    try:
        problem = date_problem(date.fromisoformat(value))
    except ValueError:
        problem = "must be a date: YYYY-MM-DD"
    if problem:  # said here too, so that the proto's field is named
        raise invalid(**{field: problem})
    return value


def _minutes(value: int) -> int | None:
    if value < 0:
        raise invalid(minutes="must not be negative")
    return value or None


def _scope(value: int) -> str:
    if value in (pb.SCOPE_UNSPECIFIED, pb.SCOPE_THIS):
        return "this"
    if value == pb.SCOPE_THIS_AND_FOLLOWING:
        return "this_and_following"
    raise invalid(scope="THIS or THIS_AND_FOLLOWING")


def _frequency(value: int) -> str:
    if value == pb.FREQUENCY_UNSPECIFIED or value not in pb.Frequency.values():
        raise invalid(
            frequency="FREQUENCY_WEEKLY, FREQUENCY_EVERY_TWO_WEEKS, FREQUENCY_EVERY_FOUR_WEEKS "
            "or FREQUENCY_MONTHLY"
        )
    return str(pb.Frequency.Name(value)).removeprefix("FREQUENCY_").lower()


def _availability_in(a: Any) -> dict[str, Any]:
    given: dict[str, Any] = {
        "time_zone": a.time_zone,
        "weekly": [
            {"weekday": h.weekday, "start": h.start_time, "end": h.end_time} for h in a.weekly
        ],
        "exceptions": [],
        "session_minutes": list(a.session_minutes) or [60],
    }
    for i, e in enumerate(a.exceptions):
        if e.kind not in (pb.DAY_OFF, pb.EXTRA):
            raise invalid(**{f"exceptions[{i}].kind": "DAY_OFF or EXTRA"})
        given["exceptions"].append(
            {
                "on": _date(e.date, f"exceptions[{i}].date"),
                "kind": "day_off" if e.kind == pb.DAY_OFF else "extra",
                "start": e.start_time or None,
                "end": e.end_time or None,
            }
        )
    for field in ("buffer_minutes", "min_notice_minutes", "horizon_days"):
        if a.HasField(field):
            given[field] = getattr(a, field)
    return given


# ---------------------------------------------------------------- values out


def _enum(enum: Any, prefix: str, value: str | None) -> int:
    return int(enum.Value(prefix + value.upper())) if value else 0


def _set_time(target: Any, field: str, value: datetime | None) -> None:
    if value:
        getattr(target, field).CopyFrom(cv.timestamp(value))


def availability_out(a: c.Availability) -> pb.Availability:
    out = pb.Availability(
        time_zone=a.time_zone,
        weekly=[
            pb.WeeklyHours(weekday=h.weekday, start_time=h.start, end_time=h.end) for h in a.weekly
        ],
        exceptions=[
            pb.AvailabilityException(
                date=e.on.isoformat(),
                kind=pb.DAY_OFF if e.kind == "day_off" else pb.EXTRA,
                start_time=e.start or "",
                end_time=e.end or "",
            )
            for e in a.exceptions
        ],
        session_minutes=a.session_minutes,
        buffer_minutes=a.buffer_minutes,
        min_notice_minutes=a.min_notice_minutes,
        horizon_days=a.horizon_days,
        coach_person_id=a.coach_person_id,
    )
    _set_time(out, "update_time", a.updated_at)
    return out


def session_out(s: c.Session) -> pb.Session:
    out = pb.Session(
        name=session_name(s.tenant_id, s.session_id),
        session_id=s.session_id,
        space=space_name(s.tenant_id, s.space_id),
        series_id=s.series_id or "",
        status=_enum(pb.SessionStatus, "SESSION_", s.status),
        start_time=cv.timestamp(s.starts_at),
        end_time=cv.timestamp(s.ends_at),
        time_zone=s.time_zone,
        local_start=s.local_start,
        shifted_by_gap=s.shifted_by_gap,
        coachee_person_id=s.coachee_person_id,
        coach_person_id=s.coach_person_id,
        co_coach_person_id=s.co_coach_person_id or "",
        booker_person_id=s.booked_by_person_id,
        cancelled_by=_enum(pb.Side, "SIDE_", s.cancelled_by),
        cancel_reason=_enum(pb.CancelReason, "REASON_", s.cancel_reason),
        late=s.late,
        uses_session=s.uses_session,
        pending_request=request_name(s.tenant_id, s.pending_request_id)
        if s.pending_request_id
        else "",
        sequence=s.sequence,
        create_time=cv.timestamp(s.created_at),
        update_time=cv.timestamp(s.updated_at),
    )
    _set_time(out, "cancel_time", s.cancelled_at)
    _set_time(out, "mark_time", s.marked_at)
    if s.room:
        out.room.CopyFrom(
            pb.RoomState(
                open_time=cv.timestamp(s.room.opens_at),
                close_time=cv.timestamp(s.room.closes_at),
                open=s.room.open,
            )
        )
    return out


def request_out(r: c.ChangeRequest) -> pb.RescheduleRequest:
    out = pb.RescheduleRequest(
        name=request_name(r.tenant_id, r.request_id),
        request_id=r.request_id,
        session=session_name(r.tenant_id, r.session_id),
        space=space_name(r.tenant_id, r.space_id),
        status=_enum(pb.RescheduleRequestStatus, "REQUEST_", r.status),
        original_start_time=cv.timestamp(r.original_starts_at),
        proposed_start_time=cv.timestamp(r.proposed_starts_at),
        proposed_end_time=cv.timestamp(r.proposed_ends_at),
        requester_person_id=r.requested_by_person_id,
        create_time=cv.timestamp(r.created_at),
        expire_time=cv.timestamp(r.expires_at),
    )
    _set_time(out, "decide_time", r.decided_at)
    return out


def _reschedule_out(answer: c.RescheduleResponse) -> pb.RescheduleSessionResponse:
    out = pb.RescheduleSessionResponse(
        outcome=pb.RESCHEDULED if answer.outcome == "rescheduled" else pb.REQUESTED,
        sessions=[session_out(s) for s in answer.sessions],
    )
    if answer.request:
        out.request.CopyFrom(request_out(answer.request))
    return out


def policy_out(p: c.Policy) -> pb.SchedulingPolicy:
    out = pb.SchedulingPolicy(
        name=policy_name(p.tenant_id),
        free_hours=p.free_hours,
        request_hours=p.request_hours,
        late_cancel_uses_session=p.late_cancel_uses_session,
        updater_person_id=p.updated_by_person_id or "",
    )
    _set_time(out, "update_time", p.updated_at)
    return out


def _provider_in(value: int) -> str:
    if value in (pb.VIDEO_PROVIDER_UNSPECIFIED, pb.VIDEO_PROVIDER_NONE):
        raise invalid(
            **{
                "settings.provider": "VIDEO_PROVIDER_JITSI, VIDEO_PROVIDER_LIVEKIT or "
                "VIDEO_PROVIDER_JITSI_PUBLIC"
            }
        )
    if value not in pb.VideoProvider.values():
        raise invalid(**{"settings.provider": "unknown provider"})
    return str(pb.VideoProvider.Name(value)).removeprefix("VIDEO_PROVIDER_").lower()


def video_settings_out(v: c.VideoSettings) -> pb.VideoSettings:
    out = pb.VideoSettings(
        name=video_settings_name(v.tenant_id),
        provider=_enum(pb.VideoProvider, "VIDEO_PROVIDER_", v.provider),
        server_url=v.server_url,
        app_id=v.app_id,
        has_secret=v.has_secret,
        open_minutes_before=v.open_minutes_before,
        close_minutes_after=v.close_minutes_after,
        deployment_default=v.deployment_default,
        updater_person_id=v.updated_by_person_id or "",
    )
    _set_time(out, "update_time", v.updated_at)
    return out


def room_out(tenant_id: str, r: c.SessionRoom) -> pb.SessionRoom:
    return pb.SessionRoom(
        session=session_name(tenant_id, r.session_id),
        provider=_enum(pb.VideoProvider, "VIDEO_PROVIDER_", r.provider),
        url=r.url,
        token=r.token,
        room=r.room,
        moderator=r.moderator,
        open_time=cv.timestamp(r.opens_at),
        expire_time=cv.timestamp(r.expires_at),
    )


def _page(request: Any) -> dict[str, Any]:
    if request.page_size < 0:
        raise invalid(page_size="must not be negative")
    return {"page_size": request.page_size, "page_token": request.page_token}


# ---------------------------------------------------------------- servicers


class AvailabilityService(pb_grpc.AvailabilityServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def GetMyAvailability(self, request: Any, call: CallContext) -> pb.Availability:
        return availability_out(call.call(SchedulingApi.get_my_availability))

    @handler
    def UpdateMyAvailability(self, request: Any, call: CallContext) -> pb.Availability:
        if not request.HasField("availability"):
            raise invalid(availability="is required")
        availability = _availability_in(request.availability)
        return availability_out(
            call.call(SchedulingApi.update_my_availability, availability=availability)
        )

    @handler
    def ListBookableSlots(self, request: Any, call: CallContext) -> pb.ListBookableSlotsResponse:
        payload: dict[str, Any] = {
            **parse_space(request.parent, "parent"),
            "from_date": _date(request.start_date, "start_date"),
            "to_date": _date(request.end_date, "end_date"),
            "minutes": _minutes(request.minutes),
            # By default the caller's own time zone, as identity keeps it.
            "time_zone": request.time_zone or call.call(IdentityApi.get_my_person).time_zone,
        }
        answer = call.call(SchedulingApi.list_slots, **payload)
        return pb.ListBookableSlotsResponse(
            time_zone=answer.time_zone,
            minutes=answer.minutes,
            slots=[
                pb.Slot(
                    start_time=cv.timestamp(s.starts_at),
                    end_time=cv.timestamp(s.ends_at),
                    local_start=s.local_start,
                    local_end=s.local_end,
                )
                for s in answer.slots
            ],
        )


class SessionService(pb_grpc.SessionServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def BookSession(self, request: Any, call: CallContext) -> pb.Session:
        payload = {
            **parse_space(request.parent, "parent"),
            "starts_at": _instant(request, "start_time", "start_time"),
            "minutes": _minutes(request.minutes),
        }
        return session_out(call.call(SchedulingApi.book_session, **payload))

    @handler
    def BookSeries(self, request: Any, call: CallContext) -> pb.BookSeriesResponse:
        if bool(request.count) == bool(request.until_date):
            raise invalid(count="give exactly one of count and until_date")
        if request.count < 0:
            raise invalid(count="must not be negative")
        payload = {
            **parse_space(request.parent, "parent"),
            "starts_at": _instant(request, "start_time", "start_time"),
            "minutes": _minutes(request.minutes),
            "frequency": _frequency(request.frequency),
            "count": request.count or None,
            "until": _date(request.until_date, "until_date") if request.until_date else None,
        }
        answer = call.call(SchedulingApi.book_series, **payload)
        return pb.BookSeriesResponse(
            series_id=answer.series_id, sessions=[session_out(s) for s in answer.sessions]
        )

    @handler
    def BookNextSession(self, request: Any, call: CallContext) -> pb.Session:
        payload = {
            **parse_session(request.name),
            "starts_at": _instant(request, "start_time", "start_time", required=False),
        }
        return session_out(call.call(SchedulingApi.book_next, **payload))

    @handler
    def GetSession(self, request: Any, call: CallContext) -> pb.Session:
        return session_out(call.call(SchedulingApi.get_session, **parse_session(request.name)))

    @handler
    def ListSessions(self, request: Any, call: CallContext) -> pb.ListSessionsResponse:
        payload = {**parse_space(request.parent, "parent"), **_page(request)}
        answer = call.call(SchedulingApi.list_space_sessions, **payload)
        return pb.ListSessionsResponse(
            sessions=[session_out(s) for s in answer.sessions],
            next_page_token=answer.next_page_token,
        )

    @handler
    def ListMySessions(self, request: Any, call: CallContext) -> pb.ListSessionsResponse:
        answer = call.call(
            SchedulingApi.list_my_sessions,
            from_time=_instant(request, "start_time", "start_time"),
            to_time=_instant(request, "end_time", "end_time"),
        )
        return pb.ListSessionsResponse(sessions=[session_out(s) for s in answer.sessions])

    @handler
    def RescheduleSession(self, request: Any, call: CallContext) -> pb.RescheduleSessionResponse:
        payload = {
            **parse_session(request.name),
            "starts_at": _instant(request, "start_time", "start_time"),
            "scope": _scope(request.scope),
        }
        return _reschedule_out(call.call(SchedulingApi.reschedule_session, **payload))

    @handler
    def CancelSession(self, request: Any, call: CallContext) -> pb.CancelSessionResponse:
        if request.reason and request.reason not in pb.CancelReason.values():
            raise invalid(reason="not a known reason")
        payload = {
            **parse_session(request.name),
            "scope": _scope(request.scope),
            "reason": str(pb.CancelReason.Name(request.reason)).removeprefix("REASON_").lower()
            if request.reason
            else None,
        }
        answer = call.call(SchedulingApi.cancel_session, **payload)
        return pb.CancelSessionResponse(sessions=[session_out(s) for s in answer.sessions])

    @handler
    def MarkAttendance(self, request: Any, call: CallContext) -> pb.Session:
        if request.attendance == pb.ATTENDANCE_UNSPECIFIED or (
            request.attendance not in pb.Attendance.values()
        ):
            raise invalid(
                attendance="ATTENDANCE_HELD, ATTENDANCE_NO_SHOW_COACHEE or ATTENDANCE_NO_SHOW_COACH"
            )
        payload = {
            **parse_session(request.name),
            "attendance": str(pb.Attendance.Name(request.attendance))
            .removeprefix("ATTENDANCE_")
            .lower(),
        }
        return session_out(call.call(SchedulingApi.mark_attendance, **payload))

    @handler
    def GetSessionRoom(self, request: Any, call: CallContext) -> pb.SessionRoom:
        ref = parse_session(request.name)
        return room_out(ref["tenant_id"], call.call(SchedulingApi.get_session_room, **ref))


class RescheduleRequestService(pb_grpc.RescheduleRequestServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ListRescheduleRequests(
        self, request: Any, call: CallContext
    ) -> pb.ListRescheduleRequestsResponse:
        status = request.status or pb.REQUEST_PENDING
        if status not in pb.RescheduleRequestStatus.values():
            raise invalid(status="not a known status")
        payload = {
            "tenant_id": cv.parse_tenant(request.parent, "parent"),
            "status": str(pb.RescheduleRequestStatus.Name(status)).removeprefix("REQUEST_").lower(),
            **_page(request),
        }
        answer = call.call(SchedulingApi.list_change_requests, **payload)
        return pb.ListRescheduleRequestsResponse(
            requests=[request_out(r) for r in answer.requests],
            next_page_token=answer.next_page_token,
        )

    @handler
    def ApproveRescheduleRequest(
        self, request: Any, call: CallContext
    ) -> pb.RescheduleSessionResponse:
        ref = parse_request(request.name)
        return _reschedule_out(call.call(SchedulingApi.approve_change_request, **ref))

    @handler
    def DeclineRescheduleRequest(self, request: Any, call: CallContext) -> pb.RescheduleRequest:
        ref = parse_request(request.name)
        return request_out(call.call(SchedulingApi.decline_change_request, **ref))


def calendar_settings_out(v: c.CalendarSettings) -> pb.CalendarSettings:
    out = pb.CalendarSettings(
        reminders_off=v.reminders_off,
        reminder_minutes=v.reminder_minutes,
        title=v.title,
        show_coach_name=v.show_coach_name,
    )
    _set_time(out, "update_time", v.updated_at)
    _set_time(out, "feed_create_time", v.feed_created_at)
    return out


class CalendarFeedService(pb_grpc.CalendarFeedServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def GetCalendarFeed(self, request: Any, call: CallContext) -> pb.CalendarFeedContent:
        """Public (the secret is in the request): throttled per feed and per client address
        like the web gateway's feed URL, since anyone may call it directly."""
        wait = self.backend.feed_limiter.retry_after(request.token, call.client_address)
        if wait is not None:
            raise ResourceExhausted(
                f"Too many requests for this calendar feed; try again in {wait} s.",
                reason="FEED_THROTTLED",
                metadata={"retry_after_seconds": str(wait)},
            )
        answer = call.call(SchedulingApi.get_calendar_feed, token=request.token)
        return pb.CalendarFeedContent(ics=answer.ics)


class CalendarService(pb_grpc.CalendarServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def GetMyCalendarSettings(self, request: Any, call: CallContext) -> pb.CalendarSettings:
        return calendar_settings_out(call.call(SchedulingApi.get_my_calendar_settings))

    @handler
    def UpdateMyCalendarSettings(self, request: Any, call: CallContext) -> pb.CalendarSettings:
        v = request.settings
        settings = {
            "reminders_off": v.reminders_off,
            "reminder_minutes": list(v.reminder_minutes),
            "title": v.title,
            "show_coach_name": v.show_coach_name,
        }
        return calendar_settings_out(
            call.call(SchedulingApi.update_my_calendar_settings, settings=settings)
        )

    @handler
    def CreateCalendarFeed(self, request: Any, call: CallContext) -> pb.CalendarFeed:
        answer = call.call(SchedulingApi.create_calendar_feed)
        return pb.CalendarFeed(url=answer.url, create_time=cv.timestamp(answer.created_at))

    @handler
    def DeleteCalendarFeed(self, request: Any, call: CallContext) -> empty_pb2.Empty:
        call.call(SchedulingApi.delete_calendar_feed)
        return empty_pb2.Empty()


class VideoSettingsService(pb_grpc.VideoSettingsServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def GetVideoSettings(self, request: Any, call: CallContext) -> pb.VideoSettings:
        tenant_id = parse_video_settings(request.name)
        return video_settings_out(call.call(SchedulingApi.get_video_settings, tenant_id=tenant_id))

    @handler
    def UpdateVideoSettings(self, request: Any, call: CallContext) -> pb.VideoSettings:
        v = request.settings
        payload = {
            "tenant_id": parse_video_settings(v.name, "settings.name"),
            "settings": {
                "provider": _provider_in(v.provider),
                "server_url": v.server_url,
                "app_id": v.app_id,
                "app_secret": v.app_secret,
                **{
                    field: getattr(v, field)
                    for field in ("open_minutes_before", "close_minutes_after")
                    if v.HasField(field)
                },
            },
        }
        return video_settings_out(call.call(SchedulingApi.update_video_settings, **payload))


class SchedulingPolicyService(pb_grpc.SchedulingPolicyServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def GetSchedulingPolicy(self, request: Any, call: CallContext) -> pb.SchedulingPolicy:
        tenant_id = parse_policy(request.name)
        return policy_out(call.call(SchedulingApi.get_policy, tenant_id=tenant_id))

    @handler
    def UpdateSchedulingPolicy(self, request: Any, call: CallContext) -> pb.SchedulingPolicy:
        p = request.policy
        payload = {
            "tenant_id": parse_policy(p.name, "policy.name"),
            "policy": {
                "free_hours": p.free_hours,
                "request_hours": p.request_hours,
                "late_cancel_uses_session": p.late_cancel_uses_session,
            },
        }
        return policy_out(call.call(SchedulingApi.update_policy, **payload))


def add_to_server(server: Any, backend: Backend) -> list[str]:
    pb_grpc.add_AvailabilityServiceServicer_to_server(AvailabilityService(backend), server)
    pb_grpc.add_SessionServiceServicer_to_server(SessionService(backend), server)
    pb_grpc.add_RescheduleRequestServiceServicer_to_server(
        RescheduleRequestService(backend), server
    )
    pb_grpc.add_SchedulingPolicyServiceServicer_to_server(SchedulingPolicyService(backend), server)
    pb_grpc.add_VideoSettingsServiceServicer_to_server(VideoSettingsService(backend), server)
    pb_grpc.add_CalendarServiceServicer_to_server(CalendarService(backend), server)
    pb_grpc.add_CalendarFeedServiceServicer_to_server(CalendarFeedService(backend), server)
    return [
        pb.DESCRIPTOR.services_by_name[name].full_name
        for name in (
            "AvailabilityService",
            "SessionService",
            "RescheduleRequestService",
            "SchedulingPolicyService",
            "VideoSettingsService",
            "CalendarService",
            "CalendarFeedService",
        )
    ]
