"""A person's export and erasure (the personal-data registry, services/kernel/registry.py)."""

from __future__ import annotations

from services.contracts import assessment as c
from services.contracts import identity as ic
from services.contracts import personal_data as pd
from services.kernel.caller import Caller, require_person
from services.kernel.crypto import MasterKey
from services.kernel.personal_data import completion_event
from services.kernel.space_copy import ERASED_PERSON

from ..domain.raters import ANSWERED, EXPIRED, INVITED, Rater
from ..storage.unit import AssessmentUnit, Db
from .views import assignment_view, attempt_view


def export_personal_data(db: Db, master: MasterKey, caller: Caller) -> pd.PersonalDataExport:
    """The caller's assignments as coachee, each attempt with its answers and results and how
    many 360 raters were asked and where they stand (never their addresses), and the
    instruments they wrote (every version)."""
    who = require_person(caller)
    with db.snapshot() as uow:
        mine = uow.assignments.unlocked(master).of_coachee(who.person_id)
        written = uow.instruments.of_owner(who.person_id)
        # counts only: raters' addresses are never exported (ADR 0014)
        uow_raters = {a.id: uow.raters.of_assignment(a.id) for a in mine}
        now = uow.clock.now()
    assignments = []
    for a in mine:
        entry = assignment_view(a).model_dump(mode="json")
        entry["attempts"] = [
            attempt_view(a, t, with_answers=True).model_dump(mode="json") for t in a.attempts
        ]
        entry["raters"] = _rater_counts(uow_raters.get(a.id, []))
        assignments.append(entry)
    instruments = [
        {
            "instrument_id": s.instrument_id,
            "version": s.version,
            "tenant_id": s.tenant_id,
            "shared": s.shared,
            "created_at": s.created_at.isoformat(),
            "document": s.document,
        }
        for s in written
    ]
    return pd.PersonalDataExport(
        service=c.SERVICE,
        exported_at=now,
        data={"assignments_as_coachee": assignments, "instruments": instruments},
    )


def _rater_counts(raters: list[Rater]) -> dict[str, int]:
    return {s: sum(r.status == s for r in raters) for s in (INVITED, ANSWERED, EXPIRED)}


def erase_personal_data(uow: AssessmentUnit, master: MasterKey, event: ic.PersonErased) -> None:
    """A coachee's assignments go whole, their data keys with them (their answers can never be
    read again, backups included once they expire). A coach's private instruments go, but for
    those assigned (their coachees' results need them) and shared ones, which stay with their
    author's id replaced; their id is replaced too where they assigned. A coachee's raters go
    with the assignments (the foreign key's cascade). Safe to apply twice."""
    repo = uow.assignments.unlocked(master)
    for a in repo.of_coachee(event.person_id):
        repo.delete(a.id)
    uow.instruments.delete_private_of(event.person_id, repo.instrument_ids())
    repo.anonymise_assigner(event.person_id, ERASED_PERSON)
    uow.spaces.anonymise(event.person_id)
    done = completion_event(c.SERVICE)
    uow.record(done(erasure_id=event.erasure_id, person_id=event.person_id))
