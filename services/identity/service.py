"""The identity nameko service: entrypoints only (rule 2). What its handlers are given (the
master key, the signing-key cache, the password hasher, the settings of tokens, links and the
throttle, the mailer) are collaborators, built when the container starts (never at import)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from services.contracts import identity as c
from services.contracts import personal_data as pd
from services.contracts import spaces as sc
from services.contracts.base import (
    OPERATOR_TOOL,
    Empty,
    PingResponse,
    RepublishReport,
    RepublishRequest,
)
from services.kernel.caller import Caller
from services.kernel.config import settings
from services.kernel.crypto import MasterKey, deployment_master_key
from services.kernel.events import Envelope
from services.kernel.personal_data import (
    PERSONAL_DATA_SERVICES,
    completion_event,
    personal_data_services,
)
from services.kernel.revocations import Fetch, Revocation
from services.kernel.runtime import space_copies
from services.kernel.runtime.collaborators import Collaborator, mailer_of
from services.kernel.runtime.database import Database, WorkerDatabase
from services.kernel.runtime.entrypoints import ANY_SERVICE, Authentication, rpc
from services.kernel.runtime.eventing import EventRelay, on_event
from services.kernel.runtime.mailer import Mailer
from services.kernel.tokens import FetchedKeys, KeySource

from .adapters.passwords import Passwords, common_passwords, hash_slots, hasher, off_the_loop
from .domain.throttle import ThrottlePolicy
from .handlers import (
    addresses,
    audit,
    coaching,
    for_services,
    invitations,
    members,
    own_records,
    passwords,
    personal_data,
    republish,
    second_factor,
    sessions,
    sign_in,
    signing_keys,
    tenants,
)
from .handlers.common import LinkSettings, TokenSettings
from .handlers.signing_keys import SigningKeyCache
from .mails import MAILS
from .storage.unit import Db, IdentityUnit


def _signing_keys() -> SigningKeyCache:
    return SigningKeyCache(master=deployment_master_key())


def _passwords() -> Passwords:
    config = settings()
    return Passwords(
        run=off_the_loop(hash_slots(config.password_hash_concurrency)),
        hasher=hasher(config.argon2_memory_kib, config.argon2_time_cost),
    )


def _links() -> LinkSettings:
    config = settings()
    return LinkSettings(
        deployment_master_key(),
        config.public_url,
        timedelta(minutes=config.password_reset_ttl_minutes),
        timedelta(days=config.invitation_ttl_days),
    )


def _throttle_policy() -> ThrottlePolicy:
    config = settings()
    defaults = ThrottlePolicy()
    return ThrottlePolicy(
        pair=replace(defaults.pair, free=config.sign_in_free_failures),
        account=replace(defaults.account, free=config.sign_in_account_free_failures),
    )


def _token_settings() -> TokenSettings:
    config = settings()
    return TokenSettings(
        config.token_issuer,
        config.token_audience,
        timedelta(seconds=config.access_token_ttl_seconds),
        refresh_ttl=timedelta(days=config.refresh_token_ttl_days),
        refresh_grace=timedelta(seconds=config.refresh_reuse_grace_seconds),
    )


def _own_database(container: Any) -> Db:
    database = next(d for d in container.dependencies if isinstance(d, Database))
    if database.engine is None:
        raise RuntimeError("identity's database is used before its container's setup")
    return WorkerDatabase(database.engine, database.clock, unit=IdentityUnit)


def _own_signing_keys(container: Any) -> KeySource:
    """Identity verifies tokens with the public keys in its own database."""
    clock = next(d for d in container.dependencies if isinstance(d, Database)).clock

    def fetch() -> list[dict[str, Any]]:
        db = _own_database(container)
        try:
            return signing_keys.public_jwks(db)
        finally:
            db.close()

    return FetchedKeys(
        fetch,
        time.monotonic,
        min_interval=1.0,
        max_age=settings().signing_keys_refresh_seconds,
        clock=clock,
    )


def _own_revocations(container: Any) -> Fetch:
    """Identity loads the recent revocations from its own database."""

    def fetch(since: datetime) -> list[Revocation]:
        db = _own_database(container)
        try:
            answer = for_services.list_access_revocations(
                db, c.ListAccessRevocationsRequest(since=since)
            )
        finally:
            db.close()
        return [Revocation.of(r.model_dump()) for r in answer.revocations]

    return fetch


# SpaceCopies is not imported by name: `nameko run` would take it for a second service.
class IdentityService(space_copies.SpaceCopies):
    name = c.SERVICE

    db: Db = Database(c.SERVICE, unit=IdentityUnit)
    auth = Authentication(key_source=_own_signing_keys, revocation_source=_own_revocations)
    relay = EventRelay()  # publishes identity.* events (services/contracts/identity.py)
    master: MasterKey = Collaborator(deployment_master_key)
    keys: SigningKeyCache = Collaborator(_signing_keys)
    tokens: TokenSettings = Collaborator(_token_settings)
    passwords: Passwords = Collaborator(_passwords)
    common: frozenset[str] = Collaborator(common_passwords)  # refused as too common
    throttle: ThrottlePolicy = Collaborator(_throttle_policy)
    links: LinkSettings = Collaborator(_links)
    mailer: Mailer = mailer_of(MAILS)
    # The services an erasure waits for: the personal-data registry and the deployment's own.
    erasure_services: tuple[str, ...] = Collaborator(personal_data_services)

    @rpc(public=True, quiet=True)
    def ping(self, caller: Caller, request: Empty) -> PingResponse:
        return PingResponse(service=self.name, ok=True)

    @rpc(public=True)
    def get_signing_keys(self, caller: Caller, request: Empty) -> c.SigningKeysResponse:
        return signing_keys.signing_keys(self.db, self.keys)

    @rpc(public=True)
    def sign_in(self, caller: Caller, request: c.SignInRequest) -> c.SignInResponse:
        return sign_in.sign_in(
            self.db,
            self.passwords,
            self.keys,
            self.tokens,
            request,
            source=self.auth.client_address,
            policy=self.throttle,
        )

    @rpc(public=True)
    def verify_mfa(self, caller: Caller, request: c.MfaCodeRequest) -> c.SignInResponse:
        return second_factor.verify_mfa(
            self.db,
            self.keys,
            self.tokens,
            self.master,
            request,
            source=self.auth.client_address,
            policy=self.throttle,
        )

    @rpc
    def start_mfa_enrolment(
        self, caller: Caller, request: c.StartMfaEnrolmentRequest
    ) -> c.MfaChallenge:
        return second_factor.start_mfa_enrolment(
            self.db,
            self.passwords,
            self.master,
            caller,
            request,
            source=self.auth.client_address,
            policy=self.throttle,
        )

    @rpc(public=True)
    def begin_mfa_enrolment(self, caller: Caller, request: c.MfaChallengeRef) -> c.MfaEnrolment:
        return second_factor.begin_mfa_enrolment(self.db, self.master, request)

    @rpc(public=True)
    def complete_mfa_enrolment(self, caller: Caller, request: c.MfaCodeRequest) -> c.MfaEnrolled:
        return second_factor.complete_mfa_enrolment(
            self.db,
            self.keys,
            self.tokens,
            self.master,
            request,
            source=self.auth.client_address,
            policy=self.throttle,
        )

    @rpc(public=True)
    def refresh(self, caller: Caller, request: c.RefreshRequest) -> c.SignInResponse:
        return sessions.refresh(self.db, self.keys, self.tokens, request)

    @rpc(public=True)
    def sign_out(self, caller: Caller, request: c.SignOutRequest) -> Empty:
        return sessions.sign_out(self.db, request)

    @rpc
    def sign_out_everywhere(self, caller: Caller, request: Empty) -> c.SignOutEverywhereResponse:
        return sessions.sign_out_everywhere(self.db, caller)

    @rpc
    def list_my_sign_ins(
        self, caller: Caller, request: c.ListMySignInsRequest
    ) -> c.ListMySignInsResponse:
        return sessions.list_my_sign_ins(self.db, caller, request)

    @rpc
    def list_tenant_audit_events(
        self, caller: Caller, request: c.ListTenantAuditRequest
    ) -> c.AuditEventList:
        return audit.list_tenant_audit_events(self.db, caller, request)

    @rpc
    def list_security_events(
        self, caller: Caller, request: c.ListSecurityEventsRequest
    ) -> c.AuditEventList:
        return audit.list_security_events(self.db, caller, request)

    @rpc
    def export_personal_data(self, caller: Caller, request: Empty) -> pd.PersonalDataExport:
        return personal_data.export_personal_data(self.db, caller)

    @rpc(services=(OPERATOR_TOOL,), people=False)
    def republish_state(self, caller: Caller, request: RepublishRequest) -> RepublishReport:
        """`ecoach-ops republish identity`: only the operator's tool (ADR 0022)."""
        return republish.republish_state(self.db, request)

    @rpc
    def erase_my_data(self, caller: Caller, request: pd.EraseMyDataRequest) -> pd.Erasure:
        return personal_data.erase_my_data(
            self.db,
            self.passwords,
            self.erasure_services,
            caller,
            request,
            source=self.auth.client_address,
            policy=self.throttle,
        )

    @rpc
    def reset_person_mfa(
        self, caller: Caller, request: c.ResetPersonMfaRequest
    ) -> c.ResetPersonMfaResponse:
        return second_factor.reset_person_mfa(self.db, caller, request)

    @rpc
    def erase_person(self, caller: Caller, request: c.ErasePersonRequest) -> pd.Erasure:
        return personal_data.erase_person(self.db, self.erasure_services, caller, request)

    @rpc(public=True)
    def get_erasure_status(self, caller: Caller, request: pd.ErasureReceiptRef) -> pd.Erasure:
        return personal_data.get_erasure_status(self.db, request)

    @rpc
    def get_erasure(self, caller: Caller, request: pd.ErasureRef) -> pd.Erasure:
        return personal_data.get_erasure(self.db, caller, request)

    @rpc
    def replay_erasures(
        self, caller: Caller, request: pd.ReplayErasuresRequest
    ) -> pd.ReplayErasuresResponse:
        return personal_data.replay_erasures(self.db, caller, request)

    @rpc
    def list_erasures(self, caller: Caller, request: pd.ListErasuresRequest) -> pd.ErasureList:
        return personal_data.list_erasures(self.db, caller, request)

    @rpc(services=("spaces",))
    def resolve_members(
        self, caller: Caller, request: c.ResolveMembersRequest
    ) -> c.ResolveMembersResponse:
        return for_services.resolve_members(self.db, request)

    @rpc(services=("spaces",))
    def resolve_member_emails(
        self, caller: Caller, request: c.ResolveMemberEmailsRequest
    ) -> c.ResolveMemberEmailsResponse:
        return for_services.resolve_member_emails(self.db, request)

    @rpc(services=("scheduling", "assessment", "spaces"))
    def contact_details(
        self, caller: Caller, request: c.ContactDetailsRequest
    ) -> c.ContactDetailsResponse:
        return for_services.contact_details(self.db, request)

    @rpc(services=ANY_SERVICE)
    def list_access_revocations(
        self, caller: Caller, request: c.ListAccessRevocationsRequest
    ) -> c.ListAccessRevocationsResponse:
        return for_services.list_access_revocations(self.db, request)

    @rpc
    def list_signing_keys(self, caller: Caller, request: Empty) -> c.SigningKeyList:
        return signing_keys.list_signing_keys(self.db, caller)

    @rpc
    def rotate_signing_key(self, caller: Caller, request: Empty) -> c.SigningKeyList:
        return signing_keys.rotate_signing_key(self.db, self.keys, self.tokens, caller)

    @rpc
    def retire_signing_key(self, caller: Caller, request: c.SigningKeyRef) -> c.SigningKeyList:
        return signing_keys.retire_signing_key(self.db, self.keys, caller, request)

    @rpc
    def create_tenant(self, caller: Caller, request: c.CreateTenantRequest) -> c.Tenant:
        return tenants.create_tenant(self.db, caller, request)

    @rpc
    def get_tenant(self, caller: Caller, request: c.TenantRef) -> c.Tenant:
        return tenants.get_tenant(self.db, caller, request)

    @rpc
    def list_tenants(self, caller: Caller, request: c.ListTenantsRequest) -> c.ListTenantsResponse:
        return tenants.list_tenants(self.db, caller, request)

    @rpc
    def get_tenant_settings(self, caller: Caller, request: c.TenantRef) -> c.TenantSettings:
        return tenants.get_tenant_settings(self.db, caller, request)

    @rpc
    def update_tenant_settings(
        self, caller: Caller, request: c.UpdateTenantSettingsRequest
    ) -> c.TenantSettings:
        return tenants.update_tenant_settings(self.db, caller, request)

    @rpc
    def suspend_tenant(self, caller: Caller, request: c.TenantRef) -> c.Tenant:
        return tenants.suspend_tenant(self.db, caller, request)

    @rpc
    def reinstate_tenant(self, caller: Caller, request: c.TenantRef) -> c.Tenant:
        return tenants.reinstate_tenant(self.db, caller, request)

    @rpc
    def add_member(self, caller: Caller, request: c.AddMemberRequest) -> c.AddMemberResponse:
        return invitations.add_member(self.db, self.links, caller, request)

    @rpc
    def import_members(
        self, caller: Caller, request: c.ImportMembersRequest
    ) -> c.ImportMembersResponse:
        return invitations.import_members(self.db, self.links, caller, request)

    @rpc
    def resend_invitation(self, caller: Caller, request: c.MemberRef) -> c.Member:
        return invitations.resend_invitation(self.db, self.links, caller, request)

    @rpc(public=True)
    def accept_invitation(
        self, caller: Caller, request: c.AcceptInvitationRequest
    ) -> c.AcceptInvitationResponse:
        return invitations.accept_invitation(
            self.db,
            self.passwords,
            self.links,
            self.common,
            request,
            source=self.auth.client_address,
            policy=self.throttle,
        )

    @on_event(c.InvitationIssued, transactional=False)
    def mail_invitation(self, db: Db, event: c.InvitationIssued, envelope: Envelope) -> None:
        invitations.send_invitation_mail(db, self.links, self.mailer, event)

    @on_event(sc.CoachChanged, transactional=False)
    def mail_coach_changed(self, db: Db, event: sc.CoachChanged, envelope: Envelope) -> None:
        coaching.send_coach_change_mail(db, self.links, self.mailer, event)

    @on_event(sc.CoCoachChanged, transactional=False)
    def mail_co_coach_changed(self, db: Db, event: sc.CoCoachChanged, envelope: Envelope) -> None:
        coaching.send_coach_change_mail(db, self.links, self.mailer, event)

    @on_event(sc.CoachChangeProposed, transactional=False)
    def mail_coach_change_proposed(
        self, db: Db, event: sc.CoachChangeProposed, envelope: Envelope
    ) -> None:
        coaching.send_coach_change_mail(db, self.links, self.mailer, event)

    @rpc
    def list_my_coachees(self, caller: Caller, request: c.TenantRef) -> c.ListMembersResponse:
        return coaching.list_my_coachees(self.db, caller, request)

    @rpc
    def get_space_coaches(self, caller: Caller, request: c.SpaceRef) -> c.SpaceCoaches:
        return coaching.get_space_coaches(self.db, caller, request)

    @rpc
    def get_member(self, caller: Caller, request: c.MemberRef) -> c.Member:
        return members.get_member(self.db, caller, request)

    @rpc
    def list_members(self, caller: Caller, request: c.ListMembersRequest) -> c.ListMembersResponse:
        return members.list_members(self.db, caller, request)

    @rpc
    def update_member(self, caller: Caller, request: c.UpdateMemberRequest) -> c.Member:
        return members.update_member(self.db, caller, request)

    @rpc
    def set_member_attributes(
        self, caller: Caller, request: c.SetMemberAttributesRequest
    ) -> c.Member:
        return members.set_member_attributes(self.db, caller, request)

    @rpc
    def deactivate_member(self, caller: Caller, request: c.MemberRef) -> c.Member:
        return members.deactivate_member(self.db, caller, request)

    @rpc
    def reactivate_member(self, caller: Caller, request: c.MemberRef) -> c.Member:
        return members.reactivate_member(self.db, caller, request)

    @rpc
    def get_my_person(self, caller: Caller, request: Empty) -> c.Person:
        return own_records.get_my_person(self.db, caller)

    @rpc
    def get_my_membership(self, caller: Caller, request: Empty) -> c.MyMembership:
        return own_records.get_my_membership(self.db, caller)

    @rpc
    def list_my_memberships(self, caller: Caller, request: Empty) -> c.ListMyMembershipsResponse:
        return own_records.list_my_memberships(self.db, caller)

    @rpc(public=True)
    def request_password_reset(
        self, caller: Caller, request: c.RequestPasswordResetRequest
    ) -> Empty:
        return passwords.request_password_reset(self.db, self.links, request)

    @rpc(public=True)
    def reset_password(self, caller: Caller, request: c.ResetPasswordRequest) -> Empty:
        return passwords.reset_password(self.db, self.passwords, self.links, self.common, request)

    @rpc
    def change_password(self, caller: Caller, request: c.ChangePasswordRequest) -> Empty:
        return passwords.change_password(
            self.db,
            self.passwords,
            self.master,
            self.common,
            caller,
            request,
            source=self.auth.client_address,
            policy=self.throttle,
        )

    @on_event(c.PasswordResetRequested, transactional=False)
    def mail_password_reset(
        self, db: Db, event: c.PasswordResetRequested, envelope: Envelope
    ) -> None:
        passwords.send_password_reset_mail(db, self.links, self.mailer, event)

    @rpc
    def update_my_profile(self, caller: Caller, request: c.UpdateMyProfileRequest) -> c.Person:
        return own_records.update_my_profile(self.db, caller, request)

    @rpc
    def request_email_change(self, caller: Caller, request: c.RequestEmailChangeRequest) -> Empty:
        return addresses.request_email_change(
            self.db,
            self.passwords,
            self.links,
            caller,
            request,
            source=self.auth.client_address,
            policy=self.throttle,
        )

    @rpc(public=True)
    def confirm_email_change(
        self, caller: Caller, request: c.ConfirmEmailChangeRequest
    ) -> c.ConfirmEmailChangeResponse:
        return addresses.confirm_email_change(self.db, self.links, request)

    @on_event(c.EmailChangeRequested, transactional=False)
    def mail_email_change(self, db: Db, event: c.EmailChangeRequested, envelope: Envelope) -> None:
        addresses.send_address_confirmation_mail(db, self.links, self.mailer, event)

    @rpc
    def request_calendar_email(
        self, caller: Caller, request: c.RequestCalendarEmailRequest
    ) -> Empty:
        return addresses.request_calendar_email(
            self.db,
            self.passwords,
            self.links,
            caller,
            request,
            source=self.auth.client_address,
            policy=self.throttle,
        )

    @rpc
    def clear_calendar_email(self, caller: Caller, request: Empty) -> c.Person:
        return addresses.clear_calendar_email(self.db, caller)

    @on_event(c.CalendarEmailRequested, transactional=False)
    def mail_calendar_email(
        self, db: Db, event: c.CalendarEmailRequested, envelope: Envelope
    ) -> None:
        addresses.send_address_confirmation_mail(db, self.links, self.mailer, event)

    @rpc
    def accept_membership(self, caller: Caller, request: c.MyTenantRef) -> c.MyMembership:
        return own_records.accept_membership(self.db, caller, request)

    # ---- who coaches whom: the kernel's SpaceCopies declares one handler per spaces event
    # carrying a space's set-up (tests/unit/test_space_copies.py)

    def record_space(self, uow: IdentityUnit, event: sc.SpaceEvent, envelope: Envelope) -> None:
        coaching.record_space(uow, event, envelope)

    # ---- erasures: one handler per other service of the personal-data registry, counting the
    # completions of each erasure (tests/unit/test_identity_handlers.py fails for a registered
    # service without its handler here)

    @on_event(completion_event("spaces"))
    def on_spaces_person_erased(self, uow: IdentityUnit, event: Any, envelope: Envelope) -> None:
        personal_data.record_erasure_step(uow, envelope.source(), event)

    @on_event(completion_event("scheduling"))
    def on_scheduling_person_erased(
        self, uow: IdentityUnit, event: Any, envelope: Envelope
    ) -> None:
        personal_data.record_erasure_step(uow, envelope.source(), event)

    @on_event(completion_event("assessment"))
    def on_assessment_person_erased(
        self, uow: IdentityUnit, event: Any, envelope: Envelope
    ) -> None:
        personal_data.record_erasure_step(uow, envelope.source(), event)

    @on_event(completion_event("content"))
    def on_content_person_erased(self, uow: IdentityUnit, event: Any, envelope: Envelope) -> None:
        personal_data.record_erasure_step(uow, envelope.source(), event)

    @on_event(completion_event("reporting"))
    def on_reporting_person_erased(self, uow: IdentityUnit, event: Any, envelope: Envelope) -> None:
        personal_data.record_erasure_step(uow, envelope.source(), event)


def _deployment_added_services() -> None:
    """A service a deployment adds beside the platform's own (ECOACH_EXTRA_PERSONAL_DATA_SERVICES:
    a plug-in, the tests' witness) is not known when this class is written: its handler of
    `<service>.person_erased` is added here, from this process's settings. The platform's own
    services have theirs declared above."""
    for service in personal_data_services():
        if service in PERSONAL_DATA_SERVICES:
            continue

        def record(self: Any, uow: IdentityUnit, event: Any, envelope: Envelope) -> None:
            personal_data.record_erasure_step(uow, envelope.source(), event)

        record.__name__ = f"on_{service}_person_erased"
        setattr(IdentityService, record.__name__, on_event(completion_event(service))(record))


_deployment_added_services()
