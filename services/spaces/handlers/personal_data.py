"""A person's export and erasure (the personal-data registry, services/kernel/registry.py)."""

from __future__ import annotations

from services.contracts import identity as ic
from services.contracts import personal_data as pd
from services.contracts import spaces as c
from services.kernel.caller import Caller, require_person
from services.kernel.crypto import MasterKey
from services.kernel.personal_data import completion_event

from ..domain.model import (
    ERASED_PERSON,
    Relation,
)
from ..storage.unit import Db, SpacesUnit
from .goals import all_goals_with_history
from .notes import notes_of, space_notes
from .toolbox import tools_of
from .views import space_view


def export_personal_data(db: Db, master: MasterKey, caller: Caller) -> pd.PersonalDataExport:
    """The caller's own spaces as coachee, content included, and the spaces they coach (their
    set-up: the coachee's words are the coachee's)."""
    caller = require_person(caller)
    with db.snapshot() as uow:
        repo = uow.spaces.unlocked(master)
        own = []
        for space in repo.of_coachee(caller.person_id):
            view = space_view(space, Relation.COACHEE).model_dump(mode="json")
            view["goals"] = all_goals_with_history(repo, space)
            view.update(notes_of(repo, space, caller.person_id))
            view["toolbox"] = tools_of(repo, space, Relation.COACHEE, uow.clock.now())
            own.append(view)
        coached = []
        for s in repo.coached_by(caller.person_id):
            relation = (
                Relation.COACH
                if s.set_up.coach.person_id == caller.person_id
                else Relation.CO_COACH
            )
            set_up = space_view(s, Relation.TENANT_ADMIN)  # set-up only
            entry = set_up.model_copy(update={"relation": relation.value}).model_dump(mode="json")
            # Their own words: their private notes, and the shared notes they wrote.
            mine = notes_of(repo, s, caller.person_id)
            entry["notes"] = [n for n in mine["notes"] if n["author_person_id"] == caller.person_id]
            coached.append(entry)
        visits = uow.visits.of_person(caller.person_id)
        now = uow.clock.now()
    return pd.PersonalDataExport(
        service=c.SERVICE,
        exported_at=now,
        data={
            "spaces_as_coachee": own,
            "spaces_as_coach": coached,
            "space_visits": visits,
        },
    )


def erase_personal_data(uow: SpacesUnit, master: MasterKey, event: ic.PersonErased) -> None:
    """A coachee's spaces go whole, their data keys with them (so nothing sealed by them can be
    read again, backups included once they expire), the coach's private notes about them
    included. A coach's spaces stay for their coachees: the coach's private notes go, the shared
    notes they wrote stay, signed by a former participant. Safe to apply twice (a replay)."""
    repo = uow.spaces.unlocked(master)
    for space in repo.of_coachee(event.person_id):
        repo.delete(space.id)  # goals, notes, revisions and reads go with it
    for tenant_id, space_id in uow.authors.spaces_with_shared_notes_by(event.person_id):
        kept = repo.get(tenant_id, space_id)
        if kept is not None:  # sealed for their author: sealed again for "a former participant"
            space_notes(repo, kept).reseal_for_author(space_id, event.person_id, ERASED_PERSON)
    uow.authors.erase(event.person_id)
    uow.tool_mails.erase(event.person_id)  # their spaces' tools went with them; mails owed too
    done = completion_event(c.SERVICE)
    uow.record(done(erasure_id=event.erasure_id, person_id=event.person_id))
