"""What the service answers: contracts built from the domain."""

from __future__ import annotations

from services.contracts import content as c

from ..adapters.module_document import document_of
from ..domain.module_assignments import ModuleAssignment
from ..domain.modules import Module, Text
from ..domain.progress import Progress
from ..domain.recommendations import Recommendation
from ..domain.resources import Resource


def resource_view(r: Resource) -> c.Resource:
    return c.Resource(
        resource_id=r.id,
        scope=r.scope,
        tenant_id=r.tenant_id or "",
        owner_person_id=r.owner_person_id or "",
        kind=r.kind,
        title=r.title,
        url=r.url,
        author=r.author,
        language=r.language,
        minutes=r.minutes,
        tags=list(r.tags),
        why=r.why,
        link_status=r.link_status,
        link_checked_at=r.link_checked_at,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def recommendation_view(r: Recommendation) -> c.Recommendation:
    copy = r.resource
    return c.Recommendation(
        recommendation_id=r.id,
        tenant_id=r.tenant_id,
        space_id=r.space_id,
        resource_id=r.resource_id,
        resource=c.RecommendedResource(
            kind=copy.kind,
            title=copy.title,
            url=copy.url,
            author=copy.author,
            language=copy.language,
            minutes=copy.minutes,
            tags=list(copy.tags),
            why=copy.why,
        ),
        note=r.note,
        recommended_by_person_id=r.recommended_by_person_id,
        status=r.status,
        useful=r.useful,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def event_of(kind: type[c.RecommendationEvent], r: Recommendation) -> c.RecommendationEvent:
    """Ids and state only: never the note nor the resource's text."""
    return kind(
        recommendation_id=r.id,
        tenant_id=r.tenant_id,
        space_id=r.space_id,
        resource_id=r.resource_id,
        status=r.status,
        useful=r.useful,
        updated_at=r.updated_at,
    )


def _local(t: Text) -> c.LocalText:
    return c.LocalText(en=t.en, fr=t.fr)


def module_summary(m: Module, source: str) -> c.ModuleSummary:
    return c.ModuleSummary(
        slug=m.slug,
        version=m.version,
        source=source,
        title=_local(m.title),
        summary=_local(m.summary),
        minutes=m.minutes,
        lesson_count=len(m.lessons),
    )


def module_detail(m: Module, source: str) -> c.ModuleDetail:
    return c.ModuleDetail(**module_summary(m, source).model_dump(), document=document_of(m))


def progress_view(assignment_id: str, p: Progress | None) -> c.ModuleProgress:
    if p is None:
        return c.ModuleProgress(assignment_id=assignment_id, status="not_started")
    return c.ModuleProgress(
        assignment_id=assignment_id,
        status="completed" if p.is_completed else "started",
        version=p.version,
        lessons=list(p.lessons),
        position=p.position,
        lessons_completed=[k for k in p.lessons if k in p.completed],
        seconds=p.seconds,
        started_at=p.started_at,
        last_seen_at=p.last_seen_at,
        completed_at=p.completed_at,
    )


def assignment_view(
    a: ModuleAssignment, module: Module | None, p: Progress | None
) -> c.ModuleAssignment:
    return c.ModuleAssignment(
        assignment_id=a.id,
        tenant_id=a.tenant_id,
        space_id=a.space_id,
        coachee_person_id=a.coachee_person_id,
        slug=a.slug,
        title=_local(module.title) if module else c.LocalText(en=a.slug, fr=a.slug),
        assigned_by_person_id=a.assigned_by_person_id,
        created_at=a.created_at,
        progress=progress_view(a.id, p),
    )
