"""A person's export and erasure (the personal-data registry, services/kernel/registry.py).

Reporting keeps person ids only to join a coachee to their cohort attributes: on its member
facts (with the attributes), and as the coachee of spaces, sessions and module progress."""

from __future__ import annotations

from services.contracts import identity as ic
from services.contracts import personal_data as pd
from services.contracts import reporting as c
from services.kernel.caller import Caller, require_person
from services.kernel.personal_data import completion_event

from ..storage.unit import Db, ReportingUnit


def export_personal_data(db: Db, caller: Caller) -> pd.PersonalDataExport:
    """The caller's memberships as reporting knows them (roles, status, cohort attributes), and
    how many spaces count them as their coachee."""
    who = require_person(caller)
    with db.read_only() as uow:
        members = uow.members.all_of_person(who.person_id)
        spaces = uow.spaces.count_of_coachee(who.person_id)
        now = uow.clock.now()
    return pd.PersonalDataExport(
        service=c.SERVICE,
        exported_at=now,
        data={
            "memberships": [
                {
                    "tenant_id": m.tenant_id,
                    "roles": list(m.roles),
                    "status": m.status,
                    "department": m.department,
                    "site": m.site,
                    "programme": m.programme,
                }
                for m in members
            ],
            "spaces_as_coachee": spaces,
        },
    )


def erase_personal_data(uow: ReportingUnit, event: ic.PersonErased) -> None:
    """The person's memberships keep their place (their sequence keeps older events out) but
    tie to no one and lose their attributes; where the person stood as a coachee their id is
    replaced, so those facts join no cohort and count in no report. Safe to apply twice."""
    uow.members.erase(event.person_id)
    uow.spaces.forget_person(event.person_id)
    uow.sessions.forget_person(event.person_id)
    uow.modules.forget_person(event.person_id)
    done = completion_event(c.SERVICE)
    uow.record(done(erasure_id=event.erasure_id, person_id=event.person_id))
