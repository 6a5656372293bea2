"""Notes through the gateway: coach and coachee share notes and replies, each keeps private ones
nobody else reads (not even the co-coach), bodies render to sanitised HTML, edits keep history,
and the access log shows the right reads to the right people."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as pb
from gateway.api.pb import spaces_pb2_grpc as pb_grpc
from tests.e2e.conftest import TenantWorld, make_tenant
from tests.support.api import Api, Session, expect_error
from tests.support.spaces import add_person, create, move
from tests.support.waiting import wait_for

NOT_FOUND = grpc.StatusCode.NOT_FOUND
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
def stubs(deployment: Deployment) -> Iterator[tuple[Any, Any]]:
    channel = deployment.channel()
    yield pb_grpc.SpaceServiceStub(channel), pb_grpc.NoteServiceStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def team(deployment: Deployment, api: Api, operator: Session) -> TenantWorld:
    return make_tenant(deployment, api, operator)


@pytest.fixture(scope="module")
def space(
    deployment: Deployment, api: Api, stubs: tuple[Any, Any], team: TenantWorld
) -> dict[str, Any]:
    """An active space with a co-coach."""
    spaces, _ = stubs
    co_member, co_coach = add_person(deployment, api, team, ipb.COACH, "co-coach")
    created = spaces.CreateSpace(
        pb.CreateSpaceRequest(
            parent=f"tenants/{team.tenant_id}",
            set_up=pb.SpaceSetUp(
                coachee_member_id=team.coachee_member,
                coach_member_id=team.coach_member,
                co_coach_member_id=co_member,
                cadence=pb.WEEKLY,
                sessions_planned=12,
                start_date="2027-01-04",
            ),
        ),
        metadata=team.coach.metadata,
    )
    move(spaces, "Activate", created.name, team.coach)
    return {"name": created.name, "co_coach": co_coach}


def write(notes: Any, space: str, who: Session, kind: int, body: str, **more: Any) -> pb.Note:
    return notes.CreateNote(
        pb.CreateNoteRequest(parent=space, note=pb.Note(kind=kind, body=body, **more)),
        metadata=who.metadata,
    )


def readable(notes: Any, space: str, who: Session) -> list[str]:
    listed = notes.ListNotes(pb.ListNotesRequest(parent=space), metadata=who.metadata)
    return [n.body for n in listed.notes]


def reads(notes: Any, space: str, who: Session) -> set[tuple[str, str]]:
    listed = notes.ListNoteReads(pb.ListNoteReadsRequest(parent=space), metadata=who.metadata)
    return {(r.note, r.reader_person_id) for r in listed.reads}


def test_shared_notes_and_replies_private_notes_and_the_journal(
    stubs: tuple[Any, Any], team: TenantWorld, space: dict[str, Any]
) -> None:
    _, notes = stubs
    name, co_coach = space["name"], space["co_coach"]
    shared = write(notes, name, team.coach, pb.SHARED, "**Before next time**: try one thing")
    assert "<strong>Before next time</strong>" in shared.body_html
    reply = write(
        notes,
        name,
        team.coachee,
        pb.SHARED,
        "Done, it went well",
        parent_note=shared.name,
        links=[pb.NoteLink(url="https://example.com/article", title="The article")],
    )
    assert reply.parent_note == shared.name and reply.links[0].title == "The article"
    private = write(notes, name, team.coach, pb.COACH_PRIVATE, "Coach's own thought")
    journal = write(notes, name, team.coachee, pb.JOURNAL, "My own journal")
    co_private = write(notes, name, co_coach, pb.COACH_PRIVATE, "Co-coach's own thought")

    coach_sees = readable(notes, name, team.coach)
    assert "Coach's own thought" in coach_sees and "My own journal" not in coach_sees
    assert "Co-coach's own thought" not in coach_sees
    coachee_sees = readable(notes, name, team.coachee)
    assert "My own journal" in coachee_sees and "Coach's own thought" not in coachee_sees
    co_sees = readable(notes, name, co_coach)
    assert "Coach's own thought" not in co_sees and "Co-coach's own thought" in co_sees
    assert co_sees[0] == "Co-coach's own thought"  # newest first
    # Each hidden note is refused exactly like a missing one.
    for who, note in ((team.coachee, private), (team.coach, journal), (co_coach, private)):
        refused = expect_error(
            notes.GetNote, pb.GetNoteRequest(name=note.name), metadata=who.metadata
        )
        assert (refused.code, refused.reason) == (NOT_FOUND, "NOTE_NOT_FOUND")
    assert co_private.kind == pb.COACH_PRIVATE

    # Who may write what.
    for who, kind in ((team.coach, pb.JOURNAL), (team.coachee, pb.COACH_PRIVATE)):
        refused = expect_error(write, notes, name, who, kind, "not mine to write")
        assert (refused.code, refused.reason) == (PERMISSION_DENIED, "NOTE_KIND_FORBIDDEN")
    # HR reads and writes none of it.
    hr = expect_error(readable, notes, name, team.admin)
    assert (hr.code, hr.reason) == (PERMISSION_DENIED, "CONTENT_FORBIDDEN")
    hr_one = expect_error(
        notes.GetNote, pb.GetNoteRequest(name=shared.name), metadata=team.admin.metadata
    )
    assert hr_one.reason == "CONTENT_FORBIDDEN"


def test_edits_keep_history_and_an_author_deletes_only_their_own(
    stubs: tuple[Any, Any], team: TenantWorld, space: dict[str, Any]
) -> None:
    _, notes = stubs
    note = write(notes, space["name"], team.coachee, pb.SHARED, "first words")
    edited = notes.UpdateNote(
        pb.UpdateNoteRequest(
            note=pb.Note(name=note.name, body="better words"), update_mask=FieldMask(paths=["body"])
        ),
        metadata=team.coachee.metadata,
    )
    assert edited.body == "better words"
    revisions = notes.ListNoteRevisions(
        pb.ListNoteRevisionsRequest(parent=note.name), metadata=team.coach.metadata
    ).revisions
    assert [r.body for r in revisions] == ["first words"]
    for attempt in (
        lambda: notes.UpdateNote(
            pb.UpdateNoteRequest(
                note=pb.Note(name=note.name, body="coach's words"),
                update_mask=FieldMask(paths=["body"]),
            ),
            metadata=team.coach.metadata,
        ),
        lambda: notes.DeleteNote(
            pb.DeleteNoteRequest(name=note.name), metadata=team.coach.metadata
        ),
    ):
        refused = expect_error(attempt)
        assert (refused.code, refused.reason) == (PERMISSION_DENIED, "NOT_NOTE_AUTHOR")
    assert notes.GetNote(pb.GetNoteRequest(name=note.name), metadata=team.coach.metadata).body == (
        "better words"
    )
    notes.DeleteNote(pb.DeleteNoteRequest(name=note.name), metadata=team.coachee.metadata)
    gone = expect_error(
        notes.GetNote, pb.GetNoteRequest(name=note.name), metadata=team.coachee.metadata
    )
    assert gone.reason == "NOTE_NOT_FOUND"
    assert "better words" not in readable(notes, space["name"], team.coach)


@pytest.mark.parametrize(
    ("note", "field"),
    [
        (pb.Note(kind=pb.SHARED, body="   "), "body"),
        (pb.Note(kind=pb.SHARED, body="x" * 20_001), "body"),
        (pb.Note(kind=pb.NOTE_KIND_UNSPECIFIED, body="x"), "note.kind"),
        (
            pb.Note(
                kind=pb.SHARED, body="x", links=[pb.NoteLink(url="javascript:alert(1)", title="t")]
            ),
            "links[0].url",
        ),
        (
            pb.Note(
                kind=pb.SHARED, body="x", links=[pb.NoteLink(url="https://a.example", title="")]
            ),
            "links[0].title",
        ),
        (
            pb.Note(
                kind=pb.SHARED,
                body="x",
                links=[pb.NoteLink(url="https://a.example", title="t")] * 11,
            ),
            "links",
        ),
    ],
)
def test_bad_notes_are_refused_and_nothing_is_written(
    stubs: tuple[Any, Any], team: TenantWorld, space: dict[str, Any], note: pb.Note, field: str
) -> None:
    _, notes = stubs
    before = readable(notes, space["name"], team.coach)
    refused = expect_error(
        notes.CreateNote,
        pb.CreateNoteRequest(parent=space["name"], note=note),
        metadata=team.coach.metadata,
    )
    assert refused.code == INVALID_ARGUMENT and field in refused.fields
    assert readable(notes, space["name"], team.coach) == before


def test_a_markdown_attack_is_rendered_harmless(
    stubs: tuple[Any, Any], team: TenantWorld, space: dict[str, Any]
) -> None:
    _, notes = stubs
    note = write(
        notes,
        space["name"],
        team.coachee,
        pb.SHARED,
        "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    )
    assert "<script" not in note.body_html and "<img" not in note.body_html
    assert "href=" not in note.body_html  # the javascript: link is no link
    assert note.body.startswith("<script>")  # kept as written, shown escaped


def test_the_access_log_shows_the_right_reads_to_the_right_people(
    stubs: tuple[Any, Any], team: TenantWorld, space: dict[str, Any], operator: Session
) -> None:
    _, notes = stubs
    name, co_coach = space["name"], space["co_coach"]
    shared = write(notes, name, team.coach, pb.SHARED, "for both of us")
    private = write(notes, name, team.coach, pb.COACH_PRIVATE, "for me alone")
    journal = write(notes, name, team.coachee, pb.JOURNAL, "for me alone too")
    notes.GetNote(pb.GetNoteRequest(name=shared.name), metadata=team.coachee.metadata)
    notes.GetNote(pb.GetNoteRequest(name=private.name), metadata=team.coach.metadata)
    notes.GetNote(pb.GetNoteRequest(name=journal.name), metadata=team.coachee.metadata)
    # A refused read: the coachee tries the coach's private note.
    expect_error(
        notes.GetNote, pb.GetNoteRequest(name=private.name), metadata=team.coachee.metadata
    )

    coachee_log = reads(notes, name, team.coachee)
    assert (shared.name, team.coachee.person_id) in coachee_log
    assert (journal.name, team.coachee.person_id) in coachee_log
    assert not any(note == private.name for note, _ in coachee_log)  # not even their refusal
    coach_log = reads(notes, name, team.coach)
    assert (private.name, team.coach.person_id) in coach_log
    assert (shared.name, team.coachee.person_id) in coach_log
    assert not any(note == journal.name for note, _ in coach_log)
    assert (private.name, team.coachee.person_id) not in coach_log  # a refused read is no read
    co_log = reads(notes, name, co_coach)
    assert not any(note in (private.name, journal.name) for note, _ in co_log)
    hr = expect_error(reads, notes, name, team.admin)
    assert hr.reason == "CONTENT_FORBIDDEN"

    # The operator sees refused reads only.
    refused = notes.ListRefusedNoteReads(
        pb.ListRefusedNoteReadsRequest(page_size=100), metadata=operator.metadata
    ).reads
    assert (private.name, team.coachee.person_id) in {(r.note, r.reader_person_id) for r in refused}
    assert not any(r.note == shared.name for r in refused)
    denied = expect_error(
        notes.ListRefusedNoteReads, pb.ListRefusedNoteReadsRequest(), metadata=team.admin.metadata
    )
    assert (denied.code, denied.reason) == (PERMISSION_DENIED, "OPERATOR_ONLY")


def test_exports_hold_each_ones_notes_and_the_reads_they_may_see(
    api: Api, stubs: tuple[Any, Any], team: TenantWorld, space: dict[str, Any]
) -> None:
    _, notes = stubs
    journal = write(notes, space["name"], team.coachee, pb.JOURNAL, "exported journal")
    private = write(notes, space["name"], team.coach, pb.COACH_PRIVATE, "exported private")
    notes.GetNote(pb.GetNoteRequest(name=journal.name), metadata=team.coachee.metadata)

    def spaces_document(who: Session) -> dict[str, Any]:
        documents = api.auth.ExportMyData(ipb.ExportMyDataRequest(), metadata=who.metadata)
        return next(json.loads(d.data) for d in documents if d.service == "spaces")

    mine = spaces_document(team.coachee)["spaces_as_coachee"]
    bodies = {n["body"] for s in mine for n in s["notes"]}
    assert "exported journal" in bodies and "exported private" not in bodies
    assert any(r["note_id"] == journal.note_id for s in mine for r in s["note_reads"])
    coached = spaces_document(team.coach)["spaces_as_coach"]
    coach_bodies = {n["body"] for s in coached for n in s["notes"]}
    assert "exported private" in coach_bodies and "exported journal" not in coach_bodies
    assert private.note_id in {n["note_id"] for s in coached for n in s["notes"]}


def erase(api: Api, operator: Session, person_id: str) -> None:
    erasure = api.privacy.ErasePerson(
        ipb.ErasePersonRequest(person_id=person_id), metadata=operator.metadata
    )
    wait_for(
        lambda: (
            api.privacy.GetErasure(
                ipb.GetErasureRequest(erasure_id=erasure.erasure_id), metadata=operator.metadata
            ).state
            == ipb.ERASURE_COMPLETED
        ),
        30,
        "the erasure to complete",
    )


def notes_by(deployment: Deployment, person_id: str) -> list[str]:
    engine = sa.create_engine(deployment.config.database_url_for("spaces"))
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text("SELECT kind FROM notes WHERE author_id = :p"), {"p": person_id}
                ).scalars()
            )
    finally:
        engine.dispose()


def test_an_erased_coachs_private_notes_go_and_their_shared_notes_stay_unsigned(
    deployment: Deployment,
    api: Api,
    stubs: tuple[Any, Any],
    team: TenantWorld,
    space: dict[str, Any],
    operator: Session,
) -> None:
    """Last in this module: it erases the space's co-coach."""
    _, notes = stubs
    co_coach = space["co_coach"]
    shared = write(notes, space["name"], co_coach, pb.SHARED, "a co-coach's shared word")
    write(notes, space["name"], co_coach, pb.COACH_PRIVATE, "a co-coach's private word")
    assert sorted(set(notes_by(deployment, co_coach.person_id))) == ["coach_private", "shared"]

    erase(api, operator, co_coach.person_id)
    assert notes_by(deployment, co_coach.person_id) == []
    kept = notes.GetNote(pb.GetNoteRequest(name=shared.name), metadata=team.coachee.metadata)
    assert kept.body == "a co-coach's shared word"
    assert kept.author_erased and not kept.author_person_id
    assert co_coach.person_id not in str(
        notes.ListNoteReads(
            pb.ListNoteReadsRequest(parent=space["name"]), metadata=team.coach.metadata
        )
    )


def test_an_erased_coachees_space_goes_with_every_note_in_it(
    deployment: Deployment, api: Api, stubs: tuple[Any, Any], operator: Session
) -> None:
    spaces, notes = stubs
    team = make_tenant(deployment, api, operator)
    space = create(spaces, team, team.coach)
    move(spaces, "Activate", space.name, team.coach)
    write(notes, space.name, team.coach, pb.COACH_PRIVATE, "about the coachee")
    write(notes, space.name, team.coachee, pb.JOURNAL, "my journal")
    erase(api, operator, team.coachee.person_id)
    gone = expect_error(
        spaces.GetSpace, pb.GetSpaceRequest(name=space.name), metadata=team.coach.metadata
    )
    assert gone.code == NOT_FOUND
    assert notes_by(deployment, team.coach.person_id) == []
