"""Who may read a tenant's reports: its tenant admins, as reporting's own member facts know
them (ADR 0003: a membership demoted or deactivated a minute ago stops here as soon as its
event is applied, not when the token expires), and as the caller's token says too."""

from __future__ import annotations

from services.kernel.caller import PersonClaims
from services.kernel.errors import NotFound, PermissionDenied

from .facts import TENANT_ADMIN, Member


def require_report_reader(who: PersonClaims, tenant_id: str, member: Member | None) -> None:
    """NOT_FOUND for another tenant (hidden like missing); PERMISSION_DENIED for an operator
    (who sees that the tenant exists) and for a member of the tenant who is not, by both their
    token and the stored membership, one of its active tenant admins."""
    if who.is_operator:
        raise PermissionDenied(
            "Only the organisation's administrators see its reports.", reason="TENANT_ADMIN_ONLY"
        )
    if who.tenant_id != tenant_id:
        raise NotFound("No such tenant.", reason="TENANT_NOT_FOUND")
    if not who.has_role(TENANT_ADMIN) or member is None or not member.is_active_admin:
        raise PermissionDenied(
            "Only the organisation's administrators see its reports.", reason="TENANT_ADMIN_ONLY"
        )
