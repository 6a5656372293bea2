"""A person's data: exported on request, erased when identity erases the person."""

from __future__ import annotations

from services.contracts import identity as ic
from services.contracts import personal_data as pd
from services.contracts import scheduling as c
from services.kernel.caller import Caller, require_person
from services.kernel.personal_data import completion_event

from ..domain.changes import PERSON_ERASED
from ..domain.model import SYSTEM
from ..storage.unit import Db, SchedulingUnit
from .availability import availability_view
from .changes import cancelled
from .views import request_view, session_view


def export_personal_data(db: Db, caller: Caller) -> pd.PersonalDataExport:
    who = require_person(caller)
    with db.snapshot() as uow:
        found = uow.availability.get(who.person_id)
        sessions = uow.sessions.all_of_person(who.person_id)
        requests = uow.requests.of_person(who.person_id)
        reminders = uow.reminders.choices({who.person_id})[who.person_id]
        feed = uow.feeds.created_at(who.person_id)
        now = uow.clock.now()
    data = {
        "availability": availability_view(found).model_dump(mode="json") if found else None,
        "sessions": [session_view(s).model_dump(mode="json") for s in sessions],
        "reschedule_requests": [request_view(q).model_dump(mode="json") for q in requests],
        "reminders": {
            "off": reminders.off,
            "minutes_before": list(reminders.minutes),
            "chosen_at": reminders.updated_at.isoformat() if reminders.updated_at else None,
        },
        "calendar_feed_created_at": feed.isoformat() if feed else None,
    }
    return pd.PersonalDataExport(service=c.SERVICE, exported_at=now, data=data)


def erase_personal_data(uow: SchedulingUnit, event: ic.PersonErased) -> None:
    """The person's availability goes; their future sessions are cancelled (the others are told
    by the events); the past ones keep their times, with the person's id replaced."""
    now = uow.clock.now()
    person = event.person_id
    uow.availability.delete(person)
    group = uow.sessions.future_of_person(person, now)
    for s in group:
        s.cancel(SYSTEM, PERSON_ERASED, False, False, now)
    if group:
        cancelled(uow, group, now, whole=True)
    uow.sessions.anonymise(person)
    uow.requests.anonymise(person)
    uow.spaces.anonymise(person)
    uow.policies.anonymise(person)
    uow.video.anonymise(person)
    uow.calendar.forget(person)
    uow.reminders.forget(person)
    uow.feeds.delete(person)
    uow.record(completion_event(c.SERVICE)(erasure_id=event.erasure_id, person_id=person))
