"""The identity service's contract: people, tenants, memberships, sign-in, signing keys.

Ids are opaque random strings with a type prefix (`tnt_`, `per_`, `mem_`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints

from services.kernel.events import EventPayload
from services.kernel.personal_data import PersonErased as PersonErasedBase
from services.kernel.validation import EMAIL_PATTERN, OPAQUE, SLUG_PATTERN

from .base import Contract, Empty, Id, Method, PageRequest, PingResponse, PublishingApi

# Re-exported (`x as x`): part of this API, though written in another module.
from .base import TenantRef as TenantRef
from .identity_for_services import ContactDetails as ContactDetails
from .identity_for_services import ContactDetailsRequest as ContactDetailsRequest
from .identity_for_services import ContactDetailsResponse as ContactDetailsResponse
from .identity_for_services import ResolvedEmail as ResolvedEmail
from .identity_for_services import ResolvedMember as ResolvedMember
from .identity_for_services import ResolveMemberEmailsRequest as ResolveMemberEmailsRequest
from .identity_for_services import ResolveMemberEmailsResponse as ResolveMemberEmailsResponse
from .identity_for_services import ResolveMembersRequest as ResolveMembersRequest
from .identity_for_services import ResolveMembersResponse as ResolveMembersResponse
from .personal_data import (
    EraseMyDataRequest,
    Erasure,
    ErasureList,
    ErasureReceiptRef,
    ErasureRef,
    ListErasuresRequest,
    PersonalDataExport,
    ReplayErasuresRequest,
    ReplayErasuresResponse,
)

SERVICE = "identity"

Email = Annotated[str, StringConstraints(min_length=3, max_length=254, pattern=EMAIL_PATTERN)]
Locale = Annotated[str, StringConstraints(pattern=r"^(fr|en)$")]
TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64)]
DisplayName = Annotated[str, StringConstraints(max_length=200)]
# A cohort attribute (department, site, programme): a label on one line, trimmed, at most 80
# characters (the identity domain's MAX_COHORT_LABEL); empty means unset.
MAX_COHORT_LABEL = 80
CohortLabel = Annotated[str, StringConstraints(max_length=MAX_COHORT_LABEL)]


class Role(StrEnum):
    TENANT_ADMIN = "tenant_admin"
    COACH = "coach"
    COACHEE = "coachee"


class MembershipStatus(StrEnum):
    PENDING = "pending"  # the email belonged to an existing person, who has not accepted yet
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    ERASED = "erased"  # the person had their data erased: final


# ---------------------------------------------------------------- views


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # its members cannot sign in


class Tenant(Contract):
    tenant_id: str
    slug: str
    name: str
    created_at: datetime
    status: TenantStatus = TenantStatus.ACTIVE


class TenantSettings(Contract):
    """The tenant's own settings kept by identity. Settings of other services (cancellation
    policy, video provider) live in those services."""

    tenant_id: str
    seats: int | None  # memberships active or pending; None: no limit
    seats_used: int
    default_locale: str
    default_time_zone: str
    mfa_required_roles: list[Role]


# Operators set seats; tenant admins the rest.
TENANT_SETTINGS_FIELDS = ("seats", "default_locale", "default_time_zone", "mfa_required_roles")


class UpdateTenantSettingsRequest(Contract):
    tenant_id: Id
    seats: int | None = Field(default=None, ge=0, le=1_000_000)
    default_locale: str = ""
    default_time_zone: str = ""
    mfa_required_roles: list[Role] = Field(default_factory=list, max_length=3)
    update_mask: list[str] = Field(min_length=1, max_length=10)


class Person(Contract):
    person_id: str
    email: str
    display_name: str
    locale: str
    time_zone: str
    platform_admin: bool
    created_at: datetime
    # Only in the caller's own person: where their calendar mail goes when it is not `email`
    # (confirmed from that address); empty: to `email`.
    calendar_email: str = ""


class Member(Contract):
    """A membership as its tenant sees it. While pending, the tenant sees only the email it
    typed: `person_id`, `display_name`, `locale` and `time_zone` are empty. The cohort
    attributes (empty when unset) are shown to the tenant's admins, the operator and the member
    themselves only: a coach reading their coachee gets them empty."""

    member_id: str
    tenant_id: str
    person_id: str = ""
    email: str
    display_name: str = ""
    locale: str = ""
    time_zone: str = ""
    roles: list[Role]
    status: MembershipStatus
    created_at: datetime
    updated_at: datetime
    department: str = ""
    site: str = ""
    programme: str = ""


class MyMembership(Contract):
    """A membership as its person sees it (across tenants: a person's own memberships), with
    the cohort attributes the tenant's admins set on it (empty when unset)."""

    member_id: str
    tenant_id: str
    tenant_name: str
    roles: list[Role]
    status: MembershipStatus
    department: str = ""
    site: str = ""
    programme: str = ""


# ---------------------------------------------------------------- requests and responses


class SignInRequest(Contract):
    email: Email
    password: Annotated[
        str, StringConstraints(min_length=1, max_length=1024, strip_whitespace=False), OPAQUE
    ]
    # Tenant id or slug. Empty: an operator's token, or, for anyone else, a personal token
    # that reaches only their own person and memberships.
    tenant: Annotated[str, StringConstraints(max_length=64)] = ""


class SignInResponse(Contract):
    """Either signed in (`next_step` done: the tokens) or a second step to take with
    `challenge`: `verify_mfa` (a code) or `enrol_mfa` (the policy requires an authenticator)."""

    access_token: str = ""
    expires_at: datetime | None = None
    person_id: str
    tenant_id: str = ""
    # Trade it for a new pair with `refresh` before `refresh_expires_at`; used once.
    refresh_token: str = ""
    refresh_expires_at: datetime | None = None
    next_step: Literal["done", "verify_mfa", "enrol_mfa"] = "done"
    challenge: str = ""
    challenge_expires_at: datetime | None = None


ChallengeText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class MfaChallengeRef(Contract):
    challenge: ChallengeText


# 6 digits from the authenticator, or a recovery code (as typed: spaces and dashes allowed).
MfaCodeText = Annotated[str, StringConstraints(max_length=64)]


class MfaCodeRequest(Contract):
    """A challenge and a code: 6 digits from the authenticator, or a recovery code."""

    challenge: ChallengeText
    code: str = Field(max_length=64)


class MfaEnrolment(Contract):
    """What the authenticator app needs: the secret, as an otpauth URI and as a QR code."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class MfaEnrolled(Contract):
    # The tokens of the new session, after the enrolment a sign-in demanded; None after an
    # enrolment a signed-in person started (StartMfaEnrolment): their session goes on.
    sign_in: SignInResponse | None = None
    recovery_codes: list[str]  # shown once: identity keeps only their hashes


class MfaChallenge(Contract):
    challenge: str
    challenge_expires_at: datetime


RefreshTokenText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RefreshRequest(Contract):
    refresh_token: RefreshTokenText
    # Empty: the same tenant (or none) as the token. Else a tenant id or slug to switch to.
    tenant: Annotated[str, StringConstraints(max_length=64)] = ""


class SignOutRequest(Contract):
    refresh_token: RefreshTokenText


class ListMySignInsRequest(PageRequest):
    pass


class SignInRecord(Contract):
    time: datetime
    outcome: Literal["succeeded", "failed"]
    tenant_id: str = ""
    source: str = ""  # the address the attempt came from


class ListMySignInsResponse(Contract):
    sign_ins: list[SignInRecord]
    next_page_token: str = ""


class OperatorPersonRef(Contract):
    """Operators: the person by id or by email (exactly one)."""

    person_id: str = ""
    email: str = ""


class ErasePersonRequest(OperatorPersonRef):
    pass


class ResetPersonMfaRequest(OperatorPersonRef):
    pass


class ResetPersonMfaResponse(Contract):
    person_id: str
    sessions_ended: int


class ListTenantAuditRequest(PageRequest):
    tenant_id: Id


class ListSecurityEventsRequest(PageRequest):
    pass


class AuditEvent(Contract):
    time: datetime
    action: str  # e.g. member.deactivated, tenant.settings_changed, sign_in.failed
    tenant_id: str = ""
    actor_id: str = ""  # the person who did it; empty for the system or an anonymous caller
    subject: str = ""  # the member, tenant, key or person it is about
    detail: dict[str, str] = {}


class AuditEventList(Contract):
    events: list[AuditEvent]
    next_page_token: str = ""


class SignOutEverywhereResponse(Contract):
    sessions_ended: int


class SigningKeysResponse(Contract):
    # Public JWKs; one being retired carries `retire_at` (seconds since the epoch).
    keys: list[dict[str, Any]]


class SigningKeyInfo(Contract):
    kid: str
    created_at: datetime
    retire_at: datetime | None = None
    state: Literal["signing", "verifying", "retired"]


class SigningKeyList(Contract):
    keys: list[SigningKeyInfo]


class SigningKeyRef(Contract):
    kid: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class CreateTenantRequest(Contract):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    slug: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=SLUG_PATTERN)]


class ListTenantsRequest(PageRequest):
    pass


class ListTenantsResponse(Contract):
    tenants: list[Tenant]
    next_page_token: str = ""


class AddMemberRequest(Contract):
    tenant_id: Id
    email: Email
    roles: list[Role] = Field(min_length=1, max_length=3)
    # Profile fields apply only when the email is new to the platform.
    display_name: DisplayName = ""
    locale: Locale | None = None
    time_zone: TimeZone | None = None


class ImportMembersRequest(Contract):
    """A CSV file (see services/identity/domain/roster.py), base64 over RPC."""

    tenant_id: Id
    csv_base64: str = Field(min_length=1, max_length=1_500_000)


class RejectedRow(Contract):
    line: int
    email: str
    reason: str


class ImportMembersResponse(Contract):
    added: int
    already_members: int
    already_invited: int
    rejected: int  # bad rows, not counting those already members or invited
    # every row not added, and every one added unmailed (TOO_MANY_INVITATIONS), with why, in
    # file order
    rows: list[RejectedRow]


class AddMemberResponse(Contract):
    """The same shape whether the email was new or already someone's: it reveals neither."""

    member_id: str
    tenant_id: str
    email: str
    roles: list[Role]


class MemberRef(Contract):
    tenant_id: Id
    member_id: Id


class SpaceRef(Contract):
    """A coaching space, by the ids the spaces service gave it."""

    tenant_id: Id
    space_id: Id


class CoachName(Contract):
    """The one thing a coachee learns of their coach from identity: the name (no email)."""

    person_id: str
    display_name: str = ""  # empty for an erased person


class SpaceCoaches(Contract):
    """Who accompanies a space's coachee: its coach and, if any, co-coach."""

    tenant_id: str
    space_id: str
    coach: CoachName
    co_coach: CoachName | None = None


# A member search's text: a start of an email or of a word of a name (see MemberSearch).
MAX_MEMBER_QUERY = 100


class ListMembersRequest(PageRequest):
    """The tenant's members, oldest first; narrowed, when given, to those whose email or a word
    of whose name starts with `query` (case and accents aside; on one line: no NUL, tab or line
    break), who hold `role`, and whose membership has `status`."""

    tenant_id: Id
    query: Annotated[str, StringConstraints(max_length=MAX_MEMBER_QUERY)] = ""
    role: Role | None = None
    status: MembershipStatus | None = None


class ListMembersResponse(Contract):
    members: list[Member]
    next_page_token: str = ""


class UpdateMemberRequest(Contract):
    tenant_id: Id
    member_id: Id
    roles: list[Role] = Field(default_factory=list, max_length=3)
    update_mask: list[str] = Field(min_length=1, max_length=10)


class SetMemberAttributesRequest(Contract):
    """A member's cohort attributes, all three at once: each replaces the stored label, and an
    empty one unsets it."""

    tenant_id: Id
    member_id: Id
    department: CohortLabel = ""
    site: CohortLabel = ""
    programme: CohortLabel = ""


class MyTenantRef(Contract):
    """Names a tenant the caller belongs to; empty means the tenant of the caller's token."""

    tenant_id: Annotated[str, StringConstraints(max_length=64)] = ""


class ListMyMembershipsResponse(Contract):
    memberships: list[MyMembership]


# ---------------------------------------------------------------- passwords

# A password is compared as given: only NUL is refused (services/kernel/validation.py).
Password = Annotated[
    str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False), OPAQUE
]


