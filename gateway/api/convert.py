"""Between protobuf messages and the services' JSON contracts: names, roles, timestamps."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from services.contracts import identity as ic
from services.kernel.errors import invalid

from .pb import identity_pb2 as pb

_TENANT = re.compile(r"^tenants/([a-z]{3}_[0-9a-f]+)$")
_SPACE = re.compile(r"^tenants/([a-z]{3}_[0-9a-f]+)/spaces/([a-z]{3}_[0-9a-f]+)$")
_MEMBER = re.compile(r"^tenants/([a-z]{3}_[0-9a-f]+)/members/([a-z]{3}_[0-9a-f]+)$")


def tenant_name(tenant_id: str) -> str:
    return f"tenants/{tenant_id}"


def member_name(tenant_id: str, member_id: str) -> str:
    return f"tenants/{tenant_id}/members/{member_id}"


def space_name(tenant_id: str, space_id: str) -> str:
    return f"tenants/{tenant_id}/spaces/{space_id}"


def parse_space(value: str, field: str = "name") -> dict[str, str]:
    match = _SPACE.match(value or "")
    if not match:
        raise invalid(**{field: "must be a space name: tenants/{tenant_id}/spaces/{space_id}"})
    return {"tenant_id": match.group(1), "space_id": match.group(2)}


def parse_tenant(value: str, field: str) -> str:
    match = _TENANT.match(value or "")
    if not match:
        raise invalid(**{field: "must be a tenant name: tenants/{tenant_id}"})
    return match.group(1)


def parse_member(value: str, field: str) -> tuple[str, str]:
    match = _MEMBER.match(value or "")
    if not match:
        raise invalid(**{field: "must be a member name: tenants/{tenant_id}/members/{member_id}"})
    return match.group(1), match.group(2)


def timestamp(value: str | datetime) -> Timestamp:
    """An instant of a contract (a datetime, or its ISO 8601 text) as a Timestamp."""
    ts = Timestamp()
    ts.FromDatetime(datetime.fromisoformat(value) if isinstance(value, str) else value)
    return ts


def instant_in(message: Any, field: str, name: str, required: bool = True) -> str | None:
    """A Timestamp field as ISO 8601 UTC; one outside what a Timestamp may hold is
    INVALID_ARGUMENT on `name` (the contracts then bound it to the platform's horizon)."""
    if not message.HasField(field):
        if required:
            raise invalid(**{name: "is required"})
        return None
    try:
        return str(getattr(message, field).ToDatetime(tzinfo=UTC).isoformat())
    except (ValueError, OverflowError):
        raise invalid(**{name: "is not a valid timestamp"}) from None


def roles_in(values: list[int], field: str = "roles") -> list[str]:
    names = []
    for value in values:
        if value == pb.ROLE_UNSPECIFIED or value not in pb.Role.values():
            raise invalid(**{field: "each role must be TENANT_ADMIN, COACH or COACHEE"})
        names.append(pb.Role.Name(value).lower())
    return names


def member_status_in(value: int, field: str = "status") -> str:
    if value == pb.MEMBERSHIP_STATUS_UNSPECIFIED or value not in pb.MembershipStatus.values():
        raise invalid(**{field: "must be PENDING, ACTIVE, DEACTIVATED or ERASED"})
    return pb.MembershipStatus.Name(value).lower()


def roles_out(values: Sequence[str]) -> list[int]:
    return [pb.Role.Value(v.upper()) for v in values]


def status_out(value: str) -> int:
    return int(pb.MembershipStatus.Value(value.upper()))


def tenant_out(t: ic.Tenant) -> pb.Tenant:
    return pb.Tenant(
        name=tenant_name(t.tenant_id),
        tenant_id=t.tenant_id,
        slug=t.slug,
        display_name=t.name,
        create_time=timestamp(t.created_at),
        state=pb.TenantState.Value("TENANT_" + t.status.upper()),
    )


def settings_name(tenant_id: str) -> str:
    return f"{tenant_name(tenant_id)}/settings"


def parse_settings(value: str, field: str) -> str:
    if not value.endswith("/settings"):
        raise invalid(**{field: "must look like tenants/{tenant_id}/settings"})
    return parse_tenant(value.removesuffix("/settings"), field)


def settings_out(s: ic.TenantSettings) -> pb.TenantSettings:
    out = pb.TenantSettings(
        name=settings_name(s.tenant_id),
        seats_used=s.seats_used,
        default_locale=s.default_locale,
        default_time_zone=s.default_time_zone,
        mfa_required_roles=roles_out(s.mfa_required_roles),
    )
    if s.seats is not None:
        out.seats = s.seats
    return out


def person_out(p: ic.Person) -> pb.Person:
    return pb.Person(
        person_id=p.person_id,
        email=p.email,
        display_name=p.display_name,
        locale=p.locale,
        time_zone=p.time_zone,
        platform_admin=p.platform_admin,
        create_time=timestamp(p.created_at),
        calendar_email=p.calendar_email,
    )


def member_out(m: ic.Member) -> pb.Member:
    return pb.Member(
        name=member_name(m.tenant_id, m.member_id),
        member_id=m.member_id,
        tenant_id=m.tenant_id,
        person_id=m.person_id,
        email=m.email,
        display_name=m.display_name,
        locale=m.locale,
        time_zone=m.time_zone,
        roles=roles_out(m.roles),
        status=status_out(m.status),
        create_time=timestamp(m.created_at),
        update_time=timestamp(m.updated_at),
        department=m.department,
        site=m.site,
        programme=m.programme,
    )


def my_membership_out(m: ic.MyMembership) -> pb.MyMembership:
    return pb.MyMembership(
        member_id=m.member_id,
        tenant_id=m.tenant_id,
        tenant_display_name=m.tenant_name,
        roles=roles_out(m.roles),
        status=status_out(m.status),
        department=m.department,
        site=m.site,
        programme=m.programme,
    )
