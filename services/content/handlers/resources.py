"""The resource library: operators curate the global level, tenant admins their tenant's,
coaches their own (domain/resources.py says who reads and writes what)."""

from __future__ import annotations

from services.contracts import content as c
from services.contracts.base import Empty
from services.kernel.caller import Caller, require_person
from services.kernel.errors import invalid
from services.kernel.ids import new_id

from ..domain.resources import (
    GLOBAL,
    PRIVATE,
    Resource,
    levels_of,
    may_write,
    require_changeable,
    require_readable,
    search_words,
    tags_of,
)
from ..storage.resources import MAX_OFFSET
from ..storage.unit import Db
from .views import resource_view


def create_resource(db: Db, caller: Caller, request: c.CreateResourceRequest) -> c.Resource:
    who = require_person(caller)
    may_write(who, request.scope)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        resource = Resource(
            id=new_id("res"),
            scope=request.scope,
            tenant_id=None if request.scope == GLOBAL else who.tenant_id,
            owner_person_id=who.person_id if request.scope == PRIVATE else None,
            kind=request.kind,
            title=request.title.strip(),
            url=request.url,
            author=request.author.strip(),
            language=request.language,
            minutes=request.minutes,
            tags=tags_of(request.tags),
            why=request.why.strip(),
            created_at=now,
            updated_at=now,
        )
        uow.resources.add(resource)
    return resource_view(resource)


def update_resource(db: Db, caller: Caller, request: c.UpdateResourceRequest) -> c.Resource:
    """Every field replaced; a changed address is checked again."""
    who = require_person(caller)
    with db.unit_of_work() as uow:
        found = require_changeable(uow.resources.get(request.resource_id, for_update=True), who)
        if request.url != found.url:
            found.link_status, found.link_checked_at = "unchecked", None
        found.kind, found.title, found.url = request.kind, request.title.strip(), request.url
        found.author, found.language = request.author.strip(), request.language
        found.minutes, found.tags = request.minutes, tags_of(request.tags)
        found.why, found.updated_at = request.why.strip(), uow.clock.now()
        uow.resources.save(found)
    return resource_view(found)


def delete_resource(db: Db, caller: Caller, request: c.ResourceRef) -> Empty:
    """Gone from the library; the recommendations made of it keep their copy."""
    who = require_person(caller)
    with db.unit_of_work() as uow:
        require_changeable(uow.resources.get(request.resource_id, for_update=True), who)
        uow.resources.delete(request.resource_id)
    return Empty()


def get_resource(db: Db, caller: Caller, request: c.ResourceRef) -> c.Resource:
    who = require_person(caller)
    with db.read_only() as uow:
        found = require_readable(uow.resources.get(request.resource_id), who)
    return resource_view(found)


def search_resources(db: Db, caller: Caller, request: c.SearchResourcesRequest) -> c.ResourceList:
    """The caller's levels only; nobody else's level is even counted."""
    who = require_person(caller)
    offset = 0
    if request.page_token:
        if not request.page_token.isdigit() or int(request.page_token) > MAX_OFFSET:
            raise invalid(page_token="is not a token this list returned")  # noqa: S106
        offset = int(request.page_token)
    size = request.effective_page_size()
    with db.read_only() as uow:
        found, more = uow.resources.search(
            levels=levels_of(who),
            words=search_words(request.query),
            tags=tags_of(request.tags),
            language=request.language,
            kind=request.kind,
            scope=request.scope,
            offset=offset,
            size=size,
        )
    token = str(offset + size) if more and offset + size <= MAX_OFFSET else ""
    return c.ResourceList(resources=[resource_view(r) for r in found], next_page_token=token)
