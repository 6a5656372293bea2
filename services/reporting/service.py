"""The reporting nameko service: entrypoints only (rule 2).

Fed only by events: each handler applies one event to one fact (handlers/facts.py); HR reads
aggregates through `get_report` and `export_report`, under the disclosure rule."""

from __future__ import annotations

import logging
from typing import Any

from nameko.timer import timer

from services.contracts import assessment as ac
from services.contracts import content as cc
from services.contracts import identity as ic
from services.contracts import personal_data as pd
from services.contracts import reporting as c
from services.contracts import scheduling as sch
from services.contracts import spaces as sc
from services.contracts.base import (
    OPERATOR_TOOL,
    Empty,
    PingResponse,
    TenantKeyRotation,
    TenantRef,
)
from services.kernel.caller import Caller
from services.kernel.config import Settings, settings
from services.kernel.crypto import MasterKey, deployment_master_key
from services.kernel.events import Envelope
from services.kernel.runtime import space_copies, tool_copies
from services.kernel.runtime.collaborators import Collaborator
from services.kernel.runtime.database import Database
from services.kernel.runtime.entrypoints import Authentication, rpc
from services.kernel.runtime.eventing import EventRelay, on_event
from services.kernel.runtime.webhooks import WebhookDeliverer, WebhookPoster

from .handlers import facts, keys, personal_data, rebuild, reports, webhooks
from .storage.unit import Db, ReportingUnit

log = logging.getLogger(__name__)


def _poster() -> WebhookPoster:
    """https only in production. A test deployment (ECOACH_ENV=test, never a tenant's or a
    person's setting) may reach receivers on 127.0.0.1, where its tests serve them."""
    env = settings().env
    allow = ("127.0.0.1/32",) if env == "test" else ()
    return WebhookPoster(https_only=env == "production", allow=allow)


