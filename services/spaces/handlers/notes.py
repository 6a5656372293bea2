"""A space's notes, their revisions and who read them; the sessions a note may link to."""

from __future__ import annotations

from typing import Any

from services.contracts import spaces as c
from services.contracts.base import Empty, PageRequest
from services.kernel.caller import Caller, PersonClaims, member_of, require_operator
from services.kernel.crypto import MasterKey
from services.kernel.errors import (
    DomainError,
    NotFound,
)

from ..domain.model import (
    Relation,
    Space,
)
from ..domain.notes import SHARED, Note, note_not_found
from ..storage.notes import Notes
from ..storage.spaces import Spaces
from ..storage.unit import Db, SpacesUnit
from .access import content_relation, visited, writable
from .views import note_view


def space_notes(repo: Spaces, space: Space) -> Notes:
    return repo.notes_of(space)


def create_note(db: Db, master: MasterKey, caller: Caller, request: c.CreateNoteRequest) -> c.Note:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = content_relation(uow, master, who, request)
        writable(space)
        notes = space_notes(repo, space)
        parent = None
        if request.parent_note_id:
            parent = notes.get(space.id, request.parent_note_id)
            hidden = space.earlier_hidden_from(relation)
            if parent is None or not parent.readable_by(who.person_id, relation, hidden):
                raise note_not_found()
        now = uow.clock.now()
        note = Note.create(
            space.id,
            space.tenant_id,
            request.kind,
            who.person_id,
            relation,
            request.body,
            [link.model_dump() for link in request.links],
            parent,
            now,
            session_id=_linked_session(uow, space, request.session_id),
        )
        notes.add(note)
        if note.kind == SHARED:
            uow.record(
                c.NoteShared(
                    note_id=note.id,
                    space_id=space.id,
                    tenant_id=space.tenant_id,
                    author_person_id=who.person_id,
                    shared_at=now,
                )
            )
    return note_view(note)


def _linked_session(uow: SpacesUnit, space: Space, session_id: str | None) -> str | None:
    """A session of this very space (known from scheduling's events), or NOT_FOUND."""
    if session_id is not None and not uow.space_sessions.has(space.id, session_id):
        raise NotFound("No such session in this space.", reason="SESSION_NOT_FOUND")
    return session_id


def record_session(uow: SpacesUnit, event: Any) -> None:
    uow.space_sessions.record(event.session_id, event.space_id, event.tenant_id)


def get_note(db: Db, master: MasterKey, caller: Caller, request: c.NoteRef) -> c.Note:
    """One note, recorded in the access log. A note the caller may not read is a refused read
    (recorded as such, for operators) and looks like one that does not exist."""
    who = member_of(caller, request.tenant_id)
    refused: DomainError | None = None
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        try:
            repo, space, relation = content_relation(uow, master, who, request)
            notes = space_notes(repo, space)
            note = notes.get(space.id, request.note_id)
            if note is None or note.deleted_at is not None:
                raise note_not_found()
            if not note.readable_by(who.person_id, relation, space.earlier_hidden_from(relation)):
                raise note_not_found()
        except DomainError as exc:
            head = uow.notes.head(request.tenant_id, request.space_id, request.note_id)
            if head is None:
                raise  # nothing there: nothing to record
            uow.notes.record_reads(
                request.space_id, request.tenant_id, [head.id], who.person_id, now, refused=True
            )
            refused = exc
        else:
            notes.record_reads(space.id, space.tenant_id, [note.id], who.person_id, now)
    if refused is not None or note is None:  # after the commit: the refused read stays recorded
        raise refused or note_not_found()
    return note_view(note)


def list_notes(
    db: Db, master: MasterKey, caller: Caller, request: c.ListNotesRequest
) -> c.NoteList:
    """The latest notes the caller may read, newest first; each one returned is a read."""
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = content_relation(uow, master, who, request)
        notes = space_notes(repo, space)
        found, nxt = notes.readable_page(
            space.id,
            who.person_id,
            list(request.kinds),
            request.effective_page_size(),
            request.page_token,
            hidden_before=space.earlier_hidden_from(relation),
        )
        notes.record_reads(
            space.id, space.tenant_id, [n.id for n in found], who.person_id, uow.clock.now()
        )
        visited(uow, space, relation, who)
    return c.NoteList(notes=[note_view(n) for n in found], next_page_token=nxt)


