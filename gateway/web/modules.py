"""E-learning modules (issue 23): the coach assigns one from the catalogue to an active space
and follows the coachee's progress on the space page; the coachee takes it on a page of its
own, which opens where they left (OpenLesson with no lesson; every opening, and htmx's
heartbeat every minute while the page is open, counts their time); an operator imports a
module's folder. The operator's catalogue and the coach's (`/coach/modules`) download a
module's folder as a .zip (ExportModule), which the import takes back.

The module page shows the lesson's blocks in the page's language: Markdown text through the
kernel's sanitiser (as notes are); a video as a click-to-load block: the page holds neither
its address nor any frame of it until the coachee presses "Show the video", and then a link
that opens the video's site apart (a new tab, no referrer): nothing is asked of a third party
before the coachee asks, and the page's own policy (no frames, `default-src 'self'`) stays as
it is; a reflection as a text box whose answer the coachee may save into their journal (a
JOURNAL note through the spaces API, with their own session: theirs alone, then listed on
their notes page); a quiz as a link to the space's questionnaire of that instrument when the
coach has assigned it there (the coachee cannot assign questionnaires), else as "ask your
coach" naming it. Lessons are marked complete one by one (CompleteLesson); the last one
completes the module and the page says so. In a space that is not active (paused, completed)
the service records nothing: a module started there is shown read-only, with the reason.

The coach's form starts from `coach.coached_space`, the coachee's pages from `coachee.my_card`,
so a space that is not the caller's is 404 before any content call; an assignment of another
space is 404 too. The operator's pages answer an operator's session only, the coach's catalogue
and its downloads a coach's (404 otherwise; the service refuses anyone who may not read the
catalogue too, and a refused or unknown module is 404). HR has no page here (per-person
learning records are not shown to HR)."""

from __future__ import annotations

import logging

import grpc
from flask import Blueprint, Response, abort, redirect, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.client_errors import call_error
from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import spaces_pb2 as spb

from . import module_parts as mp
from . import questionnaire_forms as qf
from .clients import authed
from .coach import SpaceForms as CoachSpaceForms
from .coach import coach_only, coached_space
from .coach import space_page as coach_space_page
from .coachee import my_card, service_id, when
from .hr import done_note
from .i18n import _
from .operator import operator_only
from .pages import Page, clients, failed, field_errors, not_found, render, signed_in

log = logging.getLogger(__name__)

modules = Blueprint("modules", __name__)

Answer = Page | BaseResponse
# A reflection's answer: the spaces service's own limit on a note, less the prompt quoted.
LONGEST_ANSWER = 15_000


# -------------------------------------------------------------------------------- the coach


@modules.post("/coach/spaces/<space_id>/modules")
@coach_only
def assign(space_id: str) -> Answer:
    space = coached_space(space_id)
    slug = request.form.get("slug", "").strip()
    if not slug or len(slug) > 64:
        errors = {"slug": _("Choose a module from the list.")}
        return coach_space_page(space, CoachSpaceForms(errors=errors), 400)
    try:
        authed(
            clients(),
            clients().content.AssignModule,
            cpb.AssignModuleRequest(parent=space.name, slug=slug),
        )
    except grpc.RpcError as exc:
        message, errors, status = field_errors(exc)
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            errors, status = {"slug": _("Choose a module from the list.")}, 400
        return coach_space_page(space, CoachSpaceForms(error=message, errors=errors), status)
    return redirect(url_for("coach.space", space_id=space_id, done="module") + "#modules")


@modules.get("/coach/modules")
@coach_only
def coach_catalogue() -> Page:
    """The catalogue a coach assigns from (on a space's page), each module downloadable."""
    return render(
        "coach_modules.html", title=_("E-learning modules"), modules=mp.catalogue(), mp=mp
    )


@modules.get("/coach/modules/<slug>/export")
@coach_only
def coach_export(slug: str) -> Answer:
    return exported(slug)


