"""xAPI (ADR 0016): the statements of a coachee's e-learning, recorded in the transaction of the
progress they describe; the operator's LRS settings; and the push of pending statements to it,
outside any transaction.

A statement names the learner by their pseudonym in the tenant (made the first time), the
module, lesson and block by ids, and a module's and lesson's titles (every module of the
catalogue is published: shipped with ecoach or imported by an operator) in the coachee's
language. Its id derives from a stable key of the fact (`<assignment>:<lesson>:completed`), so
the same fact recorded again is the same statement, stored once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from services.contracts import content as c
from services.kernel.caller import Caller, PersonClaims, require_operator
from services.kernel.crypto import MasterKey
from services.kernel.errors import invalid

from ..adapters.lrs import LrsError, LrsSettings, push_client
from ..domain.module_assignments import ModuleAssignment
from ..domain.modules import Module
from ..domain.progress import Progress
from ..domain.xapi import (
    AnswerKind,
    Attempt,
    Deployment,
    LrsConfig,
    lesson_experienced,
    module_completed,
    new_pseudonym,
    prompt_answered,
)
from ..storage.unit import ContentUnit, Db

log = logging.getLogger(__name__)

PUSH_BATCH = 200


def _language(who: PersonClaims) -> str:
    return "fr" if who.locale.lower().startswith("fr") else "en"


def attempt_of(uow: ContentUnit, who: PersonClaims, a: ModuleAssignment, module: Module) -> Attempt:
    """The coachee's attempt at the assignment's module, as statements name it."""
    learner = uow.xapi.pseudonym_of(
        a.tenant_id, a.coachee_person_id, new_pseudonym, uow.clock.now()
    )
    language = _language(who)
    return Attempt(
        attempt_id=a.id,
        learner=learner,
        module_id=module.slug,
        module_version=module.version,
        language=language,
        title=module.title.of(language),
    )


def record_progress(
    uow: ContentUnit,
    deployment: Deployment,
    who: PersonClaims,
    a: ModuleAssignment,
    module: Module,
    progress: Progress,
    lesson: str,
    module_done: bool,
) -> None:
    """A lesson completed (`experienced`), and with the last one the module (`completed`)."""
    now = uow.clock.now()
    attempt = attempt_of(uow, who, a, module)
    made = [
        lesson_experienced(
            deployment,
            attempt,
            lesson,
            key=f"{a.id}:{lesson}:completed",
            at=now,
            lesson_title=module.lesson(lesson).title.of(attempt.language),
        )
    ]
    if module_done:
        made.append(
            module_completed(
                deployment,
                attempt,
                key=f"{a.id}:completed",
                at=now,
                time_spent=timedelta(seconds=progress.seconds),
            )
        )
    for statement in made:
        uow.xapi.record(statement.to_json(), a.tenant_id, a.coachee_person_id, a.id, now)


# ---------------------------------------------------------------- the operator's LRS


def _view(found: LrsConfig | None, pending: int) -> c.LrsSettings:
    if found is None:
        return c.LrsSettings(pending=pending)
    return c.LrsSettings(
        configured=True,
        endpoint=found.endpoint,
        key=found.key,
        has_secret=bool(found.secret),
        enabled=found.enabled,
        updated_at=found.updated_at,
        updated_by_person_id=found.updated_by_person_id,
        pending=pending,
        last_push_at=found.last_push_at,
        last_error=found.last_error,
    )


def get_lrs_settings(db: Db, master: MasterKey, caller: Caller) -> c.LrsSettings:
    require_operator(caller)
    with db.snapshot() as uow:  # the count and the last push seen at one instant
        return _view(uow.xapi.settings(master), uow.xapi.pending_count())


def set_lrs_settings(
    db: Db, master: MasterKey, production: bool, caller: Caller, request: c.LrsSettingsInput
) -> c.LrsSettings:
    """Operators only. Every bad field named (an http:// endpoint outside production only)."""
    who = require_operator(caller)
    endpoint, key = request.endpoint.strip(), request.key.strip()
    with db.unit_of_work() as uow:
        current = uow.xapi.settings(master)
        secret = request.secret
        if not secret and current and (current.endpoint, current.key) == (endpoint, key):
            secret = current.secret
        problems = LrsSettings(endpoint, key, secret).problems(production=production)
        if problems:
            raise invalid(**problems)
        config = LrsConfig(
            endpoint=endpoint,
            key=key,
            secret=secret,
            enabled=request.enabled,
            updated_at=uow.clock.now(),
            updated_by_person_id=who.person_id,
            last_push_at=current.last_push_at if current else None,
            last_error=current.last_error if current else None,
        )
        uow.xapi.save_settings(config, master)
        pending = uow.xapi.pending_count()
    return _view(config, pending)


def push_pending(db: Db, master: MasterKey, client_for: Any = push_client) -> int:
    """One batch of pending statements to the LRS, when one is set and enabled: read in one
    unit, sent outside any transaction, then marked pushed (or the error kept) in another.
    How many the LRS stored. Two instances may send the same batch: the LRS stores it once."""
    with db.read_only() as uow:
        config = uow.xapi.settings(master)
        if config is None or not config.enabled:
            return 0
        batch = uow.xapi.pending(PUSH_BATCH)
    if not batch:
        return 0
    error: str | None = None
    stored: list[str] = []
    with client_for(LrsSettings(config.endpoint, config.key, config.secret)) as client:
        try:
            stored = client.send(batch)
        except LrsError as failure:
            error = str(failure)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        sent = {str(s["id"]) for s in batch}
        uow.xapi.mark_pushed(sorted(sent & set(stored)), now)
        uow.xapi.record_push(now, error)
    if error:
        log.warning("xAPI push failed; the next one retries", extra={"error": error})
    return len(sent & set(stored))


def record_answered(
    uow: ContentUnit,
    deployment: Deployment,
    who: PersonClaims,
    a: ModuleAssignment,
    module: Module,
    lesson: str,
    block: int,
    kind: AnswerKind,
) -> None:
    """A reflection or a quiz of a lesson answered: that it was, never the answer."""
    now = uow.clock.now()
    statement = prompt_answered(
        deployment,
        attempt_of(uow, who, a, module),
        lesson,
        str(block),
        kind,
        key=f"{a.id}:{lesson}:{block}:answered",
        at=now,
    )
    uow.xapi.record(statement.to_json(), a.tenant_id, a.coachee_person_id, a.id, now)
