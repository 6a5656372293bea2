"""A tenant's members: read, searched, roles and cohort attributes changed, deactivated,
reactivated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.contracts import identity as c
from services.kernel.caller import Caller
from services.kernel.errors import PermissionDenied, Problem, invalid

from ..domain import access
from ..domain.credentials import INVITATION
from ..domain.model import (
    COHORT_ATTRIBUTES,
    DEACTIVATED,
    PENDING,
    MemberSearch,
    Membership,
    check_cohort_label,
    check_roles,
)
from ..storage.unit import Db, IdentityUnit
from .coaching import coaches
from .common import audit, revoke_access, standing_in, visible_member
from .views import member_view, membership_changed


def get_member(db: Db, caller: Caller, request: c.MemberRef) -> c.Member:
    who = access.require_tenant_visible(caller, request.tenant_id)
    with db.read_only() as uow:
        found = uow.memberships.get_for_caller(
            request.tenant_id, request.member_id, "" if who.is_operator else who.person_id
        )
    if found is None:
        raise access.member_not_found()
    member, person, caller_status, caller_roles = found
    standing = access.Standing.of(who, caller_status, caller_roles)
    if not standing.may_read_member(member.person_id) and not coaches(
        db, standing, request.tenant_id, member.person_id
    ):
        raise access.member_not_found()
    # A coach reads their coachee's profile, not the cohort HR files them under.
    return member_view(member, person, cohort=standing.may_read_member(member.person_id))


def list_members(db: Db, caller: Caller, request: c.ListMembersRequest) -> c.ListMembersResponse:
    """Admins' list of the tenant's members, searched: one indexed scan of the tenant's
    memberships joined to their persons, names and emails compared in clear (they are contact
    details, not free text encrypted at rest; names through their folded `name_key`)."""
    found = MemberSearch.of(
        request.query,
        request.role.value if request.role else "",
        request.status.value if request.status else "",
    )
    with db.read_only() as uow:
        standing_in(uow, caller, request.tenant_id).require_admin()
        rows, nxt = uow.memberships.search(
            request.tenant_id, found, request.effective_page_size(), request.page_token
        )
    return c.ListMembersResponse(
        members=[member_view(m, p, cohort=True) for m, p in rows], next_page_token=nxt
    )


UPDATABLE_MEMBER_FIELDS = frozenset({"roles"})


def update_member(db: Db, caller: Caller, request: c.UpdateMemberRequest) -> c.Member:
    def change(uow: IdentityUnit, m: Membership, standing: access.Standing, now: datetime) -> None:
        # Checked after the caller's rights, so a stranger learns nothing from a bad mask.
        unknown = sorted(set(request.update_mask) - UPDATABLE_MEMBER_FIELDS)
        if unknown:
            raise invalid(
                update_mask=Problem(
                    "only 'roles' can be updated, not %(unknown)s", unknown=", ".join(unknown)
                )
            )
        if m.person_id == standing.who.person_id:  # nobody grants themselves a way to content
            raise PermissionDenied(
                "You cannot change the roles of your own membership; ask another administrator.",
                reason="SELF_ROLE_CHANGE",
            )
        m.change_roles(check_roles([r.value for r in request.roles]), now)

    return _change_member(db, caller, request.tenant_id, request.member_id, change)


def set_member_attributes(
    db: Db, caller: Caller, request: c.SetMemberAttributesRequest
) -> c.Member:
    """The member's cohort attributes, all three (checked by the contract; empty unsets). Like
    roles, for the tenant's admins and the operator; an admin may set their own."""
    department, site, programme = (
        check_cohort_label(getattr(request, name), name) for name in COHORT_ATTRIBUTES
    )

    def change(uow: IdentityUnit, m: Membership, standing: access.Standing, now: datetime) -> None:
        m.set_cohort(department, site, programme, now)

    return _change_member(db, caller, request.tenant_id, request.member_id, change)


def deactivate_member(db: Db, caller: Caller, request: c.MemberRef) -> c.Member:
    """Also withdraws a pending invitation: its link stops working."""

    def change(uow: IdentityUnit, m: Membership, standing: access.Standing, now: datetime) -> None:
        if m.status == PENDING:
            uow.links.supersede_for(INVITATION, m.id, now)
        if m.person_id == standing.who.person_id:
            raise PermissionDenied(
                "You cannot deactivate your own membership; ask another administrator.",
                reason="SELF_DEACTIVATION",
            )
        m.deactivate(now)

    return _change_member(db, caller, request.tenant_id, request.member_id, change)


def reactivate_member(db: Db, caller: Caller, request: c.MemberRef) -> c.Member:
    def change(uow: IdentityUnit, m: Membership, standing: access.Standing, now: datetime) -> None:
        if m.status == DEACTIVATED:  # reactivating takes a seat again
            tenant = uow.tenants.get_for_update(m.tenant_id)
            assert tenant is not None
            tenant.check_seat_for_one_more(uow.memberships.seats_used(tenant.id))
        m.reactivate(now)

    return _change_member(db, caller, request.tenant_id, request.member_id, change)


def _change_member(
    db: Db,
    caller: Caller,
    tenant_id: str,
    member_id: str,
    change: Callable[[IdentityUnit, Membership, access.Standing, datetime], None],
) -> c.Member:
    """Load the member the caller may see, require admin rights, apply `change`, save."""
    with db.unit_of_work() as uow:
        standing = standing_in(uow, caller, tenant_id)
        m = visible_member(uow, standing, tenant_id, member_id, for_update=True)
        standing.require_admin()
        before = m.snapshot()
        change(uow, m, standing, uow.clock.now())
        uow.memberships.save(m)
        what = m.change_since(before)
        if what is not None:
            uow.record(membership_changed(m, what))
            audit(uow, f"member.{what}", m.tenant_id, standing.who.person_id, m.id)
        if what in _REVOKING_CHANGES and before[0] != PENDING:  # a pending one has no tokens
            revoke_access(
                uow, _REVOKING_CHANGES[what], person_id=m.person_id, tenant_id=m.tenant_id
            )
        if what == "deactivated":  # their sessions there end too: back only by signing in
            uow.refresh_tokens.revoke_membership(m.person_id, m.tenant_id, uow.clock.now())
        person = uow.persons.get(m.person_id)
    return member_view(m, person, cohort=True)


# Membership changes after which the tokens already issued for that membership stop working.
_REVOKING_CHANGES = {
    "deactivated": c.AccessRevocationReason.DEACTIVATED,
    "roles_changed": c.AccessRevocationReason.ROLES_CHANGED,
}
