"""What identity answers other services (never a person's client): members resolved by id or
email, and people's contact details asked at send time. Part of identity's contract
(`services.contracts.identity` re-exports them), kept apart to keep that module readable."""

from __future__ import annotations

from pydantic import Field

from .base import Contract, Id


class ContactDetailsRequest(Contract):
    """For a service that writes to people (scheduling, assessment): their contact details,
    asked at send time, since only identity keeps email addresses."""

    person_ids: list[str] = Field(min_length=1, max_length=50)


class ContactDetails(Contract):
    person_id: str
    email: str
    calendar_email: str  # where calendar mail goes: the confirmed calendar address, or `email`
    display_name: str
    locale: str
    time_zone: str


class ContactDetailsResponse(Contract):
    people: list[ContactDetails]  # erased or unknown people are absent


class ResolveMembersRequest(Contract):
    tenant_id: Id
    member_ids: list[Id] = Field(max_length=10)


class ResolveMemberEmailsRequest(Contract):
    tenant_id: Id
    emails: list[str] = Field(max_length=6_000)


class ResolvedMember(Contract):
    member_id: str
    person_id: str
    roles: list[str]
    status: str
    operator: bool = False  # a platform operator: as a coach, only if the coachee agrees


class ResolveMembersResponse(Contract):
    members: list[ResolvedMember]


class ResolvedEmail(ResolvedMember):
    email: str  # as asked


class ResolveMemberEmailsResponse(Contract):
    members: list[ResolvedEmail]
