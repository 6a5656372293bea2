"""What identity answers: its domain objects as contract models."""

from __future__ import annotations

from typing import Any

from services.contracts import identity as c
from services.contracts import personal_data as pd

from ..domain.model import PENDING, Membership, Person, Tenant


def tenant_view(t: Tenant) -> c.Tenant:
    return c.Tenant(
        tenant_id=t.id,
        slug=t.slug,
        name=t.name,
        created_at=t.created_at,
        status=c.TenantStatus(t.status),
    )


def settings_view(t: Tenant, seats_used: int) -> c.TenantSettings:
    return c.TenantSettings(
        tenant_id=t.id,
        seats=t.seats,
        seats_used=seats_used,
        default_locale=t.default_locale,
        default_time_zone=t.default_time_zone,
        mfa_required_roles=[c.Role(r) for r in t.mfa_required_roles],
    )


def membership_changed(m: Membership, change: str) -> c.MembershipChanged:
    return c.MembershipChanged(
        change=c.MembershipChange(change),
        member_id=m.id,
        tenant_id=m.tenant_id,
        person_id=m.person_id,
        roles=[c.Role(r) for r in m.roles],
        status=c.MembershipStatus(m.status),
        created_at=m.created_at,
        updated_at=m.updated_at,
        accepted_at=m.accepted_at,
        department=m.department,
        site=m.site,
        programme=m.programme,
    )


def tenant_created(t: Tenant) -> c.TenantCreated:
    return c.TenantCreated(tenant_id=t.id, slug=t.slug, created_at=t.created_at)


def person_view(p: Person) -> c.Person:
    return c.Person(
        person_id=p.id,
        email=p.email,
        display_name=p.display_name,
        locale=p.locale,
        time_zone=p.time_zone,
        platform_admin=p.platform_admin,
        created_at=p.created_at,
        calendar_email=p.calendar_email or "",
    )


def cohort_view(m: Membership) -> dict[str, str]:
    """The cohort attributes as views show them: empty when unset."""
    return {"department": m.department or "", "site": m.site or "", "programme": m.programme or ""}


def member_view(m: Membership, person: Person | None, *, cohort: bool = False) -> c.Member:
    """Until a pending member accepts, the tenant sees only the email it typed. The cohort
    attributes only with `cohort`: for the tenant's admins, the operator and the member
    themselves, never for a coach (PRODUCT's who-sees-what)."""
    common: dict[str, Any] = {
        "member_id": m.id,
        "tenant_id": m.tenant_id,
        "roles": [c.Role(r) for r in m.roles],
        "status": c.MembershipStatus(m.status),
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        **(cohort_view(m) if cohort else {}),
    }
    if m.status == PENDING or m.accepted_at is None or person is None:
        return c.Member(email=m.invited_email, **common)
    return c.Member(
        person_id=person.id,
        email=person.email,
        display_name=person.display_name,
        locale=person.locale,
        time_zone=person.time_zone,
        **common,
    )


def audit_view(rows: list[dict[str, Any]], nxt: str) -> c.AuditEventList:
    return c.AuditEventList(
        events=[
            c.AuditEvent(
                time=r["created_at"],
                action=r["action"],
                tenant_id=r["tenant_id"] or "",
                actor_id=r["actor_id"] or "",
                subject=r["subject"] or "",
                detail={k: str(v) for k, v in (r["detail"] or {}).items()},
            )
            for r in rows
        ],
        next_page_token=nxt,
    )


def erasure_view(row: dict[str, Any]) -> pd.Erasure:
    return pd.Erasure(
        erasure_id=row["id"],
        person_id=row["person_id"],
        requested_at=row["created_at"],
        requested_by=row["requested_by"],
        completed_at=row["completed_at"],
        steps=[pd.ErasureStep(**s) for s in row["steps"]],
    )


def my_membership(m: Membership, tenant: Tenant) -> c.MyMembership:
    return c.MyMembership(
        member_id=m.id,
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        roles=[c.Role(r) for r in m.roles],
        status=c.MembershipStatus(m.status),
        **cohort_view(m),
    )
