"""Spaces' main rules through its handlers, on in-memory fakes (tests/unit/fakes/spaces.py):
a space's lifecycle, a coach change that waits for the coachee's agreement, and who reads which
note. No database: the whole module runs in well under 2 s."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.contracts import spaces as c
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.errors import DomainError
from services.spaces.domain.model import MemberFacts
from services.spaces.handlers import coaches, notes, roster, spaces
from tests.unit.fakes import FakeDatabase
from tests.unit.fakes.spaces import SpacesState, spaces_db

NOW = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
TENANT = "ten_1"
MEMBERS: dict[str, MemberFacts] = {
    "mem_c0ac4ee": ("per_coachee", ("coachee",), "active"),
    "mem_c0ac4": ("per_coach", ("coach",), "active"),
    "mem_0c0ac4": ("per_other_coach", ("coach",), "active"),
    "mem_4bc0ac4": ("per_hr", ("coach", "tenant_admin"), "active"),
}
MASTER = None  # the fakes seal nothing


def person(person_id: str, *roles: str, tenant_id: str = TENANT) -> PersonClaims:
    return PersonClaims(
        person_id, tenant_id, roles or ("member",), False, "tok", NOW, NOW + timedelta(1)
    )


ADMIN = person("per_admin", "tenant_admin")
COACHEE, COACH = person("per_coachee", "coachee"), person("per_coach", "coach")


def resolve(tenant_id: str, member_ids: list[str]) -> dict[str, MemberFacts]:
    return {m: MEMBERS[m] for m in member_ids if tenant_id == TENANT and m in MEMBERS}


def refused(reason: str, call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.reason == reason, caught.value
    return caught.value


def a_space(db: FakeDatabase[SpacesState], coach: str = "mem_c0ac4") -> c.Space:
    set_up = c.SetUpInput(
        coachee_member_id="mem_c0ac4ee",
        coach_member_id=coach,
        cadence="weekly",
        sessions_planned=6,
        starts_on=date(2026, 10, 6),
    )
    request = c.CreateSpaceRequest(tenant_id=TENANT, set_up=set_up)
    return spaces.create_space(db, MASTER, resolve, ADMIN, request)  # type: ignore[arg-type]


def ref(space: c.Space) -> c.SpaceRef:
    return c.SpaceRef(tenant_id=TENANT, space_id=space.space_id)


def move(db: FakeDatabase[SpacesState], who: PersonClaims, space: c.Space, to: str) -> c.Space:
    request = c.MoveSpaceRequest(tenant_id=TENANT, space_id=space.space_id, move=to)  # type: ignore[arg-type]
    return spaces.move_space(db, MASTER, who, request)  # type: ignore[arg-type]


# ---------------------------------------------------------------- lifecycle


def test_a_space_is_created_as_a_draft_with_its_event_and_moves_through_its_lifecycle() -> None:
    db = spaces_db(FixedClock(NOW))
    space = a_space(db)
    assert space.status == "draft"
    assert [type(e) for e in db.events] == [c.SpaceCreated]
    refused("SPACE_NOT_FOUND", move, db, COACHEE, space, "activate")  # a draft is not theirs yet
    refused("SPACE_MOVE_FORBIDDEN", move, db, ADMIN, space, "activate")
    assert move(db, COACH, space, "activate").status == "active"
    refused("SPACE_MOVE_NOT_ALLOWED", move, db, ADMIN, space, "archive")
    assert move(db, COACH, space, "complete").status == "completed"
    assert move(db, ADMIN, space, "archive").status == "archived"
    assert db.state.spaces[space.space_id].status == "archived"
    refused("SPACE_ARCHIVED", add_note, db, COACH, space, "shared")


def test_a_space_is_not_found_by_strangers_nor_by_another_tenant() -> None:
    db = spaces_db(FixedClock(NOW))
    space = a_space(db)
    get = spaces.get_space
    refused("SPACE_NOT_FOUND", get, db, MASTER, person("per_stranger", "coach"), ref(space))
    outsider = person("per_coach", "coach", tenant_id="ten_2")
    refused("TENANT_NOT_FOUND", get, db, MASTER, outsider, ref(space))
    assert get(db, MASTER, COACH, ref(space)).space_id == space.space_id  # type: ignore[arg-type]


def test_a_failed_move_changes_nothing_and_records_nothing() -> None:
    db = spaces_db(FixedClock(NOW))
    space = a_space(db)
    before = len(db.events)
    refused("SPACE_NOT_FOUND", move, db, person("per_stranger"), space, "activate")
    assert db.state.spaces[space.space_id].status == "draft"
    assert len(db.events) == before


# ---------------------------------------------------------------- coach change


def change_coach(db: FakeDatabase[SpacesState], space: c.Space, member_id: str) -> c.Space:
    request = c.ChangeCoachRequest(
        tenant_id=TENANT, space_id=space.space_id, coach_member_id=member_id
    )
    return coaches.change_coach(db, MASTER, resolve, ADMIN, request)  # type: ignore[arg-type]


def pending_ref(space: c.Space) -> c.PendingCoachChangeRequest:
    return c.PendingCoachChangeRequest(tenant_id=TENANT, space_id=space.space_id)


def test_a_coach_change_takes_effect_at_once_for_an_ordinary_coach() -> None:
    db = spaces_db(FixedClock(NOW))
    space = a_space(db)
    changed = change_coach(db, space, "mem_0c0ac4")
    assert db.state.spaces[space.space_id].set_up.coach.person_id == "per_other_coach"
    assert changed.pending_coach_change is None
    assert db.events_of(c.CoachChanged)


def test_an_overseer_as_coach_waits_for_the_coachee_who_alone_may_accept() -> None:
    db = spaces_db(FixedClock(NOW))
    space = a_space(db)
    # in a draft, which the coachee does not see yet, nobody could agree: refused
    refused("INVALID_ARGUMENT", change_coach, db, space, "mem_4bc0ac4")
    move(db, COACH, space, "activate")
    change_coach(db, space, "mem_4bc0ac4")
    kept = db.state.spaces[space.space_id]
    assert kept.set_up.coach.person_id == "per_coach"  # not yet
    assert kept.pending is not None
    assert db.events_of(c.CoachChangeProposed) and not db.events_of(c.CoachChanged)
    accept = coaches.accept_coach_change
    refused("COACHEE_ONLY", accept, db, MASTER, resolve, COACH, pending_ref(space))
    accepted = accept(db, MASTER, resolve, COACHEE, pending_ref(space))  # type: ignore[arg-type]
    assert accepted.set_up.coach.person_id == "per_hr"
    assert db.state.spaces[space.space_id].pending is None
    assert db.events_of(c.CoachChanged)
    refused("NO_PENDING_COACH_CHANGE", accept, db, MASTER, resolve, COACHEE, pending_ref(space))


def test_a_declined_coach_change_leaves_the_set_up_as_it_was() -> None:
    db = spaces_db(FixedClock(NOW))
    space = a_space(db)
    move(db, COACH, space, "activate")
    change_coach(db, space, "mem_4bc0ac4")
    coaches.decline_coach_change(db, MASTER, COACHEE, pending_ref(space))  # type: ignore[arg-type]
    kept = db.state.spaces[space.space_id]
    assert kept.pending is None and kept.set_up.coach.person_id == "per_coach"


# ---------------------------------------------------------------- notes


def add_note(db: FakeDatabase[SpacesState], who: PersonClaims, space: c.Space, kind: str) -> c.Note:
    request = c.CreateNoteRequest(
        tenant_id=TENANT,
        space_id=space.space_id,
        kind=kind,  # type: ignore[arg-type]
        body=f"a {kind} note",
    )
    return notes.create_note(db, MASTER, who, request)  # type: ignore[arg-type]


def read(db: FakeDatabase[SpacesState], who: PersonClaims, note: c.Note) -> c.Note:
    request = c.NoteRef(tenant_id=TENANT, space_id=note.space_id, note_id=note.note_id)
    return notes.get_note(db, MASTER, who, request)  # type: ignore[arg-type]


def test_a_shared_note_is_read_by_the_coach_and_a_private_one_is_not_even_seen() -> None:
    db = spaces_db(FixedClock(NOW))
    space = a_space(db)
    move(db, COACH, space, "activate")
    shared = add_note(db, COACHEE, space, "shared")
    private = add_note(db, COACHEE, space, "journal")
    assert db.events_of(c.NoteShared)
    assert read(db, COACH, shared).body == "a shared note"
    assert read(db, COACHEE, private).body == "a journal note"
    refused("NOTE_NOT_FOUND", read, db, COACH, private)
    # the refused read stays recorded (for operators), though the call failed
    assert (private.note_id, "per_coach", True) in db.state.reads
    assert (shared.note_id, "per_coach", False) in db.state.reads


def test_hr_sees_the_space_but_none_of_its_notes() -> None:
    db = spaces_db(FixedClock(NOW))
    space = a_space(db)
    move(db, COACH, space, "activate")
    shared = add_note(db, COACHEE, space, "shared")
    refused("CONTENT_FORBIDDEN", read, db, ADMIN, shared)
    refused("CONTENT_FORBIDDEN", add_note, db, ADMIN, space, "shared")


# ---------------------------------------------------------------- the coach's roster


def roster_of(db: FakeDatabase[SpacesState], who: PersonClaims) -> dict[str, tuple[int, int]]:
    request = c.ListSpacesRequest(tenant_id=TENANT)
    found = roster.get_coach_roster(db, MASTER, who, request)  # type: ignore[arg-type]
    return {e.space.space_id: (e.tools_open, e.tools_total) for e in found.entries}


def test_the_roster_counts_each_toolbox_in_one_query_for_all_its_spaces() -> None:
    db = spaces_db(FixedClock(NOW))
    full, empty, other = a_space(db), a_space(db), a_space(db, coach="mem_0c0ac4")
    db.state.tools += [
        (full.space_id, "unlocked"),
        (full.space_id, "unlocked"),
        (full.space_id, "locked"),
        (full.space_id, "removed"),  # left out of both counts
        (other.space_id, "unlocked"),
    ]
    assert roster_of(db, COACH) == {full.space_id: (2, 3), empty.space_id: (0, 0)}
    assert [sorted(q) for q in db.state.tool_queries] == [
        sorted([full.space_id, empty.space_id])
    ]  # one count for the whole roster, only the caller's spaces in it
    # Another coach counts only their own space; HR, coaching no one, gets no entry at all.
    assert roster_of(db, person("per_other_coach", "coach")) == {other.space_id: (1, 1)}
    assert roster_of(db, ADMIN) == {}


def test_an_old_roster_entry_without_counts_reads_an_empty_toolbox() -> None:
    space = a_space(spaces_db(FixedClock(NOW)))
    entry = c.RosterEntry(space=space, last_activity_at=NOW)
    assert (entry.tools_open, entry.tools_total) == (0, 0)
