"""The spaces service's tables and repositories (SQLAlchemy 2 Core).

Content (project, objectives, context) is stored sealed by the space's own data key, itself
wrapped by the tenant's key (services/kernel/runtime/keyring.py): the database never holds it in
clear.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.kernel.crypto import MasterKey, SecretKey, key_id_of
from services.kernel.ids import new_id
from services.kernel.markdown import render as render_markdown
from services.kernel.runtime.keyring import KeyRing
from services.kernel.runtime.pagination import keyset_page

from .domain.goals import Goal, Milestone
from .domain.model import Content, Participant, PendingCoach, SetUp, Space
from .domain.notes import Link, Note

metadata = MetaData()

spaces = Table(
    "spaces",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("coachee_member_id", String(40), nullable=False),
    Column("coachee_person_id", String(40), nullable=False),
    Column("coach_member_id", String(40), nullable=False),
    Column("coach_person_id", String(40), nullable=False),
    Column("co_coach_member_id", String(40)),
    Column("co_coach_person_id", String(40)),
    Column("cadence", String(20), nullable=False),
    Column("sessions_planned", Integer, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),
    # The space's data key, wrapped by its tenant's key; erasing it makes the content unreadable.
    Column("data_key", Text, nullable=False),
    Column("content_sealed", Text, nullable=False),
    Column("created_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # A coach change waiting for the coachee's agreement (PendingCoach), if any.
    Column("pending_seat", String(16)),
    Column("pending_member_id", String(40)),
    Column("pending_person_id", String(40)),
    Column("pending_by", String(40)),
    Column("pending_at", DateTime(timezone=True)),
    # When the seats' holders joined (null: from the start) and the coachee's agreement to show
    # them what came before.
    Column("coach_joined_at", DateTime(timezone=True)),
    Column("co_coach_joined_at", DateTime(timezone=True)),
    Column("earlier_content_shared_at", DateTime(timezone=True)),
    Index("ix_spaces_tenant_page", "tenant_id", "created_at", "id"),
    Index("ix_spaces_coach", "tenant_id", "coach_person_id"),
    Index("ix_spaces_co_coach", "tenant_id", "co_coach_person_id"),
    Index("ix_spaces_coachee", "coachee_person_id"),
)


def _content_context(space_id: str) -> str:
    return f"spaces.content.{space_id}"


def _set_up_row(s: SetUp) -> dict[str, Any]:
    return {
        "coachee_member_id": s.coachee.member_id,
        "coachee_person_id": s.coachee.person_id,
        "coach_member_id": s.coach.member_id,
        "coach_person_id": s.coach.person_id,
        "co_coach_member_id": s.co_coach.member_id if s.co_coach else None,
        "co_coach_person_id": s.co_coach.person_id if s.co_coach else None,
        "cadence": s.cadence,
        "sessions_planned": s.sessions_planned,
        "starts_on": s.starts_on,
        "ends_on": s.ends_on,
    }


def _pending_row(p: PendingCoach | None) -> dict[str, Any]:
    return {
        "pending_seat": p.seat if p else None,
        "pending_member_id": p.participant.member_id if p else None,
        "pending_person_id": p.participant.person_id if p else None,
        "pending_by": p.proposed_by if p else None,
        "pending_at": p.proposed_at if p else None,
    }


def _pending(r: Any) -> PendingCoach | None:
    if not r.pending_seat:
        return None
    return PendingCoach(
        r.pending_seat,
        Participant(r.pending_member_id, r.pending_person_id),
        r.pending_by,
        r.pending_at,
    )


def _set_up(r: Any) -> SetUp:
    return SetUp(
        coachee=Participant(r.coachee_member_id, r.coachee_person_id),
        coach=Participant(r.coach_member_id, r.coach_person_id),
        co_coach=Participant(r.co_coach_member_id, r.co_coach_person_id)
        if r.co_coach_member_id
        else None,
        cadence=r.cadence,
        sessions_planned=r.sessions_planned,
        starts_on=r.starts_on,
        ends_on=r.ends_on,
    )


class Spaces:
    def __init__(self, connection: Connection, master: MasterKey) -> None:
        self.connection = connection
        self.keys = KeyRing(connection, master)

    def _seal(self, space: Space, key: SecretKey) -> str:
        content = {"project": space.content.project, "objectives": space.content.objectives}
        content["context"] = space.content.context
        return key.seal_text(json.dumps(content), _content_context(space.id))

    def add(self, space: Space) -> None:
        key, wrapped = self.keys.new_data_key(space.tenant_id, space.created_at)
        space.data_key = wrapped
        self.connection.execute(
            spaces.insert().values(
                id=space.id,
                tenant_id=space.tenant_id,
                status=space.status,
                **_set_up_row(space.set_up),
                data_key=wrapped,
                content_sealed=self._seal(space, key),
                created_by=space.created_by,
                created_at=space.created_at,
                updated_at=space.updated_at,
            )
        )

    def save(self, space: Space, *, with_content: bool) -> None:
        """Status and set-up as they are now; the content too (sealed again) if it was loaded."""
        values: dict[str, Any] = {
            "status": space.status,
            **_set_up_row(space.set_up),
            **_pending_row(space.pending),
            "coach_joined_at": space.coach_joined_at,
            "co_coach_joined_at": space.co_coach_joined_at,
            "earlier_content_shared_at": space.earlier_content_shared_at,
            "updated_at": space.updated_at,
        }
        if with_content:
            key = self.keys.data_key(space.tenant_id, space.data_key)
            values["content_sealed"] = self._seal(space, key)
        self.connection.execute(update(spaces).where(spaces.c.id == space.id).values(**values))

    def from_row(self, r: Any) -> Space:
        return self._space(r, with_content=False)

    def _space(self, r: Any, *, with_content: bool) -> Space:
        content = Content()
        if with_content:
            key = self.keys.data_key(r.tenant_id, r.data_key)
            content = Content(**json.loads(key.open_text(r.content_sealed, _content_context(r.id))))
        return Space(
            id=r.id,
            tenant_id=r.tenant_id,
            status=r.status,
            set_up=_set_up(r),
            content=content,
            created_by=r.created_by,
            created_at=r.created_at,
            updated_at=r.updated_at,
            data_key=r.data_key,
            pending=_pending(r),
            coach_joined_at=r.coach_joined_at,
            co_coach_joined_at=r.co_coach_joined_at,
            earlier_content_shared_at=r.earlier_content_shared_at,
        )

    def get(self, tenant_id: str, space_id: str, *, for_update: bool = False) -> Space | None:
        """Without its content: call `with_content` once the caller may read it."""
        query = select(spaces).where(spaces.c.id == space_id, spaces.c.tenant_id == tenant_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return self._space(row, with_content=False) if row else None

    def with_content(self, space: Space) -> Space:
        row = self.connection.execute(select(spaces).where(spaces.c.id == space.id)).one()
        return self._space(row, with_content=True)

    def page(
        self, tenant_id: str, person_id: str | None, size: int, token: str
    ) -> tuple[list[Space], str]:
        """A tenant's spaces, oldest first; only those the person takes part in, if given."""
        query = select(spaces).where(spaces.c.tenant_id == tenant_id)
        if person_id is not None:
            query = query.where(
                or_(
                    spaces.c.coachee_person_id == person_id,
                    spaces.c.coach_person_id == person_id,
                    spaces.c.co_coach_person_id == person_id,
                )
            )
        return keyset_page(
            self.connection,
            spaces,
            query,
            size,
            token,
            lambda r: self._space(r, with_content=False),
        )

    def of_coachee(self, person_id: str) -> list[Space]:
        """Every tenant's: the person's own spaces (their export, their erasure)."""
        rows = self.connection.execute(
            select(spaces)
            .where(spaces.c.coachee_person_id == person_id)
            .order_by(spaces.c.created_at)
        )
        return [self._space(r, with_content=True) for r in rows]

    def coached_by(self, person_id: str) -> list[Space]:
        rows = self.connection.execute(
            select(spaces)
            .where(
                or_(spaces.c.coach_person_id == person_id, spaces.c.co_coach_person_id == person_id)
            )
            .order_by(spaces.c.created_at)
        )
        return [self._space(r, with_content=False) for r in rows]

    def rewrap_batch(self, tenant_id: str, now: datetime, batch: int = 200) -> int:
        """Moves up to `batch` of the tenant's data keys under its current tenant key. Rows
        being edited are skipped (a later batch or rotation takes them); only `data_key`
        changes, so a concurrent edit of the content is never lost."""
        current = self.keys.current_key_id(tenant_id, now)
        rows = self.connection.execute(
            select(spaces.c.id, spaces.c.data_key)
            .where(
                spaces.c.tenant_id == tenant_id,
                ~spaces.c.data_key.startswith(f"v1.{current}."),
            )
            .order_by(spaces.c.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            new = self.keys.rewrap(tenant_id, row.data_key, now)
            if new is not None:
                self.connection.execute(
                    update(spaces)
                    .where(spaces.c.id == row.id, spaces.c.data_key == row.data_key)
                    .values(data_key=new)
                )
        return len(rows)

    def key_ids_in_use(self, tenant_id: str) -> set[str]:
        rows = self.connection.execute(
            select(spaces.c.data_key).where(spaces.c.tenant_id == tenant_id)
        ).scalars()
        return {key_id_of(w) for w in rows}

    def delete(self, space_id: str) -> None:
        """Erasure: the row goes, and its data key with it."""
        self.connection.execute(spaces.delete().where(spaces.c.id == space_id))


# ---------------------------------------------------------------- goals

goals = Table(
    "goals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("space_id", String(40), ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("tenant_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Integer, nullable=False),
    Column("due_on", Date),
    # title, description and milestones, sealed by the space's data key
    Column("sealed", Text, nullable=False),
    Column("created_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_goals_space", "space_id", "created_at", "id"),
)

goal_changes = Table(
    "goal_changes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("goal_id", String(40), ForeignKey("goals.id", ondelete="CASCADE"), nullable=False),
    Column("changed_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),  # when
    Column("sealed", Text, nullable=False),  # what: field -> [before, after], sealed
    Index("ix_goal_changes_goal", "goal_id", "created_at", "id"),
)


class Goals:
    """A space's goals, sealed with the space's data key (`key`)."""

    def __init__(self, connection: Connection, key: SecretKey) -> None:
        self.connection = connection
        self.key = key

    def _seal(self, goal: Goal) -> str:
        body = {
            "title": goal.title,
            "description": goal.description,
            "milestones": [m.as_dict() for m in goal.milestones],
        }
        return self.key.seal_text(json.dumps(body), f"spaces.goal.{goal.id}")

    def _goal(self, r: Any) -> Goal:
        body = json.loads(self.key.open_text(r.sealed, f"spaces.goal.{r.id}"))
        return Goal(
            id=r.id,
            space_id=r.space_id,
            tenant_id=r.tenant_id,
            title=body["title"],
            description=body["description"],
            due_on=r.due_on,
            progress=r.progress,
            status=r.status,
            milestones=[Milestone.of(m) for m in body["milestones"]],
            created_by=r.created_by,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )

    def add(self, goal: Goal, changes: dict[str, list[Any]]) -> None:
        self.connection.execute(
            goals.insert().values(
                id=goal.id,
                space_id=goal.space_id,
                tenant_id=goal.tenant_id,
                status=goal.status,
                progress=goal.progress,
                due_on=goal.due_on,
                sealed=self._seal(goal),
                created_by=goal.created_by,
                created_at=goal.created_at,
                updated_at=goal.updated_at,
            )
        )
        self.record(goal, goal.created_by, goal.created_at, changes)

    def save(self, goal: Goal, by: str, changes: dict[str, list[Any]]) -> None:
        self.connection.execute(
            update(goals)
            .where(goals.c.id == goal.id)
            .values(
                status=goal.status,
                progress=goal.progress,
                due_on=goal.due_on,
                sealed=self._seal(goal),
                updated_at=goal.updated_at,
            )
        )
        self.record(goal, by, goal.updated_at, changes)

    def record(self, goal: Goal, by: str, when: datetime, changes: dict[str, list[Any]]) -> None:
        change_id = new_id("gch")
        self.connection.execute(
            goal_changes.insert().values(
                id=change_id,
                goal_id=goal.id,
                changed_by=by,
                created_at=when,
                sealed=self.key.seal_text(json.dumps(changes), f"spaces.goal_change.{change_id}"),
            )
        )

    def get(self, space_id: str, goal_id: str, *, for_update: bool = False) -> Goal | None:
        query = select(goals).where(goals.c.id == goal_id, goals.c.space_id == space_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return self._goal(row) if row else None

    def of_space(
        self, space_id: str, size: int, token: str, since: datetime | None = None
    ) -> tuple[list[Goal], str]:
        """`since`: only goals created then or later (a coach who joined late)."""
        query = select(goals).where(goals.c.space_id == space_id)
        if since is not None:
            query = query.where(goals.c.created_at >= since)
        return keyset_page(self.connection, goals, query, size, token, self._goal)

    def history(self, goal_id: str, size: int, token: str) -> tuple[list[dict[str, Any]], str]:
        def entry(r: Any) -> dict[str, Any]:
            what = json.loads(self.key.open_text(r.sealed, f"spaces.goal_change.{r.id}"))
            return {"changed_by": r.changed_by, "changed_at": r.created_at, "changes": what}

        query = select(goal_changes).where(goal_changes.c.goal_id == goal_id)
        return keyset_page(self.connection, goal_changes, query, size, token, entry)


# ---------------------------------------------------------------- notes and their access log

notes = Table(
    "notes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("space_id", String(40), ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("tenant_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("author_id", String(40), nullable=False),
    Column("parent_id", String(40)),
    # body, links and the body rendered to HTML, sealed by the space's data key
    Column("sealed", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    Column("session_id", String(40)),  # the session it is about (an id, never sealed)
    # What `sealed` is bound to (its associated data): 1, the note id only (before migration 0007);
    # 2, the note id, space, kind and author (NOTE_SEAL_VERSION, what every write seals).
    Column("seal_version", SmallInteger, nullable=False, server_default="1"),
    Index("ix_notes_space_page", "space_id", "created_at", "id"),
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


# The sessions booked in each space, from scheduling's events: a note may link only to these.
space_sessions = Table(
    "space_sessions",
    metadata,
    Column("session_id", String(40), primary_key=True),
    Column("space_id", String(40), nullable=False),
    Column("tenant_id", String(40), nullable=False),
    Index("ix_space_sessions_space", "space_id"),
)


# When each person last opened a space (GetSpace, ListNotes): the coach's dashboard counts the
# shared notes written since. Ids and a time only; goes with the space, or with its person's
# erasure.
space_visits = Table(
    "space_visits",
    metadata,
    Column("space_id", String(40), ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", String(40), primary_key=True),
    Column("visited_at", DateTime(timezone=True), nullable=False),
    Index("ix_space_visits_person", "person_id"),
)


def record_visit(connection: Connection, space_id: str, person_id: str, now: datetime) -> None:
    upsert = pg_insert(space_visits).values(space_id=space_id, person_id=person_id, visited_at=now)
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=[space_visits.c.space_id, space_visits.c.person_id],
            set_={"visited_at": upsert.excluded.visited_at},
            where=space_visits.c.visited_at < upsert.excluded.visited_at,
        )
    )


def visits_of(connection: Connection, person_id: str) -> list[dict[str, Any]]:
    """A person's visits (their export)."""
    rows = connection.execute(
        select(space_visits.c.space_id, space_visits.c.visited_at)
        .where(space_visits.c.person_id == person_id)
        .order_by(space_visits.c.space_id)
    )
    return [{"space_id": r.space_id, "visited_at": r.visited_at.isoformat()} for r in rows]


def new_shared_notes(
    connection: Connection, person_id: str, since: dict[str, datetime | None]
) -> dict[str, int]:
    """Per space, the shared notes others wrote after `since[space]` (None: ever), deleted ones
    left out. One query."""
    if not since:
        return {}
    windows = [
        notes.c.space_id == space_id
        if after is None
        else (notes.c.space_id == space_id) & (notes.c.created_at > after)
        for space_id, after in since.items()
    ]
    rows = connection.execute(
        select(notes.c.space_id, func.count().label("n"))
        .where(
            notes.c.space_id.in_(list(since)),
            notes.c.kind == "shared",
            notes.c.deleted_at.is_(None),
            notes.c.author_id != person_id,
            or_(*windows),
        )
        .group_by(notes.c.space_id)
    )
    return {r.space_id: r.n for r in rows}


def record_space_session(
    connection: Connection, session_id: str, space_id: str, tenant_id: str
) -> None:
    connection.execute(
        text(
            "INSERT INTO space_sessions (session_id, space_id, tenant_id) VALUES (:s, :p, :t) "
            "ON CONFLICT (session_id) DO NOTHING"
        ),
        {"s": session_id, "p": space_id, "t": tenant_id},
    )


def space_has_session(connection: Connection, space_id: str, session_id: str) -> bool:
    return (
        connection.execute(
            select(space_sessions.c.session_id).where(
                space_sessions.c.session_id == session_id, space_sessions.c.space_id == space_id
            )
        ).first()
        is not None
    )


note_revisions = Table(
    "note_revisions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("note_id", String(40), ForeignKey("notes.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),  # when it was replaced
    Column("sealed", Text, nullable=False),  # the previous body
    # 1: bound to the revision id only (before migration 0007); 2: to the revision and its note too.
    Column("seal_version", SmallInteger, nullable=False, server_default="1"),
    Index("ix_note_revisions_note", "note_id", "created_at", "id"),
)

note_reads = Table(
    "note_reads",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("note_id", String(40), ForeignKey("notes.id", ondelete="CASCADE"), nullable=False),
    Column("space_id", String(40), nullable=False),
    Column("tenant_id", String(40), nullable=False),
    Column("reader_id", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),  # when
    Column("refused", Boolean, nullable=False),
    Index("ix_note_reads_space", "space_id", "created_at", "id"),
    Index("ix_note_reads_refused", "refused", "created_at", "id"),
)


class Notes:
    """A space's notes, sealed with the space's data key (`key`)."""

    def __init__(self, connection: Connection, key: SecretKey | None) -> None:
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

# What a note, goal change or space keeps as its author once that person was erased.
ERASED_PERSON = "erased"


def spaces_with_shared_notes_by(connection: Connection, person_id: str) -> list[tuple[str, str]]:
    """(tenant id, space id) of each space holding shared notes the person wrote."""
    rows = connection.execute(
        select(notes.c.tenant_id, notes.c.space_id)
        .where(notes.c.author_id == person_id, notes.c.kind == "shared")
        .distinct()
    )
    return [(r.tenant_id, r.space_id) for r in rows]


def erase_author(connection: Connection, person_id: str) -> None:
    """Erasing a person who is no coachee of these spaces (a coach, say): their private notes
    and journal entries go (revisions and reads with them); shared notes they wrote stay for the
    others, signed by a former participant; their reads and their name on changes go."""
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


def coach_roster(
    connection: Connection, tenant_id: str, person_id: str
) -> list[tuple[Any, datetime]]:
    """The spaces the person coaches (or co-coaches) in the tenant, with each one's last
    activity (the latest change of the space, its shared notes or its goals) and the person's
    last visit (`visited_at`, None if never). One query."""
    last_note = (
        select(func.max(notes.c.updated_at))
        .where(notes.c.space_id == spaces.c.id, notes.c.kind == "shared")
        .scalar_subquery()
    )
    last_goal = (
        select(func.max(goals.c.updated_at))
        .where(goals.c.space_id == spaces.c.id)
        .scalar_subquery()
    )
    last = func.greatest(spaces.c.updated_at, last_note, last_goal).label("last_activity")
    visited = (
        select(space_visits.c.visited_at)
        .where(space_visits.c.space_id == spaces.c.id, space_visits.c.person_id == person_id)
        .scalar_subquery()
        .label("visited_at")
    )
    rows = connection.execute(
        select(spaces, last, visited)
        .where(
            spaces.c.tenant_id == tenant_id,
            or_(spaces.c.coach_person_id == person_id, spaces.c.co_coach_person_id == person_id),
        )
        .order_by(last.desc(), spaces.c.id)
    )
    return [(r, r.last_activity) for r in rows]
