"""E-learning modules: the catalogue (the shipped modules, read from their folders, and the
versions operators import, from the database: assessment's built-in catalogue beside coaches'
instruments), a module assigned to a space by its coach, and the coachee's progress through it
(domain/progress.py), in the version they started.

A shipped module's version is copied into the database when a coachee starts it, so they keep
reading it after ecoach ships the next one. Reflection answers are not stored here: the web app
saves them into the coachee's journal through spaces, with the coachee's own token; a quiz
block names an assessment instrument, taken through the assessment service."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from services.contracts import content as c
from services.contracts.base import Empty
from services.kernel.caller import Caller, PersonClaims, require_operator, require_person
from services.kernel.errors import InvalidArgument, PermissionDenied, invalid
from services.kernel.i18n import N_
from services.kernel.ids import new_id
from services.kernel.space_copy import Relation, participant
from services.kernel.tool_copy import require_unlocked, visible

from ..adapters.module_document import document_of, module_of
from ..adapters.module_folder import MODULE_FILE, read_files, write_files
from ..domain.module_assignments import (
    IMPORTED,
    SHIPPED,
    ModuleAssignment,
    already_assigned,
    assignment_not_found,
    learner_only,
    module_not_found,
)
from ..domain.modules import Module, check_successor
from ..domain.progress import Progress
from ..domain.recommendations import coach_only, require_active
from ..domain.xapi import Deployment
from ..modules import shipped
from ..storage.unit import ContentUnit, Db
from . import xapi
from .tools import MODULE
from .views import assignment_view, module_detail, module_summary, progress_view


@cache
def _shipped() -> dict[str, Module]:
    return {m.slug: m for m in shipped()}


def find(uow: ContentUnit, slug: str, version: int = 0) -> tuple[Module, str] | None:
    """A version of the catalogue (the latest with 0) and where it comes from: the database
    (imported, or a shipped version kept since a coachee started it) or the shipped folders."""
    found: list[tuple[Module, str]] = []
    stored = uow.module_versions.get(slug, version)
    if stored is not None:
        source, document = stored
        found.append((module_of(document), source))
    built_in = _shipped().get(slug)
    if built_in is not None and version in (0, built_in.version):
        found.append((built_in, SHIPPED))
    return max(found, key=lambda f: f[0].version) if found else None


def _reader(caller: Caller) -> PersonClaims:
    """Operators, and the coaches and coachees of a tenant."""
    who = require_person(caller)
    if who.is_operator or (
        who.tenant_id is not None and (who.has_role("coach") or who.has_role("coachee"))
    ):
        return who
    raise PermissionDenied(
        "Only a tenant's coaches and coachees read modules.", reason="COACH_OR_COACHEE_ONLY"
    )


# ---------------------------------------------------------------- the catalogue


def import_module(db: Db, caller: Caller, request: c.ImportModuleRequest) -> c.ImportModuleResponse:
    """A module's folder, read and checked whole (every problem named `file:line`, nothing
    stored on error); its first version, or the next one of what is published; the published
    version itself again changes nothing."""
    who = require_operator(caller)
    files: dict[str, bytes] = {}
    for index, f in enumerate(request.files):
        if f.path in files:
            raise invalid(**{f"files[{index}].path": N_("each path once")})
        files[f.path] = f.text.encode("utf-8")
    module = read_files(files)
    with db.unit_of_work() as uow:
        published = find(uow, module.slug)
        try:
            is_new = check_successor(published[0] if published else None, module)
        except InvalidArgument as exc:  # named as an author finds them: in module.md
            fields = [replace(f, field=f"{MODULE_FILE} {f.field}") for f in exc.fields]
            raise InvalidArgument(exc.message, reason=exc.reason, fields=fields) from None
        if is_new:  # False when a concurrent import stored this version first
            is_new = uow.module_versions.add(
                module.slug,
                module.version,
                IMPORTED,
                document_of(module),
                who.person_id,
                uow.clock.now(),
            )
        source = IMPORTED if is_new or published is None else published[1]
    return c.ImportModuleResponse(module=module_summary(module, source), imported=is_new)


def list_modules(db: Db, caller: Caller, request: c.ListModulesRequest) -> c.ModuleList:
    """The latest version of each module, by slug."""
    _reader(caller)
    latest: dict[str, tuple[Module, str]] = {m.slug: (m, SHIPPED) for m in _shipped().values()}
    with db.read_only() as uow:
        for source, document in uow.module_versions.latest():
            module = module_of(document)
            if module.slug not in latest or latest[module.slug][0].version <= module.version:
                latest[module.slug] = (module, source)
    every = [module_summary(m, s) for m, s in sorted(latest.values(), key=lambda f: f[0].slug)]
    start = 0
    if request.page_token:
        if not request.page_token.isdigit():
            raise invalid(page_token="is not a token this list returned")  # noqa: S106
        start = int(request.page_token)
    end = start + request.effective_page_size()
    return c.ModuleList(
        modules=every[start:end], next_page_token=str(end) if end < len(every) else ""
    )


def get_module(db: Db, caller: Caller, request: c.ModuleRef) -> c.ModuleDetail:
    _reader(caller)
    with db.read_only() as uow:
        found = find(uow, request.slug, request.version)
    if found is None:
        raise module_not_found()
    return module_detail(*found)


def export_module(db: Db, caller: Caller, request: c.ModuleRef) -> c.ModuleFolder:
    """A version as its folder of Markdown files, which ImportModule (and any editor, and git)
    takes back: for whoever reads the catalogue."""
    _reader(caller)
    with db.read_only() as uow:
        found = find(uow, request.slug, request.version)
    if found is None:
        raise module_not_found()
    module = found[0]
    files = [c.ModuleFile(path=path, text=text) for path, text in write_files(module).items()]
    return c.ModuleFolder(slug=module.slug, version=module.version, files=files)


# ---------------------------------------------------------------- assignments


def _relation(uow: ContentUnit, who: PersonClaims, space_id: str) -> Relation:
    return participant(uow.spaces.get(space_id), who.tenant_id, who.person_id)


def _access(
    uow: ContentUnit, who: PersonClaims, assignment_id: str
) -> tuple[ModuleAssignment, Relation]:
    """The assignment and the caller's relation to its space today, or NOT_FOUND for anyone
    who is not in it (a former coach included), FAILED_PRECONDITION (TOOL_LOCKED) for its
    coachee while a tool of the space's toolbox holds it locked (docs/adr/0019-toolbox-gates.md)."""
    found = uow.module_assignments.get(assignment_id)
    if found is None or found.tenant_id != who.tenant_id:
        raise assignment_not_found()
    space = uow.spaces.get(found.space_id)
    relation = space.relation_of(who.tenant_id, who.person_id) if space else None
    if relation is None:
        raise assignment_not_found()
    require_unlocked(uow.tools.of_target(MODULE, found.id), found.space_id, relation)
    return found, relation


