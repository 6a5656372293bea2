"""The scheduling service's contract: its RPC payloads and the events it publishes.

Scheduling keeps the coaches' availability (a coach's, across all their tenants), the sessions
booked in spaces (once or as a series), each tenant's cancel/reschedule policy, reschedule
requests and attendance. It keeps a copy of each space's participants and status from the spaces
events. Events carry ids and times only (rule 3), and a session's full current state (rule 4).

Instants are UTC (`datetime` with an offset); a session also keeps its local wall time and time
zone (the coach's), the source of truth when a series is expanded (rule 7).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from services.kernel.events import EventPayload
from services.kernel.personal_data import completion_event
from services.kernel.timezones import check_time_zone

from . import personal_data as pd
from .base import Contract, Empty, Id, Method, PageRequest, PingResponse, PublishingApi
from .base import TenantRef as TenantRef  # re-exported: part of this API

SERVICE = "scheduling"

TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(check_time_zone)]
# A wall-clock time of day; "24:00" only as the end of a range.
ClockTime = Annotated[str, StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
Frequency = Literal["weekly", "every_two_weeks", "every_four_weeks", "monthly"]
Scope = Literal["this", "this_and_following"]
SessionStatus = Literal["booked", "cancelled", "held", "no_show_coachee", "no_show_coach"]
Attendance = Literal["held", "no_show_coachee", "no_show_coach"]
Side = Literal["coachee", "coach", "system"]
# Why a coach (or the platform) cancelled: codes, never free text (nothing to encrypt, nothing
# an assistant reading a calendar could learn from).
CancelReason = Literal[
    "coach_unavailable",
    "coachee_request",
    "illness",
    "emergency",
    "other",
    # set by the platform only:
    "space_paused",
    "space_completed",
    "space_archived",
    "coach_changed",
    "person_erased",
]
COACH_REASONS = ("coach_unavailable", "coachee_request", "illness", "emergency", "other")
RequestStatus = Literal["pending", "approved", "declined", "expired"]

MAX_RANGE_DAYS = 62  # bookable slots: at most two months at once
MAX_SERIES = 60


# ---------------------------------------------------------------- availability


class WeeklyHours(Contract):
    """Bookable hours on one weekday (ISO: 1 is Monday), in the coach's time zone."""

    weekday: int = Field(ge=1, le=7)
    start: ClockTime
    end: ClockTime


class AvailabilityException(Contract):
    """One date's change: `day_off` (the whole day, or `start`-`end` only) or `extra` hours."""

    on: date
    kind: Literal["day_off", "extra"]
    start: ClockTime | None = None
    end: ClockTime | None = None


class AvailabilityInput(Contract):
    time_zone: TimeZone
    weekly: list[WeeklyHours] = Field(default_factory=list, max_length=70)
    exceptions: list[AvailabilityException] = Field(default_factory=list, max_length=500)
    # The session lengths a coachee may book, in minutes; the first is the default.
    session_minutes: list[int] = Field(default_factory=lambda: [60], min_length=1, max_length=6)
    buffer_minutes: int = Field(default=0, ge=0, le=240)
    min_notice_minutes: int = Field(default=720, ge=0, le=60 * 24 * 60)
    horizon_days: int = Field(default=90, ge=1, le=730)


class Availability(AvailabilityInput):
    coach_person_id: str
    updated_at: datetime | None = None  # None: never set (the defaults, no hours)


class UpdateAvailabilityRequest(Contract):
    availability: AvailabilityInput


class SlotsRequest(Contract):
    """Bookable slots of a space's coach, for its coachee, from `from_date` to `to_date`
    (inclusive, dates in `time_zone`: by default the caller's)."""

    tenant_id: Id
    space_id: Id
    from_date: date
    to_date: date
    minutes: int | None = Field(default=None, ge=5, le=480)
    time_zone: TimeZone | None = None


class Slot(Contract):
    starts_at: datetime
    ends_at: datetime
    local_start: str  # ISO 8601 with offset, in the slots' time zone
    local_end: str


class SlotList(Contract):
    time_zone: str
    minutes: int
    slots: list[Slot]


# ---------------------------------------------------------------- sessions


class BookSessionRequest(Contract):
    tenant_id: Id
    space_id: Id
    starts_at: AwareDatetime
    minutes: int | None = Field(default=None, ge=5, le=480)


