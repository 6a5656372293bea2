"""A space's notes, their revisions and their access log, sealed with the space's data key;
and what erasure does to an author's notes, goal changes and visits (`Authors`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    or_,
    select,
    text,
    update,
)

from services.kernel.crypto import SecretKey
from services.kernel.ids import new_id
from services.kernel.markdown import render as render_markdown
from services.kernel.runtime.pagination import keyset_page

from ..domain.model import ERASED_PERSON
from ..domain.notes import Link, Note
from .tables import (
    goal_changes,
    goals,
    note_reads,
    note_revisions,
    notes,
    space_visits,
    spaces,
)


def _not_hidden(reader_id: str, hidden_before: datetime | None) -> Any:
    """Others' notes written before a late coach joined stay hidden (Note.readable_by)."""
    if hidden_before is None:
        return text("true")
    return or_(notes.c.created_at >= hidden_before, notes.c.author_id == reader_id)


NOTE_SEAL_VERSION = 2
# A page of notes ends early past this many characters of bodies and HTML: an answer a gRPC
# client accepts (4 MB by default), whatever the page size asked.
NOTES_PAGE_CHARACTERS = 1_000_000


def note_context(
    note_id: str, space_id: str, kind: str, author_id: str, version: int = NOTE_SEAL_VERSION
) -> str:
    """The associated data a note's ciphertext is bound to: moved to another note, space, kind
    or author (a private note made shared in the database, say), it no longer opens."""
    if version == 1:
        return f"spaces.note.{note_id}"
    return f"spaces.note.v2.{note_id}.{space_id}.{kind}.{author_id}"


def revision_context(revision_id: str, note_id: str, version: int = NOTE_SEAL_VERSION) -> str:
    """A revision's associated data: moved under another note, it no longer opens."""
    if version == 1:
        return f"spaces.note_revision.{revision_id}"
    return f"spaces.note_revision.v2.{revision_id}.{note_id}"