# SpaceCopies and ToolCopies are not imported by name: `nameko run` would take each for a
# second service. They declare one handler per spaces.space_* and spaces.tool_* event.
class ReportingService(space_copies.SpaceCopies, tool_copies.ToolCopies):
    name = c.SERVICE

    db: Db = Database(c.SERVICE, unit=ReportingUnit)
    auth = Authentication()
    relay = EventRelay()  # publishes reporting.person_erased and reporting.digest_published
    master: MasterKey = Collaborator(deployment_master_key)  # seals the webhooks' secrets
    config: Settings = Collaborator(settings)
    poster: WebhookPoster = Collaborator(_poster)

    @rpc(public=True, quiet=True)
    def ping(self, caller: Caller, request: Empty) -> PingResponse:
        return PingResponse(service=self.name, ok=True)

    @rpc
    def get_report(self, caller: Caller, request: c.ReportRequest) -> c.Report:
        return reports.get_report(self.db, caller, request)

    @rpc
    def export_report(self, caller: Caller, request: c.ReportRequest) -> c.ReportCsv:
        return reports.export_report(self.db, caller, request)

    @rpc
    def export_personal_data(self, caller: Caller, request: Empty) -> pd.PersonalDataExport:
        return personal_data.export_personal_data(self.db, caller)

    @rpc(services=(OPERATOR_TOOL,), people=False)
    def reset_facts(self, caller: Caller, request: c.ResetFactsRequest) -> c.ResetFactsReport:
        """`ecoach-ops rebuild-reporting`: only the operator's tool (ADR 0025, rebuilding)."""
        return rebuild.reset_facts(self.db, request)

    # ---------------------------------------------------------------- webhooks (ADR 0023)

    @rpc
    def create_webhook(self, caller: Caller, request: c.CreateWebhookRequest) -> c.NewWebhook:
        production = self.config.env == "production"
        return webhooks.create_webhook(self.db, self.master, production, caller, request)

    @rpc
    def list_webhooks(self, caller: Caller, request: TenantRef) -> c.WebhookList:
        return webhooks.list_webhooks(self.db, caller, request)

    @rpc
    def delete_webhook(self, caller: Caller, request: c.WebhookRef) -> Empty:
        return webhooks.delete_webhook(self.db, caller, request)

    @rpc
    def list_webhook_deliveries(
        self, caller: Caller, request: c.ListWebhookDeliveriesRequest
    ) -> c.WebhookDeliveryList:
        return webhooks.list_webhook_deliveries(self.db, caller, request)

    @rpc
    def send_test_delivery(self, caller: Caller, request: c.WebhookRef) -> c.WebhookDelivery:
        return webhooks.send_test_delivery(self.db, caller, request)

    @rpc
    def rotate_tenant_key(self, caller: Caller, request: TenantRef) -> TenantKeyRotation:
        return keys.rotate_tenant_key(self.db, self.master, caller, request)

    @timer(interval=3600)
    def prune_webhooks(self) -> None:
        """Deliveries that ended and digest claims older than 90 days (handlers/webhooks.py)."""
        try:
            deliveries, digests = webhooks.prune(self.db)
        except Exception:
            log.exception("pruning webhook deliveries failed; the next timer retries")
            return
        if deliveries or digests:
            log.info("webhooks pruned", extra={"deliveries": deliveries, "digests": digests})

    # Checked every minute at most: a digest goes out soon after its period starts (UTC midnight
    # for a day), once per tenant and period (the slot's claim), however many instances.
    @timer(interval=min(settings().reporting_digest_seconds, 60.0))
    def publish_digests(self) -> None:
        try:
            published = webhooks.publish_digests(self.db, self.config.reporting_digest_seconds)
        except Exception:
            log.exception("digests failed; the next timer retries")
            return
        if published:
            log.info("digests published", extra={"count": published})

    @timer(interval=settings().webhook_delivery_seconds)
    def deliver_webhooks(self) -> None:
        deliverer = WebhookDeliverer(
            c.SERVICE, self.db.engine, self.master, self.db.clock, self.poster
        )
        try:
            attempts = deliverer.run_once()
        except Exception:
            log.exception("webhook deliveries failed; the next timer retries")
            return
        if attempts:
            log.info("webhook attempts", extra={"count": attempts})

    # ---------------------------------------------------------------- facts from events

    @on_event(ic.MembershipChanged)
    def on_identity_membership_changed(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_membership(uow, event, envelope)

    def record_space(self, uow: ReportingUnit, event: sc.SpaceEvent, envelope: Envelope) -> None:
        facts.record_space(uow, event, envelope)

    def record_tool(self, uow: ReportingUnit, event: sc.ToolEvent, envelope: Envelope) -> None:
        facts.record_tool(uow, event, envelope)

    @on_event(sc.GoalAchieved)
    def on_spaces_goal_achieved(self, uow: ReportingUnit, event: Any, envelope: Envelope) -> None:
        facts.record_goal(uow, event, envelope)

    @on_event(sch.SessionBooked)
    def on_scheduling_session_booked(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_session(uow, event, envelope)

    @on_event(sch.SessionRescheduled)
    def on_scheduling_session_rescheduled(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_session(uow, event, envelope)

    @on_event(sch.SessionCancelled)
    def on_scheduling_session_cancelled(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_session(uow, event, envelope)

    @on_event(sch.SessionHeld)
    def on_scheduling_session_held(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_session(uow, event, envelope)

    @on_event(sch.SessionNoShow)
    def on_scheduling_session_no_show(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_session(uow, event, envelope)

    @on_event(ac.AssignmentCreated)
    def on_assessment_assignment_created(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_assessment(uow, event, envelope)

    @on_event(ac.AttemptSubmitted)
    def on_assessment_attempt_submitted(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_assessment(uow, event, envelope)

    @on_event(cc.ModuleStarted)
    def on_content_module_started(self, uow: ReportingUnit, event: Any, envelope: Envelope) -> None:
        facts.record_module(uow, event, envelope)

    @on_event(cc.ModuleCompleted)
    def on_content_module_completed(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_module(uow, event, envelope)

    # The republish snapshots (ADR 0022) carry the live events' state and go to the same
    # functions. Reporting keeps facts and acts on nothing, so it may take them
    # (tests/unit/test_republish.py: SNAPSHOT_CONSUMERS).

    @on_event(sc.SpaceSnapshot)
    def on_spaces_space_snapshot(self, uow: ReportingUnit, event: Any, envelope: Envelope) -> None:
        facts.record_space(uow, event, envelope)

    @on_event(sc.GoalSnapshot)
    def on_spaces_goal_snapshot(self, uow: ReportingUnit, event: Any, envelope: Envelope) -> None:
        facts.record_goal(uow, event, envelope)

    @on_event(sc.ToolSnapshot)
    def on_spaces_tool_snapshot(self, uow: ReportingUnit, event: Any, envelope: Envelope) -> None:
        facts.record_tool(uow, event, envelope)

    @on_event(sch.SessionSnapshot)
    def on_scheduling_session_snapshot(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_session(uow, event, envelope)

    @on_event(ac.AssignmentSnapshot)
    def on_assessment_assignment_snapshot(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_assessment(uow, event, envelope)

    @on_event(cc.ModuleSnapshot)
    def on_content_module_snapshot(
        self, uow: ReportingUnit, event: Any, envelope: Envelope
    ) -> None:
        facts.record_module(uow, event, envelope)

    @on_event(ic.PersonErased)
    def erase_personal_data(self, uow: ReportingUnit, event: Any, envelope: Envelope) -> None:
        personal_data.erase_personal_data(uow, event)