class RequestPasswordResetRequest(Contract):
    email: Email


class ResetPasswordRequest(Contract):
    token: str = Field(min_length=16, max_length=128)
    new_password: Password


class PersonProof(Contract):
    """Proof of the person, not just of a token, for sensitive changes to an account (adding a
    factor, changing the password or where links go): the current password, and a code from the
    authenticator (or a recovery code) when the person has enrolled one."""

    current_password: Password
    mfa_code: MfaCodeText = ""


class StartMfaEnrolmentRequest(PersonProof):
    pass


class ChangePasswordRequest(PersonProof):
    new_password: Password


# ---------------------------------------------------------------- invitations


class AcceptInvitationRequest(Contract):
    token: str = Field(min_length=16, max_length=128)
    # A new account: the password to set. An existing account: its current password (accepting
    # signs in; it never sets an existing password).
    password: Password


class AcceptInvitationResponse(Contract):
    tenant_id: str
    member_id: str
    email: str
    new_account: bool


# ---------------------------------------------------------------- profile

PROFILE_FIELDS = ("display_name", "locale", "time_zone")


class UpdateMyProfileRequest(Contract):
    """Only the fields named in `update_mask` change (display_name, locale, time_zone)."""

    display_name: DisplayName = ""
    locale: str = ""
    time_zone: str = ""
    update_mask: list[str] = Field(min_length=1, max_length=10)


