"""gRPC servicer for the content service: ContentService."""

from __future__ import annotations

import json
from typing import Any

from services.contracts import content as c
from services.contracts.content import ContentApi
from services.kernel.errors import invalid

from . import convert as cv
from .calls import Backend, CallContext, handler
from .convert import parse_space, space_name
from .pb import content_pb2 as pb
from .pb import content_pb2_grpc as pb_grpc
from .pb import spaces_pb2 as spb

_KIND = {"article": pb.ARTICLE, "video": pb.VIDEO, "book": pb.BOOK, "podcast": pb.PODCAST}
_KIND_IN = {v: k for k, v in _KIND.items()}
_SCOPE = {"global": pb.GLOBAL, "tenant": pb.TENANT, "private": pb.PRIVATE}
_SCOPE_IN = {v: k for k, v in _SCOPE.items()}
_LINK = {
    "unchecked": pb.UNCHECKED,
    "ok": pb.LINK_OK,
    "broken": pb.LINK_BROKEN,
    "unreachable": pb.LINK_UNREACHABLE,
    "refused": pb.LINK_REFUSED,
}
_STATUS = {"new": pb.NEW, "read": pb.READ}
_SOURCE = {"shipped": pb.MODULE_SHIPPED, "imported": pb.MODULE_IMPORTED}
_PROGRESS = {
    "not_started": pb.PROGRESS_NOT_STARTED,
    "started": pb.PROGRESS_STARTED,
    "completed": pb.PROGRESS_COMPLETED,
}
_ANSWERED_IN = {pb.ANSWERED_REFLECTION: "reflection", pb.ANSWERED_QUIZ: "quiz"}


def _enum_in(table: dict[int, str], value: int, field: str, *, required: bool) -> str | None:
    """A proto enum's value as the contract's literal; unspecified is None (or required)."""
    if value in table:
        return table[value]
    if value == 0 and not required:
        return None
    raise invalid(**{field: "is not one of the accepted values" if value else "is required"})


def _fields_in(request: Any) -> dict[str, Any]:
    return {
        "kind": _enum_in(_KIND_IN, request.kind, "kind", required=True),
        "title": request.title,
        "url": request.url,
        "author": request.author,
        "language": request.language,
        "minutes": request.minutes,
        "tags": list(request.tags),
        "why": request.why,
    }


def resource_out(r: c.Resource) -> pb.Resource:
    out = pb.Resource(
        resource_id=r.resource_id,
        scope=_SCOPE[r.scope],
        tenant_id=r.tenant_id,
        owner_person_id=r.owner_person_id,
        kind=_KIND[r.kind],
        title=r.title,
        url=r.url,
        author=r.author,
        language=r.language,
        minutes=r.minutes,
        tags=r.tags,
        why=r.why,
        link_status=_LINK[r.link_status],
        create_time=cv.timestamp(r.created_at),
        update_time=cv.timestamp(r.updated_at),
    )
    if r.link_checked_at is not None:
        out.link_check_time.CopyFrom(cv.timestamp(r.link_checked_at))
    return out


def recommendation_out(r: c.Recommendation) -> pb.Recommendation:
    copy = r.resource
    out = pb.Recommendation(
        recommendation_id=r.recommendation_id,
        space=space_name(r.tenant_id, r.space_id),
        resource_id=r.resource_id,
        resource=pb.RecommendedResource(
            kind=_KIND[copy.kind],
            title=copy.title,
            url=copy.url,
            author=copy.author,
            language=copy.language,
            minutes=copy.minutes,
            tags=copy.tags,
            why=copy.why,
        ),
        note=r.note,
        recommended_by_person_id=r.recommended_by_person_id,
        status=_STATUS[r.status],
        create_time=cv.timestamp(r.created_at),
        update_time=cv.timestamp(r.updated_at),
    )
    if r.useful is not None:
        out.useful = r.useful
    return out


def _local(t: c.LocalText) -> pb.LocalText:
    return pb.LocalText(en=t.en, fr=t.fr)


def module_out(m: c.ModuleSummary) -> pb.Module:
    out = pb.Module(
        slug=m.slug,
        version=m.version,
        source=_SOURCE[m.source],
        title=_local(m.title),
        summary=_local(m.summary),
        minutes=m.minutes,
        lesson_count=m.lesson_count,
    )
    if isinstance(m, c.ModuleDetail):
        out.document_json = json.dumps(m.document, ensure_ascii=False)
    return out


