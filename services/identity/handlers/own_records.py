"""The caller's own records: their person, memberships and profile."""

from __future__ import annotations

from services.contracts import identity as c
from services.kernel.caller import Caller
from services.kernel.errors import Problem, invalid

from ..domain import access
from ..storage.unit import Db
from .common import audit, own_person
from .views import membership_changed, my_membership, person_view


def get_my_person(db: Db, caller: Caller) -> c.Person:
    who = access.person(caller)
    with db.read_only() as uow:
        person = own_person(uow, who.person_id)
    return person_view(person)


def get_my_membership(db: Db, caller: Caller) -> c.MyMembership:
    who = access.person(caller)
    if who.tenant_id is None:
        raise access.member_not_found()
    with db.read_only() as uow:
        m = uow.memberships.of_person_in(who.tenant_id, who.person_id)
        tenant = uow.tenants.get(who.tenant_id)
    if m is None or tenant is None:
        raise access.member_not_found()
    return my_membership(m, tenant)


def list_my_memberships(db: Db, caller: Caller) -> c.ListMyMembershipsResponse:
    who = access.person(caller)
    with db.read_only() as uow:
        rows = uow.memberships.of_person(who.person_id)
    return c.ListMyMembershipsResponse(memberships=[my_membership(m, t) for m, t in rows])


def accept_membership(db: Db, caller: Caller, request: c.MyTenantRef) -> c.MyMembership:
    who = access.person(caller)
    tenant_id = request.tenant_id or who.tenant_id
    if not tenant_id:
        raise invalid(tenant_id="name the organisation whose invitation you accept")
    with db.unit_of_work() as uow:
        m = uow.memberships.of_person_in(tenant_id, who.person_id)
        tenant = uow.tenants.get(tenant_id)
        if m is None or tenant is None:
            raise access.member_not_found()
        before = m.snapshot()
        m.accept(uow.clock.now())
        uow.memberships.save(m)
        what = m.change_since(before)
        if what is not None:
            uow.record(membership_changed(m, what))
            audit(uow, f"member.{what}", m.tenant_id, m.person_id, m.id)
    return my_membership(m, tenant)


def update_my_profile(db: Db, caller: Caller, request: c.UpdateMyProfileRequest) -> c.Person:
    who = access.person(caller)
    unknown = sorted(set(request.update_mask) - set(c.PROFILE_FIELDS))
    if unknown:
        raise invalid(
            update_mask=Problem(
                "only %(allowed)s, not %(unknown)s",
                allowed=", ".join(c.PROFILE_FIELDS),
                unknown=", ".join(unknown),
            )
        )
    with db.unit_of_work() as uow:
        person = own_person(uow, who.person_id)
        person.update_profile(
            {f: getattr(request, f) for f in request.update_mask}, uow.clock.now()
        )
        uow.persons.save_profile(person)
    return person_view(person)