class RequestEmailChangeRequest(PersonProof):
    new_email: Email


class ConfirmEmailChangeRequest(Contract):
    token: str = Field(min_length=16, max_length=128)


class ConfirmedAddress(StrEnum):
    ACCOUNT = "account"  # the account's email changed
    CALENDAR = "calendar"  # calendar mail now goes to the address


class ConfirmEmailChangeResponse(Contract):
    """Which address the link confirmed (the same page opens both kinds of link)."""

    confirmed: ConfirmedAddress


class RequestCalendarEmailRequest(PersonProof):
    calendar_email: Email


# ---------------------------------------------------------------- events


class TenantCreated(EventPayload):
    """A tenant was created (by an operator, or the demo seed)."""

    TYPE: ClassVar[str] = "identity.tenant_created"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "tenant_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    tenant_id: str
    slug: str
    created_at: datetime


class MembershipChange(StrEnum):
    ADDED = "added"  # a new person, active at once
    PENDING = "pending"  # an existing person, who must accept
    ACCEPTED = "accepted"
    ROLES_CHANGED = "roles_changed"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"
    ERASED = "erased"  # the person was erased: the membership is gone for good
    ATTRIBUTES_CHANGED = "attributes_changed"  # department, site or programme (v2)
    REPUBLISHED = "republished"  # nothing changed: the state again, on an operator's republish


