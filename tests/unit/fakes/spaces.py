"""In-memory repositories for spaces' handler tests: the names `SpacesUnit` declares
(services/spaces/storage/unit.py) over one `SpacesState`. Nothing is sealed: the master key a
handler passes is ignored (sealing is the integration tests' business, test_note_sealing.py)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
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
    tools: list[tuple[str, str]] = field(default_factory=list)  # (space id, state) per tool
    tool_queries: list[list[str]] = field(default_factory=list)  # the spaces of each count


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

    def roster(self, tenant_id: str, person_id: str) -> list[tuple[Any, datetime]]:
        """The spaces the person coaches or co-coaches in the tenant, as rows `from_row` reads
        (never visited), most recently changed first."""
        mine = [
            s
            for s in self.state.spaces.values()
            if s.tenant_id == tenant_id
            and person_id
            in (s.set_up.coach.person_id, s.set_up.co_coach and s.set_up.co_coach.person_id)
        ]
        mine.sort(key=lambda s: (-s.updated_at.timestamp(), s.id))
        return [(SimpleNamespace(space=s, visited_at=None), s.updated_at) for s in mine]

    def from_row(self, row: Any) -> Space:
        return copy.deepcopy(row.space)


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

    def new_shared_notes(self, person_id: str, since: dict[str, datetime | None]) -> dict[str, int]:
        return {}  # the shared notes' counts are the integration tests' business


class FakeTools:
    """Tools' states only, as `uow.tools` reads them without a key."""

    def __init__(self, state: SpacesState) -> None:
        self.state = state

    def counts(self, space_ids: list[str]) -> dict[str, tuple[int, int]]:
        self.state.tool_queries.append(list(space_ids))
        out: dict[str, tuple[int, int]] = {}
        for space_id, tool_state in self.state.tools:
            if space_id in space_ids and tool_state != "removed":
                unlocked, total = out.get(space_id, (0, 0))
                out[space_id] = (unlocked + (tool_state == "unlocked"), total + 1)
        return out


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
        "tools": FakeTools(state),
    }


def spaces_db(clock: Clock) -> FakeDatabase[SpacesState]:
    return FakeDatabase(clock, SpacesState(), spaces_repositories)
