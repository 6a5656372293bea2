"""The assessment nameko service: entrypoints only (rule 2)."""

from __future__ import annotations

from typing import Any

from services.contracts import assessment as c
from services.contracts import identity as ic
from services.contracts.base import Empty, PingResponse
from services.kernel.caller import Caller
from services.kernel.crypto import MasterKey, deployment_master_key
from services.kernel.events import Envelope
from services.kernel.runtime.collaborators import Collaborator
from services.kernel.runtime.database import Database
from services.kernel.runtime.entrypoints import Authentication, rpc
from services.kernel.runtime.eventing import EventRelay, on_event

from .handlers import personal_data
from .storage.unit import AssessmentUnit, Db


class AssessmentService:
    name = c.SERVICE

    db: Db = Database(c.SERVICE, unit=AssessmentUnit)
    auth = Authentication()
    relay = EventRelay()  # publishes assessment.* events (erasure completions included)
    master: MasterKey = Collaborator(deployment_master_key)

    @rpc(public=True, quiet=True)
    def ping(self, caller: Caller, request: Empty) -> PingResponse:
        return PingResponse(service=self.name, ok=True)

    @rpc
    def export_personal_data(self, caller: Caller, request: Empty) -> ic.PersonalDataExport:
        return personal_data.export_personal_data(self.db, self.master, caller)

    @on_event(ic.PersonErased)
    def erase_personal_data(self, uow: AssessmentUnit, event: Any, envelope: Envelope) -> None:
        personal_data.erase_personal_data(uow, self.master, event)