class Notes:
    """A space's notes, sealed with the space's data key (`key`)."""

    def __init__(self, connection: Connection, key: SecretKey | None = None) -> None:
        """Without a key (the unit of work's `uow.notes`): the access log and the notes'
        heads only; `Spaces.notes_of(space)` gives them sealed with the space's key."""
        self.connection = connection
        self.key = key

    def _seal(self, note: Note, author_id: str | None = None) -> str:
        """Sealed with the HTML rendered now, once: reads never render (a body crafted to be
        slow to render costs its writer, once, not every reader, every time)."""
        assert self.key is not None
        note.body_html = render_markdown(note.body) if note.body else ""
        body = {
            "body": note.body,
            "links": [link.as_dict() for link in note.links],
            "html": note.body_html,
        }
        author = note.author_id if author_id is None else author_id
        context = note_context(note.id, note.space_id, note.kind, author)
        return self.key.seal_text(json.dumps(body), context)

    def _note(self, r: Any) -> Note:
        assert self.key is not None
        context = note_context(r.id, r.space_id, r.kind, r.author_id, r.seal_version)
        body = json.loads(self.key.open_text(r.sealed, context))
        return Note(
            id=r.id,
            space_id=r.space_id,
            tenant_id=r.tenant_id,
            kind=r.kind,
            author_id=r.author_id,
            parent_id=r.parent_id,
            body=body["body"],
            links=[Link(**link) for link in body["links"]],
            created_at=r.created_at,
            updated_at=r.updated_at,
            deleted_at=r.deleted_at,
            session_id=r.session_id,
            # Sealed before migration 0007 without it: rendered on each read until the note is
            # written again (rendering is linear, services/kernel/markdown.py).
            body_html=body["html"] if "html" in body else render_markdown(body["body"]),
        )

    def add(self, note: Note) -> None:
        self.connection.execute(
            notes.insert().values(
                id=note.id,
                space_id=note.space_id,
                tenant_id=note.tenant_id,
                kind=note.kind,
                author_id=note.author_id,
                parent_id=note.parent_id,
                sealed=self._seal(note),
                seal_version=NOTE_SEAL_VERSION,
                session_id=note.session_id,
                created_at=note.created_at,
                updated_at=note.updated_at,
            )
        )

    def save(self, note: Note, previous_body: str | None) -> None:
        assert self.key is not None
        self.connection.execute(
            update(notes)
            .where(notes.c.id == note.id)
            .values(
                sealed=self._seal(note),
                seal_version=NOTE_SEAL_VERSION,
                updated_at=note.updated_at,
                deleted_at=note.deleted_at,
                session_id=note.session_id,
            )
        )
        if note.deleted_at is not None:  # its revisions go with its body
            self.connection.execute(
                note_revisions.delete().where(note_revisions.c.note_id == note.id)
            )
        elif previous_body is not None:
            revision = new_id("rev")
            self.connection.execute(
                note_revisions.insert().values(
                    id=revision,
                    note_id=note.id,
                    created_at=note.updated_at,
                    sealed=self.key.seal_text(previous_body, revision_context(revision, note.id)),
                    seal_version=NOTE_SEAL_VERSION,
                )
            )

    def get(self, space_id: str, note_id: str, *, for_update: bool = False) -> Note | None:
        query = select(notes).where(notes.c.id == note_id, notes.c.space_id == space_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return self._note(row) if row else None

    def head(self, tenant_id: str, space_id: str, note_id: str) -> Any:
        """Who wrote it and of what kind, without opening it (to record a refused read)."""
        return self.connection.execute(
            select(notes.c.id, notes.c.kind, notes.c.author_id).where(
                notes.c.id == note_id, notes.c.space_id == space_id, notes.c.tenant_id == tenant_id
            )
        ).first()

    def readable_page(
        self,
        space_id: str,
        reader_id: str,
        kinds: list[str],
        size: int,
        token: str,
        hidden_before: datetime | None = None,
    ) -> tuple[list[Note], str]:
        """Newest first: shared notes, and the reader's own private ones (their journal or their
        private notes); deleted notes are left out, and others' notes from before
        `hidden_before` (Note.readable_by)."""
        query = select(notes).where(
            notes.c.space_id == space_id,
            notes.c.deleted_at.is_(None),
            or_(notes.c.kind == "shared", notes.c.author_id == reader_id),
            _not_hidden(reader_id, hidden_before),
        )
        if kinds:
            query = query.where(notes.c.kind.in_(kinds))
        return keyset_page(
            self.connection,
            notes,
            query,
            size,
            token,
            self._note,
            newest_first=True,
            weigh=lambda note: len(note.body) + len(note.body_html),
            max_weight=NOTES_PAGE_CHARACTERS,
        )

    def revisions(self, note_id: str, size: int, token: str) -> tuple[list[dict[str, Any]], str]:
        assert self.key is not None
        key = self.key

        def entry(r: Any) -> dict[str, Any]:
            context = revision_context(r.id, r.note_id, r.seal_version)
            body = key.open_text(r.sealed, context)
            return {"replaced_at": r.created_at, "body": body}

        query = select(note_revisions).where(note_revisions.c.note_id == note_id)
        return keyset_page(
            self.connection, note_revisions, query, size, token, entry, newest_first=True
        )

    def reseal_for_author(self, space_id: str, author_id: str, new_author_id: str) -> int:
        """The author's shared notes in the space, sealed again for `new_author_id` (erasure
        signs them by a former participant: the ciphertext must follow). Returns how many."""
        assert self.key is not None
        rows = self.connection.execute(
            select(notes)
            .where(
                notes.c.space_id == space_id,
                notes.c.author_id == author_id,
                notes.c.kind == "shared",
            )
            .with_for_update()
        ).all()
        for r in rows:
            note = self._note(r)
            self.connection.execute(
                update(notes)
                .where(notes.c.id == r.id)
                .values(
                    sealed=self._seal(note, new_author_id),
                    seal_version=NOTE_SEAL_VERSION,
                    author_id=new_author_id,
                )
            )
        return len(rows)

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
        if note_ids:
            self.connection.execute(
                note_reads.insert(),
                [
                    {
                        "id": new_id("nrd"),
                        "note_id": note_id,
                        "space_id": space_id,
                        "tenant_id": tenant_id,
                        "reader_id": reader_id,
                        "created_at": now,
                        "refused": refused,
                    }
                    for note_id in note_ids
                ],
            )

    def reads_visible_to(
        self,
        space_id: str,
        person_id: str,
        size: int,
        token: str,
        hidden_before: datetime | None = None,
    ) -> tuple[list[dict[str, Any]], str]:
        """Reads (never refused ones) of the notes the person may read themselves: shared ones,
        and their own private notes or journal. Newest first."""
        query = (
            select(note_reads, notes.c.kind)
            .join(notes, notes.c.id == note_reads.c.note_id)
            .where(
                note_reads.c.space_id == space_id,
                note_reads.c.refused.is_(False),
                or_(notes.c.kind == "shared", notes.c.author_id == person_id),
                _not_hidden(person_id, hidden_before),
            )
        )
        return keyset_page(
            self.connection,
            note_reads,
            query,
            size,
            token,
            lambda r: dict(r._mapping),
            newest_first=True,
        )

    def all_readable(self, space_id: str, reader_id: str) -> list[Note]:
        """For the person's export: every note of the space they may read, oldest first."""
        rows = self.connection.execute(
            select(notes)
            .where(
                notes.c.space_id == space_id,
                notes.c.deleted_at.is_(None),
                or_(notes.c.kind == "shared", notes.c.author_id == reader_id),
            )
            .order_by(notes.c.created_at, notes.c.id)
        )
        return [self._note(r) for r in rows]

    def all_reads_visible_to(self, space_id: str, person_id: str) -> list[dict[str, Any]]:
        rows, token = [], ""
        while True:
            page, token = self.reads_visible_to(space_id, person_id, 500, token)
            rows += page
            if not token:
                return rows

    def refused_reads(self, size: int, token: str) -> tuple[list[dict[str, Any]], str]:
        """For operators: refused reads only, every tenant's, newest first (no content)."""
        query = select(note_reads).where(note_reads.c.refused.is_(True))
        return keyset_page(
            self.connection,
            note_reads,
            query,
            size,
            token,
            lambda r: dict(r._mapping),
            newest_first=True,
        )


# ---------------------------------------------------------------- erasure


class Authors:
    """What a person wrote across spaces, for their erasure."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def spaces_with_shared_notes_by(self, person_id: str) -> list[tuple[str, str]]:
        """(tenant id, space id) of each space holding shared notes the person wrote."""
        rows = self.connection.execute(
            select(notes.c.tenant_id, notes.c.space_id)
            .where(notes.c.author_id == person_id, notes.c.kind == "shared")
            .distinct()
        )
        return [(r.tenant_id, r.space_id) for r in rows]

    def erase(self, person_id: str) -> None:
        """Erasing a person who is no coachee of these spaces (a coach, say): their private
        notes and journal entries go (revisions and reads with them); shared notes they wrote
        stay for the others, signed by a former participant; their reads and their name on
        changes go."""
        connection = self.connection
        connection.execute(
            notes.delete().where(notes.c.author_id == person_id, notes.c.kind != "shared")
        )
        connection.execute(
            update(notes).where(notes.c.author_id == person_id).values(author_id=ERASED_PERSON)
        )
        connection.execute(note_reads.delete().where(note_reads.c.reader_id == person_id))
        connection.execute(space_visits.delete().where(space_visits.c.person_id == person_id))
        connection.execute(
            update(goal_changes)
            .where(goal_changes.c.changed_by == person_id)
            .values(changed_by=ERASED_PERSON)
        )
        connection.execute(
            update(goals).where(goals.c.created_by == person_id).values(created_by=ERASED_PERSON)
        )
        connection.execute(
            update(spaces).where(spaces.c.created_by == person_id).values(created_by=ERASED_PERSON)
        )
