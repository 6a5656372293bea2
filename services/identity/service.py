"""The identity nameko service: entrypoints only (rule 2)."""

from __future__ import annotations

import contextlib
import functools
import os
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import eventlet.patcher
import eventlet.semaphore
from eventlet import tpool

from services.contracts import identity as c
from services.contracts import spaces as sc
from services.contracts.base import Empty
from services.kernel.caller import Caller
from services.kernel.config import settings
from services.kernel.crypto import deployment_master_key
from services.kernel.events import Envelope
from services.kernel.personal_data import completion_event, personal_data_services
from services.kernel.revocations import Fetch, Revocation
from services.kernel.runtime.database import Database, WorkerDatabase
from services.kernel.runtime.entrypoints import ANY_SERVICE, Authentication, rpc
from services.kernel.runtime.eventing import EventRelay, on_event
from services.kernel.runtime.mailer import Mailer, mailer_from
from services.kernel.tokens import FetchedKeys, KeySource

from . import handlers
from .domain.throttle import ThrottlePolicy
from .mails import MAILS
from .passwords import Passwords, common_passwords
from .passwords import hasher as password_hasher
from .storage import Repositories

_master_key = deployment_master_key


_keys = handlers.SigningKeyCache(master=_master_key)


def _hash_slots() -> int:
    wanted = settings().password_hash_concurrency
    return wanted or max(1, (os.cpu_count() or 2) - 1)


_slots = eventlet.semaphore.Semaphore(_hash_slots())


_real_threading = eventlet.patcher.original("threading")


