"""A person's export and erasure (the personal-data registry, services/kernel/registry.py)."""

from __future__ import annotations

from services.contracts import assessment as c
from services.contracts import identity as ic
from services.kernel.caller import Caller, require_person
from services.kernel.crypto import MasterKey
from services.kernel.personal_data import completion_event

from ..storage.unit import AssessmentUnit, Db


def export_personal_data(db: Db, master: MasterKey, caller: Caller) -> ic.PersonalDataExport:
    """Everything the service keeps about the caller (nothing yet)."""
    require_person(caller)
    with db.read_only() as uow:
        now = uow.clock.now()
    return ic.PersonalDataExport(service=c.SERVICE, exported_at=now, data={})


def erase_personal_data(uow: AssessmentUnit, master: MasterKey, event: ic.PersonErased) -> None:
    """Nothing kept yet: the completion only. Safe to apply twice (a replay)."""
    done = completion_event(c.SERVICE)
    uow.record(done(erasure_id=event.erasure_id, person_id=event.person_id))
