"""Content's repositories in memory: the names and methods of `services/content/storage`
(declared by `storage/unit.py`), over one `ContentState` a `FakeDatabase` rolls back. The fakes
seal nothing (notes are kept as given) and search as the query does, with the domain's own
folding: the query itself is the integration and end-to-end tests' business."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from services.content.domain.recommendations import Recommendation
from services.content.domain.resources import PRIVATE, Levels, Resource
from services.kernel.clock import Clock
from services.kernel.space_copy import ERASED_PERSON, SpaceCopy

from . import FakeDatabase


@dataclass
class ContentState:
    spaces: dict[str, SpaceCopy] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    recommendations: dict[str, Recommendation] = field(default_factory=dict)


class FakeSpaceCopies:
    """The kernel's SpaceCopyStore, in memory."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def get(self, space_id: str) -> SpaceCopy | None:
        return self.state.spaces.get(space_id)

    def apply(self, copy_: SpaceCopy) -> None:
        kept = self.state.spaces.get(copy_.space_id)
        if kept is None or kept.updated_at <= copy_.updated_at:
            self.state.spaces[copy_.space_id] = copy_

    def of_coachee(self, person_id: str) -> list[SpaceCopy]:
        return [s for s in self.state.spaces.values() if s.coachee_person_id == person_id]

    def anonymise(self, person_id: str) -> None:
        for space_id, s in list(self.state.spaces.items()):
            changes = {
                k: ERASED_PERSON
                for k in ("coachee_person_id", "coach_person_id", "co_coach_person_id")
                if getattr(s, k) == person_id
            }
            self.state.spaces[space_id] = replace(s, **changes)


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


def content_repositories(state: ContentState) -> dict[str, Any]:
    return {
        "spaces": FakeSpaceCopies(state),
        "resources": FakeResources(state),
        "recommendations": FakeRecommendations(state),
    }


def content_database(clock: Clock) -> FakeDatabase[ContentState]:
    return FakeDatabase(clock, ContentState(), content_repositories)
