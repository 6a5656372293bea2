"""Content's repositories in memory: the names and methods of `services/content/storage`
(declared by `storage/unit.py`), over one `ContentState` a `FakeDatabase` rolls back. The fakes
seal nothing (notes are kept as given) and search as the query does, with the domain's own
folding: the query itself is the integration and end-to-end tests' business. Modules: stored
versions, assignments and progress, kept as the storage keeps them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.content.domain.module_assignments import ModuleAssignment
from services.content.domain.progress import Progress
from services.content.domain.recommendations import Recommendation
from services.content.domain.resources import PRIVATE, Levels, Resource
from services.content.domain.xapi import LrsConfig
from services.kernel.clock import Clock
from services.kernel.space_copy import SpaceCopy
from services.kernel.tool_copy import ToolCopy

from . import FakeDatabase
from .space_copies import FakeSpaceCopies
from .tool_copies import FakeToolCopies


@dataclass
class StoredVersion:
    slug: str
    version: int
    source: str
    document: dict[str, Any]
    imported_by: str | None
    created_at: datetime


@dataclass
class StoredStatement:
    tenant_id: str
    person_id: str
    assignment_id: str
    statement: dict[str, Any]
    created_at: datetime
    pushed_at: datetime | None = None


@dataclass
class ContentState:
    spaces: dict[str, SpaceCopy] = field(default_factory=dict)
    tools: dict[str, ToolCopy] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    recommendations: dict[str, Recommendation] = field(default_factory=dict)
    versions: dict[tuple[str, int], StoredVersion] = field(default_factory=dict)
    assignments: dict[str, ModuleAssignment] = field(default_factory=dict)
    progress: dict[str, tuple[str, str, Progress]] = field(default_factory=dict)
    learners: dict[tuple[str, str], str] = field(default_factory=dict)
    statements: dict[str, StoredStatement] = field(default_factory=dict)
    lrs: LrsConfig | None = None


class FakeResources:
    def __init__(self, state: ContentState) -> None:
        self.state = state

    def add(self, r: Resource) -> None:
        self.state.resources[r.id] = copy.deepcopy(r)

    def save(self, r: Resource) -> None:
        self.state.resources[r.id] = copy.deepcopy(r)

    def delete(self, resource_id: str) -> None:
        self.state.resources.pop(resource_id, None)

    def get(self, resource_id: str, *, for_update: bool = False) -> Resource | None:
        return copy.deepcopy(self.state.resources.get(resource_id))

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
        def matches(r: Resource) -> bool:
            text = r.search_text().replace("-", " ").split()
            return (
                levels.include(r)
                and all(any(t.startswith(w) for t in text) for w in words)
                and set(tags) <= set(r.tags)
                and language in (None, r.language)
                and kind in (None, r.kind)
                and scope in (None, r.scope)
            )

        found = sorted(
            (r for r in self.state.resources.values() if matches(r)), key=lambda r: (r.title, r.id)
        )
        page = found[offset : offset + size]
        return [copy.deepcopy(r) for r in page], offset + size < len(found)

    def due_for_check(self, checked_before: Any, batch: int) -> list[tuple[str, str]]:
        due = sorted(
            (
                r
                for r in self.state.resources.values()
                if r.link_checked_at is None or r.link_checked_at < checked_before
            ),
            key=lambda r: (r.link_checked_at is not None, r.link_checked_at or 0, r.id),
        )
        return [(r.id, r.url) for r in due[:batch]]

    def record_check(self, resource_id: str, url: str, status: str, checked_at: Any) -> None:
        r = self.state.resources.get(resource_id)
        if r is not None and r.url == url:
            r.link_status, r.link_checked_at = status, checked_at

    def of_owner(self, person_id: str) -> list[Resource]:
        return [
            copy.deepcopy(r)
            for r in self.state.resources.values()
            if r.owner_person_id == person_id
        ]

    def delete_private_of(self, person_id: str) -> None:
        self.state.resources = {
            k: r
            for k, r in self.state.resources.items()
            if not (r.scope == PRIVATE and r.owner_person_id == person_id)
        }


class FakeRecommendations:
    def __init__(self, state: ContentState) -> None:
        self.state = state

    def unlocked(self, master: Any) -> FakeRecommendations:
        return self

    def add(self, r: Recommendation) -> None:
        r.data_key = "fake"
        self.state.recommendations[r.id] = copy.deepcopy(r)

    def get(self, recommendation_id: str, *, for_update: bool = False) -> Recommendation | None:
        return copy.deepcopy(self.state.recommendations.get(recommendation_id))

    def save_marks(self, r: Recommendation) -> None:
        kept = self.state.recommendations[r.id]
        kept.status, kept.useful, kept.updated_at = r.status, r.useful, r.updated_at

    def page_of_space(
        self, space_id: str, size: int, token: str
    ) -> tuple[list[Recommendation], str]:
        found = sorted(
            (r for r in self.state.recommendations.values() if r.space_id == space_id),
            key=lambda r: (r.created_at, r.id),
            reverse=True,
        )
        start = int(token or 0)
        more = start + size < len(found)
        return [copy.deepcopy(r) for r in found[start : start + size]], (
            str(start + size) if more else ""
        )

    def of_spaces(self, space_ids: list[str]) -> list[Recommendation]:
        return [
            copy.deepcopy(r) for r in self.state.recommendations.values() if r.space_id in space_ids
        ]

    def delete_of_space(self, space_id: str) -> None:
        self.state.recommendations = {
            k: r for k, r in self.state.recommendations.items() if r.space_id != space_id
        }

    def anonymise_recommender(self, person_id: str, placeholder: str) -> None:
        for r in self.state.recommendations.values():
            if r.recommended_by_person_id == person_id:
                r.recommended_by_person_id = placeholder


class FakeModuleVersions:
    def __init__(self, state: ContentState) -> None:
        self.state = state

    def add(
        self,
        slug: str,
        version: int,
        source: str,
        document: dict[str, Any],
        imported_by: str | None,
        now: datetime,
    ) -> bool:
        if (slug, version) in self.state.versions:
            return False
        self.state.versions[slug, version] = StoredVersion(
            slug, version, source, copy.deepcopy(document), imported_by, now
        )
        return True

    def get(self, slug: str, version: int = 0) -> tuple[str, dict[str, Any]] | None:
        found = [
            v
            for v in self.state.versions.values()
            if v.slug == slug and (not version or v.version == version)
        ]
        if not found:
            return None
        newest = max(found, key=lambda v: v.version)
        return newest.source, copy.deepcopy(newest.document)

    def latest(self) -> list[tuple[str, dict[str, Any]]]:
        slugs = sorted({v.slug for v in self.state.versions.values()})
        return [got for slug in slugs if (got := self.get(slug)) is not None]

    def anonymise_importer(self, person_id: str, placeholder: str) -> None:
        for v in self.state.versions.values():
            if v.imported_by == person_id:
                v.imported_by = placeholder


class FakeModuleAssignments:
    def __init__(self, state: ContentState) -> None:
        self.state = state

    def add(self, a: ModuleAssignment) -> bool:
        if any(
            (b.space_id, b.slug) == (a.space_id, a.slug) for b in self.state.assignments.values()
        ):
            return False
        self.state.assignments[a.id] = a
        return True

    def get(self, assignment_id: str) -> ModuleAssignment | None:
        return self.state.assignments.get(assignment_id)

    def page_of_space(
        self, space_id: str, size: int, token: str
    ) -> tuple[list[ModuleAssignment], str]:
        found = sorted(
            (a for a in self.state.assignments.values() if a.space_id == space_id),
            key=lambda a: (a.created_at, a.id),
        )
        start = int(token) if token else 0
        end = start + size
        return found[start:end], str(end) if end < len(found) else ""

    def of_coachee(self, person_id: str) -> list[ModuleAssignment]:
        return [a for a in self.state.assignments.values() if a.coachee_person_id == person_id]

    def delete_of_coachee(self, person_id: str) -> None:
        for a in self.of_coachee(person_id):
            del self.state.assignments[a.id]

    def anonymise_assigner(self, person_id: str, placeholder: str) -> None:
        for key, a in list(self.state.assignments.items()):
            if a.assigned_by_person_id == person_id:
                self.state.assignments[key] = replace(a, assigned_by_person_id=placeholder)


class FakeModuleProgress:
    def __init__(self, state: ContentState) -> None:
        self.state = state

    def get(self, assignment_id: str, *, for_update: bool = False) -> Progress | None:
        kept = self.state.progress.get(assignment_id)
        return kept[2] if kept else None

    def of_assignments(self, assignment_ids: list[str]) -> dict[str, Progress]:
        return {i: self.state.progress[i][2] for i in assignment_ids if i in self.state.progress}

    def save(self, assignment_id: str, tenant_id: str, coachee_person_id: str, p: Progress) -> None:
        self.state.progress[assignment_id] = (tenant_id, coachee_person_id, p)

    def delete_of_coachee(self, person_id: str) -> None:
        for key, (_t, coachee, _p) in list(self.state.progress.items()):
            if coachee == person_id:
                del self.state.progress[key]


class FakeXapi:
    """Pseudonyms, statements and the LRS settings (the secret kept as given)."""

    def __init__(self, state: ContentState) -> None:
        self.state = state

    def pseudonym_of(
        self, tenant_id: str, person_id: str, new: Callable[[], str], now: datetime
    ) -> str:
        return self.state.learners.setdefault((tenant_id, person_id), new())

    def record(
        self,
        statement: dict[str, Any],
        tenant_id: str,
        person_id: str,
        assignment_id: str,
        now: datetime,
    ) -> bool:
        if statement["id"] in self.state.statements:
            return False
        self.state.statements[statement["id"]] = StoredStatement(
            tenant_id, person_id, assignment_id, copy.deepcopy(statement), now
        )
        return True

    def _ordered(self) -> list[tuple[str, StoredStatement]]:
        return sorted(self.state.statements.items(), key=lambda kv: (kv[1].created_at, kv[0]))

    def of_person(self, person_id: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(s.statement) for _, s in self._ordered() if s.person_id == person_id]

    def pending(self, limit: int) -> list[dict[str, Any]]:
        found = [copy.deepcopy(s.statement) for _, s in self._ordered() if s.pushed_at is None]
        return found[:limit]

    def pending_count(self) -> int:
        return sum(1 for s in self.state.statements.values() if s.pushed_at is None)

    def mark_pushed(self, ids: list[str], now: datetime) -> None:
        for i in ids:
            kept = self.state.statements.get(i)
            if kept is not None and kept.pushed_at is None:
                kept.pushed_at = now

    def delete_of_person(self, person_id: str) -> None:
        for key, s in list(self.state.statements.items()):
            if s.person_id == person_id:
                del self.state.statements[key]
        for key in [k for k in self.state.learners if k[1] == person_id]:
            del self.state.learners[key]

    def settings(self, master: Any) -> LrsConfig | None:
        return self.state.lrs

    def save_settings(self, config: LrsConfig, master: Any) -> None:
        self.state.lrs = config

    def record_push(self, now: datetime, error: str | None) -> None:
        if self.state.lrs is not None:
            self.state.lrs = replace(self.state.lrs, last_push_at=now, last_error=error)

    def anonymise_updater(self, person_id: str, placeholder: str) -> None:
        if self.state.lrs is not None and self.state.lrs.updated_by_person_id == person_id:
            self.state.lrs = replace(self.state.lrs, updated_by_person_id=placeholder)


def content_repositories(state: ContentState) -> dict[str, Any]:
    return {
        "spaces": FakeSpaceCopies(state),
        "tools": FakeToolCopies(state),
        "resources": FakeResources(state),
        "recommendations": FakeRecommendations(state),
        "module_versions": FakeModuleVersions(state),
        "module_assignments": FakeModuleAssignments(state),
        "module_progress": FakeModuleProgress(state),
        "xapi": FakeXapi(state),
    }


def content_database(clock: Clock) -> FakeDatabase[ContentState]:
    return FakeDatabase(clock, ContentState(), content_repositories)
