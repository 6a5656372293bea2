"""The coachee's notes in one of their spaces: the shared notes (with their coach) and their
journal (theirs alone), written in Markdown with a preview, edited and deleted by their
author, and who opened each one (`ListNoteReads`: the coach's and co-coach's reads, by name).

The preview is rendered here by the same renderer the spaces service uses for `body_html`
(`services.kernel.markdown`: CommonMark, sanitised), so what is previewed is what is kept. With
script, htmx swaps it in beside the editor (`POST .../notes/preview`); without, the form's
"Preview" button posts the whole form and the page comes back with the preview and the text.

Every page starts from `my_card` (the caller's own space as coachee, else 404); a note is
named under that space, so another space's note id is the service's NOT_FOUND: 404 too."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import grpc
from flask import Blueprint, abort, redirect, request, url_for
from google.protobuf.field_mask_pb2 import FieldMask
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.convert import space_name
from gateway.api.pb import spaces_pb2 as spb
from services.kernel.markdown import render as render_markdown

from .clients import authed
from .coachee import coach_names, my_card, service_id, when
from .i18n import _
from .pages import Page, clients, field_errors, render, session, signed_in

notes = Blueprint("notes", __name__)

Answer = Page | BaseResponse

# What a coachee writes: shared with their coach, or their journal.
KINDS = {"SHARED": spb.SHARED, "JOURNAL": spb.JOURNAL}
NOTES_LISTED = 200
READS_LISTED = 200
# The service's own limit on a body; a longer preview is not rendered.
LONGEST_BODY = 20_000


def note_name(space_id: str, note_id: str) -> str:
    return f"{space_name(session().tenant_id, space_id)}/notes/{service_id(note_id)}"


def preview_of(body: str) -> Markup | str:
    if len(body) > LONGEST_BODY:
        return _("Too long to preview: at most %(count)s characters.", count=LONGEST_BODY)
    return Markup(render_markdown(body))  # noqa: S704 (sanitised by nh3 in the renderer)


@notes.get("/spaces/<space_id>/notes")
@signed_in
def index(space_id: str) -> Page:
    card = my_card(space_id)
    parent = card.space.name
    listed = authed(
        clients(),
        clients().notes.ListNotes,
        spb.ListNotesRequest(parent=parent, page_size=NOTES_LISTED, kinds=list(KINDS.values())),
    )
    reads = authed(
        clients(),
        clients().notes.ListNoteReads,
        spb.ListNoteReadsRequest(parent=parent, page_size=READS_LISTED),
    )
    names = coach_names(card)
    opened: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for read in reads.reads:  # others' reads: the coachee's own are not news to them
        if read.reader_person_id != session().person_id:
            who = names.get(read.reader_person_id, _("A former coach"))
            opened[read.note].append((who, read.read_time))
    return render(
        "notes.html",
        title=_("My notes"),
        card=card,
        notes=list(listed.notes),
        opened=opened,
        when=when,
        done=request.args.get("done", ""),
    )


@notes.route("/spaces/<space_id>/notes/new", methods=["GET", "POST"])
@signed_in
def new(space_id: str) -> Answer:
    card = my_card(space_id)
    if request.method == "GET":
        return editor(card, kind="SHARED", body="")
    body = request.form.get("body", "")
    kind = request.form.get("kind", "")
    if request.form.get("action") == "preview":
        return editor(card, kind=kind, body=body, preview=preview_of(body))
    if kind not in KINDS:
        return editor(card, 400, kind="", body=body, errors={"kind": _("Choose who may read it.")})
    try:
        authed(
            clients(),
            clients().notes.CreateNote,
            spb.CreateNoteRequest(
                parent=card.space.name, note=spb.Note(kind=KINDS[kind], body=body)
            ),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        return editor(card, status, kind=kind, body=body, error=message, errors=errors)
    return redirect(url_for("notes.index", space_id=space_id, done="saved"))


@notes.route("/spaces/<space_id>/notes/<note_id>/edit", methods=["GET", "POST"])
@signed_in
def edit(space_id: str, note_id: str) -> Answer:
    card = my_card(space_id)
    name = note_name(space_id, note_id)
    note = authed(clients(), clients().notes.GetNote, spb.GetNoteRequest(name=name))
    if note.author_person_id != session().person_id:
        abort(404)  # the coach's note: theirs to change
    kind = spb.NoteKind.Name(note.kind)
    if request.method == "GET":
        return editor(card, kind=kind, body=note.body, note=note)
    body = request.form.get("body", "")
    if request.form.get("action") == "preview":
        return editor(card, kind=kind, body=body, note=note, preview=preview_of(body))
    try:
        authed(
            clients(),
            clients().notes.UpdateNote,
            spb.UpdateNoteRequest(
                note=spb.Note(name=name, body=body), update_mask=FieldMask(paths=["body"])
            ),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        return editor(card, status, kind=kind, body=body, note=note, error=message, errors=errors)
    return redirect(url_for("notes.index", space_id=space_id, done="saved"))


@notes.post("/spaces/<space_id>/notes/<note_id>/delete")
@signed_in
def delete(space_id: str, note_id: str) -> Answer:
    my_card(space_id)
    authed(
        clients(),
        clients().notes.DeleteNote,
        spb.DeleteNoteRequest(name=note_name(space_id, note_id)),
    )
    return redirect(url_for("notes.index", space_id=space_id, done="deleted"))


@notes.post("/spaces/<space_id>/notes/preview")
@signed_in
def preview(space_id: str) -> Page:
    """htmx's partial: the preview of the editor's text, nothing kept."""
    my_card(space_id)
    return render("note_preview.html", preview=preview_of(request.form.get("body", "")))


def editor(card: spb.CoacheeSpaceCard, status: int = 200, **values: Any) -> Page:
    note = values.get("note")
    return render(
        "note_form.html",
        status,
        title=_("Edit the note") if note else _("New note"),
        card=card,
        kinds=KINDS,
        **values,
    )
