"""Who may do what in identity. Roles gate administration; tenants never see each other.

The token says which tenant a caller entered; what they may do there comes from the membership
identity keeps (`Standing`).

An object the caller may not see raises NotFound; a visible object with a forbidden action raises
PermissionDenied (rule 6).
"""

from __future__ import annotations

from services.kernel.caller import Caller, PersonClaims, require_person
from services.kernel.caller import require_operator as require_operator
from services.kernel.errors import NotFound, PermissionDenied

from .model import ACTIVE, Membership

# The kernel's check, under the name identity's handlers use (require_operator is the kernel's).
person = require_person


def tenant_not_found() -> NotFound:
    return NotFound("No such tenant.", reason="TENANT_NOT_FOUND")


def member_not_found() -> NotFound:
    return NotFound("No such member in this tenant.", reason="MEMBER_NOT_FOUND")


def require_tenant_visible(caller: Caller, tenant_id: str) -> PersonClaims:
    """The operator sees every tenant; anyone else only the tenant of their token."""
    who = person(caller)
    if who.is_operator or who.tenant_id == tenant_id:
        return who
    raise tenant_not_found()


class Standing:
    """What the caller may do in one tenant, from identity's own records, not the token's claims:
    a member deactivated or demoted a minute ago keeps a valid token until it expires, but loses
    their powers here at once (other services learn it from the revocation broadcast)."""

    def __init__(self, who: PersonClaims, membership: Membership | None) -> None:
        self._set(
            who, membership.status if membership else None, membership.roles if membership else ()
        )

    @classmethod
    def of(cls, who: PersonClaims, status: str | None, roles: tuple[str, ...]) -> Standing:
        """From the status and roles of the caller's membership (None: no membership)."""
        standing = cls.__new__(cls)
        standing._set(who, status, roles)
        return standing

    def _set(self, who: PersonClaims, status: str | None, roles: tuple[str, ...]) -> None:
        self.who = who
        self.operator = who.is_operator
        self.active = status == ACTIVE
        self.roles: tuple[str, ...] = tuple(roles) if self.active else ()

    @property
    def admin(self) -> bool:
        return self.operator or "tenant_admin" in self.roles

    def require_active(self) -> None:
        if not (self.operator or self.active):
            raise PermissionDenied(
                "Your membership of this organisation is not active.", reason="MEMBERSHIP_INACTIVE"
            )

    def require_admin(self) -> None:
        self.require_active()
        if not self.admin:
            raise PermissionDenied(
                "Only an administrator of this organisation may manage its members.",
                reason="TENANT_ADMIN_ONLY",
            )

    def may_read_member(self, member_person_id: str) -> bool:
        """Admins read every member of their tenant; a member reads their own membership."""
        return self.admin or self.who.person_id == member_person_id