def _at_low_priority(fn: Any, *args: Any) -> Any:
    """Runs in a tpool thread, lowered (nice 10) first: under load the hashing core serves the
    other requests first, and sign-ins, which take tens of milliseconds anyway, wait."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, _real_threading.get_native_id(), 10)
    return fn(*args)


def _hash_off_the_loop(fn: Any, *args: Any) -> Any:
    """In a real thread (argon2 would block every green thread), a few at a time: a flood of
    sign-ins queues here instead of taking every core from the other requests."""
    with _slots:
        return tpool.execute(_at_low_priority, fn, *args)


_passwords = Passwords(
    run=_hash_off_the_loop,
    hasher=password_hasher(settings().argon2_memory_kib, settings().argon2_time_cost),
)


@functools.cache
def _links() -> handlers.LinkSettings:
    config = settings()
    return handlers.LinkSettings(
        _master_key(),
        config.public_url,
        timedelta(minutes=config.password_reset_ttl_minutes),
        timedelta(days=config.invitation_ttl_days),
    )


@functools.cache
def _mailer() -> Mailer:
    return mailer_from(settings(), MAILS)


def _own_signing_keys(container: Any) -> KeySource:
    """Identity verifies tokens with the public keys in its own database."""
    database = next(d for d in container.dependencies if isinstance(d, Database))

    def fetch() -> list[dict[str, Any]]:
        db = WorkerDatabase(database.engine, database.clock)
        try:
            with db.unit_of_work() as uow:
                return Repositories(uow.connection).signing_keys.public_jwks(uow.clock.now())
        finally:
            db.close()

    config = settings()
    return FetchedKeys(
        fetch,
        time.monotonic,
        min_interval=1.0,
        max_age=config.signing_keys_refresh_seconds,
        clock=database.clock,
    )


def _own_revocations(container: Any) -> Fetch:
    """Identity loads the recent revocations from its own database."""

    def fetch(since: datetime) -> list[Revocation]:
        database = next(d for d in container.dependencies if isinstance(d, Database))
        db = WorkerDatabase(database.engine, database.clock)
        try:
            answer = handlers.list_access_revocations(
                db, c.ListAccessRevocationsRequest(since=since)
            )
        finally:
            db.close()
        return [Revocation.of(r.model_dump()) for r in answer.revocations]

    return fetch


@functools.cache
def _throttle_policy() -> ThrottlePolicy:
    config = settings()
    defaults = ThrottlePolicy()
    return ThrottlePolicy(
        pair=replace(defaults.pair, free=config.sign_in_free_failures),
        account=replace(defaults.account, free=config.sign_in_account_free_failures),
    )


def _token_settings() -> handlers.TokenSettings:
    config = settings()
    return handlers.TokenSettings(
        config.token_issuer,
        config.token_audience,
        timedelta(seconds=config.access_token_ttl_seconds),
        refresh_ttl=timedelta(days=config.refresh_token_ttl_days),
        refresh_grace=timedelta(seconds=config.refresh_reuse_grace_seconds),
    )


class IdentityService:
    name = c.SERVICE

    db: WorkerDatabase = Database(c.SERVICE)
    auth = Authentication(key_source=_own_signing_keys, revocation_source=_own_revocations)
    relay = EventRelay()  # publishes identity.tenant_created, identity.membership_changed

    @rpc(public=True, quiet=True)
    def ping(self, caller: Caller, request: Empty) -> c.PingResponse:
        return c.PingResponse(service=self.name, ok=True)

    @rpc(public=True)
    def get_signing_keys(self, caller: Caller, request: Empty) -> c.SigningKeysResponse:
        return handlers.signing_keys(self.db, _keys)

    @rpc(public=True)
    def sign_in(self, caller: Caller, request: c.SignInRequest) -> c.SignInResponse:
        return handlers.sign_in(
            self.db,
            _passwords,
            _keys,
            _token_settings(),
            request,
            source=self.auth.client_address,
            policy=_throttle_policy(),
        )

    @rpc(public=True)
    def verify_mfa(self, caller: Caller, request: c.MfaCodeRequest) -> c.SignInResponse:
        return handlers.verify_mfa(
            self.db,
            _keys,
            _token_settings(),
            _master_key(),
            request,
            source=self.auth.client_address,
            policy=_throttle_policy(),
        )

    @rpc
    def start_mfa_enrolment(
        self, caller: Caller, request: c.StartMfaEnrolmentRequest
    ) -> c.MfaChallenge:
        return handlers.start_mfa_enrolment(
            self.db,
            _passwords,
            _master_key(),
            caller,
            request,
            source=self.auth.client_address,
            policy=_throttle_policy(),
        )

    @rpc(public=True)
    def begin_mfa_enrolment(self, caller: Caller, request: c.MfaChallengeRef) -> c.MfaEnrolment:
        return handlers.begin_mfa_enrolment(self.db, _master_key(), request)

    @rpc(public=True)
    def complete_mfa_enrolment(self, caller: Caller, request: c.MfaCodeRequest) -> c.MfaEnrolled:
        return handlers.complete_mfa_enrolment(
            self.db,
            _keys,
            _token_settings(),
            _master_key(),
            request,
            source=self.auth.client_address,
            policy=_throttle_policy(),
        )

    @rpc(public=True)
    def refresh(self, caller: Caller, request: c.RefreshRequest) -> c.SignInResponse:
        return handlers.refresh(self.db, _keys, _token_settings(), request)

    @rpc(public=True)
    def sign_out(self, caller: Caller, request: c.SignOutRequest) -> Empty:
        return handlers.sign_out(self.db, request)

    @rpc
    def sign_out_everywhere(self, caller: Caller, request: Empty) -> c.SignOutEverywhereResponse:
        return handlers.sign_out_everywhere(self.db, caller)

    @rpc
    def list_my_sign_ins(
        self, caller: Caller, request: c.ListMySignInsRequest
    ) -> c.ListMySignInsResponse:
        return handlers.list_my_sign_ins(self.db, caller, request)

    @rpc
    def list_tenant_audit_events(
        self, caller: Caller, request: c.ListTenantAuditRequest
    ) -> c.AuditEventList:
        return handlers.list_tenant_audit_events(self.db, caller, request)

    @rpc
    def list_security_events(
        self, caller: Caller, request: c.ListSecurityEventsRequest
    ) -> c.AuditEventList:
        return handlers.list_security_events(self.db, caller, request)

    @rpc
    def export_personal_data(self, caller: Caller, request: Empty) -> c.PersonalDataExport:
        return handlers.export_personal_data(self.db, caller)

    @rpc
    def erase_my_data(self, caller: Caller, request: c.EraseMyDataRequest) -> c.Erasure:
        return handlers.erase_my_data(
            self.db,
            _passwords,
            personal_data_services(),
            caller,
            request,
            source=self.auth.client_address,
            policy=_throttle_policy(),
        )

    @rpc
    def reset_person_mfa(
        self, caller: Caller, request: c.ResetPersonMfaRequest
    ) -> c.ResetPersonMfaResponse:
        return handlers.reset_person_mfa(self.db, caller, request)

    @rpc
    def erase_person(self, caller: Caller, request: c.ErasePersonRequest) -> c.Erasure:
        return handlers.erase_person(self.db, personal_data_services(), caller, request)

    @rpc(public=True)
    def get_erasure_status(self, caller: Caller, request: c.ErasureReceiptRef) -> c.Erasure:
        return handlers.get_erasure_status(self.db, request)

    @rpc
    def get_erasure(self, caller: Caller, request: c.ErasureRef) -> c.Erasure:
        return handlers.get_erasure(self.db, caller, request)

    @rpc
    def replay_erasures(
        self, caller: Caller, request: c.ReplayErasuresRequest
    ) -> c.ReplayErasuresResponse:
        return handlers.replay_erasures(self.db, caller, request)

    @rpc
    def list_erasures(self, caller: Caller, request: c.ListErasuresRequest) -> c.ErasureList:
        return handlers.list_erasures(self.db, caller, request)

    @rpc(services=("spaces",))
    def resolve_members(
        self, caller: Caller, request: c.ResolveMembersRequest
    ) -> c.ResolveMembersResponse:
        return handlers.resolve_members(self.db, request)

    @rpc(services=("spaces",))
    def resolve_member_emails(
        self, caller: Caller, request: c.ResolveMemberEmailsRequest
    ) -> c.ResolveMemberEmailsResponse:
        return handlers.resolve_member_emails(self.db, request)

    @rpc(services=("scheduling",))
    def contact_details(
        self, caller: Caller, request: c.ContactDetailsRequest
    ) -> c.ContactDetailsResponse:
        return handlers.contact_details(self.db, request)

    @rpc(services=ANY_SERVICE)
    def list_access_revocations(
        self, caller: Caller, request: c.ListAccessRevocationsRequest
    ) -> c.ListAccessRevocationsResponse:
        return handlers.list_access_revocations(self.db, request)

    @rpc
    def list_signing_keys(self, caller: Caller, request: Empty) -> c.SigningKeyList:
        return handlers.list_signing_keys(self.db, caller)

    @rpc
    def rotate_signing_key(self, caller: Caller, request: Empty) -> c.SigningKeyList:
        return handlers.rotate_signing_key(self.db, _keys, _token_settings(), caller)

    @rpc
    def retire_signing_key(self, caller: Caller, request: c.SigningKeyRef) -> c.SigningKeyList:
        return handlers.retire_signing_key(self.db, _keys, caller, request)

    @rpc
    def create_tenant(self, caller: Caller, request: c.CreateTenantRequest) -> c.Tenant:
        return handlers.create_tenant(self.db, caller, request)

    @rpc
    def get_tenant(self, caller: Caller, request: c.TenantRef) -> c.Tenant:
        return handlers.get_tenant(self.db, caller, request)

    @rpc
    def list_tenants(self, caller: Caller, request: c.ListTenantsRequest) -> c.ListTenantsResponse:
        return handlers.list_tenants(self.db, caller, request)

    @rpc
    def get_tenant_settings(self, caller: Caller, request: c.TenantRef) -> c.TenantSettings:
        return handlers.get_tenant_settings(self.db, caller, request)

    @rpc
    def update_tenant_settings(
        self, caller: Caller, request: c.UpdateTenantSettingsRequest
    ) -> c.TenantSettings:
        return handlers.update_tenant_settings(self.db, caller, request)

    @rpc
    def suspend_tenant(self, caller: Caller, request: c.TenantRef) -> c.Tenant:
        return handlers.suspend_tenant(self.db, caller, request)

    @rpc
    def reinstate_tenant(self, caller: Caller, request: c.TenantRef) -> c.Tenant:
        return handlers.reinstate_tenant(self.db, caller, request)

    @rpc
    def add_member(self, caller: Caller, request: c.AddMemberRequest) -> c.AddMemberResponse:
        return handlers.add_member(self.db, _links(), caller, request)

    @rpc
    def import_members(
        self, caller: Caller, request: c.ImportMembersRequest
    ) -> c.ImportMembersResponse:
        return handlers.import_members(self.db, _links(), caller, request)

    @rpc
    def resend_invitation(self, caller: Caller, request: c.MemberRef) -> c.Member:
        return handlers.resend_invitation(self.db, _links(), caller, request)

    @rpc(public=True)
    def accept_invitation(
        self, caller: Caller, request: c.AcceptInvitationRequest
    ) -> c.AcceptInvitationResponse:
        return handlers.accept_invitation(
            self.db,
            _passwords,
            _links(),
            common_passwords(),
            request,
            source=self.auth.client_address,
            policy=_throttle_policy(),
        )

    @on_event(c.InvitationIssued, transactional=False)
    def mail_invitation(
        self, db: WorkerDatabase, event: c.InvitationIssued, envelope: Envelope
    ) -> None:
        handlers.send_invitation_mail(db, _links(), _mailer(), event)

    @on_event(sc.CoachChanged, transactional=False)
    def mail_coach_changed(
        self, db: WorkerDatabase, event: sc.CoachChanged, envelope: Envelope
    ) -> None:
        handlers.send_coach_change_mail(db, _links(), _mailer(), event)

    @on_event(sc.CoCoachChanged, transactional=False)
    def mail_co_coach_changed(
        self, db: WorkerDatabase, event: sc.CoCoachChanged, envelope: Envelope
    ) -> None:
        handlers.send_coach_change_mail(db, _links(), _mailer(), event)

    @on_event(sc.CoachChangeProposed, transactional=False)
    def mail_coach_change_proposed(
        self, db: WorkerDatabase, event: sc.CoachChangeProposed, envelope: Envelope
    ) -> None:
        handlers.send_coach_change_mail(db, _links(), _mailer(), event)

    @rpc
    def list_my_coachees(self, caller: Caller, request: c.TenantRef) -> c.ListMembersResponse:
        return handlers.list_my_coachees(self.db, caller, request)

    @rpc
    def get_space_coaches(self, caller: Caller, request: c.SpaceRef) -> c.SpaceCoaches:
        return handlers.get_space_coaches(self.db, caller, request)

    @rpc
    def get_member(self, caller: Caller, request: c.MemberRef) -> c.Member:
        return handlers.get_member(self.db, caller, request)

    @rpc
    def list_members(self, caller: Caller, request: c.ListMembersRequest) -> c.ListMembersResponse:
        return handlers.list_members(self.db, caller, request)

    @rpc
    def update_member(self, caller: Caller, request: c.UpdateMemberRequest) -> c.Member:
        return handlers.update_member(self.db, caller, request)

    @rpc
    def deactivate_member(self, caller: Caller, request: c.MemberRef) -> c.Member:
        return handlers.deactivate_member(self.db, caller, request)

    @rpc
    def reactivate_member(self, caller: Caller, request: c.MemberRef) -> c.Member:
        return handlers.reactivate_member(self.db, caller, request)

    @rpc
    def get_my_person(self, caller: Caller, request: Empty) -> c.Person:
        return handlers.get_my_person(self.db, caller)

    @rpc
    def get_my_membership(self, caller: Caller, request: Empty) -> c.MyMembership:
        return handlers.get_my_membership(self.db, caller)

    @rpc
    def list_my_memberships(self, caller: Caller, request: Empty) -> c.ListMyMembershipsResponse:
        return handlers.list_my_memberships(self.db, caller)

    @rpc(public=True)
    def request_password_reset(
        self, caller: Caller, request: c.RequestPasswordResetRequest
    ) -> Empty:
        return handlers.request_password_reset(self.db, _links(), request)

    @rpc(public=True)
    def reset_password(self, caller: Caller, request: c.ResetPasswordRequest) -> Empty:
        return handlers.reset_password(self.db, _passwords, _links(), common_passwords(), request)

    @rpc
    def change_password(self, caller: Caller, request: c.ChangePasswordRequest) -> Empty:
        return handlers.change_password(
            self.db,
            _passwords,
            _master_key(),
            common_passwords(),
            caller,
            request,
            source=self.auth.client_address,
            policy=_throttle_policy(),
        )

    @on_event(c.PasswordResetRequested, transactional=False)
    def mail_password_reset(
        self, db: WorkerDatabase, event: c.PasswordResetRequested, envelope: Envelope
    ) -> None:
        handlers.send_password_reset_mail(db, _links(), _mailer(), event)

    @rpc
    def update_my_profile(self, caller: Caller, request: c.UpdateMyProfileRequest) -> c.Person:
        return handlers.update_my_profile(self.db, caller, request)

    @rpc
    def request_email_change(self, caller: Caller, request: c.RequestEmailChangeRequest) -> Empty:
        return handlers.request_email_change(
            self.db,
            _passwords,
            _links(),
            caller,
            request,
            source=self.auth.client_address,
            policy=_throttle_policy(),
        )

    @rpc(public=True)
    def confirm_email_change(
        self, caller: Caller, request: c.ConfirmEmailChangeRequest
    ) -> c.ConfirmEmailChangeResponse:
        return handlers.confirm_email_change(self.db, _links(), request)

    @on_event(c.EmailChangeRequested, transactional=False)
    def mail_email_change(
        self, db: WorkerDatabase, event: c.EmailChangeRequested, envelope: Envelope
    ) -> None:
        handlers.send_address_confirmation_mail(db, _links(), _mailer(), event)

    @rpc
    def request_calendar_email(
        self, caller: Caller, request: c.RequestCalendarEmailRequest
    ) -> Empty:
        return handlers.request_calendar_email(
            self.db,
            _passwords,
            _links(),
            caller,
            request,
            source=self.auth.client_address,
            policy=_throttle_policy(),
        )

    @rpc
    def clear_calendar_email(self, caller: Caller, request: Empty) -> c.Person:
        return handlers.clear_calendar_email(self.db, caller)

    @on_event(c.CalendarEmailRequested, transactional=False)
    def mail_calendar_email(
        self, db: WorkerDatabase, event: c.CalendarEmailRequested, envelope: Envelope
    ) -> None:
        handlers.send_address_confirmation_mail(db, _links(), _mailer(), event)

    @rpc
    def accept_membership(self, caller: Caller, request: c.MyTenantRef) -> c.MyMembership:
        return handlers.accept_membership(self.db, caller, request)


def _erasure_completions() -> None:
    """One handler of `<service>.person_erased` per other service of the personal-data
    registry: identity counts the completions of each erasure."""
    for service in personal_data_services():
        if service == c.SERVICE:
            continue

        def record(self: Any, uow: Any, event: Any, envelope: Envelope) -> None:
            handlers.record_erasure_step(uow, envelope.source(), event)

        record.__name__ = f"on_{service}_person_erased"
        setattr(IdentityService, record.__name__, on_event(completion_event(service))(record))


_erasure_completions()


def _coach_links() -> None:
    """One handler per spaces event that carries a space's set-up: who coaches whom."""
    for model in sc.EVENTS:
        if not (isinstance(model, type) and issubclass(model, sc.SpaceEvent)):
            continue

        def record(self: Any, uow: Any, event: Any, envelope: Envelope) -> None:
            handlers.record_space(uow, event, envelope)

        name = "on_" + model.TYPE.replace(".", "_")
        record.__name__ = name
        setattr(IdentityService, name, on_event(model)(record))


_coach_links()