class MembershipChanged(EventPayload):
    """A membership changed, with its full current state (a copy applies a newer sequence only).
    v2 adds the cohort attributes HR reports group by, set by the tenant's admins (None: unset)."""

    TYPE: ClassVar[str] = "identity.membership_changed"
    VERSION: ClassVar[int] = 2
    AGGREGATE: ClassVar[str] = "member_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    change: MembershipChange
    member_id: str
    tenant_id: str
    person_id: str
    roles: list[Role]
    status: MembershipStatus
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None = None
    department: str | None = None
    site: str | None = None
    programme: str | None = None


class PasswordResetRequested(EventPayload):
    """Someone asked for a password-reset link for an existing account; identity itself mails
    the link (derived at send time, never stored). Nothing is published for unknown emails."""

    TYPE: ClassVar[str] = "identity.password_reset_requested"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "person_id"
    TENANT: ClassVar[str | None] = None

    reset_id: str
    person_id: str
    expires_at: datetime


class InvitationIssued(EventPayload):
    """An invitation link was issued for a pending membership (on adding a person, or on
    re-sending); identity itself mails it to the invited address, derived at send time."""

    TYPE: ClassVar[str] = "identity.invitation_issued"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "link_id"
    TENANT: ClassVar[str | None] = "tenant_id"

    link_id: str
    member_id: str
    tenant_id: str
    person_id: str
    expires_at: datetime


