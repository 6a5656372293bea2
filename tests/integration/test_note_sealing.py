"""Notes on their real database: each ciphertext is bound to its note, space, kind and author
(version 2), notes sealed before (version 1) stay readable and are sealed again when written,
the HTML is rendered once at write time, and a page of big notes ends early."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select, update

from services.kernel.clock import SystemClock
from services.kernel.config import settings
from services.kernel.crypto import MasterKey, master_key_from
from services.kernel.runtime.sql import UnitOfWork, WorkerDatabase, make_engine
from services.spaces.domain.model import Space, new_id
from services.spaces.domain.notes import Note
from services.spaces.storage import notes as storage
from services.spaces.storage.notes import Notes, note_context
from services.spaces.storage.spaces import Spaces
from services.spaces.storage.tables import note_revisions, notes
from tests.integration.test_spaces_storage import a_space as new_space

NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)


@pytest.fixture
def db() -> Iterator[WorkerDatabase]:
    engine = make_engine(settings().database_url_for("spaces"), pool_size=1)
    database = WorkerDatabase(engine, SystemClock())
    yield database
    database.close()
    engine.dispose()


@pytest.fixture
def master() -> MasterKey:
    return master_key_from(settings())


def a_space(uow: UnitOfWork, master: MasterKey) -> tuple[Spaces, Space]:
    space = new_space(new_id("tnt"))
    repo = Spaces(uow.connection, master)
    repo.add(space)
    return repo, space


def notes_of(repo: Spaces, space: Space) -> Notes:
    return Notes(repo.connection, repo.keys.data_key(space.tenant_id, space.data_key))


def a_note(space: Space, kind: str, author: str, body: str, at: datetime = NOW) -> Note:
    return Note(
        id=new_id("not"),
        space_id=space.id,
        tenant_id=space.tenant_id,
        kind=kind,
        author_id=author,
        parent_id=None,
        body=body,
        links=[],
        created_at=at,
        updated_at=at,
    )


def test_a_ciphertext_moved_to_another_note_kind_or_author_does_not_open(
    db: WorkerDatabase, master: MasterKey
) -> None:
    with db.unit_of_work() as uow:
        repo, space = a_space(uow, master)
        coach = space.set_up.coach.person_id
        private = a_note(space, "coach_private", coach, "what the coachee must not read")
        shared = a_note(space, "shared", coach, "hello")
        store = notes_of(repo, space)
        store.add(private)
        store.add(shared)
        sealed = uow.connection.execute(
            select(notes.c.sealed).where(notes.c.id == private.id)
        ).scalar_one()
        for change in (
            {"kind": "shared"},  # a private note made shared in the database
            {"author_id": space.set_up.coachee.person_id},
        ):
            with uow.connection.begin_nested() as attempt:
                uow.connection.execute(update(notes).where(notes.c.id == private.id).values(change))
                with pytest.raises(InvalidTag):
                    store.get(space.id, private.id)
                attempt.rollback()
        # Copied over another note's row.
        with uow.connection.begin_nested() as attempt:
            uow.connection.execute(
                update(notes).where(notes.c.id == shared.id).values(sealed=sealed)
            )
            with pytest.raises(InvalidTag):
                store.get(space.id, shared.id)
            attempt.rollback()
        found = store.get(space.id, private.id)
        assert found is not None and found.body == "what the coachee must not read"


def test_a_note_sealed_before_version_2_opens_and_is_sealed_again_when_written(
    db: WorkerDatabase, master: MasterKey
) -> None:
    with db.unit_of_work() as uow:
        repo, space = a_space(uow, master)
        note = a_note(space, "shared", space.set_up.coach.person_id, "**old**")
        store = notes_of(repo, space)
        store.add(note)
        assert store.key is not None
        old = store.key.seal_text(
            json.dumps({"body": "**old**", "links": []}), note_context(note.id, "", "", "", 1)
        )
        uow.connection.execute(
            update(notes).where(notes.c.id == note.id).values(sealed=old, seal_version=1)
        )
        found = store.get(space.id, note.id, for_update=True)
        assert found is not None and found.body_html == "<p><strong>old</strong></p>\n"
        found.body = "new"
        store.save(found, previous_body="**old**")
        row = uow.connection.execute(select(notes).where(notes.c.id == note.id)).one()
        assert row.seal_version == 2
        again = store.get(space.id, note.id)
        assert again is not None and again.body_html == "<p>new</p>\n"


def test_reads_do_not_render_and_a_page_of_big_notes_ends_early(
    db: WorkerDatabase, master: MasterKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.unit_of_work() as uow:
        repo, space = a_space(uow, master)
        author = space.set_up.coach.person_id
        store = notes_of(repo, space)
        for i in range(5):
            store.add(a_note(space, "shared", author, f"*{i}*" + "x" * 19_000, NOW + timedelta(i)))

        def no_rendering(markdown: str) -> str:
            raise AssertionError("a read rendered Markdown")

        monkeypatch.setattr(storage, "render_markdown", no_rendering)
        monkeypatch.setattr(storage, "NOTES_PAGE_CHARACTERS", 100_000)
        page, token = store.readable_page(space.id, author, [], 50, "")
        assert len(page) == 2 and token  # 2 x ~38,000 characters; a third would pass 100,000
        assert page[0].body_html.startswith("<p><em>4</em>")
        rest, last = store.readable_page(space.id, author, [], 50, token)
        assert [n.body[:3] for n in rest] == ["*2*", "*1*"] and last


def test_a_revision_moved_under_another_note_does_not_open(
    db: WorkerDatabase, master: MasterKey
) -> None:
    with db.unit_of_work() as uow:
        repo, space = a_space(uow, master)
        coach = space.set_up.coach.person_id
        private = a_note(space, "coach_private", coach, "first private thought")
        shared = a_note(space, "shared", coach, "hello")
        store = notes_of(repo, space)
        store.add(private)
        store.add(shared)
        private.body = "second private thought"
        store.save(private, previous_body="first private thought")
        [revision], _ = store.revisions(private.id, 10, "")
        assert revision["body"] == "first private thought"
        uow.connection.execute(
            update(note_revisions)
            .where(note_revisions.c.note_id == private.id)
            .values(note_id=shared.id)
        )
        with pytest.raises(InvalidTag):
            store.revisions(shared.id, 10, "")
