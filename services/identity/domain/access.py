"""Who may do what in identity. Roles gate administration; tenants never see each other.

An object the caller may not see raises NotFound; a visible object with a forbidden action raises
PermissionDenied (rule 6).
"""

from __future__ import annotations

from services.kernel.caller import Caller, PersonClaims
from services.kernel.errors import NotFound, PermissionDenied, Unauthenticated


def person(caller: Caller) -> PersonClaims:
    if not isinstance(caller, PersonClaims):
        raise Unauthenticated("This method needs a person's access token.", reason="TOKEN_INVALID")
    return caller


def require_operator(caller: Caller) -> PersonClaims:
    who = person(caller)
    if not who.is_operator:
        raise PermissionDenied(
            "Only a platform operator, signed in without a tenant, may do this.",
            reason="OPERATOR_ONLY",
        )
    return who


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


def require_member_admin(caller: Caller, tenant_id: str) -> PersonClaims:
    """Member administration: the tenant's admins, and the operator (who sets up a tenant's
    first admins). Another tenant's ids are not found, not forbidden."""
    who = require_tenant_visible(caller, tenant_id)
    if who.is_operator or who.has_role("tenant_admin"):
        return who
    raise PermissionDenied(
        "Only an administrator of this organisation may manage its members.",
        reason="TENANT_ADMIN_ONLY",
    )


def may_read_member(who: PersonClaims, member_person_id: str) -> bool:
    """Admins read every member of their tenant; a member reads their own membership."""
    return who.is_operator or who.has_role("tenant_admin") or who.person_id == member_person_id
