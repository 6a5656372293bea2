"""gRPC servicers for identity: AuthService, TenantService, MemberService."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

from services.contracts import identity as c
from services.contracts import personal_data as pd
from services.contracts.base import Api, Empty, Method
from services.contracts.identity import IdentityApi
from services.contracts.scheduling import SchedulingApi
from services.contracts.spaces import SpacesApi
from services.kernel.csvtable import check_size
from services.kernel.errors import invalid
from services.kernel.personal_data import EXPORT_METHOD, personal_data_services

from . import convert as cv
from .calls import Backend, CallContext, handler
from .fanout import fan_out
from .pb import identity_pb2 as pb
from .pb import identity_pb2_grpc as pb_grpc

CONFIRMED = {
    c.ConfirmedAddress.ACCOUNT: pb.CONFIRMED_ADDRESS_ACCOUNT,
    c.ConfirmedAddress.CALENDAR: pb.CONFIRMED_ADDRESS_CALENDAR,
}
_STEPS = {"done": pb.SIGNED_IN, "verify_mfa": pb.VERIFY_MFA, "enrol_mfa": pb.ENROL_MFA}


def _signed_in(answer: c.SignInResponse) -> pb.SignInResponse:
    response = pb.SignInResponse(
        access_token=answer.access_token,
        person_id=answer.person_id,
        tenant_id=answer.tenant_id,
        refresh_token=answer.refresh_token,
        next_step=_STEPS[answer.next_step],
        challenge=answer.challenge,
    )
    for field, instant in (
        ("expire_time", answer.expires_at),
        ("refresh_expire_time", answer.refresh_expires_at),
        ("challenge_expire_time", answer.challenge_expires_at),
    ):
        if instant is not None:
            getattr(response, field).CopyFrom(cv.timestamp(instant))
    return response


def _proof(request: Any) -> dict[str, str]:
    """Proof of the person, as sensitive account changes carry it (`c.PersonProof`'s fields)."""
    return {"current_password": request.current_password, "mfa_code": request.mfa_code}


# The personal-data contract's export, by the method table of each platform service.
_EXPORTS: dict[str, Method[Empty, pd.PersonalDataExport]] = {
    method.service: method
    for method in (
        IdentityApi.export_personal_data,
        SpacesApi.export_personal_data,
        SchedulingApi.export_personal_data,
    )
}


@functools.cache
def _export_method(service: str) -> Method[Empty, pd.PersonalDataExport]:
    """`<service>.export_personal_data`. A service a deployment adds beside the platform's own
    (a plug-in, the tests' witness) has no table here, but the same contract: one is made."""
    if service in _EXPORTS:
        return _EXPORTS[service]
    table = type(
        f"Export{service.title()}Api",
        (Api,),
        {"service": service, EXPORT_METHOD: Method(Empty, pd.PersonalDataExport)},
    )
    method: Method[Empty, pd.PersonalDataExport] = getattr(table, EXPORT_METHOD)
    return method


class AuthService(pb_grpc.AuthServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def SignIn(self, request: Any, call: CallContext) -> pb.SignInResponse:
        answer = call.call(
            IdentityApi.sign_in,
            email=request.email,
            password=request.password,
            tenant=request.tenant,
        )
        return _signed_in(answer)

    @handler
    def VerifyMfa(self, request: Any, call: CallContext) -> pb.SignInResponse:
        answer = call.call(IdentityApi.verify_mfa, challenge=request.challenge, code=request.code)
        return _signed_in(answer)

    @handler
    def StartMfaEnrolment(self, request: Any, call: CallContext) -> pb.MfaChallenge:
        answer = call.call(IdentityApi.start_mfa_enrolment, **_proof(request))
        return pb.MfaChallenge(
            challenge=answer.challenge,
            challenge_expire_time=cv.timestamp(answer.challenge_expires_at),
        )

    @handler
    def BeginMfaEnrolment(self, request: Any, call: CallContext) -> pb.MfaEnrolment:
        answer = call.call(IdentityApi.begin_mfa_enrolment, challenge=request.challenge)
        return pb.MfaEnrolment(
            secret=answer.secret, otpauth_uri=answer.otpauth_uri, qr_svg=answer.qr_svg
        )

    @handler
    def CompleteMfaEnrolment(
        self, request: Any, call: CallContext
    ) -> pb.CompleteMfaEnrolmentResponse:
        answer = call.call(
            IdentityApi.complete_mfa_enrolment, challenge=request.challenge, code=request.code
        )
        done = pb.CompleteMfaEnrolmentResponse(recovery_codes=answer.recovery_codes)
        if answer.sign_in is not None:  # none after a signed-in person's own enrolment
            done.sign_in.CopyFrom(_signed_in(answer.sign_in))
        return done

    @handler
    def Refresh(self, request: Any, call: CallContext) -> pb.SignInResponse:
        return _signed_in(call.call(IdentityApi.refresh, refresh_token=request.refresh_token))

    @handler
    def SwitchTenant(self, request: Any, call: CallContext) -> pb.SignInResponse:
        if not request.tenant:
            raise invalid(tenant="is required: the tenant id or slug to switch to")
        answer = call.call(
            IdentityApi.refresh, refresh_token=request.refresh_token, tenant=request.tenant
        )
        return _signed_in(answer)

    @handler
    def SignOut(self, request: Any, call: CallContext) -> pb.SignOutResponse:
        call.call(IdentityApi.sign_out, refresh_token=request.refresh_token)
        return pb.SignOutResponse()

    @handler
    def ListMySignIns(self, request: Any, call: CallContext) -> pb.ListMySignInsResponse:
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        answer = call.call(
            IdentityApi.list_my_sign_ins,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        response = pb.ListMySignInsResponse(next_page_token=answer.next_page_token)
        for r in answer.sign_ins:
            record = response.sign_ins.add(
                outcome=r.outcome, tenant_id=r.tenant_id, source=r.source
            )
            record.time.CopyFrom(cv.timestamp(r.time))
        return response

    @handler
    def ExportMyData(self, request: Any, call: CallContext) -> Iterator[pb.PersonalDataDocument]:
        """Server streaming: one message per service of the personal-data contract, each
        fetched in parallel; a failing service fails the export (a partial one would mislead)."""
        services = personal_data_services()
        found = fan_out({s: call.later(_export_method(s)) for s in services})
        documents = []
        for service in services:
            answer: pd.PersonalDataExport = found[service]
            document = pb.PersonalDataDocument(
                service=answer.service,
                content_type="application/json",
                data=json.dumps(answer.data, ensure_ascii=False, indent=2).encode(),
            )
            document.export_time.CopyFrom(cv.timestamp(answer.exported_at))
            documents.append(document)
        return iter(documents)  # grpc wants an iterator; errors were raised before this

    @handler
    def EraseMyData(self, request: Any, call: CallContext) -> pb.Erasure:
        answer = call.call(IdentityApi.erase_my_data, current_password=request.current_password)
        return _erasure_out(answer)

    @handler
    def GetErasureStatus(self, request: Any, call: CallContext) -> pb.Erasure:
        if not request.receipt:
            raise invalid(receipt="is required: the receipt EraseMyData returned")
        return _erasure_out(call.call(IdentityApi.get_erasure_status, receipt=request.receipt))

    @handler
    def SignOutEverywhere(self, request: Any, call: CallContext) -> pb.SignOutEverywhereResponse:
        answer = call.call(IdentityApi.sign_out_everywhere)
        return pb.SignOutEverywhereResponse(sessions_ended=answer.sessions_ended)

    @handler
    def RequestPasswordReset(
        self, request: Any, call: CallContext
    ) -> pb.RequestPasswordResetResponse:
        call.call(IdentityApi.request_password_reset, email=request.email)
        return pb.RequestPasswordResetResponse()

    @handler
    def ResetPassword(self, request: Any, call: CallContext) -> pb.ResetPasswordResponse:
        call.call(
            IdentityApi.reset_password, token=request.token, new_password=request.new_password
        )
        return pb.ResetPasswordResponse()

    @handler
    def ChangePassword(self, request: Any, call: CallContext) -> pb.ChangePasswordResponse:
        call.call(IdentityApi.change_password, **_proof(request), new_password=request.new_password)
        return pb.ChangePasswordResponse()

    @handler
    def UpdateMyProfile(self, request: Any, call: CallContext) -> pb.Person:
        paths = list(request.update_mask.paths)
        if not paths:
            raise invalid(update_mask="name the fields to change, e.g. display_name")
        payload: dict[str, Any] = {"update_mask": paths}
        for field in ("display_name", "locale", "time_zone"):
            if field in paths:
                payload[field] = getattr(request, field)
        return cv.person_out(call.call(IdentityApi.update_my_profile, **payload))

    @handler
    def RequestEmailChange(self, request: Any, call: CallContext) -> pb.RequestEmailChangeResponse:
        call.call(IdentityApi.request_email_change, **_proof(request), new_email=request.new_email)
        return pb.RequestEmailChangeResponse()

    @handler
    def ConfirmEmailChange(self, request: Any, call: CallContext) -> pb.ConfirmEmailChangeResponse:
        answer = call.call(IdentityApi.confirm_email_change, token=request.token)
        return pb.ConfirmEmailChangeResponse(confirmed=CONFIRMED[answer.confirmed])

    @handler
    def RequestCalendarEmail(
        self, request: Any, call: CallContext
    ) -> pb.RequestCalendarEmailResponse:
        call.call(
            IdentityApi.request_calendar_email,
            **_proof(request),
            calendar_email=request.calendar_email,
        )
        return pb.RequestCalendarEmailResponse()

    @handler
    def ClearCalendarEmail(self, request: Any, call: CallContext) -> pb.Person:
        return cv.person_out(call.call(IdentityApi.clear_calendar_email))

    @handler
    def AcceptInvitation(self, request: Any, call: CallContext) -> pb.AcceptInvitationResponse:
        answer = call.call(
            IdentityApi.accept_invitation, token=request.token, password=request.password
        )
        return pb.AcceptInvitationResponse(
            tenant_id=answer.tenant_id,
            member=cv.member_name(answer.tenant_id, answer.member_id),
            email=answer.email,
            new_account=answer.new_account,
        )

    @handler
    def GetMe(self, request: Any, call: CallContext) -> pb.GetMeResponse:
        calls: dict[str, Callable[[], Any]] = {"person": call.later(IdentityApi.get_my_person)}
        tenant_id = call.person.tenant_id
        if tenant_id:
            calls["membership"] = call.later(IdentityApi.get_my_membership)
            calls["tenant"] = call.later(IdentityApi.get_tenant, tenant_id=tenant_id)
        found = fan_out(calls)
        person: c.Person = found["person"]
        response = pb.GetMeResponse(person=cv.person_out(person))
        if tenant_id:
            membership: c.MyMembership = found["membership"]
            tenant: c.Tenant = found["tenant"]
            response.membership.CopyFrom(cv.my_membership_out(membership))
            response.tenant.CopyFrom(cv.tenant_out(tenant))
        return response


class TenantService(pb_grpc.TenantServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def CreateTenant(self, request: Any, call: CallContext) -> pb.Tenant:
        answer = call.call(IdentityApi.create_tenant, name=request.display_name, slug=request.slug)
        return cv.tenant_out(answer)

    @handler
    def GetTenant(self, request: Any, call: CallContext) -> pb.Tenant:
        tenant_id = cv.parse_tenant(request.name, "name")
        return cv.tenant_out(call.call(IdentityApi.get_tenant, tenant_id=tenant_id))

    @handler
    def ListTenants(self, request: Any, call: CallContext) -> pb.ListTenantsResponse:
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        answer = call.call(
            IdentityApi.list_tenants, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListTenantsResponse(
            tenants=[cv.tenant_out(t) for t in answer.tenants],
            next_page_token=answer.next_page_token,
        )

    @handler
    def GetTenantSettings(self, request: Any, call: CallContext) -> pb.TenantSettings:
        tenant_id = cv.parse_settings(request.name, "name")
        return cv.settings_out(call.call(IdentityApi.get_tenant_settings, tenant_id=tenant_id))

    @handler
    def UpdateTenantSettings(self, request: Any, call: CallContext) -> pb.TenantSettings:
        tenant_id = cv.parse_settings(request.settings.name, "settings.name")
        paths = list(request.update_mask.paths)
        if not paths:
            raise invalid(update_mask="name the fields to change, e.g. default_locale")
        given = request.settings
        payload: dict[str, Any] = {"tenant_id": tenant_id, "update_mask": paths}
        if "seats" in paths:
            payload["seats"] = given.seats if given.HasField("seats") else None
        if "default_locale" in paths:
            payload["default_locale"] = given.default_locale
        if "default_time_zone" in paths:
            payload["default_time_zone"] = given.default_time_zone
        if "mfa_required_roles" in paths:
            payload["mfa_required_roles"] = cv.roles_in(
                list(given.mfa_required_roles), "settings.mfa_required_roles"
            )
        return cv.settings_out(call.call(IdentityApi.update_tenant_settings, **payload))

    @handler
    def SuspendTenant(self, request: Any, call: CallContext) -> pb.Tenant:
        tenant_id = cv.parse_tenant(request.name, "name")
        return cv.tenant_out(call.call(IdentityApi.suspend_tenant, tenant_id=tenant_id))

    @handler
    def ReinstateTenant(self, request: Any, call: CallContext) -> pb.Tenant:
        tenant_id = cv.parse_tenant(request.name, "name")
        return cv.tenant_out(call.call(IdentityApi.reinstate_tenant, tenant_id=tenant_id))


class MemberService(pb_grpc.MemberServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ImportMembers(self, request: Any, call: CallContext) -> pb.ImportMembersResponse:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        check_size(request.csv)
        answer = call.call(
            IdentityApi.import_members,
            tenant_id=tenant_id,
            csv_base64=base64.b64encode(request.csv).decode("ascii"),
        )
        return pb.ImportMembersResponse(
            added=answer.added,
            already_members=answer.already_members,
            already_invited=answer.already_invited,
            rejected=answer.rejected,
            rows=[pb.RejectedRow(line=r.line, email=r.email, reason=r.reason) for r in answer.rows],
        )

    @handler
    def AddMember(self, request: Any, call: CallContext) -> pb.AddMemberResponse:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        payload: dict[str, Any] = {
            "tenant_id": tenant_id,
            "email": request.email,
            "roles": cv.roles_in(list(request.roles)),
            "display_name": request.display_name,
        }
        if request.locale:
            payload["locale"] = request.locale
        if request.time_zone:
            payload["time_zone"] = request.time_zone
        answer = call.call(IdentityApi.add_member, **payload)
        return pb.AddMemberResponse(
            name=cv.member_name(answer.tenant_id, answer.member_id),
            member_id=answer.member_id,
            email=answer.email,
            roles=cv.roles_out(answer.roles),
        )

    @handler
    def GetMember(self, request: Any, call: CallContext) -> pb.Member:
        tenant_id, member_id = cv.parse_member(request.name, "name")
        return cv.member_out(
            call.call(IdentityApi.get_member, tenant_id=tenant_id, member_id=member_id)
        )

    @handler
    def ListMembers(self, request: Any, call: CallContext) -> pb.ListMembersResponse:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        payload: dict[str, Any] = {
            "tenant_id": tenant_id,
            "page_size": request.page_size,
            "page_token": request.page_token,
            "query": request.query,
        }
        if request.role != pb.ROLE_UNSPECIFIED:
            payload["role"] = cv.roles_in([request.role], "role")[0]
        if request.status != pb.MEMBERSHIP_STATUS_UNSPECIFIED:
            payload["status"] = cv.member_status_in(request.status, "status")
        answer = call.call(IdentityApi.list_members, **payload)
        return pb.ListMembersResponse(
            members=[cv.member_out(m) for m in answer.members],
            next_page_token=answer.next_page_token,
        )

    @handler
    def UpdateMember(self, request: Any, call: CallContext) -> pb.Member:
        tenant_id, member_id = cv.parse_member(request.member.name, "member.name")
        paths = list(request.update_mask.paths)
        if not paths:
            raise invalid(update_mask="name the fields to change, e.g. roles")
        payload: dict[str, Any] = {
            "tenant_id": tenant_id,
            "member_id": member_id,
            "update_mask": paths,
        }
        if "roles" in paths:
            payload["roles"] = cv.roles_in(list(request.member.roles), "member.roles")
        return cv.member_out(call.call(IdentityApi.update_member, **payload))

    @handler
    def SetMemberAttributes(self, request: Any, call: CallContext) -> pb.Member:
        tenant_id, member_id = cv.parse_member(request.name, "name")
        answer = call.call(
            IdentityApi.set_member_attributes,
            tenant_id=tenant_id,
            member_id=member_id,
            department=request.department,
            site=request.site,
            programme=request.programme,
        )
        return cv.member_out(answer)

    @handler
    def ResendInvitation(self, request: Any, call: CallContext) -> pb.Member:
        tenant_id, member_id = cv.parse_member(request.name, "name")
        answer = call.call(IdentityApi.resend_invitation, tenant_id=tenant_id, member_id=member_id)
        return cv.member_out(answer)

    @handler
    def DeactivateMember(self, request: Any, call: CallContext) -> pb.Member:
        tenant_id, member_id = cv.parse_member(request.name, "name")
        answer = call.call(IdentityApi.deactivate_member, tenant_id=tenant_id, member_id=member_id)
        return cv.member_out(answer)

    @handler
    def ReactivateMember(self, request: Any, call: CallContext) -> pb.Member:
        tenant_id, member_id = cv.parse_member(request.name, "name")
        answer = call.call(IdentityApi.reactivate_member, tenant_id=tenant_id, member_id=member_id)
        return cv.member_out(answer)

    @handler
    def ListMyMemberships(self, request: Any, call: CallContext) -> pb.ListMyMembershipsResponse:
        answer = call.call(IdentityApi.list_my_memberships)
        return pb.ListMyMembershipsResponse(
            memberships=[cv.my_membership_out(m) for m in answer.memberships]
        )

    @handler
    def AcceptMembership(self, request: Any, call: CallContext) -> pb.MyMembership:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        return cv.my_membership_out(call.call(IdentityApi.accept_membership, tenant_id=tenant_id))


def _audit_out(answer: c.AuditEventList) -> pb.ListAuditEventsResponse:
    response = pb.ListAuditEventsResponse(next_page_token=answer.next_page_token)
    for e in answer.events:
        event = response.events.add(
            action=e.action,
            tenant_id=e.tenant_id,
            actor_id=e.actor_id,
            subject=e.subject,
        )
        event.detail.update(e.detail)
        event.time.CopyFrom(cv.timestamp(e.time))
    return response


class AuditService(pb_grpc.AuditServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ListTenantAuditEvents(self, request: Any, call: CallContext) -> pb.ListAuditEventsResponse:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        answer = call.call(
            IdentityApi.list_tenant_audit_events,
            tenant_id=tenant_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return _audit_out(answer)

    @handler
    def ListSecurityEvents(self, request: Any, call: CallContext) -> pb.ListAuditEventsResponse:
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        answer = call.call(
            IdentityApi.list_security_events,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return _audit_out(answer)


def _erasure_out(e: pd.Erasure) -> pb.Erasure:
    erasure = pb.Erasure(
        erasure_id=e.erasure_id,
        person_id=e.person_id,
        requested_by=e.requested_by,
        state=pb.ERASURE_COMPLETED if e.completed_at else pb.ERASURE_IN_PROGRESS,
        receipt=e.receipt,
    )
    erasure.request_time.CopyFrom(cv.timestamp(e.requested_at))
    if e.completed_at:
        erasure.complete_time.CopyFrom(cv.timestamp(e.completed_at))
    for s in e.steps:
        step = erasure.steps.add(service=s.service, done=s.completed_at is not None)
        if s.completed_at:
            step.complete_time.CopyFrom(cv.timestamp(s.completed_at))
    return erasure


class PrivacyService(pb_grpc.PrivacyServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ErasePerson(self, request: Any, call: CallContext) -> pb.Erasure:
        answer = call.call(
            IdentityApi.erase_person, person_id=request.person_id, email=request.email
        )
        return _erasure_out(answer)

    @handler
    def GetErasure(self, request: Any, call: CallContext) -> pb.Erasure:
        if not request.erasure_id:
            raise invalid(erasure_id="is required")
        return _erasure_out(call.call(IdentityApi.get_erasure, erasure_id=request.erasure_id))

    @handler
    def ReplayErasures(self, request: Any, call: CallContext) -> pb.ReplayErasuresResponse:
        if not request.HasField("since_time"):
            raise invalid(since_time="is required: when the restored backup was taken")
        since = cv.instant_in(request, "since_time", "since_time")
        answer = call.call(IdentityApi.replay_erasures, since=since)
        return pb.ReplayErasuresResponse(replayed=answer.replayed)

    @handler
    def ListErasures(self, request: Any, call: CallContext) -> pb.ListErasuresResponse:
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        answer = call.call(
            IdentityApi.list_erasures, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListErasuresResponse(
            erasures=[_erasure_out(e) for e in answer.erasures],
            next_page_token=answer.next_page_token,
        )


_KEY_STATES = {"signing": pb.SIGNING, "verifying": pb.VERIFYING, "retired": pb.RETIRED}


class AccountRecoveryService(pb_grpc.AccountRecoveryServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ResetPersonMfa(self, request: Any, call: CallContext) -> pb.ResetPersonMfaResponse:
        answer = call.call(
            IdentityApi.reset_person_mfa, person_id=request.person_id, email=request.email
        )
        return pb.ResetPersonMfaResponse(
            person_id=answer.person_id, sessions_ended=answer.sessions_ended
        )


def _keys_out(answer: c.SigningKeyList) -> pb.ListSigningKeysResponse:
    response = pb.ListSigningKeysResponse()
    for k in answer.keys:
        key = response.keys.add(kid=k.kid, state=_KEY_STATES[k.state])
        key.create_time.CopyFrom(cv.timestamp(k.created_at))
        if k.retire_at is not None:
            key.retire_time.CopyFrom(cv.timestamp(k.retire_at))
    return response


class KeyService(pb_grpc.KeyServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ListSigningKeys(self, request: Any, call: CallContext) -> pb.ListSigningKeysResponse:
        return _keys_out(call.call(IdentityApi.list_signing_keys))

    @handler
    def RotateSigningKey(self, request: Any, call: CallContext) -> pb.ListSigningKeysResponse:
        return _keys_out(call.call(IdentityApi.rotate_signing_key))

    @handler
    def RetireSigningKey(self, request: Any, call: CallContext) -> pb.ListSigningKeysResponse:
        return _keys_out(call.call(IdentityApi.retire_signing_key, kid=request.kid))


def add_to_server(server: Any, backend: Backend) -> list[str]:
    pb_grpc.add_AuthServiceServicer_to_server(AuthService(backend), server)
    pb_grpc.add_KeyServiceServicer_to_server(KeyService(backend), server)
    pb_grpc.add_AuditServiceServicer_to_server(AuditService(backend), server)
    pb_grpc.add_PrivacyServiceServicer_to_server(PrivacyService(backend), server)
    pb_grpc.add_AccountRecoveryServiceServicer_to_server(AccountRecoveryService(backend), server)
    pb_grpc.add_TenantServiceServicer_to_server(TenantService(backend), server)
    pb_grpc.add_MemberServiceServicer_to_server(MemberService(backend), server)
    return [
        pb.DESCRIPTOR.services_by_name[n].full_name
        for n in (
            "AuthService",
            "KeyService",
            "AuditService",
            "PrivacyService",
            "AccountRecoveryService",
            "TenantService",
            "MemberService",
        )
    ]