class EmailChangeRequested(EventPayload):
    """A person asked to change their email; identity itself mails a confirmation link to the
    new address (derived at send time). The address is not in the event: only identity keeps
    email addresses."""

    TYPE: ClassVar[str] = "identity.email_change_requested"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "person_id"
    TENANT: ClassVar[str | None] = None

    link_id: str
    person_id: str
    expires_at: datetime


class CalendarEmailRequested(EventPayload):
    """A person asked for their calendar mail to go to another address; identity itself mails a
    confirmation link there (derived at send time). The address is not in the event."""

    TYPE: ClassVar[str] = "identity.calendar_email_requested"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "person_id"
    TENANT: ClassVar[str | None] = None

    link_id: str
    person_id: str
    expires_at: datetime


class AccessRevocationReason(StrEnum):
    DEACTIVATED = "deactivated"
    ROLES_CHANGED = "roles_changed"
    TENANT_SUSPENDED = "tenant_suspended"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a reason, not a password
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    ERASED = "erased"
    SIGNED_OUT = "signed_out"  # one session
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason; every session but one
    EMAIL_CHANGED = "email_changed"  # every session but the one that asked
    MFA_RESET = "mfa_reset"  # an operator reset the person's authenticator


class AccessRevoked(EventPayload):
    """The one broadcast (rule 5): every process refuses, from now on, the access tokens issued
    before `not_before` to `person_id` (only those for `tenant_id`, if set; only those of the
    session `session_id`, if set; all but those of `except_session_id`, if set), or, without a
    person, to everyone in `tenant_id`. Every process binds its own exclusive queue to it; no
    service handles it through the outbox machinery's durable queues."""

    TYPE: ClassVar[str] = "identity.access_revoked"
    VERSION: ClassVar[int] = 1
    AGGREGATE: ClassVar[str] = "revocation_id"
    TENANT: ClassVar[str | None] = None

    revocation_id: str
    person_id: str | None = None
    tenant_id: str | None = None
    not_before: datetime
    reason: AccessRevocationReason
    session_id: str | None = None
    except_session_id: str | None = None


class PersonErased(PersonErasedBase):
    """A person's data is to be erased everywhere (the personal-data contract): identity has
    anonymised the account and its memberships in the transaction that recorded this event.
    Every service listed in the registry erases what it keeps about `person_id`, then records
    `<service>.person_erased` with the same `erasure_id`."""

    TYPE: ClassVar[str] = "identity.person_erased"
    VERSION: ClassVar[int] = 1

    requested_at: datetime


class ListAccessRevocationsRequest(Contract):
    since: datetime


class ListAccessRevocationsResponse(Contract):
    revocations: list[AccessRevoked]


# Every event identity publishes (the event catalogue is generated from these).
EVENTS: tuple[type[EventPayload], ...] = (
    TenantCreated,
    MembershipChanged,
    PasswordResetRequested,
    EmailChangeRequested,
    CalendarEmailRequested,
    InvitationIssued,
    AccessRevoked,
    PersonErased,
)


# ---------------------------------------------------------------- methods


