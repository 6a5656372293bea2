"""Modules: their stored versions (never changed once written), their assignments to spaces,
and each coachee's progress through one (the domain's Progress, row for row)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from services.kernel.runtime.pagination import keyset_page
from services.kernel.runtime.republish import id_page

from ..domain.module_assignments import ModuleAssignment
from ..domain.progress import Progress
from .tables import module_assignments, module_progress, module_versions


class ModuleVersions:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(
        self,
        slug: str,
        version: int,
        source: str,
        document: dict[str, Any],
        imported_by: str | None,
        now: datetime,
    ) -> bool:
        """Stores a version; one already stored stays as it is (a version never changes):
        whether it was stored."""
        done = self.connection.execute(
            insert(module_versions)
            .values(
                slug=slug,
                version=version,
                source=source,
                document=document,
                imported_by_person_id=imported_by,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["slug", "version"])
        )
        return bool(done.rowcount)

    def get(self, slug: str, version: int = 0) -> tuple[str, dict[str, Any]] | None:
        """A version's source and document (the latest stored with version 0)."""
        query = select(module_versions.c.source, module_versions.c.document).where(
            module_versions.c.slug == slug
        )
        if version:
            query = query.where(module_versions.c.version == version)
        row = self.connection.execute(
            query.order_by(module_versions.c.version.desc()).limit(1)
        ).first()
        return (row.source, dict(row.document)) if row else None

    def latest(self) -> list[tuple[str, dict[str, Any]]]:
        """The source and document of the latest stored version of every module, by slug."""
        newest = (
            select(module_versions.c.slug, func.max(module_versions.c.version).label("version"))
            .group_by(module_versions.c.slug)
            .subquery()
        )
        rows = self.connection.execute(
            select(module_versions.c.source, module_versions.c.document)
            .join(
                newest,
                (newest.c.slug == module_versions.c.slug)
                & (newest.c.version == module_versions.c.version),
            )
            .order_by(module_versions.c.slug)
        )
        return [(r.source, dict(r.document)) for r in rows]

    def anonymise_importer(self, person_id: str, placeholder: str) -> None:
        self.connection.execute(
            update(module_versions)
            .where(module_versions.c.imported_by_person_id == person_id)
            .values(imported_by_person_id=placeholder)
        )


class ModuleAssignments:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, a: ModuleAssignment) -> bool:
        """Whether it was added (False: this module is already assigned in this space)."""
        done = self.connection.execute(
            insert(module_assignments)
            .values(
                id=a.id,
                tenant_id=a.tenant_id,
                space_id=a.space_id,
                coachee_person_id=a.coachee_person_id,
                slug=a.slug,
                assigned_by_person_id=a.assigned_by_person_id,
                created_at=a.created_at,
            )
            .on_conflict_do_nothing(index_elements=["space_id", "slug"])
        )
        return bool(done.rowcount)

    def get_many(self, assignment_ids: list[str]) -> list[ModuleAssignment]:
        rows = self.connection.execute(
            select(module_assignments)
            .where(module_assignments.c.id.in_(assignment_ids))
            .order_by(module_assignments.c.id)
        )
        return [_assignment(r) for r in rows]

    def get(self, assignment_id: str) -> ModuleAssignment | None:
        row = self.connection.execute(
            select(module_assignments).where(module_assignments.c.id == assignment_id)
        ).first()
        return _assignment(row) if row else None

    def page_of_space(
        self, space_id: str, size: int, token: str
    ) -> tuple[list[ModuleAssignment], str]:
        """Oldest first."""
        return keyset_page(
            self.connection,
            module_assignments,
            select(module_assignments).where(module_assignments.c.space_id == space_id),
            size,
            token,
            _assignment,
        )

    def of_coachee(self, person_id: str) -> list[ModuleAssignment]:
        rows = self.connection.execute(
            select(module_assignments)
            .where(module_assignments.c.coachee_person_id == person_id)
            .order_by(module_assignments.c.created_at, module_assignments.c.id)
        )
        return [_assignment(r) for r in rows]

    def delete_of_coachee(self, person_id: str) -> None:
        self.connection.execute(
            delete(module_assignments).where(module_assignments.c.coachee_person_id == person_id)
        )

    def anonymise_assigner(self, person_id: str, placeholder: str) -> None:
        self.connection.execute(
            update(module_assignments)
            .where(module_assignments.c.assigned_by_person_id == person_id)
            .values(assigned_by_person_id=placeholder)
        )


class ModuleProgress:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, assignment_id: str, *, for_update: bool = False) -> Progress | None:
        query = select(module_progress).where(module_progress.c.assignment_id == assignment_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return _progress(row) if row else None

    def ids_after(self, tenant_id: str | None, after: str, limit: int) -> list[str]:
        """The assignments of modules started, a keyset page (services/kernel/runtime/
        republish.py)."""
        return id_page(
            self.connection, module_progress, tenant_id, after, limit, id_column="assignment_id"
        )

    def of_assignments(self, assignment_ids: list[str]) -> dict[str, Progress]:
        if not assignment_ids:
            return {}
        rows = self.connection.execute(
            select(module_progress).where(module_progress.c.assignment_id.in_(assignment_ids))
        )
        return {r.assignment_id: _progress(r) for r in rows}

    def save(self, assignment_id: str, tenant_id: str, coachee_person_id: str, p: Progress) -> None:
        values = {
            "slug": p.slug,
            "version": p.version,
            "lessons": list(p.lessons),
            "position": p.position,
            "completed": sorted(p.completed),
            "seconds": p.seconds,
            "started_at": p.started_at,
            "last_seen_at": p.last_seen_at,
            "completed_at": p.completed_at,
        }
        self.connection.execute(
            insert(module_progress)
            .values(
                assignment_id=assignment_id,
                tenant_id=tenant_id,
                coachee_person_id=coachee_person_id,
                **values,
            )
            .on_conflict_do_update(index_elements=["assignment_id"], set_=values)
        )

    def delete_of_coachee(self, person_id: str) -> None:
        self.connection.execute(
            delete(module_progress).where(module_progress.c.coachee_person_id == person_id)
        )


def _assignment(r: Any) -> ModuleAssignment:
    return ModuleAssignment(
        id=r.id,
        tenant_id=r.tenant_id,
        space_id=r.space_id,
        coachee_person_id=r.coachee_person_id,
        slug=r.slug,
        assigned_by_person_id=r.assigned_by_person_id,
        created_at=r.created_at,
    )


def _progress(r: Any) -> Progress:
    return Progress(
        slug=r.slug,
        version=r.version,
        lessons=tuple(r.lessons),
        position=r.position,
        completed=frozenset(r.completed),
        seconds=r.seconds,
        started_at=r.started_at,
        last_seen_at=r.last_seen_at,
        completed_at=r.completed_at,
    )