def _title_of(uow: ContentUnit, slug: str, progress: Progress | None) -> Module | None:
    found = find(uow, slug, progress.version if progress else 0)
    return found[0] if found else None


def assign_module(db: Db, caller: Caller, request: c.AssignModuleRequest) -> c.ModuleAssignment:
    """The space's coach (or co-coach), in an active space, once per module; the coachee takes
    the version that is the latest when they start."""
    who = require_person(caller)
    with db.unit_of_work() as uow:
        if _relation(uow, who, request.space_id) != Relation.COACH:
            raise coach_only()
        space = uow.spaces.get(request.space_id)
        assert space is not None
        require_active(space)
        found = find(uow, request.slug)
        if found is None:
            raise module_not_found()
        assignment = ModuleAssignment(
            id=new_id("mas"),
            tenant_id=space.tenant_id,
            space_id=space.space_id,
            coachee_person_id=space.coachee_person_id,
            slug=request.slug,
            assigned_by_person_id=who.person_id,
            created_at=uow.clock.now(),
        )
        if not uow.module_assignments.add(assignment):
            raise already_assigned()
    return assignment_view(assignment, found[0], None)


def list_module_assignments(
    db: Db, caller: Caller, request: c.ListModuleAssignmentsRequest
) -> c.ModuleAssignmentList:
    """Oldest first, each with its progress, for the space's coachee, coach and co-coach; the
    coachee's without those a locked tool holds (a page may then be shorter than asked)."""
    who = require_person(caller)
    with db.read_only() as uow:
        relation = _relation(uow, who, request.space_id)
        found, token = uow.module_assignments.page_of_space(
            request.space_id, request.effective_page_size(), request.page_token
        )
        tools = uow.tools.of_targets(MODULE, [a.id for a in found])
        found = visible(found, relation, request.space_id, tools, lambda a: a.id)
        progress = uow.module_progress.of_assignments([a.id for a in found])
        views = [
            assignment_view(a, _title_of(uow, a.slug, progress.get(a.id)), progress.get(a.id))
            for a in found
        ]
    return c.ModuleAssignmentList(assignments=views, next_page_token=token)


# ---------------------------------------------------------------- progress


def progress_event(
    kind: type[c.ModuleProgressEvent],
    a: ModuleAssignment,
    p: Progress,
    now: datetime,
    **extra: Any,
) -> c.ModuleProgressEvent:
    """Ids, version and counts only."""
    return kind(
        assignment_id=a.id,
        tenant_id=a.tenant_id,
        space_id=a.space_id,
        coachee_person_id=a.coachee_person_id,
        slug=p.slug,
        version=p.version,
        status="completed" if p.is_completed else "started",
        lesson_count=len(p.lessons),
        lessons_completed=p.lessons_completed,
        seconds=p.seconds,
        updated_at=now,
        **extra,
    )