class BookSeriesRequest(BookSessionRequest):
    """Every occurrence keeps the first one's local wall time in the coach's time zone.
    Exactly one of `count` (occurrences, the first included) and `until` (a last date)."""

    frequency: Frequency
    count: int | None = Field(default=None, ge=2, le=MAX_SERIES)
    until: date | None = None


class SessionRef(Contract):
    tenant_id: Id
    session_id: Id


class RoomState(Contract):
    opens_at: datetime
    closes_at: datetime
    open: bool


class Session(Contract):
    session_id: str
    tenant_id: str
    space_id: str
    series_id: str | None = None
    status: SessionStatus
    starts_at: datetime
    ends_at: datetime
    time_zone: str  # the coach's, where the series' wall time is kept
    local_start: str  # wall time in `time_zone`, ISO 8601 without offset
    shifted_by_gap: bool = False  # the wall time fell in a daylight-saving gap and moved forward
    coachee_person_id: str
    coach_person_id: str
    co_coach_person_id: str | None = None
    booked_by_person_id: str
    cancelled_at: datetime | None = None
    cancelled_by: Side | None = None
    cancel_reason: CancelReason | None = None
    late: bool = False  # cancelled by the coachee less than the request window before
    uses_session: bool = True  # counts against the engagement's number of sessions
    marked_at: datetime | None = None
    pending_request_id: str | None = None
    sequence: int = 0  # raised at each change (iTIP's SEQUENCE)
    created_at: datetime
    updated_at: datetime
    # Set on the dashboards' sessions only: when the video room opens and closes, and whether
    # it is open at the time of the answer (a "join" action; get_session_room gives the link).
    room: RoomState | None = None


class SessionList(Contract):
    sessions: list[Session]
    next_page_token: str = ""


class BookSeriesResponse(Contract):
    series_id: str
    sessions: list[Session]


class RescheduleRequest(Contract):
    """Move a session (and, with `this_and_following`, the series' later ones by the same
    wall-time shift) to start at `starts_at`."""

    tenant_id: Id
    session_id: Id
    starts_at: AwareDatetime
    scope: Scope = "this"


class ChangeRequest(Contract):
    """A coachee's late reschedule, waiting for the coach: the proposed slot is held."""

    request_id: str
    tenant_id: str
    space_id: str
    session_id: str
    status: RequestStatus
    original_starts_at: datetime
    proposed_starts_at: datetime
    proposed_ends_at: datetime
    requested_by_person_id: str
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None


class RescheduleResponse(Contract):
    outcome: Literal["rescheduled", "requested"]
    sessions: list[Session]  # as they are now (moved, or unchanged while requested)
    request: ChangeRequest | None = None


class CancelSessionRequest(Contract):
    tenant_id: Id
    session_id: Id
    scope: Scope = "this"
    reason: CancelReason | None = None  # required from a coach


class CancelResponse(Contract):
    sessions: list[Session]


class BookNextRequest(Contract):
    """Book the session after this one: at `starts_at`, or by default one cadence later at the
    same wall time."""

    tenant_id: Id
    session_id: Id
    starts_at: AwareDatetime | None = None


class MarkAttendanceRequest(Contract):
    tenant_id: Id
    session_id: Id
    attendance: Attendance


class ListSpaceSessionsRequest(PageRequest):
    tenant_id: Id
    space_id: Id


class ListMySessionsRequest(Contract):
    """The caller's own sessions starting in [from_time, to_time), in every tenant."""

    from_time: AwareDatetime
    to_time: AwareDatetime


class ChangeRequestRef(Contract):
    tenant_id: Id
    request_id: Id


class ListChangeRequestsRequest(PageRequest):
    tenant_id: Id
    status: RequestStatus | None = "pending"


class ChangeRequestList(Contract):
    requests: list[ChangeRequest]
    next_page_token: str = ""


class DashboardRequest(Contract):
    tenant_id: Id
    per_space: int = Field(default=3, ge=1, le=20)


class EngagementUse(Contract):
    """The sessions of a space's engagement: planned (its set-up), used (booked, held,
    no-shows, late cancellations that use one), of those held and booked, and left."""

    sessions_planned: int
    sessions_used: int
    sessions_held: int
    sessions_booked: int
    sessions_left: int


class SpaceSessions(Contract):
    space_id: str
    next_sessions: list[Session]
    engagement: EngagementUse | None = None
    # For a space the caller coaches: its sessions waiting to be marked (all, not only the 100
    # of `SchedulingDashboard.to_mark`).
    to_mark: int = 0


