"""Isolation rows of identity's methods (ecoach/v1/identity.proto: tenants, members, sign-in,
keys, audit, privacy, account recovery); the cast and checks are in conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name
from gateway.api.pb import identity_pb2 as pb
from gateway.api.rpc_client import RpcClient
from services.kernel.errors import DomainError
from tests.e2e.isolation.conftest import (
    AUDIT,
    AUTH,
    KEYS,
    MEMBERS,
    NOT_FOUND,
    PERMISSION_DENIED,
    PRIVACY,
    RECOVERY,
    TENANTS,
    UNAUTHENTICATED,
    Case,
    World,
    acme_admin,
    acme_audit,
    acme_coach,
    acme_coachee,
    acme_member,
    acme_members,
    acme_name,
    acme_other_coach,
    acme_settings,
    acme_settings_change,
    acme_tenant,
    admin_id,
    assert_cannot_reach,
    assert_hidden_like_missing,
    case_params,
    coach_id,
    coachee_id,
    cohort,
    erase_acme_coachee,
    erasures,
    fallen_admin_id,
    globex_admin,
    globex_admin_personal,
    globex_coachee,
    hidden_cases,
    in_acme,
    invitee_id,
    leaver_id,
    named,
    newcomer,
    parent,
    promote,
    rogue_tenant,
    roster,
    settings_of_acme,
    signing_keys,
    signing_kid,
    tenants,
    under_globex,
)
from tests.support.isolation import (
    own_memberships,
)

CASES: list[Case] = [
    # ------------------------------------------------------------ invitations
    Case(
        method=f"{MEMBERS}/ResendInvitation",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.ResendInvitationRequest, in_acme(invitee_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(invitee_id),
    ),
    Case(
        method=f"{MEMBERS}/ResendInvitation",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=named(pb.ResendInvitationRequest, under_globex(invitee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(invitee_id),
    ),
    Case(
        method=f"{MEMBERS}/ResendInvitation",
        label="coach",
        caller=acme_coach,
        request=named(pb.ResendInvitationRequest, in_acme(invitee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(invitee_id),
    ),
    # ------------------------------------------------------------ import
    Case(
        method=f"{MEMBERS}/ImportMembers",
        label="other-tenant-admin",
        caller=globex_admin,
        request=roster,
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_members,
    ),
    Case(
        method=f"{MEMBERS}/ImportMembers",
        label="coach",
        caller=acme_coach,
        request=roster,
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_members,
    ),
    # ------------------------------------------------------------ tenant settings
    Case(
        method=f"{TENANTS}/GetTenantSettings",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.GetTenantSettingsRequest, settings_of_acme),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_settings,
    ),
    Case(
        method=f"{TENANTS}/GetTenantSettings",
        label="coach",
        caller=acme_coach,
        request=named(pb.GetTenantSettingsRequest, settings_of_acme),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_settings,
    ),
    Case(
        method=f"{TENANTS}/UpdateTenantSettings",
        label="other-tenant-admin",
        caller=globex_admin,
        request=acme_settings_change(["default_locale"]),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_settings,
    ),
    Case(
        method=f"{TENANTS}/UpdateTenantSettings",
        label="coachee",
        caller=acme_coachee,
        request=acme_settings_change(["default_locale"]),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_settings,
    ),
    Case(
        method=f"{TENANTS}/UpdateTenantSettings",
        label="tenant-admin-sets-seats",
        caller=acme_admin,
        request=acme_settings_change(["seats"]),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_settings,
    ),
    Case(
        method=f"{TENANTS}/SuspendTenant",
        label="tenant-admin",
        caller=acme_admin,
        request=named(pb.SuspendTenantRequest, acme_name),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_tenant,
    ),
    Case(
        method=f"{TENANTS}/SuspendTenant",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.SuspendTenantRequest, acme_name),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_tenant,
    ),
    Case(
        method=f"{TENANTS}/ReinstateTenant",
        label="tenant-admin",
        caller=acme_admin,
        request=named(pb.ReinstateTenantRequest, acme_name),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_tenant,
    ),
    # ------------------------------------------------------------ tenants
    Case(
        method=f"{TENANTS}/GetTenant",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.GetTenantRequest, acme_name),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_tenant,
    ),
    Case(
        method=f"{TENANTS}/GetTenant",
        label="other-tenant-coachee",
        caller=globex_coachee,
        request=named(pb.GetTenantRequest, acme_name),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_tenant,
    ),
    Case(
        method=f"{TENANTS}/GetTenant",
        label="other-tenant-admin-personal-token",
        caller=globex_admin_personal,
        request=named(pb.GetTenantRequest, acme_name),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_tenant,
    ),
    Case(
        method=f"{TENANTS}/CreateTenant",
        label="tenant-admin",
        caller=acme_admin,
        request=rogue_tenant,
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=tenants,
    ),
    Case(
        method=f"{TENANTS}/CreateTenant",
        label="tenant-admin-personal-token",
        caller=globex_admin_personal,
        request=rogue_tenant,
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=tenants,
    ),
    Case(
        method=f"{TENANTS}/ListTenants",
        label="tenant-admin",
        caller=acme_admin,
        request=lambda w: pb.ListTenantsRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=tenants,
    ),
    Case(
        method=f"{TENANTS}/ListTenants",
        label="tenant-admin-personal-token",
        caller=globex_admin_personal,
        request=lambda w: pb.ListTenantsRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=tenants,
    ),
    # ------------------------------------------------------------ adding members
    Case(
        method=f"{MEMBERS}/AddMember",
        label="other-tenant-admin-adds-an-admin",
        caller=globex_admin,
        request=newcomer(pb.TENANT_ADMIN),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_members,
    ),
    Case(
        method=f"{MEMBERS}/AddMember",
        label="other-tenant-admin-plants-own-coach",
        caller=globex_admin,
        request=lambda w: pb.AddMemberRequest(
            parent=acme_name(w), email=w.globex_coach_email, roles=[pb.TENANT_ADMIN]
        ),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=lambda w: (acme_members(w), own_memberships(w.api, w.globex.coach)),
    ),
    Case(
        method=f"{MEMBERS}/AddMember",
        label="own-tenant-coach",
        caller=acme_coach,
        request=newcomer(pb.COACHEE),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_members,
    ),
    Case(
        method=f"{MEMBERS}/AddMember",
        label="own-tenant-coachee",
        caller=acme_coachee,
        request=newcomer(pb.COACH),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_members,
    ),
    # ------------------------------------------------------------ reading members
    Case(
        method=f"{MEMBERS}/GetMember",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.GetMemberRequest, in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/GetMember",
        label="same-tenant-coach-of-someone-else",
        caller=acme_other_coach,
        request=named(pb.GetMemberRequest, in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/GetMember",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=named(pb.GetMemberRequest, under_globex(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/GetMember",
        label="coachee-reads-a-coach",
        caller=acme_coachee,
        request=named(pb.GetMemberRequest, in_acme(coach_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coach_id),
    ),
    Case(
        method=f"{MEMBERS}/GetMember",
        label="coach-reads-the-admin",
        caller=acme_coach,
        request=named(pb.GetMemberRequest, in_acme(admin_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(admin_id),
    ),
    Case(
        method=f"{MEMBERS}/ListMembers",
        label="other-tenant-admin",
        caller=globex_admin,
        request=parent(pb.ListMembersRequest),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_members,
    ),
    Case(
        method=f"{MEMBERS}/ListMembers",
        label="own-tenant-coach",
        caller=acme_coach,
        request=parent(pb.ListMembersRequest),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_members,
    ),
    Case(
        method=f"{MEMBERS}/ListMembers",
        label="own-tenant-coachee",
        caller=acme_coachee,
        request=parent(pb.ListMembersRequest),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_members,
    ),
    # ------------------------------------------------------------ changing roles
    Case(
        method=f"{MEMBERS}/UpdateMember",
        label="other-tenant-admin",
        caller=globex_admin,
        request=promote(in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/UpdateMember",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=promote(under_globex(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/UpdateMember",
        label="coachee-promotes-self",
        caller=acme_coachee,
        request=promote(in_acme(coachee_id)),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/UpdateMember",
        label="coach-promotes-a-coachee",
        caller=acme_coach,
        request=promote(in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(  # HR giving itself the coach role, to appoint itself to a space next
        method=f"{MEMBERS}/UpdateMember",
        label="admin-makes-self-coach",
        caller=acme_admin,
        request=lambda w: pb.UpdateMemberRequest(
            member=pb.Member(
                name=member_name(w.acme.tenant_id, w.acme.admin_member),
                roles=[pb.TENANT_ADMIN, pb.COACH],
            ),
            update_mask=FieldMask(paths=["roles"]),
        ),
        code=PERMISSION_DENIED,
        reason="SELF_ROLE_CHANGE",
        read_back=acme_member(admin_id),
    ),
    Case(  # an operator who added their own address to the tenant, coaching next
        method=f"{MEMBERS}/UpdateMember",
        label="operator-makes-own-membership-coach",
        caller=lambda w: w.operator,
        request=lambda w: pb.UpdateMemberRequest(
            member=pb.Member(
                name=member_name(w.acme.tenant_id, w.operator_member), roles=[pb.COACH]
            ),
            update_mask=FieldMask(paths=["roles"]),
        ),
        code=PERMISSION_DENIED,
        reason="SELF_ROLE_CHANGE",
        read_back=acme_member(lambda w: w.operator_member),
    ),
    # ------------------------------------------------------------ cohort attributes
    Case(
        method=f"{MEMBERS}/SetMemberAttributes",
        label="other-tenant-admin",
        caller=globex_admin,
        request=cohort(in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/SetMemberAttributes",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=cohort(under_globex(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(  # a coachee filing themselves under another cohort
        method=f"{MEMBERS}/SetMemberAttributes",
        label="coachee-sets-own",
        caller=acme_coachee,
        request=cohort(in_acme(coachee_id)),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/SetMemberAttributes",
        label="coach-sets-a-coachee-s",
        caller=acme_coach,
        request=cohort(in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    # ------------------------------------------------------------ deactivating
    Case(
        method=f"{MEMBERS}/DeactivateMember",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.DeactivateMemberRequest, in_acme(admin_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(admin_id),
    ),
    Case(
        method=f"{MEMBERS}/DeactivateMember",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=named(pb.DeactivateMemberRequest, under_globex(admin_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(admin_id),
    ),
    Case(
        method=f"{MEMBERS}/DeactivateMember",
        label="coach-on-another-member",
        caller=acme_coach,
        request=named(pb.DeactivateMemberRequest, in_acme(coachee_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(coachee_id),
    ),
    Case(
        method=f"{MEMBERS}/DeactivateMember",
        label="coach-on-self",
        caller=acme_coach,
        request=named(pb.DeactivateMemberRequest, in_acme(coach_id)),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_member(coach_id),
    ),
    Case(
        method=f"{MEMBERS}/DeactivateMember",
        label="admin-on-self",
        caller=acme_admin,
        request=named(pb.DeactivateMemberRequest, in_acme(admin_id)),
        code=PERMISSION_DENIED,
        reason="SELF_DEACTIVATION",
        read_back=acme_member(admin_id),
    ),
    # ------------------------------------------------------------ reactivating
    Case(
        method=f"{MEMBERS}/ReactivateMember",
        label="other-tenant-admin",
        caller=globex_admin,
        request=named(pb.ReactivateMemberRequest, in_acme(leaver_id)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_member(leaver_id),
    ),
    Case(
        method=f"{MEMBERS}/ReactivateMember",
        label="other-tenant-admin-under-own-tenant",
        caller=globex_admin,
        request=named(pb.ReactivateMemberRequest, under_globex(leaver_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(leaver_id),
    ),
    Case(
        method=f"{MEMBERS}/ReactivateMember",
        label="coach-on-another-member",
        caller=acme_coach,
        request=named(pb.ReactivateMemberRequest, in_acme(leaver_id)),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_member(leaver_id),
    ),
    Case(
        method=f"{MEMBERS}/ReactivateMember",
        label="deactivated-coachee-on-self",
        caller=lambda w: w.leaver,
        request=named(pb.ReactivateMemberRequest, in_acme(leaver_id)),
        code=UNAUTHENTICATED,  # the deactivation revoked their tokens everywhere
        reason="TOKEN_REVOKED",
        read_back=acme_member(leaver_id),
    ),
    Case(
        # Deactivation must end an admin's powers at once, not when their token expires.
        method=f"{MEMBERS}/ReactivateMember",
        label="deactivated-admin-on-self",
        caller=lambda w: w.fallen_admin,
        request=named(pb.ReactivateMemberRequest, in_acme(fallen_admin_id)),
        code=UNAUTHENTICATED,
        reason="TOKEN_REVOKED",
        read_back=acme_member(fallen_admin_id),
    ),
    # ------------------------------------------------------------ audit
    Case(
        method=f"{AUDIT}/ListTenantAuditEvents",
        label="other-tenant-admin",
        caller=globex_admin,
        request=parent(pb.ListTenantAuditEventsRequest),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_audit,
    ),
    Case(
        method=f"{AUDIT}/ListTenantAuditEvents",
        label="other-tenant-admin-personal-token",
        caller=globex_admin_personal,
        request=parent(pb.ListTenantAuditEventsRequest),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_audit,
    ),
    Case(
        method=f"{AUDIT}/ListTenantAuditEvents",
        label="own-tenant-coach",
        caller=acme_coach,
        request=parent(pb.ListTenantAuditEventsRequest),
        code=PERMISSION_DENIED,
        reason="TENANT_ADMIN_ONLY",
        read_back=acme_audit,
    ),
    Case(
        method=f"{AUDIT}/ListSecurityEvents",
        label="tenant-admin",
        caller=acme_admin,
        request=lambda w: pb.ListSecurityEventsRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_audit,
    ),
    Case(
        method=f"{AUDIT}/ListSecurityEvents",
        label="personal-token",
        caller=globex_admin_personal,
        request=lambda w: pb.ListSecurityEventsRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=acme_audit,
    ),
    # ------------------------------------------------------------ signing keys (operators only)
    Case(
        method=f"{KEYS}/ListSigningKeys",
        label="tenant-admin",
        caller=acme_admin,
        request=lambda w: pb.ListSigningKeysRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    Case(
        method=f"{KEYS}/ListSigningKeys",
        label="personal-token",
        caller=globex_admin_personal,
        request=lambda w: pb.ListSigningKeysRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    Case(
        method=f"{KEYS}/RotateSigningKey",
        label="tenant-admin",
        caller=acme_admin,
        request=lambda w: pb.RotateSigningKeyRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    Case(
        method=f"{KEYS}/RotateSigningKey",
        label="personal-token",
        caller=globex_admin_personal,
        request=lambda w: pb.RotateSigningKeyRequest(),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    Case(
        method=f"{KEYS}/RetireSigningKey",
        label="tenant-admin",
        caller=acme_admin,
        request=lambda w: pb.RetireSigningKeyRequest(kid=signing_kid(w)),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    Case(
        method=f"{KEYS}/RetireSigningKey",
        label="personal-token",
        caller=globex_admin_personal,
        request=lambda w: pb.RetireSigningKeyRequest(kid=signing_kid(w)),
        code=PERMISSION_DENIED,
        reason="OPERATOR_ONLY",
        read_back=signing_keys,
    ),
    # ------------------------------------------------------------ erasure (operators only)
    *(
        Case(
            method=f"{PRIVACY}/ErasePerson",
            label=label,
            caller=caller,
            request=erase_acme_coachee,
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=acme_member(lambda w: w.acme.coachee_member),
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("other-tenant-admin", globex_admin),
            ("personal-token", globex_admin_personal),
        )
    ),
    *(
        Case(
            method=f"{PRIVACY}/{method}",
            label="tenant-admin",
            caller=acme_admin,
            request=request,
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=erasures,
        )
        for method, request in (
            ("GetErasure", lambda w: pb.GetErasureRequest(erasure_id="era_00")),
            ("ListErasures", lambda w: pb.ListErasuresRequest()),
            ("ReplayErasures", lambda w: pb.ReplayErasuresRequest(since_time=Timestamp(seconds=1))),
        )
    ),
    # ------------------------------------------------------------ MFA reset (operators only)
    *(
        Case(
            method=f"{RECOVERY}/ResetPersonMfa",
            label=label,
            caller=caller,
            request=lambda w: pb.ResetPersonMfaRequest(person_id=w.acme.coachee.person_id),
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=acme_member(lambda w: w.acme.coachee_member),
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("other-tenant-admin", globex_admin),
            ("personal-token", globex_admin_personal),
        )
    ),
    # ------------------------------------------------------------ switching tenant
    Case(
        method=f"{AUTH}/SwitchTenant",
        label="non-member-switches-into-victim",
        caller=globex_admin_personal,
        request=lambda w: pb.SwitchTenantRequest(
            refresh_token=w.globex_admin_personal.refresh_token, tenant=w.acme.tenant_id
        ),
        code=PERMISSION_DENIED,
        reason="NOT_A_MEMBER",
        read_back=lambda w: (acme_members(w), own_memberships(w.api, w.globex_admin_personal)),
    ),
    Case(
        method=f"{AUTH}/SwitchTenant",
        label="deactivated-member-switches-back-in",
        caller=lambda w: w.leaver,
        request=lambda w: pb.SwitchTenantRequest(
            refresh_token=w.leaver.refresh_token, tenant=w.acme.tenant_id
        ),
        code=UNAUTHENTICATED,  # the deactivation ended their sessions in acme
        reason="SESSION_ENDED",
        read_back=acme_members,
    ),
    # ------------------------------------------------------------ accepting
    Case(
        method=f"{MEMBERS}/AcceptMembership",
        label="non-member-takes-another-persons-invitation",
        caller=globex_admin,
        request=parent(pb.AcceptMembershipRequest),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=lambda w: (acme_members(w), own_memberships(w.api, w.globex.admin)),
    ),
    Case(
        method=f"{MEMBERS}/AcceptMembership",
        label="non-member-personal-token",
        caller=globex_admin_personal,
        request=parent(pb.AcceptMembershipRequest),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=lambda w: (acme_members(w), own_memberships(w.api, w.globex_admin_personal)),
    ),
]


# Methods that carry no id of another tenant or person, each with the reason.
EXEMPT: dict[str, str] = {
    "ecoach.v1.AuthService/SignIn": (
        "public: authenticates by email and password and names at most a tenant to enter, "
        "which it refuses (NOT_A_MEMBER) only to someone who knows the password"
    ),
    "ecoach.v1.AuthService/Refresh": (
        "public: the only id is the refresh token's secret; forged, spent, ended or expired "
        "tokens are refused and it re-reads the membership (tests/e2e/test_sessions.py)"
    ),
    "ecoach.v1.AuthService/SignOut": (
        "public: ends only the session whose refresh token's secret it is given"
    ),
    "ecoach.v1.AuthService/SignOutEverywhere": "no ids: ends the caller's own sessions",
    "ecoach.v1.AuthService/ExportMyData": (
        "no ids: exports only the caller's own data (tests/e2e/test_personal_data.py)"
    ),
    "ecoach.v1.AuthService/VerifyMfa": (
        "public: the only id is the sign-in challenge's secret, given to whoever knew the "
        "password; unknown, spent or another purpose's challenges are refused (test_mfa.py)"
    ),
    "ecoach.v1.AuthService/StartMfaEnrolment": (
        "no ids: a challenge for the caller's own person, with their password "
        "(tests/e2e/test_account_proof.py)"
    ),
    "ecoach.v1.AuthService/BeginMfaEnrolment": (
        "public: the only id is an enrolment challenge's secret (tests/e2e/test_mfa.py)"
    ),
    "ecoach.v1.AuthService/CompleteMfaEnrolment": (
        "public: the only id is an enrolment challenge's secret (tests/e2e/test_mfa.py)"
    ),
    "ecoach.v1.AuthService/EraseMyData": (
        "no ids: erases only the caller's own data, confirmed by their password "
        "(tests/e2e/test_erasure.py)"
    ),
    "ecoach.v1.AuthService/GetErasureStatus": (
        "public: the only id is the erasure receipt's secret, given once to the erased person "
        "(tests/e2e/test_erasure.py)"
    ),
    "ecoach.v1.AuthService/ListMySignIns": (
        "no ids: the caller's own sign-in history only (tests/e2e/test_sessions.py)"
    ),
    "ecoach.v1.AuthService/GetMe": "no ids: reads the caller's own person, membership and tenant",
    "ecoach.v1.AuthService/RequestPasswordReset": (
        "public: takes an email, answers the same whether or not it has an account, and mails "
        "only that account's own address (tests/e2e/test_passwords.py)"
    ),
    "ecoach.v1.AuthService/ResetPassword": (
        "public: the only id is the link's secret; unknown, used, replaced or expired links are "
        "refused (tests/e2e/test_passwords.py)"
    ),
    "ecoach.v1.AuthService/UpdateMyProfile": "no ids: edits the caller's own person",
    "ecoach.v1.AuthService/RequestEmailChange": (
        "no ids: the caller's own person; the link goes to the address given"
    ),
    "ecoach.v1.AuthService/AcceptInvitation": (
        "public: the only id is the invitation link's secret, mailed to the invited address; an "
        "existing account must also give its password (tests/e2e/test_invitations.py)"
    ),
    "ecoach.v1.AuthService/ConfirmEmailChange": (
        "public: the only id is the link's secret, mailed to the new account or calendar "
        "address (tests/e2e/test_passwords.py)"
    ),
    "ecoach.v1.AuthService/RequestCalendarEmail": (
        "no ids: the caller's own person; the link goes to the address given "
        "(tests/e2e/test_passwords.py)"
    ),
    "ecoach.v1.AuthService/ClearCalendarEmail": "no ids: the caller's own person",
    "ecoach.v1.AuthService/ChangePassword": (
        "no ids: changes the caller's own password, and only with the current one"
    ),
    "ecoach.v1.MemberService/ListMyMemberships": (
        "no ids: lists only the caller's own memberships (a named cross-tenant read, rule 5)"
    ),
}


# ---------------------------------------------------------------- the cases


@pytest.mark.parametrize("case", case_params(CASES))
def test_a_caller_cannot_reach_what_is_not_theirs(world: World, case: Case) -> None:
    assert_cannot_reach(world, case)


@pytest.mark.parametrize("case", case_params(hidden_cases(CASES)))
def test_a_hidden_object_is_refused_exactly_like_one_that_does_not_exist(
    world: World, case: Case
) -> None:
    assert_hidden_like_missing(world, case)


# ---------------------------------------------------------------- identity's service-only methods


def test_a_persons_token_is_refused_by_the_methods_that_serve_services_only(
    deployment: Deployment, world: World
) -> None:
    """Issue 19, item 3: identity's service-only methods answer without authorising a person
    (contact details of anyone, members of any tenant). A person who reaches the broker with
    their own token, an operator's, a tenant admin's or another tenant's coach's, is refused
    there before the handler runs."""
    acme = world.acme
    victim = acme.coachee.person_id
    calls = {
        "contact_details": {"person_ids": [victim]},
        "resolve_members": {"tenant_id": acme.tenant_id, "member_ids": [acme.coachee_member]},
        "resolve_member_emails": {
            "tenant_id": acme.tenant_id,
            "emails": [world.globex_coach_email],
        },
        "list_access_revocations": {"since": datetime.now(UTC).isoformat()},
    }
    callers = {
        "operator": world.operator,
        "acme admin": acme.admin,
        "acme coachee (asking about themself)": acme.coachee,
        "globex coach": world.globex.coach,
    }
    with RpcClient(deployment.amqp_uri, name="isolation-services-only") as rpc:
        # the same token is good where people are served: the refusal is the method's
        assert rpc.call(
            "identity", "get_my_person", {}, timeout=10, context={"authorization": acme.admin.token}
        )
        for method, payload in calls.items():
            for label, who in callers.items():
                with pytest.raises(DomainError) as refused:
                    rpc.call(
                        "identity",
                        method,
                        payload,
                        timeout=10,
                        context={"authorization": who.token},
                    )
                assert (str(refused.value.code), refused.value.reason) == (
                    "PERMISSION_DENIED",
                    "SERVICES_ONLY",
                ), f"{method} as {label}"
