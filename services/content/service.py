"""The content nameko service: entrypoints only (rule 2)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from nameko.timer import timer

from services.contracts import content as c
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
from services.kernel.clock import clock_for
from services.kernel.config import Settings, settings
from services.kernel.crypto import MasterKey, deployment_master_key
from services.kernel.events import Envelope
from services.kernel.runtime import space_copies, tool_copies
from services.kernel.runtime.collaborators import Collaborator
from services.kernel.runtime.database import Database
from services.kernel.runtime.entrypoints import Authentication, rpc
from services.kernel.runtime.eventing import EventRelay, on_event

from .adapters.link_check import LinkChecker
from .domain.xapi import Deployment
from .handlers import (
    keys,
    links,
    modules,
    personal_data,
    recommendations,
    republish,
    resources,
    spaces,
    tools,
    xapi,
)
from .storage.unit import ContentUnit, Db

log = logging.getLogger(__name__)


# SpaceCopies and ToolCopies are not imported by name: `nameko run` would take each for a
# second service.
class ContentService(space_copies.SpaceCopies, tool_copies.ToolCopies):
    name = c.SERVICE

    db: Db = Database(c.SERVICE, unit=ContentUnit)
    auth = Authentication()
    relay = EventRelay()  # publishes content.* events (erasure completions included)
    master: MasterKey = Collaborator(deployment_master_key)
    config: Settings = Collaborator(settings)
    deployment: Deployment = Collaborator(lambda: Deployment(settings().public_url))
    checker: LinkChecker = Collaborator(
        lambda: LinkChecker(clock=clock_for(settings().env, settings().test_clock_path))
    )

    @rpc(public=True, quiet=True)
    def ping(self, caller: Caller, request: Empty) -> PingResponse:
        return PingResponse(service=self.name, ok=True)

    @rpc
    def create_resource(self, caller: Caller, request: c.CreateResourceRequest) -> c.Resource:
        return resources.create_resource(self.db, caller, request)

    @rpc
    def update_resource(self, caller: Caller, request: c.UpdateResourceRequest) -> c.Resource:
        return resources.update_resource(self.db, caller, request)

    @rpc
    def delete_resource(self, caller: Caller, request: c.ResourceRef) -> Empty:
        return resources.delete_resource(self.db, caller, request)

    @rpc
    def get_resource(self, caller: Caller, request: c.ResourceRef) -> c.Resource:
        return resources.get_resource(self.db, caller, request)

    @rpc
    def search_resources(self, caller: Caller, request: c.SearchResourcesRequest) -> c.ResourceList:
        return resources.search_resources(self.db, caller, request)

    @rpc
    def recommend_resource(self, caller: Caller, request: c.RecommendRequest) -> c.Recommendation:
        return recommendations.recommend_resource(self.db, self.master, caller, request)

    @rpc
    def list_recommendations(
        self, caller: Caller, request: c.ListRecommendationsRequest
    ) -> c.RecommendationList:
        return recommendations.list_recommendations(self.db, self.master, caller, request)

    @rpc
    def mark_recommendation(
        self, caller: Caller, request: c.MarkRecommendationRequest
    ) -> c.Recommendation:
        return recommendations.mark_recommendation(self.db, self.master, caller, request)

    @rpc
    def rotate_tenant_key(self, caller: Caller, request: c.TenantRef) -> c.TenantKeyRotation:
        return keys.rotate_tenant_key(self.db, self.master, caller, request)

    @rpc
    def export_personal_data(self, caller: Caller, request: Empty) -> pd.PersonalDataExport:
        return personal_data.export_personal_data(self.db, self.master, caller)

    @rpc(services=(OPERATOR_TOOL,), people=False)
    def republish_state(self, caller: Caller, request: RepublishRequest) -> RepublishReport:
        """`ecoach-ops republish content`: only the operator's tool (ADR 0022)."""
        return republish.republish_state(self.db, request)

    @timer(interval=settings().link_check_sweep_seconds)
    def check_links(self) -> None:
        recheck = timedelta(days=self.config.link_recheck_days)
        try:
            checked = links.check_due_links(self.db, self.checker.check, recheck)
        except Exception:
            log.exception("link check failed; the next sweep retries")
            return
        if checked:
            log.info("links checked", extra={"count": checked})

    def record_space(self, uow: ContentUnit, event: sc.SpaceEvent, envelope: Envelope) -> None:
        spaces.record_space(uow, event)

    def record_tool(self, uow: ContentUnit, event: sc.ToolEvent, envelope: Envelope) -> None:
        tools.record_tool(uow, event, envelope)

    @on_event(ic.PersonErased)
    def erase_personal_data(self, uow: ContentUnit, event: Any, envelope: Envelope) -> None:
        personal_data.erase_personal_data(uow, self.master, event)

    # ---------------------------------------------------------------- e-learning modules

    @rpc
    def import_module(
        self, caller: Caller, request: c.ImportModuleRequest
    ) -> c.ImportModuleResponse:
        return modules.import_module(self.db, caller, request)

    @rpc
    def list_modules(self, caller: Caller, request: c.ListModulesRequest) -> c.ModuleList:
        return modules.list_modules(self.db, caller, request)

    @rpc
    def get_module(self, caller: Caller, request: c.ModuleRef) -> c.ModuleDetail:
        return modules.get_module(self.db, caller, request)

    @rpc
    def export_module(self, caller: Caller, request: c.ModuleRef) -> c.ModuleFolder:
        return modules.export_module(self.db, caller, request)

    @rpc
    def assign_module(self, caller: Caller, request: c.AssignModuleRequest) -> c.ModuleAssignment:
        return modules.assign_module(self.db, caller, request)

    @rpc
    def list_module_assignments(
        self, caller: Caller, request: c.ListModuleAssignmentsRequest
    ) -> c.ModuleAssignmentList:
        return modules.list_module_assignments(self.db, caller, request)

    @rpc
    def open_lesson(self, caller: Caller, request: c.LessonRequest) -> c.ModuleProgress:
        return modules.open_lesson(self.db, caller, request)

    @rpc
    def complete_lesson(self, caller: Caller, request: c.LessonRequest) -> c.ModuleProgress:
        return modules.complete_lesson(self.db, self.deployment, caller, request)

    @rpc
    def get_module_progress(
        self, caller: Caller, request: c.ModuleAssignmentRef
    ) -> c.ModuleProgress:
        return modules.get_module_progress(self.db, caller, request)

    @rpc
    def record_block_answered(self, caller: Caller, request: c.BlockAnsweredRequest) -> Empty:
        return modules.record_block_answered(self.db, self.deployment, caller, request)

    # ---------------------------------------------------------------- xAPI: the operator's LRS

    @rpc
    def get_lrs_settings(self, caller: Caller, request: Empty) -> c.LrsSettings:
        return xapi.get_lrs_settings(self.db, self.master, caller)

    @rpc
    def set_lrs_settings(self, caller: Caller, request: c.LrsSettingsInput) -> c.LrsSettings:
        production = self.config.env == "production"
        return xapi.set_lrs_settings(self.db, self.master, production, caller, request)

    @timer(interval=settings().xapi_push_seconds)
    def push_statements(self) -> None:
        try:
            pushed = xapi.push_pending(self.db, self.master)
        except Exception:
            log.exception("xAPI push failed; the next one retries")
            return
        if pushed:
            log.info("xAPI statements pushed", extra={"count": pushed})
