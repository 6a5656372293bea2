"""The spaces nameko service: entrypoints only (rule 2)."""

from __future__ import annotations

import logging
from typing import Any

from nameko.timer import timer

from services.contracts import assessment as ac
from services.contracts import content as cc
from services.contracts import identity as ic
from services.contracts import personal_data as pd
from services.contracts import scheduling as schc
from services.contracts import spaces as c
from services.contracts.base import (
    OPERATOR_TOOL,
    Empty,
    PageRequest,
    PingResponse,
    RepublishReport,
    RepublishRequest,
)
from services.kernel.caller import Caller
from services.kernel.config import Settings, settings
from services.kernel.crypto import MasterKey, deployment_master_key
from services.kernel.events import Envelope
from services.kernel.runtime.calls import BoundServiceRpc, ServiceRpc, contacts_of
from services.kernel.runtime.collaborators import Collaborator, mailer_of
from services.kernel.runtime.database import Database
from services.kernel.runtime.entrypoints import Authentication, rpc
from services.kernel.runtime.eventing import EventRelay, on_event
from services.kernel.runtime.mailer import Mailer

from .domain.model import MemberFacts
from .handlers import (
    coaches,
    goals,
    keys,
    notes,
    personal_data,
    republish,
    roster,
    spaces,
    toolbox,
)
from .mails import MAILS
from .storage.unit import Db, SpacesUnit

log = logging.getLogger(__name__)


def _facts(m: ic.ResolvedMember) -> MemberFacts:
    """identity's ResolvedMember as the domain reads it (an operator as the role "operator")."""
    roles = tuple(m.roles) + (("operator",) if m.operator else ())
    return m.person_id, roles, m.status


