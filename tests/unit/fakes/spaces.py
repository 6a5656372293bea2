"""In-memory repositories for spaces' handler tests: the names `SpacesUnit` declares
(services/spaces/storage/unit.py) over one `SpacesState`. Nothing is sealed: the master key a
handler passes is ignored (sealing is the integration tests' business, test_note_sealing.py)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.kernel.clock import Clock
from services.kernel.crypto import MasterKey
from services.spaces.domain.model import Space
from services.spaces.domain.notes import Note
from tests.unit.fakes import FakeDatabase


@dataclass
class SpacesState:
    spaces: dict[str, Space] = field(default_factory=dict)
    notes: dict[str, Note] = field(default_factory=dict)
    reads: list[tuple[str, str, bool]] = field(default_factory=list)  # note, reader, refused
    visits: dict[tuple[str, str], datetime] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # session id -> space id


class FakeSpaces:
    def __init__(self, state: SpacesState) -> None:
        self.state = state

    def unlocked(self, master: MasterKey) -> FakeSpaces:
        return self

    def add(self, space: Space) -> None:
        self.state.spaces[space.id] = copy.deepcopy(space)

    def save(self, space: Space, *, with_content: bool) -> None:
        kept = copy.deepcopy(space)
        if not with_content:
            kept.content = self.state.spaces[space.id].content
        self.state.spaces[space.id] = kept

    def get(self, tenant_id: str, space_id: str, *, for_update: bool = False) -> Space | None:
        found = self.state.spaces.get(space_id)
        if found is None or found.tenant_id != tenant_id:
            return None
        return copy.deepcopy(found)

    def with_content(self, space: Space) -> Space:
        return copy.deepcopy(self.state.spaces[space.id])

    def notes_of(self, space: Space) -> FakeNotes:
        return FakeNotes(self.state)


class FakeNotes:
    def __init__(self, state: SpacesState) -> None:
        self.state = state

    def add(self, note: Note) -> None:
        self.state.notes[note.id] = copy.deepcopy(note)

    def save(self, note: Note, previous_body: str | None) -> None:
        self.state.notes[note.id] = copy.deepcopy(note)

    def get(self, space_id: str, note_id: str, *, for_update: bool = False) -> Note | None:
        found = self.state.notes.get(note_id)
        return copy.deepcopy(found) if found and found.space_id == space_id else None

    def head(self, tenant_id: str, space_id: str, note_id: str) -> Any:
        found = self.state.notes.get(note_id)
        ok = found and found.space_id == space_id and found.tenant_id == tenant_id
        return copy.deepcopy(found) if ok else None

    def record_reads(
        self,
        space_id: str,
        tenant_id: str,
        note_ids: list[str],
        reader_id: str,
        now: datetime,
        *,
        refused: bool = False,
    ) -> None:
        self.state.reads.extend((n, reader_id, refused) for n in note_ids)


class FakeVisits:
    def __init__(self, state: SpacesState) -> None:
        self.state = state

    def record(self, space_id: str, person_id: str, now: datetime) -> None:
        self.state.visits[(space_id, person_id)] = now


class FakeSpaceSessions:
    def __init__(self, state: SpacesState) -> None:
        self.state = state

    def record(self, session_id: str, space_id: str, tenant_id: str) -> None:
        self.state.sessions.setdefault(session_id, space_id)

    def has(self, space_id: str, session_id: str) -> bool:
        return self.state.sessions.get(session_id) == space_id


def spaces_repositories(state: SpacesState) -> dict[str, Any]:
    return {
        "spaces": FakeSpaces(state),
        "notes": FakeNotes(state),
        "visits": FakeVisits(state),
        "space_sessions": FakeSpaceSessions(state),
    }


def spaces_db(clock: Clock) -> FakeDatabase[SpacesState]:
    return FakeDatabase(clock, SpacesState(), spaces_repositories)