def progress_out(p: c.ModuleProgress) -> pb.ModuleProgress:
    out = pb.ModuleProgress(
        assignment_id=p.assignment_id,
        status=_PROGRESS[p.status],
        version=p.version,
        lessons=p.lessons,
        position=p.position,
        lessons_completed=p.lessons_completed,
        seconds=p.seconds,
    )
    for field, value in (
        ("start_time", p.started_at),
        ("last_seen_time", p.last_seen_at),
        ("complete_time", p.completed_at),
    ):
        if value is not None:
            getattr(out, field).CopyFrom(cv.timestamp(value))
    return out


def module_assignment_out(a: c.ModuleAssignment) -> pb.ModuleAssignment:
    return pb.ModuleAssignment(
        assignment_id=a.assignment_id,
        space=space_name(a.tenant_id, a.space_id),
        coachee_person_id=a.coachee_person_id,
        slug=a.slug,
        title=_local(a.title),
        assigned_by_person_id=a.assigned_by_person_id,
        create_time=cv.timestamp(a.created_at),
        progress=progress_out(a.progress),
    )


def _space_id(name: str) -> str:
    return parse_space(name, "parent")["space_id"]


class ContentService(pb_grpc.ContentServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def CreateResource(self, request: Any, call: CallContext) -> pb.Resource:
        scope = _enum_in(_SCOPE_IN, request.scope, "scope", required=True)
        answer = call.call(ContentApi.create_resource, scope=scope, **_fields_in(request))
        return resource_out(answer)

    @handler
    def UpdateResource(self, request: Any, call: CallContext) -> pb.Resource:
        answer = call.call(
            ContentApi.update_resource, resource_id=request.resource_id, **_fields_in(request)
        )
        return resource_out(answer)

    @handler
    def DeleteResource(self, request: Any, call: CallContext) -> pb.DeleteResourceResponse:
        call.call(ContentApi.delete_resource, resource_id=request.resource_id)
        return pb.DeleteResourceResponse()

    @handler
    def GetResource(self, request: Any, call: CallContext) -> pb.Resource:
        return resource_out(call.call(ContentApi.get_resource, resource_id=request.resource_id))

    @handler
    def SearchResources(self, request: Any, call: CallContext) -> pb.SearchResourcesResponse:
        answer = call.call(
            ContentApi.search_resources,
            query=request.query,
            page_size=request.page_size,
            page_token=request.page_token,
            tags=list(request.tags),
            language=request.language or None,
            kind=_enum_in(_KIND_IN, request.kind, "kind", required=False),
            scope=_enum_in(_SCOPE_IN, request.scope, "scope", required=False),
        )
        return pb.SearchResourcesResponse(
            resources=[resource_out(r) for r in answer.resources],
            next_page_token=answer.next_page_token,
        )

    @handler
    def RecommendResource(self, request: Any, call: CallContext) -> pb.Recommendation:
        answer = call.call(
            ContentApi.recommend_resource,
            space_id=_space_id(request.parent),
            resource_id=request.resource_id,
            note=request.note,
        )
        return recommendation_out(answer)

    @handler
    def ListRecommendations(
        self, request: Any, call: CallContext
    ) -> pb.ListRecommendationsResponse:
        answer = call.call(
            ContentApi.list_recommendations,
            space_id=_space_id(request.parent),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListRecommendationsResponse(
            recommendations=[recommendation_out(r) for r in answer.recommendations],
            next_page_token=answer.next_page_token,
        )

    @handler
    def MarkRecommendation(self, request: Any, call: CallContext) -> pb.Recommendation:
        answer = call.call(
            ContentApi.mark_recommendation,
            recommendation_id=request.recommendation_id,
            read=request.read,
            useful=request.useful if request.HasField("useful") else None,
        )
        return recommendation_out(answer)

    @handler
    def RotateTenantKey(self, request: Any, call: CallContext) -> spb.TenantKeyRotation:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        answer = call.call(ContentApi.rotate_tenant_key, tenant_id=tenant_id)
        return spb.TenantKeyRotation(
            key_id=answer.key_id, rewrapped=answer.rewrapped, retired=answer.retired
        )

    # ---------------------------------------------------------------- modules

    @handler
    def ImportModule(self, request: Any, call: CallContext) -> pb.ImportModuleResponse:
        files = [{"path": f.path, "text": f.text} for f in request.files]
        answer = call.call(ContentApi.import_module, files=files)
        return pb.ImportModuleResponse(module=module_out(answer.module), imported=answer.imported)

    @handler
    def ListModules(self, request: Any, call: CallContext) -> pb.ListModulesResponse:
        answer = call.call(
            ContentApi.list_modules, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListModulesResponse(
            modules=[module_out(m) for m in answer.modules],
            next_page_token=answer.next_page_token,
        )

    @handler
    def GetModule(self, request: Any, call: CallContext) -> pb.Module:
        answer = call.call(ContentApi.get_module, slug=request.slug, version=request.version)
        return module_out(answer)

    @handler
    def ExportModule(self, request: Any, call: CallContext) -> pb.ModuleFolder:
        answer = call.call(ContentApi.export_module, slug=request.slug, version=request.version)
        return pb.ModuleFolder(
            slug=answer.slug,
            version=answer.version,
            files=[pb.ModuleFile(path=f.path, text=f.text) for f in answer.files],
        )

    @handler
    def AssignModule(self, request: Any, call: CallContext) -> pb.ModuleAssignment:
        answer = call.call(
            ContentApi.assign_module, space_id=_space_id(request.parent), slug=request.slug
        )
        return module_assignment_out(answer)

    @handler
    def ListModuleAssignments(
        self, request: Any, call: CallContext
    ) -> pb.ListModuleAssignmentsResponse:
        answer = call.call(
            ContentApi.list_module_assignments,
            space_id=_space_id(request.parent),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListModuleAssignmentsResponse(
            assignments=[module_assignment_out(a) for a in answer.assignments],
            next_page_token=answer.next_page_token,
        )

    @handler
    def OpenLesson(self, request: Any, call: CallContext) -> pb.ModuleProgress:
        answer = call.call(
            ContentApi.open_lesson, assignment_id=request.assignment_id, lesson=request.lesson
        )
        return progress_out(answer)

    @handler
    def CompleteLesson(self, request: Any, call: CallContext) -> pb.ModuleProgress:
        answer = call.call(
            ContentApi.complete_lesson, assignment_id=request.assignment_id, lesson=request.lesson
        )
        return progress_out(answer)

    @handler
    def GetModuleProgress(self, request: Any, call: CallContext) -> pb.ModuleProgress:
        answer = call.call(ContentApi.get_module_progress, assignment_id=request.assignment_id)
        return progress_out(answer)

    @handler
    def RecordBlockAnswered(
        self, request: Any, call: CallContext
    ) -> pb.RecordBlockAnsweredResponse:
        call.call(
            ContentApi.record_block_answered,
            assignment_id=request.assignment_id,
            lesson=request.lesson,
            block=request.block,
            kind=_enum_in(_ANSWERED_IN, request.kind, "kind", required=True),
        )
        return pb.RecordBlockAnsweredResponse()

    @handler
    def GetLrsSettings(self, request: Any, call: CallContext) -> pb.LrsSettings:
        return lrs_settings_out(call.call(ContentApi.get_lrs_settings))

    @handler
    def SetLrsSettings(self, request: Any, call: CallContext) -> pb.LrsSettings:
        answer = call.call(
            ContentApi.set_lrs_settings,
            endpoint=request.endpoint,
            key=request.key,
            secret=request.secret,
            enabled=request.enabled,
        )
        return lrs_settings_out(answer)


def lrs_settings_out(s: c.LrsSettings) -> pb.LrsSettings:
    """Never the secret: the contract does not hold it."""
    out = pb.LrsSettings(
        configured=s.configured,
        endpoint=s.endpoint,
        key=s.key,
        has_secret=s.has_secret,
        enabled=s.enabled,
        updated_by_person_id=s.updated_by_person_id or "",
        pending=s.pending,
        last_error=s.last_error or "",
    )
    if s.updated_at is not None:
        out.update_time.CopyFrom(cv.timestamp(s.updated_at))
    if s.last_push_at is not None:
        out.last_push_time.CopyFrom(cv.timestamp(s.last_push_at))
    return out


def add_to_server(server: Any, backend: Backend) -> list[str]:
    pb_grpc.add_ContentServiceServicer_to_server(ContentService(backend), server)
    return [pb.DESCRIPTOR.services_by_name["ContentService"].full_name]
