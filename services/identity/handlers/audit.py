"""The audit log, read by a tenant's admins and by operators."""

from __future__ import annotations

from services.contracts import identity as c
from services.kernel.caller import Caller

from ..domain import access
from ..storage.unit import Db
from .common import standing_in
from .views import audit_view

# What a tenant's admins read of their tenant's audit log: administration, never sign-ins.
TENANT_AUDIT_ACTIONS = (
    "member.pending",
    "member.added",
    "member.accepted",
    "member.roles_changed",
    "member.deactivated",
    "member.reactivated",
    "member.erased",
    "invitation.resent",
    "tenant.created",
    "tenant.settings_changed",
    "tenant.suspended",
    "tenant.reinstated",
)


def list_tenant_audit_events(
    db: Db, caller: Caller, request: c.ListTenantAuditRequest
) -> c.AuditEventList:
    """A tenant's administrative events, for its admins (and operators)."""
    with db.read_only() as uow:
        standing_in(uow, caller, request.tenant_id).require_admin()
        rows, nxt = uow.audit.page(
            request.effective_page_size(),
            request.page_token,
            tenant_id=request.tenant_id,
            actions=TENANT_AUDIT_ACTIONS,
        )
    return audit_view(rows, nxt)


def list_security_events(
    db: Db, caller: Caller, request: c.ListSecurityEventsRequest
) -> c.AuditEventList:
    """Everything, for operators: security events (failed sign-ins, reused sessions,
    revocations), operators' own actions (tenants, keys), and every tenant's administration."""
    access.require_operator(caller)
    with db.read_only() as uow:
        rows, nxt = uow.audit.page(
            request.effective_page_size(), request.page_token, tenant_id=None, actions=None
        )
    return audit_view(rows, nxt)
