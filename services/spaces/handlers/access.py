"""Who reaches which space and its content (rule 5): shared by the handler modules."""

from __future__ import annotations

from typing import Any

from services.kernel.caller import PersonClaims
from services.kernel.crypto import MasterKey
from services.kernel.errors import (
    FailedPrecondition,
    PermissionDenied,
)

from ..domain.model import (
    ARCHIVED,
    Relation,
    Space,
    space_not_found,
)
from ..storage.spaces import Spaces
from ..storage.unit import SpacesUnit


def is_admin(who: PersonClaims) -> bool:
    return who.has_role("tenant_admin")


def visible(
    uow: SpacesUnit, master: MasterKey, who: PersonClaims, ref: Any, *, for_update: bool = False
) -> tuple[Spaces, Space, Relation]:
    repo = uow.spaces.unlocked(master)
    space = repo.get(ref.tenant_id, ref.space_id, for_update=for_update)
    if space is None:
        raise space_not_found()
    relation = space.visible_relation(who.person_id, is_admin(who))
    if relation is not Relation.TENANT_ADMIN:
        space = repo.with_content(space)
    return repo, space, relation


def visited(uow: SpacesUnit, space: Space, relation: Relation, who: PersonClaims) -> None:
    """A participant opened the space: their coach dashboard counts new notes from now."""
    if relation is not Relation.TENANT_ADMIN:
        uow.visits.record(space.id, who.person_id, uow.clock.now())


def content_relation(
    uow: SpacesUnit, master: MasterKey, who: PersonClaims, ref: Any, *, for_update: bool = False
) -> tuple[Spaces, Space, Relation]:
    """The space, for someone who may read its content (coachee, coach, co-coach). HR sees the
    space but not what is in it: PERMISSION_DENIED."""
    repo, space, relation = visible(uow, master, who, ref, for_update=for_update)
    if relation is Relation.TENANT_ADMIN:
        raise PermissionDenied(
            "A space's goals and notes are for its coachee and coaches only.",
            reason="CONTENT_FORBIDDEN",
        )
    return repo, space, relation


def writable(space: Space) -> None:
    if space.status == ARCHIVED:
        raise FailedPrecondition("An archived space is read only.", reason="SPACE_ARCHIVED")
