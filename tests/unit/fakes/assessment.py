"""Assessment's repositories in memory: the names and methods of `services/assessment/storage`
(declared by `storage/unit.py`), over one `AssessmentState` a `FakeDatabase` rolls back. The
fakes seal nothing (answers are kept as given): sealing is the integration test's business
(tests/integration/test_assessment_service.py)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.assessment.domain.assignments import SUBMITTED, Assignment, Attempt
from services.assessment.domain.raters import EXPIRED, INVITED, Rater
from services.assessment.storage.instruments import StoredInstrument
from services.kernel.clock import Clock
from services.kernel.crypto import SecretKey
from services.kernel.space_copy import ERASED_PERSON, SpaceCopy
from services.kernel.tool_copy import ToolCopy

from . import FakeDatabase
from .space_copies import FakeSpaceCopies
from .tool_copies import FakeToolCopies


@dataclass
class AssessmentState:
    spaces: dict[str, SpaceCopy] = field(default_factory=dict)
    tools: dict[str, ToolCopy] = field(default_factory=dict)
    instruments: list[StoredInstrument] = field(default_factory=list)
    assignments: dict[str, Assignment] = field(default_factory=dict)
    raters: dict[str, Rater] = field(default_factory=dict)


class FakeInstruments:
    def __init__(self, state: AssessmentState) -> None:
        self.state = state

    def add(self, stored: StoredInstrument) -> None:
        self.state.instruments = [
            replace(s, shared=stored.shared) if s.instrument_id == stored.instrument_id else s
            for s in self.state.instruments
        ] + [stored]

    def get(self, instrument_id: str, version: int = 0) -> StoredInstrument | None:
        found = [
            s
            for s in self.state.instruments
            if s.instrument_id == instrument_id and (not version or s.version == version)
        ]
        return max(found, key=lambda s: s.version) if found else None

    def latest_visible_to(self, tenant_id: str, person_id: str) -> list[StoredInstrument]:
        latest: dict[str, StoredInstrument] = {}
        for s in self.state.instruments:
            if s.tenant_id == tenant_id and (s.owner_person_id == person_id or s.shared):
                if s.instrument_id not in latest or latest[s.instrument_id].version < s.version:
                    latest[s.instrument_id] = s
        return sorted(latest.values(), key=lambda s: (s.slug, s.instrument_id))

    def of_owner(self, person_id: str) -> list[StoredInstrument]:
        return [s for s in self.state.instruments if s.owner_person_id == person_id]

    def delete_private_of(self, person_id: str, assigned: set[str]) -> None:
        self.state.instruments = [
            replace(s, owner_person_id=ERASED_PERSON) if s.owner_person_id == person_id else s
            for s in self.state.instruments
            if not (
                s.owner_person_id == person_id and not s.shared and s.instrument_id not in assigned
            )
        ]


class FakeAssignments:
    def __init__(self, state: AssessmentState) -> None:
        self.state = state

    def unlocked(self, master: Any) -> FakeAssignments:
        return self

    def add(self, a: Assignment) -> None:
        a.data_key = "fake"
        self.state.assignments[a.id] = copy.deepcopy(a)

    def get(
        self,
        assignment_id: str,
        *,
        for_update: bool = False,
        answers: bool = False,
        attempts: bool = True,
    ) -> Assignment | None:
        found = copy.deepcopy(self.state.assignments.get(assignment_id))
        if found is not None and not answers:
            found.attempts = [replace(t, answers={}) for t in found.attempts]
        if found is not None and not attempts:
            found.attempts = []
        return found

    def submitted_scores(
        self, assignment_id: str
    ) -> list[tuple[int, datetime, list[tuple[str, float]]]]:
        kept = self.state.assignments[assignment_id]
        return [
            (t.number, t.submitted_at, [(s["dimension"], s["score"]) for s in t.scores or ()])
            for t in kept.attempts
            if t.status == SUBMITTED and t.submitted_at is not None
        ]

    def attempt_of(self, a: Assignment, number: int) -> Attempt | None:
        kept = self.state.assignments.get(a.id)
        found = next((t for t in kept.attempts if t.number == number), None) if kept else None
        return copy.deepcopy(found)

    def page_of_space(
        self, space_id: str, page_size: int, page_token: str
    ) -> tuple[list[Assignment], str]:
        found = sorted(
            (a for a in self.state.assignments.values() if a.space_id == space_id),
            key=lambda a: (a.created_at, a.id),
        )
        start = int(page_token or 0)
        page = [
            replace(copy.deepcopy(a), attempts=[replace(t, answers={}) for t in a.attempts])
            for a in found[start : start + page_size]
        ]
        more = start + page_size < len(found)
        return page, str(start + page_size) if more else ""

    def of_coachee(self, person_id: str) -> list[Assignment]:
        return [
            copy.deepcopy(a)
            for a in self.state.assignments.values()
            if a.coachee_person_id == person_id
        ]

    def instrument_ids(self) -> set[str]:
        return {a.instrument_id for a in self.state.assignments.values()}

    def save(self, a: Assignment, attempt: Attempt | None = None) -> None:
        kept = self.state.assignments[a.id]
        kept.attempts_allowed, kept.updated_at = a.attempts_allowed, a.updated_at
        if attempt is not None:
            kept.attempts = [t for t in kept.attempts if t.number != attempt.number]
            kept.attempts.append(copy.deepcopy(attempt))
            kept.attempts.sort(key=lambda t: t.number)

    def anonymise_assigner(self, person_id: str, placeholder: str) -> None:
        for a in self.state.assignments.values():
            if a.assigned_by_person_id == person_id:
                a.assigned_by_person_id = placeholder

    def delete(self, assignment_id: str) -> None:
        self.state.assignments.pop(assignment_id, None)
        for r in [r for r in self.state.raters.values() if r.assignment_id == assignment_id]:
            del self.state.raters[r.id]  # the foreign key's cascade

    def key_of(self, a: Assignment) -> SecretKey:
        return FAKE_KEY


FAKE_KEY = SecretKey(bytes(range(32)))  # derives the raters' tokens; seals nothing here


class FakeRaters:
    def __init__(self, state: AssessmentState) -> None:
        self.state = state

    def add(self, r: Rater, key: SecretKey) -> None:
        self.state.raters[r.id] = copy.deepcopy(r)

    def _out(self, r: Rater, *, answers: bool = False) -> Rater:
        return replace(copy.deepcopy(r), email=None, answers=r.answers if answers else None)

    def get(self, rater_id: str) -> Rater | None:
        r = self.state.raters.get(rater_id)
        return self._out(r) if r else None

    def by_token_hash(self, hashed: str, *, for_update: bool = False) -> Rater | None:
        r = next((r for r in self.state.raters.values() if r.token_hash == hashed), None)
        return self._out(r) if r else None

    def of_assignment(self, assignment_id: str, key: SecretKey | None = None) -> list[Rater]:
        return sorted(
            (
                self._out(r, answers=key is not None)
                for r in self.state.raters.values()
                if r.assignment_id == assignment_id
            ),
            key=lambda r: (r.invited_at, r.id),
        )

    def count_of(self, assignment_id: str) -> int:
        return sum(r.assignment_id == assignment_id for r in self.state.raters.values())

    def email_of(self, rater_id: str, key: SecretKey) -> str | None:
        r = self.state.raters.get(rater_id)
        return r.email if r else None

    def save(self, r: Rater, key: SecretKey) -> None:
        kept = self.state.raters[r.id]
        kept.status, kept.answered_at = r.status, r.answered_at
        kept.answers = copy.deepcopy(r.answers)
        if r.email is None:
            kept.email = None

    def expire(self, now: Any, batch: int = 500) -> list[tuple[str, str, str, str]]:
        done = []
        for r in self.state.raters.values():
            if r.status == INVITED and r.expires_at <= now:
                r.status, r.email = EXPIRED, None
                space = self.state.assignments[r.assignment_id].space_id
                done.append((r.id, r.assignment_id, r.tenant_id, space))
        return done


def assessment_repositories(state: AssessmentState) -> dict[str, Any]:
    return {
        "spaces": FakeSpaceCopies(state),
        "tools": FakeToolCopies(state),
        "instruments": FakeInstruments(state),
        "assignments": FakeAssignments(state),
        "raters": FakeRaters(state),
    }


def assessment_database(clock: Clock) -> FakeDatabase[AssessmentState]:
    return FakeDatabase(clock, AssessmentState(), assessment_repositories)
