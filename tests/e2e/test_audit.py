"""The audit views through the gateway: a tenant's admins read its administration and never its
members' sign-ins; operators read every security event and their own actions."""

from __future__ import annotations

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name, settings_name, tenant_name
from gateway.api.pb import identity_pb2 as pb
from tests.e2e.conftest import make_tenant
from tests.support.api import Api, Session, expect_error, unique_email


def tenant_events(api: Api, who: Session, tenant_id: str, **page: object) -> list[pb.AuditEvent]:
    listed = api.audit.ListTenantAuditEvents(
        pb.ListTenantAuditEventsRequest(parent=tenant_name(tenant_id), **page),  # type: ignore[arg-type]
        metadata=who.metadata,
        timeout=10,
    )
    return list(listed.events)


def security_events(api: Api, operator: Session) -> list[pb.AuditEvent]:
    listed = api.audit.ListSecurityEvents(
        pb.ListSecurityEventsRequest(page_size=200), metadata=operator.metadata, timeout=10
    )
    return list(listed.events)


def test_tenant_admins_read_their_tenants_administration_and_no_sign_ins(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    team = make_tenant(deployment, api, operator)
    invited = api.members.AddMember(
        pb.AddMemberRequest(
            parent=tenant_name(team.tenant_id), email=unique_email("audited"), roles=[pb.COACHEE]
        ),
        metadata=team.admin.metadata,
        timeout=10,
    )
    api.members.DeactivateMember(
        pb.DeactivateMemberRequest(name=member_name(team.tenant_id, team.coachee_member)),
        metadata=team.admin.metadata,
        timeout=10,
    )
    api.tenants.UpdateTenantSettings(
        pb.UpdateTenantSettingsRequest(
            settings=pb.TenantSettings(
                name=settings_name(team.tenant_id), mfa_required_roles=[pb.TENANT_ADMIN]
            ),
            update_mask=FieldMask(paths=["mfa_required_roles"]),
        ),
        metadata=team.admin.metadata,
        timeout=10,
    )
    # A failed sign-in of a member: a security event, not the tenant's business.
    expect_error(api.sign_in, "nobody-here@example.test", "wrong password here", team.tenant_id)

    events = tenant_events(api, team.admin, team.tenant_id)
    actions = [e.action for e in events]
    assert actions[:3] == ["tenant.settings_changed", "member.deactivated", "member.pending"]
    assert "tenant.created" in actions
    assert not any(a.startswith(("sign_in", "session", "access")) for a in actions)
    settings, deactivated, pending = events[:3]
    assert settings.detail["fields"] == "['mfa_required_roles']"
    assert (deactivated.subject, deactivated.actor_id) == (
        team.coachee_member,
        team.admin.person_id,
    )
    assert pending.subject == invited.member_id
    # Newest first, paged.
    first = tenant_events(api, team.admin, team.tenant_id, page_size=2)
    assert [e.action for e in first] == actions[:2]


def test_members_who_are_not_admins_and_other_tenants_read_nothing(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    team = make_tenant(deployment, api, operator)
    other = make_tenant(deployment, api, operator)
    coach = expect_error(tenant_events, api, team.coach, team.tenant_id)
    assert (coach.code, coach.reason) == (grpc.StatusCode.PERMISSION_DENIED, "TENANT_ADMIN_ONLY")
    stranger = expect_error(tenant_events, api, other.admin, team.tenant_id)
    assert stranger.code == grpc.StatusCode.NOT_FOUND
    admin = expect_error(security_events, api, team.admin)
    assert (admin.code, admin.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OPERATOR_ONLY")


def test_operators_read_security_events_and_their_own_actions(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    team = make_tenant(deployment, api, operator)
    expect_error(api.sign_in, "ghost-audit@example.test", "wrong password here")
    api.tenants.SuspendTenant(
        pb.SuspendTenantRequest(name=tenant_name(team.tenant_id)),
        metadata=operator.metadata,
        timeout=10,
    )
    events = security_events(api, operator)
    by_action = {e.action: e for e in reversed(events)}  # the newest of each
    assert by_action["tenant.suspended"].actor_id == operator.person_id
    assert by_action["tenant.created"].actor_id == operator.person_id
    revoked = by_action["access.revoked"]
    assert (revoked.tenant_id, revoked.detail["reason"]) == (team.tenant_id, "tenant_suspended")
    failed = by_action["sign_in.failed"]
    assert failed.detail["known_account"] == "False" and failed.detail["source"] == "127.0.0.1"
    assert "ghost-audit" not in str(events)  # no email is kept
