"""The assessment nameko service: entrypoints only (rule 2)."""

from __future__ import annotations

import logging
from typing import Any

from nameko.timer import timer

from services.contracts import assessment as c
from services.contracts import identity as ic
from services.contracts import personal_data as pd
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
from services.kernel.runtime import space_copies, tool_copies
from services.kernel.runtime.calls import BoundServiceRpc, ServiceRpc, contacts_of
from services.kernel.runtime.collaborators import Collaborator, mailer_of
from services.kernel.runtime.database import Database
from services.kernel.runtime.entrypoints import Authentication, rpc
from services.kernel.runtime.eventing import EventRelay, on_event
from services.kernel.runtime.mailer import Mailer

from .adapters.throttle import RaterLimiter
from .handlers import (
    assignments,
    instruments,
    keys,
    personal_data,
    raters,
    republish,
    spaces,
    tools,
)
from .mails import MAILS
from .storage.unit import AssessmentUnit, Db

log = logging.getLogger(__name__)

RATER_EXPIRY_SWEEP_SECONDS = 60


# SpaceCopies and ToolCopies are not imported by name: `nameko run` would take each for a
# second service.
class AssessmentService(space_copies.SpaceCopies, tool_copies.ToolCopies):
    name = c.SERVICE

    db: Db = Database(c.SERVICE, unit=AssessmentUnit)
    auth = Authentication()
    relay = EventRelay()  # publishes assessment.* events (erasure completions included)
    master: MasterKey = Collaborator(deployment_master_key)
    identity: BoundServiceRpc = ServiceRpc("identity")
    config: Settings = Collaborator(settings)
    mailer: Mailer = mailer_of(MAILS)
    limiter: RaterLimiter = Collaborator(RaterLimiter)

    def _contacts(self, person_ids: list[str]) -> list[ic.ContactDetails]:
        return contacts_of(self.identity, person_ids)

    @rpc(public=True, quiet=True)
    def ping(self, caller: Caller, request: Empty) -> PingResponse:
        return PingResponse(service=self.name, ok=True)

    @rpc
    def list_instruments(
        self, caller: Caller, request: c.ListInstrumentsRequest
    ) -> c.InstrumentList:
        return instruments.list_instruments(self.db, caller, request)

    @rpc
    def get_instrument(self, caller: Caller, request: c.InstrumentRef) -> c.Instrument:
        return instruments.get_instrument(self.db, self.master, caller, request)

    @rpc
    def create_instrument(self, caller: Caller, request: c.CreateInstrumentRequest) -> c.Instrument:
        return instruments.create_instrument(self.db, caller, request)

    @rpc
    def update_instrument(self, caller: Caller, request: c.UpdateInstrumentRequest) -> c.Instrument:
        return instruments.update_instrument(self.db, caller, request)

    @rpc
    def assign_instrument(self, caller: Caller, request: c.AssignInstrumentRequest) -> c.Assignment:
        return assignments.assign_instrument(self.db, self.master, caller, request)

    @rpc
    def get_assignment(self, caller: Caller, request: c.AssignmentRef) -> c.Assignment:
        return assignments.get_assignment(self.db, self.master, caller, request)

    @rpc
    def list_assignments(
        self, caller: Caller, request: c.ListAssignmentsRequest
    ) -> c.AssignmentList:
        return assignments.list_assignments(self.db, self.master, caller, request)

    @rpc
    def save_draft(self, caller: Caller, request: c.AnswersRequest) -> c.Attempt:
        return assignments.save_draft(self.db, self.master, caller, request)

    @rpc
    def submit_attempt(self, caller: Caller, request: c.AnswersRequest) -> c.Attempt:
        return assignments.submit_attempt(self.db, self.master, caller, request)

    @rpc
    def get_attempt(self, caller: Caller, request: c.AttemptRef) -> c.Attempt:
        return assignments.get_attempt(self.db, self.master, caller, request)

    @rpc
    def allow_retake(self, caller: Caller, request: c.AssignmentRef) -> c.Assignment:
        return assignments.allow_retake(self.db, self.master, caller, request)

    @rpc
    def get_trend(self, caller: Caller, request: c.AssignmentRef) -> c.Trend:
        return assignments.get_trend(self.db, self.master, caller, request)

    @rpc
    def invite_raters(self, caller: Caller, request: c.InviteRatersRequest) -> c.RaterCounts:
        return raters.invite_raters(self.db, self.master, caller, request)

    @rpc
    def get_feedback(self, caller: Caller, request: c.AssignmentRef) -> c.Feedback:
        return raters.get_feedback(self.db, self.master, caller, request)

    @rpc(public=True)
    def get_rater_form(self, caller: Caller, request: c.RaterTokenRequest) -> c.RaterForm:
        self.limiter.check(request.token, self.auth.client_address)
        return raters.get_rater_form(self.db, self.master, request)

    @rpc(public=True)
    def submit_rater_answers(
        self, caller: Caller, request: c.RaterAnswersRequest
    ) -> c.RaterReceipt:
        self.limiter.check(request.token, self.auth.client_address)
        return raters.submit_rater_answers(self.db, self.master, request)

    @on_event(c.RaterInvited, transactional=False)
    def send_rater_invitation(self, db: Db, event: c.RaterInvited, envelope: Envelope) -> None:
        raters.send_invitation(
            db, self.master, self._contacts, self.mailer, self.config.public_url, event
        )

    @timer(interval=RATER_EXPIRY_SWEEP_SECONDS)
    def expire_rater_links(self) -> None:
        try:
            expired = raters.expire_links(self.db)
        except Exception:
            log.exception("rater link sweep failed; the next one retries")
            return
        if expired:
            log.info("rater links expired", extra={"count": expired})

    @rpc
    def rotate_tenant_key(self, caller: Caller, request: c.TenantRef) -> c.TenantKeyRotation:
        return keys.rotate_tenant_key(self.db, self.master, caller, request)

    @rpc
    def export_personal_data(self, caller: Caller, request: Empty) -> pd.PersonalDataExport:
        return personal_data.export_personal_data(self.db, self.master, caller)

    @rpc(services=(OPERATOR_TOOL,), people=False)
    def republish_state(self, caller: Caller, request: RepublishRequest) -> RepublishReport:
        """`ecoach-ops republish assessment`: only the operator's tool (ADR 0022)."""
        return republish.republish_state(self.db, request)

    def record_space(self, uow: AssessmentUnit, event: sc.SpaceEvent, envelope: Envelope) -> None:
        spaces.record_space(uow, event)

    def record_tool(self, uow: AssessmentUnit, event: sc.ToolEvent, envelope: Envelope) -> None:
        tools.record_tool(uow, event, envelope)

    @on_event(ic.PersonErased)
    def erase_personal_data(self, uow: AssessmentUnit, event: Any, envelope: Envelope) -> None:
        personal_data.erase_personal_data(uow, self.master, event)
