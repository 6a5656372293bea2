"""What the service answers: contracts built from the domain."""

from __future__ import annotations

from services.contracts import content as c

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
