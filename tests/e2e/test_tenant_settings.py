"""Tenant settings kept by identity (seats, defaults, MFA roles) and suspension, through the
gateway as clients would."""

from __future__ import annotations

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from gateway.api.convert import settings_name, tenant_name
from gateway.api.pb import identity_pb2 as pb
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.support.api import Api, Session, expect_error, unique_email
from tests.support.people import set_password


def update(
    api: Api, who: Session, tenant_id: str, paths: list[str], **fields: object
) -> pb.TenantSettings:
    return api.tenants.UpdateTenantSettings(
        pb.UpdateTenantSettingsRequest(
            settings=pb.TenantSettings(name=settings_name(tenant_id), **fields),  # type: ignore[arg-type]
            update_mask=FieldMask(paths=paths),
        ),
        metadata=who.metadata,
        timeout=10,
    )


def add(api: Api, who: Session, tenant_id: str, email: str) -> pb.AddMemberResponse:
    return api.members.AddMember(
        pb.AddMemberRequest(parent=tenant_name(tenant_id), email=email, roles=[pb.COACHEE]),
        metadata=who.metadata,
        timeout=10,
    )


def test_admins_read_and_set_their_defaults_and_operators_set_seats(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    world = make_tenant(deployment, api, operator)
    settings = api.tenants.GetTenantSettings(
        pb.GetTenantSettingsRequest(name=settings_name(world.tenant_id)),
        metadata=world.admin.metadata,
    )
    assert not settings.HasField("seats") and settings.seats_used == 3
    assert (settings.default_locale, settings.default_time_zone) == ("en", "UTC")
    changed = update(
        api,
        world.admin,
        world.tenant_id,
        ["default_locale", "default_time_zone", "mfa_required_roles"],
        default_locale="fr",
        default_time_zone="Europe/Paris",
        mfa_required_roles=[pb.TENANT_ADMIN, pb.COACH],
    )
    assert (changed.default_locale, changed.default_time_zone) == ("fr", "Europe/Paris")
    assert set(changed.mfa_required_roles) == {pb.TENANT_ADMIN, pb.COACH}
    # A person added without a language or time zone gets the tenant's.
    email = unique_email("defaults")
    add(api, world.admin, world.tenant_id, email)
    set_password(deployment.config, email, PASSWORD)
    me = api.auth.GetMe(pb.GetMeRequest(), metadata=api.sign_in(email, PASSWORD).metadata).person
    assert (me.locale, me.time_zone) == ("fr", "Europe/Paris")
    seats = expect_error(update, api, world.admin, world.tenant_id, ["seats"], seats=10)
    assert (seats.code, seats.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OPERATOR_ONLY")
    bad = expect_error(
        update,
        api,
        world.admin,
        world.tenant_id,
        ["default_locale", "default_time_zone"],
        default_locale="de",
        default_time_zone="Nowhere/Land",
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    coach = expect_error(
        api.tenants.GetTenantSettings,
        pb.GetTenantSettingsRequest(name=settings_name(world.tenant_id)),
        metadata=world.coach.metadata,
    )
    assert coach.code == grpc.StatusCode.PERMISSION_DENIED


def test_no_one_is_added_beyond_the_seats(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    world = make_tenant(deployment, api, operator)  # three members: three seats used
    assert update(api, operator, world.tenant_id, ["seats"], seats=4).seats == 4
    add(api, world.admin, world.tenant_id, unique_email("fourth"))
    full = expect_error(add, api, world.admin, world.tenant_id, unique_email("fifth"))
    assert (full.code, full.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SEATS_EXHAUSTED")
    # Deactivating frees a seat; reactivating needs one again.
    coachee = f"{tenant_name(world.tenant_id)}/members/{world.coachee_member}"
    api.members.DeactivateMember(
        pb.DeactivateMemberRequest(name=coachee), metadata=world.admin.metadata
    )
    added = add(api, world.admin, world.tenant_id, unique_email("fifth"))
    again = expect_error(
        api.members.ReactivateMember,
        pb.ReactivateMemberRequest(name=coachee),
        metadata=world.admin.metadata,
    )
    assert again.reason == "SEATS_EXHAUSTED"
    assert added.member_id
    unlimited = update(api, operator, world.tenant_id, ["seats"])  # cleared: no limit
    assert not unlimited.HasField("seats")
    api.members.ReactivateMember(
        pb.ReactivateMemberRequest(name=coachee), metadata=world.admin.metadata
    )


def test_a_suspended_tenants_members_cannot_sign_in_until_reinstated(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    world = make_tenant(deployment, api, operator)
    admin_email = api.auth.GetMe(pb.GetMeRequest(), metadata=world.admin.metadata).person.email
    name = tenant_name(world.tenant_id)
    refused = expect_error(
        api.tenants.SuspendTenant, pb.SuspendTenantRequest(name=name), metadata=world.admin.metadata
    )
    assert refused.reason == "OPERATOR_ONLY"
    tenant = api.tenants.SuspendTenant(
        pb.SuspendTenantRequest(name=name), metadata=operator.metadata
    )
    assert tenant.state == pb.TENANT_SUSPENDED
    suspended = expect_error(api.sign_in, admin_email, PASSWORD, world.tenant_id)
    assert (suspended.code, suspended.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "TENANT_SUSPENDED",
    )
    wrong = expect_error(api.sign_in, admin_email, "wrong password!", world.tenant_id)
    assert wrong.reason == "INVALID_CREDENTIALS"  # nothing said without the password
    assert api.sign_in(admin_email, PASSWORD).person_id  # a personal token still works
    tenant = api.tenants.ReinstateTenant(
        pb.ReinstateTenantRequest(name=name), metadata=operator.metadata
    )
    assert tenant.state == pb.TENANT_ACTIVE
    assert api.sign_in(admin_email, PASSWORD, world.tenant_id).tenant_id == world.tenant_id
