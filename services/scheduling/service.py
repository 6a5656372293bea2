"""The scheduling nameko service: entrypoints only (rule 2)."""

from __future__ import annotations

import logging
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.contracts import identity as ic
from services.contracts import personal_data as pd
from services.contracts import scheduling as c
from services.contracts import spaces as sc
from services.contracts.base import (
    OPERATOR_TOOL,
    Empty,
    PingResponse,
    RepublishReport,
    RepublishRequest,
)
from services.kernel.caller import Caller
from services.kernel.config import Settings, settings
from services.kernel.crypto import MasterKey, deployment_master_key
from services.kernel.events import Envelope
from services.kernel.runtime import space_copies
from services.kernel.runtime.calls import BoundServiceRpc, ServiceRpc, contacts_of
from services.kernel.runtime.collaborators import Collaborator, mailer_of
from services.kernel.runtime.database import Database
from services.kernel.runtime.entrypoints import Authentication, rpc
from services.kernel.runtime.eventing import EventRelay, on_event
from services.kernel.runtime.mailer import Mailer

from .domain.rooms import check_deployment_default
from .handlers import (
    availability,
    booking,
    calendar,
    changes,
    invitations,
    notices,
    personal_data,
    policy,
    reminders,
    republish,
    requests,
    sessions,
    spaces,
    video,
)
from .mails import MAILS
from .storage.unit import Db, SchedulingUnit

log = logging.getLogger(__name__)

# How often unanswered reschedule requests are checked for having lapsed.
EXPIRY_SWEEP_SECONDS = 5


class DeploymentCheck(DependencyProvider):  # type: ignore[misc]
    """Refuses to start with a video set-up that is unsafe in production (a public Jitsi
    server without tokens as the deployment's default)."""

    def setup(self) -> None:
        config = settings()
        check_deployment_default(
            config.video_default_provider, production=config.env == "production"
        )


