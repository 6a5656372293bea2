"""Tenants."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from services.kernel.runtime.pagination import keyset_page

from ..domain.model import Tenant
from .rows import tenant_of
from .tables import tenants


class Tenants:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, tenant: Tenant) -> None:
        values = vars(tenant).copy()
        values["mfa_required_roles"] = list(tenant.mfa_required_roles)
        self.session.execute(insert(tenants).values(**values))

    def save(self, tenant: Tenant) -> None:
        self.session.execute(
            update(tenants)
            .where(tenants.c.id == tenant.id)
            .values(
                status=tenant.status,
                seats=tenant.seats,
                default_locale=tenant.default_locale,
                default_time_zone=tenant.default_time_zone,
                mfa_required_roles=list(tenant.mfa_required_roles),
                suspended_at=tenant.suspended_at,
            )
        )

    def get_for_update(self, tenant_id: str) -> Tenant | None:
        """Locks the tenant row: seat counting is serialised per tenant."""
        row = self.session.execute(
            select(tenants).where(tenants.c.id == tenant_id).with_for_update()
        ).first()
        return tenant_of(row) if row else None

    def get(self, tenant_id: str) -> Tenant | None:
        row = self.session.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        return tenant_of(row) if row else None

    def by_slug(self, slug: str) -> Tenant | None:
        row = self.session.execute(select(tenants).where(tenants.c.slug == slug)).first()
        return tenant_of(row) if row else None

    def page(self, size: int, token: str) -> tuple[list[Tenant], str]:
        return keyset_page(self.session, tenants, select(tenants), size, token, tenant_of)
