"""A person's export and erasure (the personal-data registry, services/kernel/registry.py)."""

from __future__ import annotations

from services.contracts import content as c
from services.contracts import identity as ic
from services.contracts import personal_data as pd
from services.kernel.caller import Caller, require_person
from services.kernel.crypto import MasterKey
from services.kernel.personal_data import completion_event
from services.kernel.space_copy import ERASED_PERSON

from ..domain.xapi import export_document
from ..storage.unit import ContentUnit, Db
from .views import assignment_view, recommendation_view, resource_view


def export_personal_data(db: Db, master: MasterKey, caller: Caller) -> pd.PersonalDataExport:
    """What was recommended to the caller as a coachee (their coach's notes included), the
    modules assigned to them with their progress and the xAPI statements of it (as sent to the
    LRS, their pseudonym as actor), and the resources they keep as a coach (their private
    library)."""
    who = require_person(caller)
    with db.snapshot() as uow:
        spaces = [s.space_id for s in uow.spaces.of_coachee(who.person_id)]
        recommended = uow.recommendations.unlocked(master).of_spaces(spaces) if spaces else []
        owned = uow.resources.of_owner(who.person_id)
        assigned = uow.module_assignments.of_coachee(who.person_id)
        progress = uow.module_progress.of_assignments([a.id for a in assigned])
        modules = [
            assignment_view(a, None, progress.get(a.id)).model_dump(mode="json") for a in assigned
        ]
        statements = uow.xapi.of_person(who.person_id)
        now = uow.clock.now()
    return pd.PersonalDataExport(
        service=c.SERVICE,
        exported_at=now,
        data={
            "recommendations_to_me": [
                recommendation_view(r).model_dump(mode="json") for r in recommended
            ],
            "modules_assigned_to_me": modules,
            "my_xapi_statements": export_document(statements),
            "my_resources": [resource_view(r).model_dump(mode="json") for r in owned],
        },
    )


def erase_personal_data(uow: ContentUnit, master: MasterKey, event: ic.PersonErased) -> None:
    """A coachee's recommendations go whole, their data keys with them (the coach's notes about
    them can never be read again). A coach's private resources go; their id is replaced where
    they recommended. A coachee's module assignments and progress go; a coach's or operator's id
    is replaced where they assigned or imported a module. Their xAPI statements and pseudonyms
    go (what the LRS keeps then names nobody). Safe to apply twice."""
    repo = uow.recommendations.unlocked(master)
    for space in uow.spaces.of_coachee(event.person_id):
        repo.delete_of_space(space.space_id)
    uow.resources.delete_private_of(event.person_id)
    repo.anonymise_recommender(event.person_id, ERASED_PERSON)
    uow.module_progress.delete_of_coachee(event.person_id)
    uow.module_assignments.delete_of_coachee(event.person_id)
    uow.xapi.delete_of_person(event.person_id)
    uow.xapi.anonymise_updater(event.person_id, ERASED_PERSON)
    uow.module_assignments.anonymise_assigner(event.person_id, ERASED_PERSON)
    uow.module_versions.anonymise_importer(event.person_id, ERASED_PERSON)
    uow.spaces.anonymise(event.person_id)
    done = completion_event(c.SERVICE)
    uow.record(done(erasure_id=event.erasure_id, person_id=event.person_id))
