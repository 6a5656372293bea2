"""Recommendations: the space's coach recommends a resource they may read, with a note; the
space's people list them; its coachee marks them read and useful. Anyone else, a former coach
included, learns nothing (NOT_FOUND). A recommendation a locked tool of the space's toolbox holds
is left out of the coachee's list and refused to them (TOOL_LOCKED); the coaches see it all
(docs/adr/0019-toolbox-gates.md)."""

from __future__ import annotations

from services.contracts import content as c
from services.kernel.caller import Caller, PersonClaims, require_person
from services.kernel.crypto import MasterKey
from services.kernel.ids import new_id
from services.kernel.space_copy import Relation, participant
from services.kernel.tool_copy import require_unlocked, visible

from ..domain.recommendations import (
    Recommendation,
    RecommendedResource,
    coach_only,
    coachee_only,
    not_found,
    require_active,
)
from ..domain.resources import require_readable
from ..storage.unit import ContentUnit, Db
from .tools import RESOURCE
from .views import event_of, recommendation_view


def _relation(uow: ContentUnit, who: PersonClaims, space_id: str) -> Relation:
    return participant(uow.spaces.get(space_id), who.tenant_id, who.person_id)


def recommend_resource(
    db: Db, master: MasterKey, caller: Caller, request: c.RecommendRequest
) -> c.Recommendation:
    who = require_person(caller)
    with db.unit_of_work() as uow:
        if _relation(uow, who, request.space_id) != Relation.COACH:
            raise coach_only()
        space = uow.spaces.get(request.space_id)
        assert space is not None
        require_active(space)
        resource = require_readable(uow.resources.get(request.resource_id), who)
        now = uow.clock.now()
        recommendation = Recommendation(
            id=new_id("rec"),
            tenant_id=space.tenant_id,
            space_id=space.space_id,
            resource_id=resource.id,
            resource=RecommendedResource.of(resource),
            note=request.note.strip(),
            recommended_by_person_id=who.person_id,
            created_at=now,
            updated_at=now,
        )
        uow.recommendations.unlocked(master).add(recommendation)
        uow.record(event_of(c.ResourceRecommended, recommendation))
    return recommendation_view(recommendation)


def list_recommendations(
    db: Db, master: MasterKey, caller: Caller, request: c.ListRecommendationsRequest
) -> c.RecommendationList:
    """Newest first, for the space's coachee, coach and co-coach; the coachee's without those
    a locked tool holds (a page may then be shorter than asked; its token still goes on)."""
    who = require_person(caller)
    with db.read_only() as uow:
        relation = _relation(uow, who, request.space_id)
        found, token = uow.recommendations.unlocked(master).page_of_space(
            request.space_id, request.effective_page_size(), request.page_token
        )
        tools = uow.tools.of_targets(RESOURCE, [r.id for r in found])
    shown = visible(found, relation, request.space_id, tools, lambda r: r.id)
    return c.RecommendationList(
        recommendations=[recommendation_view(r) for r in shown], next_page_token=token
    )


def mark_recommendation(
    db: Db, master: MasterKey, caller: Caller, request: c.MarkRecommendationRequest
) -> c.Recommendation:
    who = require_person(caller)
    with db.unit_of_work() as uow:
        repo = uow.recommendations.unlocked(master)
        found = repo.get(request.recommendation_id, for_update=True)
        if found is None or found.tenant_id != who.tenant_id:
            raise not_found()
        space = uow.spaces.get(found.space_id)
        relation = space.relation_of(who.tenant_id, who.person_id) if space else None
        if relation is None:
            raise not_found()
        if relation != Relation.COACHEE:
            raise coachee_only()
        require_unlocked(uow.tools.of_target(RESOURCE, found.id), found.space_id, relation)
        if found.mark(request.read, request.useful, uow.clock.now()):
            repo.save_marks(found)
            uow.record(event_of(c.RecommendationMarked, found))
    return recommendation_view(found)
