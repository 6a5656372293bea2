"""The scheduling nameko service: entrypoints only (rule 2)."""

from __future__ import annotations

import functools
import logging
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.contracts import identity as ic
from services.contracts import scheduling as c
from services.contracts import spaces as sc
from services.contracts.base import Empty
from services.kernel.caller import Caller
from services.kernel.config import settings
from services.kernel.crypto import deployment_master_key
from services.kernel.events import Envelope
from services.kernel.runtime.calls import ServiceRpc
from services.kernel.runtime.database import Database, WorkerDatabase
from services.kernel.runtime.entrypoints import Authentication, rpc
from services.kernel.runtime.eventing import EventRelay, on_event
from services.kernel.runtime.mailer import Mailer, mailer_from
from services.kernel.runtime.sql import UnitOfWork

from . import feeds, handlers, invitations, notices, reminders, video
from .domain.rooms import check_deployment_default
from .mails import MAILS

log = logging.getLogger(__name__)

# How often unanswered reschedule requests are checked for having lapsed.
EXPIRY_SWEEP_SECONDS = 5


@functools.cache
def _mailer() -> Mailer:
    return mailer_from(settings(), MAILS)


class DeploymentCheck(DependencyProvider):  # type: ignore[misc]
    """Refuses to start with a video set-up that is unsafe in production (a public Jitsi
    server without tokens as the deployment's default)."""

    def setup(self) -> None:
        config = settings()
        check_deployment_default(
            config.video_default_provider, production=config.env == "production"
        )


