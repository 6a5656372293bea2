"""Changing a space's coach or co-coach: the change waits for the coachee's agreement, and
what the newcomer sees of earlier content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.contracts import spaces as c
from services.kernel.caller import Caller, PersonClaims, member_of
from services.kernel.crypto import MasterKey
from services.kernel.errors import (
    DomainError,
    FailedPrecondition,
)

from ..domain.model import (
    CO_COACH_SEAT,
    COACH_SEAT,
    Participant,
    Relation,
    Space,
    check_member_roles,
)
from ..storage.unit import Db, SpacesUnit
from .access import is_admin, visible
from .set_ups import Resolve, resolve_participant
from .spaces import change_space
from .views import pending_coach_view, space_event, space_view


def _seat_changed(uow: SpacesUnit, space: Space, seat: str, previous: Participant | None) -> None:
    """The event of a seat that changed hands: the coach's or the co-coach's."""
    if seat == COACH_SEAT:
        assert previous is not None
        uow.record(space_event(c.CoachChanged, space, previous_coach_person_id=previous.person_id))
    else:
        previous_id = previous.person_id if previous else None
        uow.record(space_event(c.CoCoachChanged, space, previous_co_coach_person_id=previous_id))


def _change_seat(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    who: PersonClaims,
    request: Any,
    seat: str,
    member_id: str | None,
) -> c.Space:
    """ChangeCoach and ChangeCoCoach: the seat changes hands at once, or, for someone who
    oversees the tenant, a proposal waits for the coachee (spaces.coach_change_proposed)."""
    with db.read_only() as uow:
        visible(uow, master, who, request)
    new, agreement = None, False
    if member_id:
        new, agreement = resolve_participant(
            resolve, request.tenant_id, f"{seat}_member_id", member_id
        )
    with db.unit_of_work() as uow:
        repo, space, _relation = visible(uow, master, who, request, for_update=True)
        relations = space.relations(who.person_id, is_admin(who))
        change = space.change_coach if seat == COACH_SEAT else space.change_co_coach
        previous = change(
            new,  # type: ignore[arg-type]  # the coach's seat is never emptied (the contract)
            relations,
            uow.clock.now(),
            by=who.person_id,
            needs_agreement=agreement,
        )
        repo.save(space, with_content=False)
        if agreement:
            assert new is not None
            uow.record(
                space_event(
                    c.CoachChangeProposed,
                    space,
                    seat=seat,
                    proposed_person_id=new.person_id,
                )
            )
        else:
            _seat_changed(uow, space, seat, previous)
    return space_view(space, space.visible_relation(who.person_id, is_admin(who)))


def change_coach(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    caller: Caller,
    request: c.ChangeCoachRequest,
) -> c.Space:
    who = member_of(caller, request.tenant_id)
    return _change_seat(db, master, resolve, who, request, COACH_SEAT, request.coach_member_id)


def change_co_coach(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    caller: Caller,
    request: c.ChangeCoCoachRequest,
) -> c.Space:
    who = member_of(caller, request.tenant_id)
    return _change_seat(
        db, master, resolve, who, request, CO_COACH_SEAT, request.co_coach_member_id
    )


def get_pending_coach_change(
    db: Db, master: MasterKey, caller: Caller, request: c.PendingCoachChangeRequest
) -> c.PendingCoachChange:
    """The coachee's: the coach change waiting for their agreement."""
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        _, space, _relation = visible(uow, master, who, request)
        space.pending_for(space.relations(who.person_id, is_admin(who)))
    found = pending_coach_view(space)
    assert found is not None
    return found


def accept_coach_change(
    db: Db,
    master: MasterKey,
    resolve: Resolve,
    caller: Caller,
    request: c.PendingCoachChangeRequest,
) -> c.Space:
    """The coachee agrees: the proposed person takes the seat, if they still may coach here
    (a member with the COACH role, active or invited), and the usual event follows."""
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        _, space, _relation = visible(uow, master, who, request)
        pending = space.pending_for(space.relations(who.person_id, is_admin(who)))
    member_id = pending.participant.member_id
    try:
        check_member_roles(
            resolve(request.tenant_id, [member_id]),
            {f"{pending.seat}_member_id": member_id},
            overseers=True,
        )
    except DomainError:
        raise FailedPrecondition(
            "The proposed coach can no longer coach in this organisation; decline the change.",
            reason="PROPOSED_COACH_UNAVAILABLE",
        ) from None
    with db.unit_of_work() as uow:
        repo, space, relation = visible(uow, master, who, request, for_update=True)
        relations = space.relations(who.person_id, is_admin(who))
        accepted, previous = space.accept_pending(relations, uow.clock.now(), seen=pending)
        repo.save(space, with_content=relation is not Relation.TENANT_ADMIN)
        _seat_changed(uow, space, accepted.seat, previous)
    return space_view(space, space.visible_relation(who.person_id, is_admin(who)))


def decline_coach_change(
    db: Db, master: MasterKey, caller: Caller, request: c.PendingCoachChangeRequest
) -> c.Space:
    """The coachee declines: the set-up stays as it is (no event: nothing changed)."""
    who = member_of(caller, request.tenant_id)

    def decline(space: Space, _: Relation, relations: set[Relation], now: datetime) -> Any:
        space.decline_pending(relations, now)
        return None

    return change_space(db, master, who, request, decline)


def share_earlier_content(
    db: Db, master: MasterKey, caller: Caller, request: c.SpaceRef
) -> c.Space:
    """The coachee lets the coach and co-coach of now read what was written before they
    joined (no event: nobody else keeps a copy of it)."""
    who = member_of(caller, request.tenant_id)

    def share(space: Space, _: Relation, relations: set[Relation], now: datetime) -> Any:
        space.share_earlier_content(relations, now)
        return None

    return change_space(db, master, who, request, share)
