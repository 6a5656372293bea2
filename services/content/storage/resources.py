"""The library's resources. A search is one query: the caller's levels, the filters, and the
words as prefixes against the `search` column (GIN), best matches first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, literal, or_, select, update

from ..domain.resources import GLOBAL, PRIVATE, TENANT, Levels, Resource
from .tables import resources

# Page tokens of a search are offsets; deeper than this, a person refines the search instead.
MAX_OFFSET = 10_000
# Every column but the search vector, which only the database reads.
SHOWN = [column for column in resources.c if column.name != "search"]


def _vector(resource: Resource) -> Any:
    return func.to_tsvector(literal("simple"), resource.search_text())


class Resources:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, r: Resource) -> None:
        self.connection.execute(resources.insert().values(**_values(r), id=r.id))

    def add_many(self, many: list[Resource]) -> None:
        """One INSERT of many rows (an import, a benchmark's library)."""
        if many:
            self.connection.execute(
                resources.insert().values([{**_values(r), "id": r.id} for r in many])
            )

    def save(self, r: Resource) -> None:
        self.connection.execute(update(resources).where(resources.c.id == r.id).values(_values(r)))

    def delete(self, resource_id: str) -> None:
        self.connection.execute(delete(resources).where(resources.c.id == resource_id))

    def get(self, resource_id: str, *, for_update: bool = False) -> Resource | None:
        query = select(*SHOWN).where(resources.c.id == resource_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return _resource(row) if row else None

    def search(
        self,
        *,
        levels: Levels,
        words: list[str],
        tags: tuple[str, ...],
        language: str | None,
        kind: str | None,
        scope: str | None,
        offset: int,
        size: int,
    ) -> tuple[list[Resource], bool]:
        """One page, and whether more follow."""
        query = select(*SHOWN).where(condition_of(levels))
        if words:
            terms = func.to_tsquery(literal("simple"), " & ".join(f"{w}:*" for w in words))
            query = query.where(resources.c.search.op("@@")(terms)).order_by(
                func.ts_rank(resources.c.search, terms).desc(), resources.c.title, resources.c.id
            )
        else:
            query = query.order_by(resources.c.title, resources.c.id)
        if tags:
            query = query.where(resources.c.tags.contains(list(tags)))
        if language:
            query = query.where(resources.c.language == language)
        if kind:
            query = query.where(resources.c.kind == kind)
        if scope:
            query = query.where(resources.c.scope == scope)
        rows = self.connection.execute(query.offset(offset).limit(size + 1)).all()
        return [_resource(r) for r in rows[:size]], len(rows) > size

    def due_for_check(self, checked_before: datetime, batch: int) -> list[tuple[str, str]]:
        """(id, url) of links never checked, then of those checked before `checked_before`,
        oldest first; rows another instance is checking are skipped."""
        rows = self.connection.execute(
            select(resources.c.id, resources.c.url)
            .where(
                or_(
                    resources.c.link_checked_at.is_(None),
                    resources.c.link_checked_at < checked_before,
                )
            )
            .order_by(resources.c.link_checked_at.asc().nulls_first(), resources.c.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        return [(r.id, r.url) for r in rows]

    def record_check(self, resource_id: str, url: str, status: str, checked_at: datetime) -> None:
        """The check's outcome, unless the address changed meanwhile (then it waits for its
        own check)."""
        self.connection.execute(
            update(resources)
            .where(resources.c.id == resource_id, resources.c.url == url)
            .values(link_status=status, link_checked_at=checked_at)
        )

    def of_owner(self, person_id: str) -> list[Resource]:
        rows = self.connection.execute(
            select(*SHOWN)
            .where(resources.c.owner_person_id == person_id)
            .order_by(resources.c.created_at, resources.c.id)
        )
        return [_resource(r) for r in rows]

    def delete_private_of(self, person_id: str) -> None:
        self.connection.execute(
            delete(resources).where(
                resources.c.scope == PRIVATE, resources.c.owner_person_id == person_id
            )
        )


def condition_of(levels: Levels) -> Any:
    """The levels a person reads (domain/resources.py: Levels), as a condition."""
    parts: list[Any] = []
    if levels.global_:
        parts.append(resources.c.scope == GLOBAL)
    if levels.tenant_id is not None:
        parts.append(and_(resources.c.scope == TENANT, resources.c.tenant_id == levels.tenant_id))
    if levels.owner is not None:
        tenant_id, person_id = levels.owner
        parts.append(
            and_(
                resources.c.scope == PRIVATE,
                resources.c.tenant_id == tenant_id,
                resources.c.owner_person_id == person_id,
            )
        )
    return or_(*parts) if parts else literal(False)


def _values(r: Resource) -> dict[str, Any]:
    return {
        "scope": r.scope,
        "tenant_id": r.tenant_id,
        "owner_person_id": r.owner_person_id,
        "kind": r.kind,
        "title": r.title,
        "url": r.url,
        "author": r.author,
        "language": r.language,
        "minutes": r.minutes,
        "tags": list(r.tags),
        "why": r.why,
        "search": _vector(r),
        "link_status": r.link_status,
        "link_checked_at": r.link_checked_at,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


def _resource(r: Any) -> Resource:
    return Resource(
        id=r.id,
        scope=r.scope,
        tenant_id=r.tenant_id,
        owner_person_id=r.owner_person_id,
        kind=r.kind,
        title=r.title,
        url=r.url,
        author=r.author,
        language=r.language,
        minutes=r.minutes,
        tags=tuple(r.tags),
        why=r.why,
        created_at=r.created_at,
        updated_at=r.updated_at,
        link_status=r.link_status,
        link_checked_at=r.link_checked_at,
    )
