"""The kernel's SpaceCopyStore in memory (services/kernel/runtime/space_copies.py), for every
service that keeps copies of spaces: over a state with a `spaces` dict."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.kernel.space_copy import ERASED_PERSON, SpaceCopy


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
