"""Identity's rows and its domain objects, both ways, shared by its repositories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.model import Membership, Person, Tenant


def person_row(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "email": person.email,
        "email_key": person.email_key,
        "display_name": person.display_name,
        "name_key": person.name_key,
        "locale": person.locale,
        "time_zone": person.time_zone,
        "platform_admin": person.platform_admin,
        "password_hash": person.password_hash,
        "created_at": person.created_at,
        "updated_at": person.updated_at,
        "erased_at": person.erased_at,
        "calendar_email": person.calendar_email,
    }


def membership_row(m: Membership) -> dict[str, Any]:
    return {
        "id": m.id,
        "tenant_id": m.tenant_id,
        "person_id": m.person_id,
        "invited_email": m.invited_email,
        "roles": list(m.roles),
        "status": m.status,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "accepted_at": m.accepted_at,
        "department": m.department,
        "site": m.site,
        "programme": m.programme,
    }


def tenant_of(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        slug=row.slug,
        name=row.name,
        created_at=row.created_at,
        status=row.status,
        seats=row.seats,
        default_locale=row.default_locale,
        default_time_zone=row.default_time_zone,
        mfa_required_roles=tuple(row.mfa_required_roles or ()),
        suspended_at=row.suspended_at,
    )


def person_of(row: Any, prefix: str = "") -> Person:
    def col(name: str) -> Any:
        return getattr(row, prefix + name)

    return Person(
        id=col("id"),
        email=col("email"),
        display_name=col("display_name"),
        locale=col("locale"),
        time_zone=col("time_zone"),
        created_at=col("created_at"),
        updated_at=col("updated_at"),
        platform_admin=col("platform_admin"),
        password_hash=col("password_hash"),
        erased_at=col("erased_at"),
        calendar_email=col("calendar_email"),
    )


def membership_of(row: Any) -> Membership:
    return Membership(
        id=row.id,
        tenant_id=row.tenant_id,
        person_id=row.person_id,
        invited_email=row.invited_email,
        roles=tuple(row.roles),
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        accepted_at=row.accepted_at,
        department=row.department,
        site=row.site,
        programme=row.programme,
    )


def jsonable(row: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}