class SchedulingDashboard(Contract):
    """For the dashboards: each of the caller's spaces' next sessions; for a coach, the
    sessions to mark and the requests waiting for them."""

    spaces: list[SpaceSessions]
    to_mark: list[Session]
    requests: list[ChangeRequest]


# ---------------------------------------------------------------- policy


class PolicyInput(Contract):
    """More than `free_hours` before: the coachee moves or cancels freely. Between
    `request_hours` and `free_hours`: cancelling is free, moving is a request to the coach.
    Under `request_hours`: cancel only, recorded as late."""

    free_hours: int = Field(default=48, ge=1, le=24 * 30)
    request_hours: int = Field(default=24, ge=0, le=24 * 30)
    late_cancel_uses_session: bool = True


class Policy(PolicyInput):
    tenant_id: str
    updated_at: datetime
    updated_by_person_id: str | None = None


class UpdatePolicyRequest(Contract):
    tenant_id: Id
    policy: PolicyInput


# ---------------------------------------------------------------- video rooms

VideoProvider = Literal["jitsi", "livekit", "jitsi_public"]


class VideoSettingsInput(Contract):
    """A tenant's video provider. `app_secret` is write-only: empty on update keeps the
    current one (when the provider and app id stay the same)."""

    provider: VideoProvider
    server_url: str = Field(default="", max_length=500)
    app_id: str = Field(default="", max_length=200)
    app_secret: str = Field(default="", max_length=500)
    open_minutes_before: int = 15
    close_minutes_after: int = 30


class VideoSettings(Contract):
    tenant_id: str
    provider: VideoProvider | Literal["none"]
    server_url: str = ""
    app_id: str = ""
    has_secret: bool = False
    open_minutes_before: int
    close_minutes_after: int
    # The deployment's provider, used while the tenant sets none.
    deployment_default: bool = False
    updated_at: datetime | None = None
    updated_by_person_id: str | None = None


class UpdateVideoSettingsRequest(Contract):
    tenant_id: Id
    settings: VideoSettingsInput


class SessionRoom(Contract):
    """One participant's way into a session's room, valid until `expires_at`."""

    session_id: str
    provider: VideoProvider
    url: str  # Jitsi: the room's URL, token included; LiveKit: the server's URL
    token: str  # the JWT (Jitsi's or LiveKit's); empty on a public Jitsi server
    room: str
    moderator: bool
    opens_at: datetime
    expires_at: datetime


# ---------------------------------------------------------------- a person's calendar


class CalendarSettingsInput(Contract):
    """A person's reminders: `reminder_minutes` before each session (empty: 24 h and 1 h), or
    none when `reminders_off`."""

    reminders_off: bool = False
    reminder_minutes: list[int] = Field(default_factory=list, max_length=20)
    title: str = Field(default="", max_length=200)  # empty: the neutral one
    show_coach_name: bool = False  # a coachee's entries name their coach


class CalendarSettings(Contract):
    person_id: str
    reminders_off: bool
    reminder_minutes: list[int]  # as applied (the defaults when none were chosen)
    title: str = ""
    show_coach_name: bool = False
    updated_at: datetime | None = None
    feed_created_at: datetime | None = None  # the calendar feed's, if the person has one


class CalendarFeed(Contract):
    """A new feed URL, shown once (only its secret's hash is kept)."""

    url: str
    created_at: datetime


class FeedRequest(Contract):
    token: str = Field(min_length=1, max_length=200)


class FeedContent(Contract):
    ics: str


class UpdateCalendarSettingsRequest(Contract):
    settings: CalendarSettingsInput


# ---------------------------------------------------------------- events


class SessionEvent(EventPayload):
    """A session's full state after the change: ids and times only."""

    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "session_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    session_id: str
    tenant_id: str
    space_id: str
    series_id: str | None = None
    status: SessionStatus
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    coachee_person_id: str
    coach_person_id: str
    co_coach_person_id: str | None = None
    uses_session: bool
    sequence: int
    updated_at: datetime


class SessionBooked(SessionEvent):
    """A session was booked (once, or as an occurrence of a series)."""

    TYPE: ClassVar[str] = "scheduling.session_booked"


