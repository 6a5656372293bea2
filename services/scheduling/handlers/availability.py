"""A coach's availability, and the slots a participant of a space may book."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.contracts import scheduling as c
from services.kernel.caller import Caller, member_of, require_person
from services.kernel.errors import PermissionDenied, Problem, invalid

from ..domain.availability import Availability, as_input
from ..domain.model import space_not_found
from ..domain.recurrence import place
from ..storage.unit import Db


def _iso_local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat()


def availability_view(a: Availability) -> c.Availability:
    return c.Availability(coach_person_id=a.coach_person_id, updated_at=a.updated_at, **as_input(a))


def get_my_availability(db: Db, caller: Caller) -> c.Availability:
    who = require_person(caller)
    with db.read_only() as uow:
        found = uow.availability.get(who.person_id)
    if found is None:
        found = Availability(who.person_id, "UTC", min_notice_minutes=720)
        found.updated_at = None
    return availability_view(found)


def update_my_availability(
    db: Db, caller: Caller, request: c.UpdateAvailabilityRequest
) -> c.Availability:
    who = require_person(caller)
    if not who.has_role("coach"):
        raise PermissionDenied("Only a coach has availability.", reason="COACH_ONLY")
    with db.unit_of_work() as uow:
        given = Availability.from_input(
            who.person_id, request.availability.model_dump(), uow.clock.now()
        )
        uow.availability.save(given)
    return availability_view(given)


def list_slots(db: Db, caller: Caller, request: c.SlotsRequest) -> c.SlotList:
    who = member_of(caller, request.tenant_id)
    if request.to_date < request.from_date:
        raise invalid(to_date="must not be before from_date")
    if (request.to_date - request.from_date).days >= c.MAX_RANGE_DAYS:
        raise invalid(to_date=Problem("at most %(n)s days after from_date", n=c.MAX_RANGE_DAYS))
    with db.read_only() as uow:
        space = uow.spaces.get(request.tenant_id, request.space_id)
        if space is None:
            raise space_not_found()
        space.participant(who.person_id)
        now = uow.clock.now()
        found = uow.availability.get(space.coach_person_id)
        zone = ZoneInfo(request.time_zone or (found.time_zone if found else "UTC"))
        if found is None or space.status != "active":
            return c.SlotList(time_zone=zone.key, minutes=request.minutes or 60, slots=[])
        minutes = found.length(request.minutes)
        from_at = place(datetime.combine(request.from_date, time()), zone).starts_at
        to_at = place(datetime.combine(request.to_date + timedelta(days=1), time()), zone).starts_at
        margin = timedelta(minutes=minutes + found.buffer_minutes)
        everywhere, here_only = space.busy_shown_to(who.person_id)
        taken = uow.sessions.busy_of(
            everywhere,
            from_at - margin,
            to_at + margin,
            here_only=here_only,
            tenant_id=space.tenant_id,
        )
        slots = found.slots(from_at, to_at, minutes, taken, now)
    return c.SlotList(
        time_zone=zone.key,
        minutes=minutes,
        slots=[
            c.Slot(
                starts_at=s,
                ends_at=e,
                local_start=_iso_local(s, zone),
                local_end=_iso_local(e, zone),
            )
            for s, e in slots
        ],
    )