# SpaceCopies is not imported by name: `nameko run` would take it for a second service.
class SchedulingService(space_copies.SpaceCopies):
    name = c.SERVICE

    db: Db = Database(c.SERVICE, unit=SchedulingUnit)
    auth = Authentication()
    relay = EventRelay()  # publishes scheduling.* events
    identity: BoundServiceRpc = ServiceRpc("identity")
    checked = DeploymentCheck()
    config: Settings = Collaborator(settings)
    master: MasterKey = Collaborator(deployment_master_key)
    mailer: Mailer = mailer_of(MAILS)

    def _contacts(self, person_ids: list[str]) -> list[ic.ContactDetails]:
        return contacts_of(self.identity, person_ids)

    def _name_of(self, person_id: str) -> str:
        found = self._contacts([person_id])
        return found[0].display_name if found else ""

    @rpc(public=True, quiet=True)
    def ping(self, caller: Caller, request: Empty) -> PingResponse:
        return PingResponse(service=self.name, ok=True)

    @rpc
    def get_my_availability(self, caller: Caller, request: Empty) -> c.Availability:
        return availability.get_my_availability(self.db, caller)

    @rpc
    def update_my_availability(
        self, caller: Caller, request: c.UpdateAvailabilityRequest
    ) -> c.Availability:
        return availability.update_my_availability(self.db, caller, request)

    @rpc
    def list_slots(self, caller: Caller, request: c.SlotsRequest) -> c.SlotList:
        return availability.list_slots(self.db, caller, request)

    @rpc
    def book_session(self, caller: Caller, request: c.BookSessionRequest) -> c.Session:
        return booking.book_session(self.db, caller, request)

    @rpc
    def book_series(self, caller: Caller, request: c.BookSeriesRequest) -> c.BookSeriesResponse:
        return booking.book_series(self.db, caller, request)

    @rpc
    def book_next(self, caller: Caller, request: c.BookNextRequest) -> c.Session:
        return booking.book_next(self.db, caller, request)

    @rpc
    def get_session(self, caller: Caller, request: c.SessionRef) -> c.Session:
        return sessions.get_session(self.db, caller, request)

    @rpc
    def list_space_sessions(
        self, caller: Caller, request: c.ListSpaceSessionsRequest
    ) -> c.SessionList:
        return sessions.list_space_sessions(self.db, caller, request)

    @rpc
    def list_my_sessions(self, caller: Caller, request: c.ListMySessionsRequest) -> c.SessionList:
        return sessions.list_my_sessions(self.db, caller, request)

    @rpc
    def reschedule_session(
        self, caller: Caller, request: c.RescheduleRequest
    ) -> c.RescheduleResponse:
        return changes.reschedule_session(self.db, caller, request)

    @rpc
    def cancel_session(self, caller: Caller, request: c.CancelSessionRequest) -> c.CancelResponse:
        return changes.cancel_session(self.db, caller, request)

    @rpc
    def mark_attendance(self, caller: Caller, request: c.MarkAttendanceRequest) -> c.Session:
        return changes.mark_attendance(self.db, caller, request)

    @rpc
    def list_change_requests(
        self, caller: Caller, request: c.ListChangeRequestsRequest
    ) -> c.ChangeRequestList:
        return requests.list_change_requests(self.db, caller, request)

    @rpc
    def approve_change_request(
        self, caller: Caller, request: c.ChangeRequestRef
    ) -> c.RescheduleResponse:
        return requests.approve_change_request(self.db, caller, request)

    @rpc
    def decline_change_request(
        self, caller: Caller, request: c.ChangeRequestRef
    ) -> c.ChangeRequest:
        return requests.decline_change_request(self.db, caller, request)

    @rpc
    def get_policy(self, caller: Caller, request: c.TenantRef) -> c.Policy:
        return policy.get_policy(self.db, caller, request)

    @rpc
    def update_policy(self, caller: Caller, request: c.UpdatePolicyRequest) -> c.Policy:
        return policy.update_policy(self.db, caller, request)

    @rpc
    def get_video_settings(self, caller: Caller, request: c.TenantRef) -> c.VideoSettings:
        return video.get_video_settings(self.db, self.master, self.config, caller, request)

    @rpc
    def update_video_settings(
        self, caller: Caller, request: c.UpdateVideoSettingsRequest
    ) -> c.VideoSettings:
        return video.update_video_settings(self.db, self.master, self.config, caller, request)

    @rpc
    def get_session_room(self, caller: Caller, request: c.SessionRef) -> c.SessionRoom:
        return video.get_session_room(
            self.db, self.master, self.config, self._name_of, caller, request
        )

    @rpc
    def get_dashboard(self, caller: Caller, request: c.DashboardRequest) -> c.SchedulingDashboard:
        return sessions.get_dashboard(self.db, caller, request)

    @rpc
    def export_personal_data(self, caller: Caller, request: Empty) -> pd.PersonalDataExport:
        return personal_data.export_personal_data(self.db, caller)

    @rpc(services=(OPERATOR_TOOL,), people=False)
    def republish_state(self, caller: Caller, request: RepublishRequest) -> RepublishReport:
        """`ecoach-ops republish scheduling`: only the operator's tool (ADR 0022)."""
        return republish.republish_state(self.db, request)

    @on_event(ic.PersonErased)
    def erase_personal_data(self, uow: SchedulingUnit, event: Any, envelope: Envelope) -> None:
        personal_data.erase_personal_data(uow, event)

    @on_event(ic.TenantCreated)
    def create_default_policy(self, uow: SchedulingUnit, event: Any, envelope: Envelope) -> None:
        policy.create_default_policy(uow, event)

    # Spaces' events that carry a space's set-up and status keep scheduling's copy of the
    # space (the kernel's SpaceCopies declares one handler per event type).
    def record_space(self, uow: SchedulingUnit, event: sc.SpaceEvent, envelope: Envelope) -> None:
        spaces.record_space(uow, event)

    @on_event(c.SessionBooked, transactional=False)
    def invite_booked(self, db: Db, event: c.SessionBooked, envelope: Envelope) -> None:
        invitations.send(db, self._contacts, self.mailer, self.config.public_url, event)

    @on_event(c.SessionRescheduled, transactional=False)
    def invite_moved(self, db: Db, event: c.SessionRescheduled, envelope: Envelope) -> None:
        invitations.send(db, self._contacts, self.mailer, self.config.public_url, event)

    @on_event(c.SessionCancelled, transactional=False)
    def mail_cancellation(self, db: Db, event: c.SessionCancelled, envelope: Envelope) -> None:
        """The calendars' CANCEL (or the series' new end), with the notice for the other side."""
        invitations.send(db, self._contacts, self.mailer, self.config.public_url, event)

    @on_event(c.RescheduleRequested, transactional=False)
    def mail_request(self, db: Db, event: c.RescheduleRequested, envelope: Envelope) -> None:
        notices.send_request(db, self._contacts, self.mailer, self.config.public_url, event)

    @on_event(c.RescheduleRequestClosed, transactional=False)
    def mail_request_closed(
        self, db: Db, event: c.RescheduleRequestClosed, envelope: Envelope
    ) -> None:
        notices.send_request(db, self._contacts, self.mailer, self.config.public_url, event)

    @rpc
    def get_my_calendar_settings(self, caller: Caller, request: Empty) -> c.CalendarSettings:
        return reminders.get_my_calendar_settings(self.db, caller)

    @rpc
    def update_my_calendar_settings(
        self, caller: Caller, request: c.UpdateCalendarSettingsRequest
    ) -> c.CalendarSettings:
        return reminders.update_my_calendar_settings(self.db, caller, request)

    @rpc
    def create_calendar_feed(self, caller: Caller, request: Empty) -> c.CalendarFeed:
        return calendar.create_calendar_feed(self.db, self.config.public_url, caller)

    @rpc
    def delete_calendar_feed(self, caller: Caller, request: Empty) -> Empty:
        calendar.delete_calendar_feed(self.db, caller)
        return Empty()

    @rpc(public=True)
    def get_calendar_feed(self, caller: Caller, request: c.FeedRequest) -> c.FeedContent:
        return calendar.get_calendar_feed(self.db, self._contacts, self.mailer.domain, request)

    @timer(interval=settings().reminder_sweep_seconds)
    def send_reminders(self) -> None:
        try:
            sent = reminders.sweep(self.db, self._contacts, self.mailer, self.config.public_url)
        except Exception:
            log.exception("reminder sweep failed; the next one retries")
            return
        log.debug("reminder sweep done", extra={"count": sent})  # tests wait for sweeps on it
        if sent:
            log.info("reminders sent", extra={"count": sent})

    @timer(interval=EXPIRY_SWEEP_SECONDS)
    def expire_requests(self) -> None:
        try:
            lapsed = requests.expire_requests(self.db)
        except Exception:
            log.exception("reschedule request sweep failed; the next one retries")
            return
        if lapsed:
            log.info("reschedule requests lapsed", extra={"count": lapsed})