def _own_note(
    notes: Notes, space: Space, request: Any, who: PersonClaims, relation: Relation
) -> Note:
    note = notes.get(space.id, request.note_id, for_update=True)
    if note is None or not note.readable_by(who.person_id, relation):
        raise note_not_found()
    return note


def update_note(db: Db, master: MasterKey, caller: Caller, request: c.UpdateNoteRequest) -> c.Note:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = content_relation(uow, master, who, request)
        writable(space)
        notes = space_notes(repo, space)
        note = _own_note(notes, space, request, who, relation)
        changes: dict[str, Any] = {}
        if "body" in request.update_mask:
            changes["body"] = request.body
        if "links" in request.update_mask:
            changes["links"] = [link.model_dump() for link in request.links]
        if "session_id" in request.update_mask:
            changes["session_id"] = _linked_session(uow, space, request.session_id)
        previous = note.edit(who.person_id, changes, uow.clock.now())
        notes.save(note, previous if "body" in changes and previous != note.body else None)
    return note_view(note)


def delete_note(db: Db, master: MasterKey, caller: Caller, request: c.NoteRef) -> Empty:
    """The author deletes their note: its body, links and revisions go (a thread keeps its
    place, empty)."""
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = content_relation(uow, master, who, request)
        notes = space_notes(repo, space)
        note = _own_note(notes, space, request, who, relation)
        note.delete(who.person_id, uow.clock.now())
        notes.save(note, None)
    return Empty()


def list_note_revisions(
    db: Db, master: MasterKey, caller: Caller, request: c.NotePageRequest
) -> c.NoteRevisionList:
    """The earlier bodies of a note, newest first, for whoever may read the note."""
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        repo, space, relation = content_relation(uow, master, who, request)
        notes = space_notes(repo, space)
        note = notes.get(space.id, request.note_id)
        if (
            note is None
            or note.deleted_at is not None
            or not note.readable_by(who.person_id, relation, space.earlier_hidden_from(relation))
        ):
            raise note_not_found()
        rows, nxt = notes.revisions(note.id, request.effective_page_size(), request.page_token)
    return c.NoteRevisionList(revisions=[c.NoteRevision(**r) for r in rows], next_page_token=nxt)


def _reads_view(rows: list[dict[str, Any]], nxt: str) -> c.NoteReadList:
    return c.NoteReadList(
        reads=[
            c.NoteRead(
                note_id=r["note_id"],
                space_id=r["space_id"],
                tenant_id=r["tenant_id"],
                reader_person_id=r["reader_id"],
                read_at=r["created_at"],
            )
            for r in rows
        ],
        next_page_token=nxt,
    )


def list_note_reads(
    db: Db, master: MasterKey, caller: Caller, request: c.SpacePageRequest
) -> c.NoteReadList:
    """Who opened which note and when: only about the notes the caller may read (a coach's
    private notes: their author; the journal: the coachee). Refused reads are not reads."""
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        _, space, relation = content_relation(uow, master, who, request)
        rows, nxt = uow.notes.reads_visible_to(
            request.space_id,
            who.person_id,
            request.effective_page_size(),
            request.page_token,
            hidden_before=space.earlier_hidden_from(relation),
        )
    return _reads_view(rows, nxt)


def list_refused_note_reads(db: Db, caller: Caller, request: PageRequest) -> c.NoteReadList:
    """Operators: the refused reads of every tenant (who tried to open which note, when)."""
    require_operator(caller)
    with db.read_only() as uow:
        rows, nxt = uow.notes.refused_reads(request.effective_page_size(), request.page_token)
    return _reads_view(rows, nxt)


def notes_of(repo: Spaces, space: Space, person_id: str) -> dict[str, Any]:
    notes = space_notes(repo, space)
    readable = notes.all_readable(space.id, person_id)
    reads = notes.all_reads_visible_to(space.id, person_id)
    return {
        "notes": [note_view(n).model_dump(mode="json") for n in readable],
        "note_reads": [
            {
                "note_id": r["note_id"],
                "reader_person_id": r["reader_id"],
                "read_at": r["created_at"].isoformat(),
            }
            for r in reads
        ],
    }
