"""Tenants: created, read, their settings, suspended and reinstated."""

from __future__ import annotations

from typing import Any

from services.contracts import identity as c
from services.kernel.caller import Caller
from services.kernel.errors import AlreadyExists, Problem, invalid

from ..domain import access
from ..domain.model import Tenant
from ..storage.unit import Db
from .common import audit, revoke_access, standing_in
from .views import settings_view, tenant_created, tenant_view


def create_tenant(db: Db, caller: Caller, request: c.CreateTenantRequest) -> c.Tenant:
    access.require_operator(caller)
    with db.unit_of_work() as uow:
        tenant = Tenant.create(request.name, request.slug, uow.clock.now())
        if uow.tenants.by_slug(tenant.slug):
            raise AlreadyExists("A tenant already uses this slug.", reason="TENANT_SLUG_TAKEN")
        uow.tenants.add(tenant)
        uow.record(tenant_created(tenant))
        audit(uow, "tenant.created", tenant.id, access.person(caller).person_id, tenant.id)
    return tenant_view(tenant)


def get_tenant(db: Db, caller: Caller, request: c.TenantRef) -> c.Tenant:
    access.require_tenant_visible(caller, request.tenant_id)
    with db.read_only() as uow:
        tenant = uow.tenants.get(request.tenant_id)
    if tenant is None:
        raise access.tenant_not_found()
    return tenant_view(tenant)


def list_tenants(db: Db, caller: Caller, request: c.ListTenantsRequest) -> c.ListTenantsResponse:
    access.require_operator(caller)
    with db.read_only() as uow:
        rows, nxt = uow.tenants.page(request.effective_page_size(), request.page_token)
    return c.ListTenantsResponse(tenants=[tenant_view(t) for t in rows], next_page_token=nxt)


def get_tenant_settings(db: Db, caller: Caller, request: c.TenantRef) -> c.TenantSettings:
    with db.snapshot() as uow:
        standing_in(uow, caller, request.tenant_id).require_admin()
        tenant = uow.tenants.get(request.tenant_id)
        if tenant is None:
            raise access.tenant_not_found()
        return settings_view(tenant, uow.memberships.seats_used(tenant.id))


def update_tenant_settings(
    db: Db, caller: Caller, request: c.UpdateTenantSettingsRequest
) -> c.TenantSettings:
    with db.unit_of_work() as uow:
        standing = standing_in(uow, caller, request.tenant_id)
        standing.require_admin()
        unknown = sorted(set(request.update_mask) - set(c.TENANT_SETTINGS_FIELDS))
        if unknown:
            raise invalid(
                update_mask=Problem("unknown fields: %(unknown)s", unknown=", ".join(unknown))
            )
        if "seats" in request.update_mask:
            access.require_operator(caller)  # seats are what the organisation bought
        tenant = uow.tenants.get_for_update(request.tenant_id)
        if tenant is None:
            raise access.tenant_not_found()
        changes: dict[str, Any] = {f: getattr(request, f) for f in request.update_mask}
        if "mfa_required_roles" in changes:
            changes["mfa_required_roles"] = [r.value for r in request.mfa_required_roles]
        tenant.update_settings(changes)
        uow.tenants.save(tenant)
        audit(
            uow,
            "tenant.settings_changed",
            tenant.id,
            standing.who.person_id,
            tenant.id,
            fields=sorted(changes),
        )
        return settings_view(tenant, uow.memberships.seats_used(tenant.id))


def suspend_tenant(db: Db, caller: Caller, request: c.TenantRef) -> c.Tenant:
    return _tenant_status(db, caller, request, suspend=True)


def reinstate_tenant(db: Db, caller: Caller, request: c.TenantRef) -> c.Tenant:
    return _tenant_status(db, caller, request, suspend=False)


def _tenant_status(db: Db, caller: Caller, request: c.TenantRef, *, suspend: bool) -> c.Tenant:
    access.require_operator(caller)
    with db.unit_of_work() as uow:
        tenant = uow.tenants.get_for_update(request.tenant_id)
        if tenant is None:
            raise access.tenant_not_found()
        who = access.person(caller).person_id
        audit(
            uow, "tenant.suspended" if suspend else "tenant.reinstated", tenant.id, who, tenant.id
        )
        if suspend:
            was_suspended = tenant.is_suspended
            tenant.suspend(uow.clock.now())
            if not was_suspended:
                revoke_access(uow, c.AccessRevocationReason.TENANT_SUSPENDED, tenant_id=tenant.id)
        else:
            tenant.reinstate()
        uow.tenants.save(tenant)
    return tenant_view(tenant)