class SpacesService:
    name = c.SERVICE

    db: Db = Database(c.SERVICE, unit=SpacesUnit)
    auth = Authentication()
    relay = EventRelay()  # publishes spaces.space_* events
    identity: BoundServiceRpc = ServiceRpc("identity")
    master: MasterKey = Collaborator(deployment_master_key)
    config: Settings = Collaborator(settings)
    mailer: Mailer = mailer_of(MAILS)

    def _contacts(self, person_ids: list[str]) -> list[ic.ContactDetails]:
        return contacts_of(self.identity, person_ids)

    def _resolve(self, tenant_id: str, member_ids: list[str]) -> dict[str, MemberFacts]:
        answer = self.identity.call(
            ic.IdentityApi.resolve_members,
            ic.ResolveMembersRequest(tenant_id=tenant_id, member_ids=member_ids),
            as_service=True,
        )
        return {m.member_id: _facts(m) for m in answer.members}

    @rpc(public=True, quiet=True)
    def ping(self, caller: Caller, request: Empty) -> PingResponse:
        return PingResponse(service=self.name, ok=True)

    @rpc
    def create_space(self, caller: Caller, request: c.CreateSpaceRequest) -> c.Space:
        return spaces.create_space(self.db, self.master, self._resolve, caller, request)

    def _resolve_emails(
        self, tenant_id: str, emails: list[str]
    ) -> dict[str, tuple[str, MemberFacts]]:
        answer = self.identity.call(
            ic.IdentityApi.resolve_member_emails,
            ic.ResolveMemberEmailsRequest(tenant_id=tenant_id, emails=emails),
            as_service=True,
        )
        return {m.email.casefold(): (m.member_id, _facts(m)) for m in answer.members}

    @rpc
    def import_spaces(
        self, caller: Caller, request: c.ImportSpacesRequest
    ) -> c.ImportSpacesResponse:
        return spaces.import_spaces(self.db, self.master, self._resolve_emails, caller, request)

    @rpc
    def get_space(self, caller: Caller, request: c.SpaceRef) -> c.Space:
        return spaces.get_space(self.db, self.master, caller, request)

    @rpc
    def list_spaces(self, caller: Caller, request: c.ListSpacesRequest) -> c.SpaceList:
        return spaces.list_spaces(self.db, self.master, caller, request)

    @rpc
    def update_set_up(self, caller: Caller, request: c.UpdateSetUpRequest) -> c.Space:
        return spaces.update_set_up(self.db, self.master, self._resolve, caller, request)

    @rpc
    def change_coach(self, caller: Caller, request: c.ChangeCoachRequest) -> c.Space:
        return coaches.change_coach(self.db, self.master, self._resolve, caller, request)

    @rpc
    def change_co_coach(self, caller: Caller, request: c.ChangeCoCoachRequest) -> c.Space:
        return coaches.change_co_coach(self.db, self.master, self._resolve, caller, request)

    @rpc
    def get_pending_coach_change(
        self, caller: Caller, request: c.PendingCoachChangeRequest
    ) -> c.PendingCoachChange:
        return coaches.get_pending_coach_change(self.db, self.master, caller, request)

    @rpc
    def accept_coach_change(self, caller: Caller, request: c.PendingCoachChangeRequest) -> c.Space:
        return coaches.accept_coach_change(self.db, self.master, self._resolve, caller, request)

    @rpc
    def decline_coach_change(self, caller: Caller, request: c.PendingCoachChangeRequest) -> c.Space:
        return coaches.decline_coach_change(self.db, self.master, caller, request)

    @rpc
    def share_earlier_content(self, caller: Caller, request: c.SpaceRef) -> c.Space:
        return coaches.share_earlier_content(self.db, self.master, caller, request)

    @rpc
    def update_content(self, caller: Caller, request: c.UpdateContentRequest) -> c.Space:
        return spaces.update_content(self.db, self.master, caller, request)

    @rpc
    def move_space(self, caller: Caller, request: c.MoveSpaceRequest) -> c.Space:
        return spaces.move_space(self.db, self.master, caller, request)

    @rpc
    def create_goal(self, caller: Caller, request: c.CreateGoalRequest) -> c.Goal:
        return goals.create_goal(self.db, self.master, caller, request)

    @rpc
    def update_goal(self, caller: Caller, request: c.UpdateGoalRequest) -> c.Goal:
        return goals.update_goal(self.db, self.master, caller, request)

    @rpc
    def archive_goal(self, caller: Caller, request: c.GoalRef) -> c.Goal:
        return goals.archive_goal(self.db, self.master, caller, request)

    @rpc
    def get_goal(self, caller: Caller, request: c.GoalRef) -> c.Goal:
        return goals.get_goal(self.db, self.master, caller, request)

    @rpc
    def list_goals(self, caller: Caller, request: c.ListGoalsRequest) -> c.GoalList:
        return goals.list_goals(self.db, self.master, caller, request)

    @rpc
    def goal_history(self, caller: Caller, request: c.GoalHistoryRequest) -> c.GoalHistory:
        return goals.goal_history(self.db, self.master, caller, request)

    @rpc
    def create_note(self, caller: Caller, request: c.CreateNoteRequest) -> c.Note:
        return notes.create_note(self.db, self.master, caller, request)

    @rpc
    def get_note(self, caller: Caller, request: c.NoteRef) -> c.Note:
        return notes.get_note(self.db, self.master, caller, request)

    @rpc
    def list_notes(self, caller: Caller, request: c.ListNotesRequest) -> c.NoteList:
        return notes.list_notes(self.db, self.master, caller, request)

    @rpc
    def update_note(self, caller: Caller, request: c.UpdateNoteRequest) -> c.Note:
        return notes.update_note(self.db, self.master, caller, request)

    @rpc
    def delete_note(self, caller: Caller, request: c.NoteRef) -> Empty:
        return notes.delete_note(self.db, self.master, caller, request)

    @rpc
    def list_note_revisions(self, caller: Caller, request: c.NotePageRequest) -> c.NoteRevisionList:
        return notes.list_note_revisions(self.db, self.master, caller, request)

    @rpc
    def list_note_reads(self, caller: Caller, request: c.SpacePageRequest) -> c.NoteReadList:
        return notes.list_note_reads(self.db, self.master, caller, request)

    @rpc
    def list_refused_note_reads(self, caller: Caller, request: PageRequest) -> c.NoteReadList:
        return notes.list_refused_note_reads(self.db, caller, request)

    @rpc
    def get_coach_roster(self, caller: Caller, request: c.ListSpacesRequest) -> c.CoachRoster:
        return roster.get_coach_roster(self.db, self.master, caller, request)

    @rpc
    def rotate_tenant_key(self, caller: Caller, request: c.TenantRef) -> c.TenantKeyRotation:
        return keys.rotate_tenant_key(self.db, self.master, caller, request)

    @rpc
    def export_personal_data(self, caller: Caller, request: Empty) -> pd.PersonalDataExport:
        return personal_data.export_personal_data(self.db, self.master, caller)

    @rpc(services=(OPERATOR_TOOL,), people=False)
    def republish_state(self, caller: Caller, request: RepublishRequest) -> RepublishReport:
        """`ecoach-ops republish spaces`: only the operator's tool (ADR 0022)."""
        return republish.republish_state(self.db, request)

    @rpc
    def add_tool(self, caller: Caller, request: c.AddToolRequest) -> c.Tool:
        return toolbox.add_tool(self.db, self.master, self._contacts, caller, request)

    @rpc
    def update_tool(self, caller: Caller, request: c.UpdateToolRequest) -> c.Tool:
        return toolbox.update_tool(self.db, self.master, self._contacts, caller, request)

    @rpc
    def list_tools(self, caller: Caller, request: c.SpaceRef) -> c.ToolList:
        return toolbox.list_tools(self.db, self.master, caller, request)

    @rpc
    def unlock_tool(self, caller: Caller, request: c.ToolRef) -> c.Tool:
        return toolbox.unlock_tool(self.db, self.master, caller, request)

    @rpc
    def lock_tool(self, caller: Caller, request: c.ToolRef) -> c.Tool:
        return toolbox.lock_tool(self.db, self.master, caller, request)

    @rpc
    def move_tool(self, caller: Caller, request: c.MoveToolRequest) -> c.ToolList:
        return toolbox.move_tool(self.db, self.master, caller, request)

    @rpc
    def remove_tool(self, caller: Caller, request: c.ToolRef) -> Empty:
        return toolbox.remove_tool(self.db, self.master, caller, request)

    @timer(interval=settings().toolbox_sweep_seconds)
    def sweep_toolbox(self) -> None:
        """Tools whose date came unlock; the mails owed for unlocks leave (once each)."""
        try:
            toolbox.sweep_dates(self.db)
            sent = toolbox.send_mails(self.db, self._contacts, self.mailer, self.config.public_url)
        except Exception:
            log.exception("toolbox sweep failed; the next one retries")
            return
        log.debug("toolbox sweep done", extra={"count": sent})  # tests wait for sweeps on it
        if sent:
            log.info("tool unlock mails sent", extra={"count": sent})

    @on_event(schc.SessionBooked)
    def record_session(self, uow: SpacesUnit, event: Any, envelope: Envelope) -> None:
        """Sessions booked in each space: a shared note may link to one of them."""
        notes.record_session(uow, event)
        toolbox.session_changed(uow, event, envelope.type, envelope.sequence)

    @on_event(schc.SessionHeld)
    def session_held(self, uow: SpacesUnit, event: Any, envelope: Envelope) -> None:
        toolbox.session_changed(uow, event, envelope.type, envelope.sequence)

    @on_event(schc.SessionNoShow)
    def session_no_show(self, uow: SpacesUnit, event: Any, envelope: Envelope) -> None:
        toolbox.session_changed(uow, event, envelope.type, envelope.sequence)

    @on_event(schc.SessionCancelled)
    def session_cancelled(self, uow: SpacesUnit, event: Any, envelope: Envelope) -> None:
        toolbox.session_changed(uow, event, envelope.type, envelope.sequence)

    @on_event(ac.AttemptSubmitted)
    def assessment_submitted(self, uow: SpacesUnit, event: Any, envelope: Envelope) -> None:
        toolbox.target_done(uow, envelope.type, event.assignment_id, event)

    @on_event(cc.ModuleCompleted)
    def module_completed(self, uow: SpacesUnit, event: Any, envelope: Envelope) -> None:
        toolbox.target_done(uow, envelope.type, event.assignment_id, event)

    @on_event(cc.RecommendationMarked)
    def recommendation_marked(self, uow: SpacesUnit, event: Any, envelope: Envelope) -> None:
        toolbox.target_done(uow, envelope.type, event.recommendation_id, event)

    @on_event(ic.PersonErased)
    def erase_personal_data(self, uow: SpacesUnit, event: Any, envelope: Envelope) -> None:
        personal_data.erase_personal_data(uow, self.master, event)