def exported(slug: str) -> Answer:
    """The module's folder (`?version=`, else its latest) as a .zip download; a module the
    caller may not read, or that does not exist, is 404."""
    version = request.args.get("version", "")
    wanted = version == "" or (version.isdigit() and len(version) <= 6)
    if not slug or len(slug) > 64 or not wanted:
        return not_found()
    try:
        folder = authed(
            clients(),
            clients().content.ExportModule,
            cpb.GetModuleRequest(slug=slug, version=int(version or 0)),
        )
    except grpc.RpcError as exc:
        code = exc.code()  # type: ignore[attr-defined]
        if code in (
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.INVALID_ARGUMENT,
        ):
            return not_found()
        raise
    name = mp.download_name(folder.slug, folder.version)
    return Response(
        mp.module_zip(folder),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ------------------------------------------------------------------------------ the coachee


def assignment_in(space_name: str, assignment_id: str) -> cpb.ModuleAssignment:
    """The space's module assignment; 404 for any other. One the coachee's list leaves out
    may be a locked tool's (ADR 0019): content then refuses its progress with TOOL_LOCKED, whose
    message the app's error page shows (app.py), instead of a page that says nothing exists."""
    service_id(assignment_id)
    for assignment in mp.assignments_of(space_name):
        if assignment.assignment_id == assignment_id:
            return assignment
    authed(
        clients(),
        clients().content.GetModuleProgress,
        cpb.GetModuleProgressRequest(assignment_id=assignment_id),
    )
    abort(404)


def done_notice() -> str:
    return {
        "lesson": _("Lesson completed. Here is the next one."),
        "completed": _("Well done: you have completed this module. Your coach sees it."),
        "journal": _("Your answer is saved in your journal: only you can read it."),
    }.get(request.args.get("done", ""), "")


def module_page(
    card: spb.CoacheeSpaceCard,
    assignment: cpb.ModuleAssignment,
    *,
    asked: str | None = None,
    typed: dict[int, str] | None = None,
    errors: dict[int, str] | None = None,
    status: int = 200,
) -> Page:
    """The lesson asked for (`asked`, else `?lesson=`), else the one to resume at, opened
    (OpenLesson), with its blocks, the lessons' list and what the coachee may do next."""
    asked = request.args.get("lesson", "") if asked is None else asked
    closed = ""
    try:
        progress: cpb.ModuleProgress = authed(
            clients(),
            clients().content.OpenLesson,
            cpb.OpenLessonRequest(assignment_id=assignment.assignment_id, lesson=asked),
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.INVALID_ARGUMENT and asked:  # type: ignore[attr-defined]
            abort(404)  # not a lesson of this module
        if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:  # type: ignore[attr-defined]
            raise
        # A paused or closed space: what was started may be read again, nothing recorded.
        closed, _problems, closed_status = failed(exc)
        progress = authed(
            clients(),
            clients().content.GetModuleProgress,
            cpb.GetModuleProgressRequest(assignment_id=assignment.assignment_id),
        )
        if not progress.version:
            title = mp.text(assignment.title)
            return render("message.html", closed_status, title=title, error=closed)
    module = mp.module_version(assignment.slug, progress.version)
    lessons = mp.lessons_of(module)
    wanted = asked if closed and asked else progress.position
    lesson = next((x for x in lessons if x.key == wanted), lessons[0])
    place = [x.key for x in lessons].index(lesson.key)
    shown_video = request.args.get("video", "")
    return render(
        "module.html",
        status,
        title=mp.text(module.title),
        card=card,
        assignment=assignment,
        module=module,
        progress=progress,
        lessons=lessons,
        lesson=lesson,
        previous=lessons[place - 1] if place > 0 else None,
        following=lessons[place + 1] if place + 1 < len(lessons) else None,
        shown_video=int(shown_video) if shown_video.isdigit() else -1,
        quizzes=mp.quiz_links(qf.assignments_of(card.space.name)),
        typed=typed or {},
        errors=errors or {},
        notice=done_notice(),
        completed=progress.status == cpb.PROGRESS_COMPLETED,
        closed=closed,
        mp=mp,
        when=when,
    )


@modules.get("/spaces/<space_id>/modules/<assignment_id>")
@signed_in
def take(space_id: str, assignment_id: str) -> Answer:
    card = my_card(space_id)
    return module_page(card, assignment_in(card.space.name, assignment_id))


@modules.post("/spaces/<space_id>/modules/<assignment_id>/heartbeat")
@signed_in
def heartbeat(space_id: str, assignment_id: str) -> Answer:
    """htmx's call every minute while the lesson is open: the coachee is still there."""
    card = my_card(space_id)
    assignment = assignment_in(card.space.name, assignment_id)
    lesson = request.form.get("lesson", "")
    try:
        authed(
            clients(),
            clients().content.OpenLesson,
            cpb.OpenLessonRequest(assignment_id=assignment.assignment_id, lesson=lesson),
        )
    except grpc.RpcError as exc:
        if exc.code() not in (  # type: ignore[attr-defined]
            grpc.StatusCode.INVALID_ARGUMENT,
            grpc.StatusCode.FAILED_PRECONDITION,
        ):
            raise
    return "", 204


def back_to(
    space_id: str, assignment_id: str, done: str, lesson: str = "", anchor: str = ""
) -> BaseResponse:
    shown = {"lesson": lesson} if lesson else {}
    return redirect(
        url_for("modules.take", space_id=space_id, assignment_id=assignment_id, done=done, **shown)
        + anchor
    )


@modules.post("/spaces/<space_id>/modules/<assignment_id>/complete")
@signed_in
def complete(space_id: str, assignment_id: str) -> Answer:
    card = my_card(space_id)
    assignment = assignment_in(card.space.name, assignment_id)
    _record_quizzes(card.space.name, assignment, request.form.get("lesson", ""))
    try:
        progress = authed(
            clients(),
            clients().content.CompleteLesson,
            cpb.CompleteLessonRequest(
                assignment_id=assignment.assignment_id, lesson=request.form.get("lesson", "")
            ),
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
            abort(404)  # not a lesson of this module
        if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:  # type: ignore[attr-defined]
            raise
        message, _problems, status = failed(exc)
        return render("message.html", status, title=mp.text(assignment.title), error=message)
    if progress.status == cpb.PROGRESS_COMPLETED:
        return back_to(space_id, assignment_id, "completed", anchor="#done")
    return back_to(space_id, assignment_id, "lesson", anchor="#done")


def _record_quizzes(space_name: str, assignment: cpb.ModuleAssignment, lesson_key: str) -> None:
    """A lesson's quizzes the coachee has answered (the space's questionnaire of that instrument
    has a submitted attempt), recorded as answered when they complete the lesson. The record's
    id is derived from the block, so completing the lesson again records nothing new."""
    if not assignment.HasField("progress") or not assignment.progress.version:
        return
    module = mp.module_version(assignment.slug, assignment.progress.version)
    lesson = next((x for x in mp.lessons_of(module) if x.key == lesson_key), None)
    quizzes = [b for b in lesson.blocks if b.kind == "quiz"] if lesson else []
    if not quizzes:
        return
    answered = {
        key: a
        for a in qf.assignments_of(space_name)
        if any(t.status == apb.ATTEMPT_SUBMITTED for t in a.attempts)
        for key in (a.slug, a.instrument_id)
    }
    for block in quizzes:
        if block.instrument in answered:
            _record_answered(assignment.assignment_id, lesson_key, block.index, cpb.ANSWERED_QUIZ)


def _record_answered(
    assignment_id: str, lesson: str, block: int, kind: int = cpb.ANSWERED_REFLECTION
) -> None:
    """The learning record of an answered reflection or quiz (an xAPI `answered` statement:
    that they answered, never what; ADR 0016). The answer is in the journal or in assessment
    already: a refusal here (the space paused meanwhile, say) loses no answer, only that
    record, and is logged."""
    try:
        authed(
            clients(),
            clients().content.RecordBlockAnswered,
            cpb.RecordBlockAnsweredRequest(
                assignment_id=assignment_id, lesson=lesson, block=block, kind=kind
            ),
        )
    except grpc.RpcError as exc:
        log.warning(
            "reflection answered but not recorded",
            extra={"code": exc.code().name},  # type: ignore[attr-defined]
        )


@modules.post("/spaces/<space_id>/modules/<assignment_id>/journal")
@signed_in
def save_reflection(space_id: str, assignment_id: str) -> Answer:
    """A reflection's answer into the coachee's journal, the prompt quoted above it."""
    card = my_card(space_id)
    assignment = assignment_in(card.space.name, assignment_id)
    lesson_key = request.form.get("lesson", "")
    block = request.form.get("block", "")
    answer = request.form.get("answer", "").strip()
    module = mp.module_version(assignment.slug, assignment.progress.version)
    lesson = next((x for x in mp.lessons_of(module) if x.key == lesson_key), None)
    if lesson is None or not block.isdigit() or int(block) >= len(lesson.blocks):
        abort(404)
    prompt = lesson.blocks[int(block)]
    if prompt.kind != "reflection":
        abort(404)
    problem = ""
    if not answer:
        problem = _("Write your answer first.")
    elif len(answer) > LONGEST_ANSWER:
        problem = _("Write at most %(count)s characters.", count=LONGEST_ANSWER)
    if not problem:
        quoted = "\n".join(f"> {line}" for line in prompt.prompt.splitlines())
        body = f"**{mp.text(assignment.title)} · {lesson.title}**\n\n{quoted}\n\n{answer}"
        try:
            authed(
                clients(),
                clients().notes.CreateNote,
                spb.CreateNoteRequest(
                    parent=card.space.name, note=spb.Note(kind=spb.JOURNAL, body=body)
                ),
            )
        except grpc.RpcError as exc:
            problem, _errors, _status = field_errors(exc)
        else:
            _record_answered(assignment_id, lesson_key, prompt.index)
    if problem:
        return module_page(
            card,
            assignment,
            asked=lesson_key,
            typed={prompt.index: answer},
            errors={prompt.index: problem},
            status=400,
        )
    return back_to(space_id, assignment_id, "journal", lesson_key, f"#block-{prompt.index}")


# ----------------------------------------------------------------------------- the operator


def import_notes() -> dict[str, str]:
    return {
        "imported": _("The module is imported: coaches can assign it now."),
        "unchanged": _("This version was already published: nothing changed."),
    }


def operator_page(
    status: int = 200, error: str = "", problems: list[tuple[str, str]] | None = None
) -> Page:
    return render(
        "operator/modules.html",
        status,
        title=_("E-learning modules"),
        modules=mp.catalogue(),
        error=error,
        problems=problems or [],
        done="" if error else done_note(import_notes()),
        imported=(request.args.get("slug", ""), request.args.get("version", "")),
        mp=mp,
    )


@modules.get("/operator/modules")
@operator_only
def catalogue() -> Page:
    return operator_page()


@modules.get("/operator/modules/<slug>/export")
@operator_only
def operator_export(slug: str) -> Answer:
    return exported(slug)


def uploaded() -> tuple[list[cpb.ModuleFile], list[tuple[str, str]]]:
    """The files sent (a folder's, or chosen one by one) as the module's folder, and what is
    wrong with them before any call."""
    sent: list[tuple[FileStorage, bool]] = [
        (f, True) for f in request.files.getlist("folder") if f.filename
    ] + [(f, False) for f in request.files.getlist("files") if f.filename]
    files, problems = [], []
    for storage, from_folder in sent:
        path = mp.folder_path(storage.filename or "", from_folder)
        if mp.hidden(path):
            continue
        raw = storage.stream.read(mp.LONGEST_FILE * 4 + 1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append((path, _("This file is not UTF-8 text.")))
            continue
        if len(text) > mp.LONGEST_FILE:
            problems.append((path, _("This file is longer than 65,536 characters.")))
            continue
        files.append(cpb.ModuleFile(path=path, text=text))
    if not files and not problems:
        problems.append(("", _("Choose the module's folder, or its files.")))
    elif len(files) > mp.MOST_FILES:
        problems.append(("", _("A module's folder holds at most 61 files.")))
    return files, problems


@modules.post("/operator/modules")
@operator_only
def import_module() -> Answer:
    files, problems = uploaded()
    if problems:
        return operator_page(400, _("Nothing was imported: see the problems below."), problems)
    try:
        reply = authed(
            clients(), clients().content.ImportModule, cpb.ImportModuleRequest(files=files)
        )
    except grpc.RpcError as exc:
        message, _problems, status = failed(exc)
        found = call_error(exc).fields if exc.code() == grpc.StatusCode.INVALID_ARGUMENT else []  # type: ignore[attr-defined]
        return operator_page(
            status,
            _("Nothing was imported: see the problems below."),
            list(found) or [("", message)],
        )
    return redirect(
        url_for(
            "modules.catalogue",
            done="imported" if reply.imported else "unchanged",
            slug=reply.module.slug,
            version=reply.module.version,
        )
        + "#done"
    )