class SessionRescheduled(SessionEvent):
    """A session moved (directly, or when the coach approved a request)."""

    TYPE: ClassVar[str] = "scheduling.session_rescheduled"

    previous_starts_at: datetime
    previous_ends_at: datetime


class SessionCancelled(SessionEvent):
    """A session was cancelled: by whom, whether late, why (a code) and whether it counts."""

    TYPE: ClassVar[str] = "scheduling.session_cancelled"

    cancelled_by: Side
    late: bool
    reason: CancelReason | None = None


class SessionHeld(SessionEvent):
    """The coach marked the session held."""

    TYPE: ClassVar[str] = "scheduling.session_held"


class SessionNoShow(SessionEvent):
    """The coach marked a no-show: `absent` says whose."""

    TYPE: ClassVar[str] = "scheduling.session_no_show"

    absent: Literal["coachee", "coach"]


class SessionSnapshot(SessionEvent):
    """A session's current state, republished on an operator's command for consumers that
    start late (docs/adr/0022-republish.md): the live events' state, plus what a cancellation
    or a no-show adds (absent otherwise). No handler acting on sessions subscribes to it, so it
    mails no invitation; its sequence follows the session's live events."""

    TYPE: ClassVar[str] = "scheduling.session_snapshot"

    cancelled_by: Side | None = None
    late: bool | None = None
    reason: CancelReason | None = None
    absent: Literal["coachee", "coach"] | None = None


class RescheduleRequested(EventPayload):
    """A coachee asked the coach to move a session (inside the request window)."""

    TYPE: ClassVar[str] = "scheduling.reschedule_requested"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "request_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    request_id: str
    tenant_id: str
    space_id: str
    session_id: str
    status: RequestStatus
    original_starts_at: datetime
    proposed_starts_at: datetime
    proposed_ends_at: datetime
    expires_at: datetime


class RescheduleRequestClosed(RescheduleRequested):
    """The coach approved or declined the request, or it expired at the original start."""

    TYPE: ClassVar[str] = "scheduling.reschedule_request_closed"


EVENTS: tuple[type[EventPayload], ...] = (
    SessionBooked,
    SessionRescheduled,
    SessionCancelled,
    SessionHeld,
    SessionNoShow,
    SessionSnapshot,
    RescheduleRequested,
    RescheduleRequestClosed,
    completion_event(SERVICE),  # scheduling.person_erased: its part of an erasure is done
)


# ---------------------------------------------------------------- methods


class SchedulingApi(PublishingApi):
    """What the scheduling service serves (its `@rpc` methods, in the order of its service.py)."""

    service = SERVICE

    ping = Method(Empty, PingResponse)
    get_my_availability = Method(Empty, Availability)
    update_my_availability = Method(UpdateAvailabilityRequest, Availability)
    list_slots = Method(SlotsRequest, SlotList)
    book_session = Method(BookSessionRequest, Session)
    book_series = Method(BookSeriesRequest, BookSeriesResponse)
    book_next = Method(BookNextRequest, Session)
    get_session = Method(SessionRef, Session)
    list_space_sessions = Method(ListSpaceSessionsRequest, SessionList)
    list_my_sessions = Method(ListMySessionsRequest, SessionList)
    reschedule_session = Method(RescheduleRequest, RescheduleResponse)
    cancel_session = Method(CancelSessionRequest, CancelResponse)
    mark_attendance = Method(MarkAttendanceRequest, Session)
    list_change_requests = Method(ListChangeRequestsRequest, ChangeRequestList)
    approve_change_request = Method(ChangeRequestRef, RescheduleResponse)
    decline_change_request = Method(ChangeRequestRef, ChangeRequest)
    get_policy = Method(TenantRef, Policy)
    update_policy = Method(UpdatePolicyRequest, Policy)
    get_video_settings = Method(TenantRef, VideoSettings)
    update_video_settings = Method(UpdateVideoSettingsRequest, VideoSettings)
    get_session_room = Method(SessionRef, SessionRoom)
    get_dashboard = Method(DashboardRequest, SchedulingDashboard)
    export_personal_data = Method(Empty, pd.PersonalDataExport)
    get_my_calendar_settings = Method(Empty, CalendarSettings)
    update_my_calendar_settings = Method(UpdateCalendarSettingsRequest, CalendarSettings)
    create_calendar_feed = Method(Empty, CalendarFeed)
    delete_calendar_feed = Method(Empty, Empty)
    get_calendar_feed = Method(FeedRequest, FeedContent)