class IdentityApi(PublishingApi):
    """What the identity service serves (its `@rpc` methods, in the order of its service.py)."""

    service = SERVICE

    ping = Method(Empty, PingResponse)
    get_signing_keys = Method(Empty, SigningKeysResponse)
    sign_in = Method(SignInRequest, SignInResponse)
    verify_mfa = Method(MfaCodeRequest, SignInResponse)
    start_mfa_enrolment = Method(StartMfaEnrolmentRequest, MfaChallenge)
    begin_mfa_enrolment = Method(MfaChallengeRef, MfaEnrolment)
    complete_mfa_enrolment = Method(MfaCodeRequest, MfaEnrolled)
    refresh = Method(RefreshRequest, SignInResponse)
    sign_out = Method(SignOutRequest, Empty)
    sign_out_everywhere = Method(Empty, SignOutEverywhereResponse)
    list_my_sign_ins = Method(ListMySignInsRequest, ListMySignInsResponse)
    list_tenant_audit_events = Method(ListTenantAuditRequest, AuditEventList)
    list_security_events = Method(ListSecurityEventsRequest, AuditEventList)
    export_personal_data = Method(Empty, PersonalDataExport)
    erase_my_data = Method(EraseMyDataRequest, Erasure)
    reset_person_mfa = Method(ResetPersonMfaRequest, ResetPersonMfaResponse)
    erase_person = Method(ErasePersonRequest, Erasure)
    get_erasure_status = Method(ErasureReceiptRef, Erasure)
    get_erasure = Method(ErasureRef, Erasure)
    replay_erasures = Method(ReplayErasuresRequest, ReplayErasuresResponse)
    list_erasures = Method(ListErasuresRequest, ErasureList)
    resolve_members = Method(ResolveMembersRequest, ResolveMembersResponse)
    resolve_member_emails = Method(ResolveMemberEmailsRequest, ResolveMemberEmailsResponse)
    contact_details = Method(ContactDetailsRequest, ContactDetailsResponse)
    list_access_revocations = Method(ListAccessRevocationsRequest, ListAccessRevocationsResponse)
    list_signing_keys = Method(Empty, SigningKeyList)
    rotate_signing_key = Method(Empty, SigningKeyList)
    retire_signing_key = Method(SigningKeyRef, SigningKeyList)
    create_tenant = Method(CreateTenantRequest, Tenant)
    get_tenant = Method(TenantRef, Tenant)
    list_tenants = Method(ListTenantsRequest, ListTenantsResponse)
    get_tenant_settings = Method(TenantRef, TenantSettings)
    update_tenant_settings = Method(UpdateTenantSettingsRequest, TenantSettings)
    suspend_tenant = Method(TenantRef, Tenant)
    reinstate_tenant = Method(TenantRef, Tenant)
    add_member = Method(AddMemberRequest, AddMemberResponse)
    import_members = Method(ImportMembersRequest, ImportMembersResponse)
    resend_invitation = Method(MemberRef, Member)
    accept_invitation = Method(AcceptInvitationRequest, AcceptInvitationResponse)
    list_my_coachees = Method(TenantRef, ListMembersResponse)
    get_space_coaches = Method(SpaceRef, SpaceCoaches)
    get_member = Method(MemberRef, Member)
    list_members = Method(ListMembersRequest, ListMembersResponse)
    update_member = Method(UpdateMemberRequest, Member)
    set_member_attributes = Method(SetMemberAttributesRequest, Member)
    deactivate_member = Method(MemberRef, Member)
    reactivate_member = Method(MemberRef, Member)
    get_my_person = Method(Empty, Person)
    get_my_membership = Method(Empty, MyMembership)
    list_my_memberships = Method(Empty, ListMyMembershipsResponse)
    request_password_reset = Method(RequestPasswordResetRequest, Empty)
    reset_password = Method(ResetPasswordRequest, Empty)
    change_password = Method(ChangePasswordRequest, Empty)
    update_my_profile = Method(UpdateMyProfileRequest, Person)
    request_email_change = Method(RequestEmailChangeRequest, Empty)
    confirm_email_change = Method(ConfirmEmailChangeRequest, ConfirmEmailChangeResponse)
    request_calendar_email = Method(RequestCalendarEmailRequest, Empty)
    clear_calendar_email = Method(Empty, Person)
    accept_membership = Method(MyTenantRef, MyMembership)