def _learning(
    uow: ContentUnit, who: PersonClaims, assignment_id: str
) -> tuple[ModuleAssignment, Progress, list[c.ModuleProgressEvent]]:
    """The coachee's progress, started now (its version kept) when it was not yet."""
    assignment, relation = _access(uow, who, assignment_id)
    if relation != Relation.COACHEE:
        raise learner_only()
    space = uow.spaces.get(assignment.space_id)
    assert space is not None
    require_active(space)
    progress = uow.module_progress.get(assignment.id, for_update=True)
    if progress is not None:
        return assignment, progress, []
    found = find(uow, assignment.slug)
    if found is None:
        raise module_not_found()
    module, source = found
    now = uow.clock.now()
    if source == SHIPPED:  # kept, so that the coachee reads it after ecoach ships the next
        uow.module_versions.add(
            module.slug, module.version, SHIPPED, document_of(module), None, now
        )
    progress, _ = Progress.start(module, now)
    return assignment, progress, [progress_event(c.ModuleStarted, assignment, progress, now)]


def open_lesson(db: Db, caller: Caller, request: c.LessonRequest) -> c.ModuleProgress:
    """The coachee opens a lesson (empty: the one to resume at); the module starts the first
    time. Time spent counts from the previous sign of presence (domain/progress.py)."""
    who = require_person(caller)
    with db.unit_of_work() as uow:
        assignment, progress, events = _learning(uow, who, request.assignment_id)
        progress = progress.view(request.lesson or progress.resume_at(), uow.clock.now())
        uow.module_progress.save(
            assignment.id, assignment.tenant_id, assignment.coachee_person_id, progress
        )
        uow.record_many(list(events))
    return progress_view(assignment.id, progress)


def _started(uow: ContentUnit, progress: Progress) -> Module:
    found = find(uow, progress.slug, progress.version)
    if found is None:  # a version started is kept: this is a bug, not input
        raise ValueError(f"module {progress.slug} v{progress.version} is not kept")
    return found[0]


def complete_lesson(
    db: Db, deployment: Deployment, caller: Caller, request: c.LessonRequest
) -> c.ModuleProgress:
    """The coachee completes a lesson; the module is completed with its last one (once). The
    xAPI statements (`experienced` the lesson, `completed` the module) are recorded with the
    progress, once each."""
    if not request.lesson:
        raise invalid(lesson="is required")
    who = require_person(caller)
    with db.unit_of_work() as uow:
        assignment, progress, events = _learning(uow, who, request.assignment_id)
        now = uow.clock.now()
        was_done = request.lesson in progress.completed
        progress, completed = progress.complete(request.lesson, now)
        if not was_done:
            events.append(
                progress_event(c.LessonCompleted, assignment, progress, now, lesson=request.lesson)
            )
        if completed is not None:
            events.append(progress_event(c.ModuleCompleted, assignment, progress, now))
        uow.module_progress.save(
            assignment.id, assignment.tenant_id, assignment.coachee_person_id, progress
        )
        uow.record_many(list(events))
        if not was_done or completed is not None:
            xapi.record_progress(
                uow,
                deployment,
                who,
                assignment,
                _started(uow, progress),
                progress,
                request.lesson,
                module_done=completed is not None,
            )
    return progress_view(assignment.id, progress)


def record_block_answered(
    db: Db, deployment: Deployment, caller: Caller, request: c.BlockAnsweredRequest
) -> Empty:
    """The coachee answered a reflection (saved into their journal) or a quiz (submitted
    through assessment) of a lesson, in the version they started: an xAPI `answered` statement,
    once per block. The coachee only; a lesson, block or kind the version does not hold:
    INVALID_ARGUMENT naming it."""
    who = require_person(caller)
    with db.unit_of_work() as uow:
        assignment, progress, events = _learning(uow, who, request.assignment_id)
        module = _started(uow, progress)
        if request.lesson not in module.lesson_keys:
            raise invalid(lesson=N_("is not a lesson of this module's version"))
        blocks = module.lesson(request.lesson).blocks
        if request.block >= len(blocks):
            raise invalid(block=N_("is not a block of this lesson"))
        if blocks[request.block].kind != request.kind:
            raise invalid(kind=N_("is not the kind of this block"))
        if events:  # answered before opening a lesson: the module starts now
            uow.module_progress.save(
                assignment.id, assignment.tenant_id, assignment.coachee_person_id, progress
            )
            uow.record_many(list(events))
        xapi.record_answered(
            uow, deployment, who, assignment, module, request.lesson, request.block, request.kind
        )
    return Empty()


def get_module_progress(db: Db, caller: Caller, request: c.ModuleAssignmentRef) -> c.ModuleProgress:
    """For the space's coachee, coach and co-coach."""
    who = require_person(caller)
    with db.read_only() as uow:
        assignment, _ = _access(uow, who, request.assignment_id)
        progress = uow.module_progress.get(assignment.id)
    return progress_view(assignment.id, progress)