class SchedulingService:
    name = c.SERVICE

    db: WorkerDatabase = Database(c.SERVICE)
    auth = Authentication()
    relay = EventRelay()  # publishes scheduling.* events
    identity = ServiceRpc("identity")
    checked = DeploymentCheck()

    def _contacts(self, person_ids: list[str]) -> list[dict[str, Any]]:
        answer = self.identity.call("contact_details", {"person_ids": person_ids}, as_service=True)
        return list(answer["people"])

    def _name_of(self, person_id: str) -> str:
        found = self._contacts([person_id])
        return str(found[0]["display_name"]) if found else ""

    @rpc(public=True, quiet=True)
    def ping(self, caller: Caller, request: Empty) -> ic.PingResponse:
        return ic.PingResponse(service=self.name, ok=True)

    @rpc
    def get_my_availability(self, caller: Caller, request: Empty) -> c.Availability:
        return handlers.get_my_availability(self.db, caller)

    @rpc
    def update_my_availability(
        self, caller: Caller, request: c.UpdateAvailabilityRequest
    ) -> c.Availability:
        return handlers.update_my_availability(self.db, caller, request)

    @rpc
    def list_slots(self, caller: Caller, request: c.SlotsRequest) -> c.SlotList:
        return handlers.list_slots(self.db, caller, request)

    @rpc
    def book_session(self, caller: Caller, request: c.BookSessionRequest) -> c.Session:
        return handlers.book_session(self.db, caller, request)

    @rpc
    def book_series(self, caller: Caller, request: c.BookSeriesRequest) -> c.BookSeriesResponse:
        return handlers.book_series(self.db, caller, request)

    @rpc
    def book_next(self, caller: Caller, request: c.BookNextRequest) -> c.Session:
        return handlers.book_next(self.db, caller, request)

    @rpc
    def get_session(self, caller: Caller, request: c.SessionRef) -> c.Session:
        return handlers.get_session(self.db, caller, request)

    @rpc
    def list_space_sessions(
        self, caller: Caller, request: c.ListSpaceSessionsRequest
    ) -> c.SessionList:
        return handlers.list_space_sessions(self.db, caller, request)

    @rpc
    def list_my_sessions(self, caller: Caller, request: c.ListMySessionsRequest) -> c.SessionList:
        return handlers.list_my_sessions(self.db, caller, request)

    @rpc
    def reschedule_session(
        self, caller: Caller, request: c.RescheduleRequest
    ) -> c.RescheduleResponse:
        return handlers.reschedule_session(self.db, caller, request)

    @rpc
    def cancel_session(self, caller: Caller, request: c.CancelSessionRequest) -> c.CancelResponse:
        return handlers.cancel_session(self.db, caller, request)

    @rpc
    def mark_attendance(self, caller: Caller, request: c.MarkAttendanceRequest) -> c.Session:
        return handlers.mark_attendance(self.db, caller, request)

    @rpc
    def list_change_requests(
        self, caller: Caller, request: c.ListChangeRequestsRequest
    ) -> c.ChangeRequestList:
        return handlers.list_change_requests(self.db, caller, request)

    @rpc
    def approve_change_request(
        self, caller: Caller, request: c.ChangeRequestRef
    ) -> c.RescheduleResponse:
        return handlers.approve_change_request(self.db, caller, request)

    @rpc
    def decline_change_request(
        self, caller: Caller, request: c.ChangeRequestRef
    ) -> c.ChangeRequest:
        return handlers.decline_change_request(self.db, caller, request)

    @rpc
    def get_policy(self, caller: Caller, request: c.TenantRef) -> c.Policy:
        return handlers.get_policy(self.db, caller, request)

    @rpc
    def update_policy(self, caller: Caller, request: c.UpdatePolicyRequest) -> c.Policy:
        return handlers.update_policy(self.db, caller, request)

    @rpc
    def get_video_settings(self, caller: Caller, request: c.TenantRef) -> c.VideoSettings:
        return video.get_video_settings(
            self.db, deployment_master_key(), settings(), caller, request
        )

    @rpc
    def update_video_settings(
        self, caller: Caller, request: c.UpdateVideoSettingsRequest
    ) -> c.VideoSettings:
        return video.update_video_settings(
            self.db, deployment_master_key(), settings(), caller, request
        )

    @rpc
    def get_session_room(self, caller: Caller, request: c.SessionRef) -> c.SessionRoom:
        return video.get_session_room(
            self.db, deployment_master_key(), settings(), self._name_of, caller, request
        )

    @rpc
    def get_dashboard(self, caller: Caller, request: c.DashboardRequest) -> c.SchedulingDashboard:
        return handlers.get_dashboard(self.db, caller, request)

    @rpc
    def export_personal_data(self, caller: Caller, request: Empty) -> ic.PersonalDataExport:
        return handlers.export_personal_data(self.db, caller)

    @on_event(ic.PersonErased)
    def erase_personal_data(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        handlers.erase_personal_data(uow, event)

    @on_event(ic.TenantCreated)
    def create_default_policy(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        handlers.create_default_policy(uow, event)

    @on_event(c.SessionBooked, transactional=False)
    def invite_booked(self, db: WorkerDatabase, event: c.SessionBooked, envelope: Envelope) -> None:
        invitations.send(db, self._contacts, _mailer(), settings().public_url, event)

    @on_event(c.SessionRescheduled, transactional=False)
    def invite_moved(
        self, db: WorkerDatabase, event: c.SessionRescheduled, envelope: Envelope
    ) -> None:
        invitations.send(db, self._contacts, _mailer(), settings().public_url, event)

    @on_event(c.SessionCancelled, transactional=False)
    def mail_cancellation(
        self, db: WorkerDatabase, event: c.SessionCancelled, envelope: Envelope
    ) -> None:
        """The calendars' CANCEL (or the series' new end), with the notice for the other side."""
        invitations.send(db, self._contacts, _mailer(), settings().public_url, event)

    @on_event(c.RescheduleRequested, transactional=False)
    def mail_request(
        self, db: WorkerDatabase, event: c.RescheduleRequested, envelope: Envelope
    ) -> None:
        notices.send_request(db, self._contacts, _mailer(), settings().public_url, event)

    @on_event(c.RescheduleRequestClosed, transactional=False)
    def mail_request_closed(
        self, db: WorkerDatabase, event: c.RescheduleRequestClosed, envelope: Envelope
    ) -> None:
        notices.send_request(db, self._contacts, _mailer(), settings().public_url, event)

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
        return feeds.create_calendar_feed(self.db, settings().public_url, caller)

    @rpc
    def delete_calendar_feed(self, caller: Caller, request: Empty) -> Empty:
        feeds.delete_calendar_feed(self.db, caller)
        return Empty()

    @rpc(public=True)
    def get_calendar_feed(self, caller: Caller, request: c.FeedRequest) -> c.FeedContent:
        return feeds.get_calendar_feed(self.db, self._contacts, _mailer().domain, request)

    @timer(interval=settings().reminder_sweep_seconds)
    def send_reminders(self) -> None:
        try:
            sent = reminders.sweep(self.db, self._contacts, _mailer(), settings().public_url)
        except Exception:
            log.exception("reminder sweep failed; the next one retries")
            return
        log.debug("reminder sweep done", extra={"count": sent})  # tests wait for sweeps on it
        if sent:
            log.info("reminders sent", extra={"count": sent})

    @timer(interval=EXPIRY_SWEEP_SECONDS)
    def expire_requests(self) -> None:
        try:
            lapsed = handlers.expire_requests(self.db)
        except Exception:
            log.exception("reschedule request sweep failed; the next one retries")
            return
        if lapsed:
            log.info("reschedule requests lapsed", extra={"count": lapsed})


def _space_copies() -> None:
    """One handler per spaces event that carries a space's set-up and status."""
    for model in sc.EVENTS:
        if not (isinstance(model, type) and issubclass(model, sc.SpaceEvent)):
            continue

        def record(self: Any, uow: Any, event: Any, envelope: Envelope) -> None:
            handlers.record_space(uow, event)

        name = "on_" + model.TYPE.replace(".", "_")
        record.__name__ = name
        setattr(SchedulingService, name, on_event(model)(record))


_space_copies()
