"""gRPC servicers for identity: AuthService, TenantService, MemberService."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from services.kernel.csvtable import check_size
from services.kernel.errors import invalid
from services.kernel.personal_data import EXPORT_METHOD, personal_data_services

from . import convert as cv
from .calls import Backend, CallContext, handler
from .fanout import fan_out
from .pb import identity_pb2 as pb
from .pb import identity_pb2_grpc as pb_grpc

IDENTITY = "identity"


CONFIRMED = {
    "account": pb.CONFIRMED_ADDRESS_ACCOUNT,
    "calendar": pb.CONFIRMED_ADDRESS_CALENDAR,
}
_STEPS = {"done": pb.SIGNED_IN, "verify_mfa": pb.VERIFY_MFA, "enrol_mfa": pb.ENROL_MFA}


def _signed_in(answer: dict[str, Any]) -> pb.SignInResponse:
    response = pb.SignInResponse(
        access_token=answer["access_token"],
        person_id=answer["person_id"],
        tenant_id=answer["tenant_id"],
        refresh_token=answer["refresh_token"],
        next_step=_STEPS[answer.get("next_step", "done")],
        challenge=answer.get("challenge", ""),
    )
    for field, key in (
        ("expire_time", "expires_at"),
        ("refresh_expire_time", "refresh_expires_at"),
        ("challenge_expire_time", "challenge_expires_at"),
    ):
        if answer.get(key):
            getattr(response, field).CopyFrom(cv.timestamp(answer[key]))
    return response


def _proof(request: Any) -> dict[str, Any]:
    """Proof of the person, as sensitive account changes carry it."""
    return {"current_password": request.current_password, "mfa_code": request.mfa_code}


class AuthService(pb_grpc.AuthServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def SignIn(self, request: Any, call: CallContext) -> pb.SignInResponse:
        answer = call.call(
            IDENTITY,
            "sign_in",
            {"email": request.email, "password": request.password, "tenant": request.tenant},
        )
        return _signed_in(answer)

    @handler
    def VerifyMfa(self, request: Any, call: CallContext) -> pb.SignInResponse:
        payload = {"challenge": request.challenge, "code": request.code}
        return _signed_in(call.call(IDENTITY, "verify_mfa", payload))

    @handler
    def StartMfaEnrolment(self, request: Any, call: CallContext) -> pb.MfaChallenge:
        answer = call.call(IDENTITY, "start_mfa_enrolment", _proof(request))
        return pb.MfaChallenge(
            challenge=answer["challenge"],
            challenge_expire_time=cv.timestamp(answer["challenge_expires_at"]),
        )

    @handler
    def BeginMfaEnrolment(self, request: Any, call: CallContext) -> pb.MfaEnrolment:
        answer = call.call(IDENTITY, "begin_mfa_enrolment", {"challenge": request.challenge})
        return pb.MfaEnrolment(**answer)

    @handler
    def CompleteMfaEnrolment(
        self, request: Any, call: CallContext
    ) -> pb.CompleteMfaEnrolmentResponse:
        payload = {"challenge": request.challenge, "code": request.code}
        answer = call.call(IDENTITY, "complete_mfa_enrolment", payload)
        done = pb.CompleteMfaEnrolmentResponse(recovery_codes=answer["recovery_codes"])
        if answer.get("sign_in"):  # none after a signed-in person's own enrolment
            done.sign_in.CopyFrom(_signed_in(answer["sign_in"]))
        return done

    @handler
    def Refresh(self, request: Any, call: CallContext) -> pb.SignInResponse:
        return _signed_in(call.call(IDENTITY, "refresh", {"refresh_token": request.refresh_token}))

    @handler
    def SwitchTenant(self, request: Any, call: CallContext) -> pb.SignInResponse:
        if not request.tenant:
            raise invalid(tenant="is required: the tenant id or slug to switch to")
        payload = {"refresh_token": request.refresh_token, "tenant": request.tenant}
        return _signed_in(call.call(IDENTITY, "refresh", payload))

    @handler
    def SignOut(self, request: Any, call: CallContext) -> pb.SignOutResponse:
        call.call(IDENTITY, "sign_out", {"refresh_token": request.refresh_token})
        return pb.SignOutResponse()

    @handler
    def ListMySignIns(self, request: Any, call: CallContext) -> pb.ListMySignInsResponse:
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        answer = call.call(
            IDENTITY,
            "list_my_sign_ins",
            {"page_size": request.page_size, "page_token": request.page_token},
        )
        response = pb.ListMySignInsResponse(next_page_token=answer["next_page_token"])
        for r in answer["sign_ins"]:
            record = response.sign_ins.add(
                outcome=r["outcome"], tenant_id=r["tenant_id"], source=r["source"]
            )
            record.time.CopyFrom(cv.timestamp(r["time"]))
        return response

    @handler
    def ExportMyData(self, request: Any, call: CallContext) -> Iterator[pb.PersonalDataDocument]:
        """Server streaming: one message per service of the personal-data contract, each
        fetched in parallel; a failing service fails the export (a partial one would mislead)."""
        services = personal_data_services()
        found = fan_out({service: call.later(service, EXPORT_METHOD) for service in services})
        documents = []
        for service in services:
            answer = found[service]
            document = pb.PersonalDataDocument(
                service=answer["service"],
                content_type="application/json",
                data=json.dumps(answer["data"], ensure_ascii=False, indent=2).encode(),
            )
            document.export_time.CopyFrom(cv.timestamp(answer["exported_at"]))
            documents.append(document)
        return iter(documents)  # grpc wants an iterator; errors were raised before this

    @handler
    def EraseMyData(self, request: Any, call: CallContext) -> pb.Erasure:
        payload = {"current_password": request.current_password}
        return _erasure_out(call.call(IDENTITY, "erase_my_data", payload))

    @handler
    def GetErasureStatus(self, request: Any, call: CallContext) -> pb.Erasure:
        if not request.receipt:
            raise invalid(receipt="is required: the receipt EraseMyData returned")
        return _erasure_out(call.call(IDENTITY, "get_erasure_status", {"receipt": request.receipt}))

    @handler
    def SignOutEverywhere(self, request: Any, call: CallContext) -> pb.SignOutEverywhereResponse:
        answer = call.call(IDENTITY, "sign_out_everywhere")
        return pb.SignOutEverywhereResponse(sessions_ended=answer["sessions_ended"])

    @handler
    def RequestPasswordReset(
        self, request: Any, call: CallContext
    ) -> pb.RequestPasswordResetResponse:
        call.call(IDENTITY, "request_password_reset", {"email": request.email})
        return pb.RequestPasswordResetResponse()

    @handler
    def ResetPassword(self, request: Any, call: CallContext) -> pb.ResetPasswordResponse:
        payload = {"token": request.token, "new_password": request.new_password}
        call.call(IDENTITY, "reset_password", payload)
        return pb.ResetPasswordResponse()

    @handler
    def ChangePassword(self, request: Any, call: CallContext) -> pb.ChangePasswordResponse:
        payload = {**_proof(request), "new_password": request.new_password}
        call.call(IDENTITY, "change_password", payload)
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
        return cv.person_out(call.call(IDENTITY, "update_my_profile", payload))

    @handler
    def RequestEmailChange(self, request: Any, call: CallContext) -> pb.RequestEmailChangeResponse:
        payload = {**_proof(request), "new_email": request.new_email}
        call.call(IDENTITY, "request_email_change", payload)
        return pb.RequestEmailChangeResponse()

    @handler
    def ConfirmEmailChange(self, request: Any, call: CallContext) -> pb.ConfirmEmailChangeResponse:
        answer = call.call(IDENTITY, "confirm_email_change", {"token": request.token})
        return pb.ConfirmEmailChangeResponse(confirmed=CONFIRMED[answer["confirmed"]])

    @handler
    def RequestCalendarEmail(
        self, request: Any, call: CallContext
    ) -> pb.RequestCalendarEmailResponse:
        payload = {**_proof(request), "calendar_email": request.calendar_email}
        call.call(IDENTITY, "request_calendar_email", payload)
        return pb.RequestCalendarEmailResponse()

    @handler
    def ClearCalendarEmail(self, request: Any, call: CallContext) -> pb.Person:
        return cv.person_out(call.call(IDENTITY, "clear_calendar_email", {}))

    @handler
    def AcceptInvitation(self, request: Any, call: CallContext) -> pb.AcceptInvitationResponse:
        payload = {"token": request.token, "password": request.password}
        answer = call.call(IDENTITY, "accept_invitation", payload)
        return pb.AcceptInvitationResponse(
            tenant_id=answer["tenant_id"],
            member=cv.member_name(answer["tenant_id"], answer["member_id"]),
            email=answer["email"],
            new_account=answer["new_account"],
        )

    @handler
    def GetMe(self, request: Any, call: CallContext) -> pb.GetMeResponse:
        calls = {"person": call.later(IDENTITY, "get_my_person")}
        tenant_id = call.person.tenant_id
        if tenant_id:
            calls["membership"] = call.later(IDENTITY, "get_my_membership")
            calls["tenant"] = call.later(IDENTITY, "get_tenant", {"tenant_id": tenant_id})
        found = fan_out(calls)
        response = pb.GetMeResponse(person=cv.person_out(found["person"]))
        if tenant_id:
            response.membership.CopyFrom(cv.my_membership_out(found["membership"]))
            response.tenant.CopyFrom(cv.tenant_out(found["tenant"]))
        return response


class TenantService(pb_grpc.TenantServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def CreateTenant(self, request: Any, call: CallContext) -> pb.Tenant:
        payload = {"name": request.display_name, "slug": request.slug}
        return cv.tenant_out(call.call(IDENTITY, "create_tenant", payload))

    @handler
    def GetTenant(self, request: Any, call: CallContext) -> pb.Tenant:
        tenant_id = cv.parse_tenant(request.name, "name")
        return cv.tenant_out(call.call(IDENTITY, "get_tenant", {"tenant_id": tenant_id}))

    @handler
    def ListTenants(self, request: Any, call: CallContext) -> pb.ListTenantsResponse:
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        answer = call.call(
            IDENTITY,
            "list_tenants",
            {"page_size": request.page_size, "page_token": request.page_token},
        )
        return pb.ListTenantsResponse(
            tenants=[cv.tenant_out(t) for t in answer["tenants"]],
            next_page_token=answer["next_page_token"],
        )

    @handler
    def GetTenantSettings(self, request: Any, call: CallContext) -> pb.TenantSettings:
        tenant_id = cv.parse_settings(request.name, "name")
        return cv.settings_out(call.call(IDENTITY, "get_tenant_settings", {"tenant_id": tenant_id}))

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
        return cv.settings_out(call.call(IDENTITY, "update_tenant_settings", payload))

    @handler
    def SuspendTenant(self, request: Any, call: CallContext) -> pb.Tenant:
        tenant_id = cv.parse_tenant(request.name, "name")
        return cv.tenant_out(call.call(IDENTITY, "suspend_tenant", {"tenant_id": tenant_id}))

    @handler
    def ReinstateTenant(self, request: Any, call: CallContext) -> pb.Tenant:
        tenant_id = cv.parse_tenant(request.name, "name")
        return cv.tenant_out(call.call(IDENTITY, "reinstate_tenant", {"tenant_id": tenant_id}))


class MemberService(pb_grpc.MemberServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ImportMembers(self, request: Any, call: CallContext) -> pb.ImportMembersResponse:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        check_size(request.csv)
        payload = {
            "tenant_id": tenant_id,
            "csv_base64": base64.b64encode(request.csv).decode("ascii"),
        }
        answer = call.call(IDENTITY, "import_members", payload)
        return pb.ImportMembersResponse(
            added=answer["added"],
            already_members=answer["already_members"],
            already_invited=answer["already_invited"],
            rejected=answer["rejected"],
            rows=[pb.RejectedRow(**row) for row in answer["rows"]],
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
        answer = call.call(IDENTITY, "add_member", payload)
        return pb.AddMemberResponse(
            name=cv.member_name(answer["tenant_id"], answer["member_id"]),
            member_id=answer["member_id"],
            email=answer["email"],
            roles=cv.roles_out(answer["roles"]),
        )

    @handler
    def GetMember(self, request: Any, call: CallContext) -> pb.Member:
        tenant_id, member_id = cv.parse_member(request.name, "name")
        ref = {"tenant_id": tenant_id, "member_id": member_id}
        return cv.member_out(call.call(IDENTITY, "get_member", ref))

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
        answer = call.call(IDENTITY, "list_members", payload)
        return pb.ListMembersResponse(
            members=[cv.member_out(m) for m in answer["members"]],
            next_page_token=answer["next_page_token"],
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
        return cv.member_out(call.call(IDENTITY, "update_member", payload))

    @handler
    def ResendInvitation(self, request: Any, call: CallContext) -> pb.Member:
        tenant_id, member_id = cv.parse_member(request.name, "name")
        payload = {"tenant_id": tenant_id, "member_id": member_id}
        return cv.member_out(call.call(IDENTITY, "resend_invitation", payload))

    @handler
    def DeactivateMember(self, request: Any, call: CallContext) -> pb.Member:
        tenant_id, member_id = cv.parse_member(request.name, "name")
        ref = {"tenant_id": tenant_id, "member_id": member_id}
        return cv.member_out(call.call(IDENTITY, "deactivate_member", ref))

    @handler
    def ReactivateMember(self, request: Any, call: CallContext) -> pb.Member:
        tenant_id, member_id = cv.parse_member(request.name, "name")
        ref = {"tenant_id": tenant_id, "member_id": member_id}
        return cv.member_out(call.call(IDENTITY, "reactivate_member", ref))

    @handler
    def ListMyMemberships(self, request: Any, call: CallContext) -> pb.ListMyMembershipsResponse:
        answer = call.call(IDENTITY, "list_my_memberships")
        return pb.ListMyMembershipsResponse(
            memberships=[cv.my_membership_out(m) for m in answer["memberships"]]
        )

    @handler
    def AcceptMembership(self, request: Any, call: CallContext) -> pb.MyMembership:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        return cv.my_membership_out(
            call.call(IDENTITY, "accept_membership", {"tenant_id": tenant_id})
        )


def _audit_out(answer: dict[str, Any]) -> pb.ListAuditEventsResponse:
    response = pb.ListAuditEventsResponse(next_page_token=answer["next_page_token"])
    for e in answer["events"]:
        event = response.events.add(
            action=e["action"],
            tenant_id=e["tenant_id"],
            actor_id=e["actor_id"],
            subject=e["subject"],
        )
        event.detail.update(e["detail"])
        event.time.CopyFrom(cv.timestamp(e["time"]))
    return response


class AuditService(pb_grpc.AuditServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ListTenantAuditEvents(self, request: Any, call: CallContext) -> pb.ListAuditEventsResponse:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        payload = {
            "tenant_id": tenant_id,
            "page_size": request.page_size,
            "page_token": request.page_token,
        }
        return _audit_out(call.call(IDENTITY, "list_tenant_audit_events", payload))

    @handler
    def ListSecurityEvents(self, request: Any, call: CallContext) -> pb.ListAuditEventsResponse:
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        payload = {"page_size": request.page_size, "page_token": request.page_token}
        return _audit_out(call.call(IDENTITY, "list_security_events", payload))


def _erasure_out(e: dict[str, Any]) -> pb.Erasure:
    erasure = pb.Erasure(
        erasure_id=e["erasure_id"],
        person_id=e["person_id"],
        requested_by=e["requested_by"],
        state=pb.ERASURE_COMPLETED if e.get("completed_at") else pb.ERASURE_IN_PROGRESS,
        receipt=e.get("receipt", ""),
    )
    erasure.request_time.CopyFrom(cv.timestamp(e["requested_at"]))
    if e.get("completed_at"):
        erasure.complete_time.CopyFrom(cv.timestamp(e["completed_at"]))
    for s in e["steps"]:
        step = erasure.steps.add(service=s["service"], done=bool(s.get("completed_at")))
        if s.get("completed_at"):
            step.complete_time.CopyFrom(cv.timestamp(s["completed_at"]))
    return erasure


class PrivacyService(pb_grpc.PrivacyServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ErasePerson(self, request: Any, call: CallContext) -> pb.Erasure:
        payload = {"person_id": request.person_id, "email": request.email}
        return _erasure_out(call.call(IDENTITY, "erase_person", payload))

    @handler
    def GetErasure(self, request: Any, call: CallContext) -> pb.Erasure:
        if not request.erasure_id:
            raise invalid(erasure_id="is required")
        payload = {"erasure_id": request.erasure_id}
        return _erasure_out(call.call(IDENTITY, "get_erasure", payload))

    @handler
    def ReplayErasures(self, request: Any, call: CallContext) -> pb.ReplayErasuresResponse:
        if not request.HasField("since_time"):
            raise invalid(since_time="is required: when the restored backup was taken")
        payload = {"since": cv.instant_in(request, "since_time", "since_time")}
        answer = call.call(IDENTITY, "replay_erasures", payload)
        return pb.ReplayErasuresResponse(replayed=answer["replayed"])

    @handler
    def ListErasures(self, request: Any, call: CallContext) -> pb.ListErasuresResponse:
        if request.page_size < 0:
            raise invalid(page_size="must not be negative")
        payload = {"page_size": request.page_size, "page_token": request.page_token}
        answer = call.call(IDENTITY, "list_erasures", payload)
        return pb.ListErasuresResponse(
            erasures=[_erasure_out(e) for e in answer["erasures"]],
            next_page_token=answer["next_page_token"],
        )


_KEY_STATES = {"signing": pb.SIGNING, "verifying": pb.VERIFYING, "retired": pb.RETIRED}


class AccountRecoveryService(pb_grpc.AccountRecoveryServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ResetPersonMfa(self, request: Any, call: CallContext) -> pb.ResetPersonMfaResponse:
        payload = {"person_id": request.person_id, "email": request.email}
        return pb.ResetPersonMfaResponse(**call.call(IDENTITY, "reset_person_mfa", payload))


def _keys_out(answer: dict[str, Any]) -> pb.ListSigningKeysResponse:
    response = pb.ListSigningKeysResponse()
    for k in answer["keys"]:
        key = response.keys.add(kid=k["kid"], state=_KEY_STATES[k["state"]])
        key.create_time.CopyFrom(cv.timestamp(k["created_at"]))
        if k.get("retire_at"):
            key.retire_time.CopyFrom(cv.timestamp(k["retire_at"]))
    return response


class KeyService(pb_grpc.KeyServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def ListSigningKeys(self, request: Any, call: CallContext) -> pb.ListSigningKeysResponse:
        return _keys_out(call.call(IDENTITY, "list_signing_keys"))

    @handler
    def RotateSigningKey(self, request: Any, call: CallContext) -> pb.ListSigningKeysResponse:
        return _keys_out(call.call(IDENTITY, "rotate_signing_key"))

    @handler
    def RetireSigningKey(self, request: Any, call: CallContext) -> pb.ListSigningKeysResponse:
        return _keys_out(call.call(IDENTITY, "retire_signing_key", {"kid": request.kid}))


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
