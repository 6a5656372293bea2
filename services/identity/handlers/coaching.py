"""Who coaches whom, kept from the spaces service's events: a coach's coachees, a space's
coaches, the coachee's mail about a change of coach."""

from __future__ import annotations

from typing import Any

from services.contracts import identity as c
from services.contracts import spaces as sc
from services.kernel.caller import Caller
from services.kernel.errors import NotFound
from services.kernel.events import Envelope
from services.kernel.runtime.mailer import Mailer

from ..domain import access
from ..storage.unit import Db, IdentityUnit
from .common import LinkSettings
from .views import member_view


def coaches(db: Db, standing: access.Standing, tenant_id: str, person_id: str) -> bool:
    """A coach reads the profile of the people they coach or co-coach here (links kept from
    the spaces service's events); another coach does not."""
    if not standing.active:
        return False
    with db.read_only() as uow:
        return uow.coach_links.coaches(tenant_id, standing.who.person_id, person_id)


def list_my_coachees(db: Db, caller: Caller, request: c.TenantRef) -> c.ListMembersResponse:
    """The members the caller coaches or co-coaches in the token's tenant (their profiles)."""
    who = access.require_tenant_visible(caller, request.tenant_id)
    with db.read_only() as uow:
        found = uow.coach_links.coachees_of(request.tenant_id, who.person_id)
    return c.ListMembersResponse(members=[member_view(m, p) for m, p in found])


def get_space_coaches(db: Db, caller: Caller, request: c.SpaceRef) -> c.SpaceCoaches:
    """The names (only: no email) of an opened space's coach and co-coach, for the people of
    that space: its coachee, coach and co-coach, as identity last learnt them from the spaces
    events. Anyone else (HR, another coach or coachee, a former coach, an operator), and
    everyone while the space is a draft, which links nobody: NOT_FOUND."""
    who = access.require_tenant_visible(caller, request.tenant_id)
    with db.read_only() as uow:
        link = uow.coach_links.of_space(request.tenant_id, request.space_id)
        if link is None or who.person_id not in (
            link.coachee_person_id,
            link.coach_person_id,
            link.co_coach_person_id,
        ):
            raise NotFound("No such space.", reason="SPACE_NOT_FOUND")
        people = uow.persons.many([p for p in (link.coach_person_id, link.co_coach_person_id) if p])

    def name(person_id: str) -> c.CoachName:
        person = people.get(person_id)
        shown = person.display_name if person is not None and person.erased_at is None else ""
        return c.CoachName(person_id=person_id, display_name=shown)

    return c.SpaceCoaches(
        tenant_id=request.tenant_id,
        space_id=request.space_id,
        coach=name(link.coach_person_id),
        co_coach=name(link.co_coach_person_id) if link.co_coach_person_id else None,
    )


def record_space(uow: IdentityUnit, event: Any, envelope: Envelope) -> None:
    """A space's set-up and status from spaces' events: who coaches whom (never from a
    draft: `CoachLinks` reads the status)."""
    uow.coach_links.apply(
        {
            "space_id": event.space_id,
            "tenant_id": event.tenant_id,
            "coachee_person_id": event.coachee_person_id,
            "coach_person_id": event.coach_person_id,
            "co_coach_person_id": event.co_coach_person_id,
            "sequence": envelope.sequence,
            "status": event.status.value,
        }
    )


def send_coach_change_mail(
    db: Db,
    links: LinkSettings,
    mailer: Mailer,
    event: sc.CoachChanged | sc.CoCoachChanged | sc.CoachChangeProposed,
) -> None:
    """Tells the coachee, neutrally (no name, no space, no topic), that a coach or co-coach of
    one of their spaces changed, or that a change awaits their agreement. Only identity keeps
    addresses: read at send time; an erased coachee gets nothing, and neither does the coachee
    of a draft, which they do not see yet."""
    if event.status == sc.SpaceStatus.DRAFT:
        return
    with db.read_only() as uow:
        person = uow.persons.get(event.coachee_person_id)
    if person is None or person.erased_at is not None:
        return
    proposed = isinstance(event, sc.CoachChangeProposed)
    mailer.send(
        person.email,
        person.locale,
        "coach_change_proposed" if proposed else "coach_changed",
        name=person.display_name or person.email,
        url=f"{links.public_url.rstrip('/')}/my-space",  # the coachee's page; names no space
    )
