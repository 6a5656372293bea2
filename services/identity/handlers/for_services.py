"""What other services ask identity for, with their service tokens."""

from __future__ import annotations

from services.contracts import identity as c

from ..domain.model import normalize_email
from ..storage.unit import Db


def list_access_revocations(
    db: Db, request: c.ListAccessRevocationsRequest
) -> c.ListAccessRevocationsResponse:
    """The revocations since `since`, for a process that starts or reconnects (rule 5)."""
    with db.read_only() as uow:
        rows = uow.revocations.since(request.since)
    return c.ListAccessRevocationsResponse(
        revocations=[
            c.AccessRevoked(
                revocation_id=r["id"],
                person_id=r["person_id"],
                tenant_id=r["tenant_id"],
                not_before=r["not_before"],
                reason=r["reason"],
                session_id=r["session_id"],
                except_session_id=r["except_session_id"],
            )
            for r in rows
        ]
    )


def resolve_members(db: Db, request: c.ResolveMembersRequest) -> c.ResolveMembersResponse:
    """For the spaces service (its service token): the person, roles and status behind member
    ids of one tenant (and whether the person is an operator), so that a space's coachee and
    coaches are checked when it is set up. Unknown ids, or another tenant's, are simply absent."""
    with db.read_only() as uow:
        found = uow.memberships.many_in(request.tenant_id, request.member_ids)
        people = uow.persons.many([m.person_id for m in found])
    return c.ResolveMembersResponse(
        members=[
            c.ResolvedMember(
                member_id=m.id,
                person_id=m.person_id,
                roles=list(m.roles),
                status=m.status,
                operator=m.person_id in people and people[m.person_id].platform_admin,
            )
            for m in found
        ]
    )


def contact_details(db: Db, request: c.ContactDetailsRequest) -> c.ContactDetailsResponse:
    """For scheduling and assessment (their service tokens), at send time: where and how to
    write to people (assessment: a 360 invitation names the coachee, in their language).
    Erased accounts and unknown ids are simply absent."""
    with db.read_only() as uow:
        found = uow.persons.many(request.person_ids)
    return c.ContactDetailsResponse(
        people=[
            c.ContactDetails(
                person_id=p.id,
                email=p.email,
                calendar_email=p.calendar_email or p.email,
                display_name=p.display_name,
                locale=p.locale,
                time_zone=p.time_zone,
            )
            for p in found.values()
            if p.erased_at is None
        ]
    )


def resolve_member_emails(
    db: Db, request: c.ResolveMemberEmailsRequest
) -> c.ResolveMemberEmailsResponse:
    """For the spaces service: the members of one tenant behind emails (a CSV of spaces).
    Emails without a membership there are simply absent."""
    keys = {normalize_email(e): e for e in request.emails}
    with db.read_only() as uow:
        people = uow.persons.by_email_keys(list(keys))
        found = uow.memberships.of_persons_in(request.tenant_id, [p.id for p in people.values()])
    answer = []
    for key, person in people.items():
        m = found.get(person.id)
        if m is not None:
            answer.append(
                c.ResolvedEmail(
                    email=keys[key],
                    member_id=m.id,
                    person_id=m.person_id,
                    roles=list(m.roles),
                    status=m.status,
                    operator=person.platform_admin,
                )
            )
    return c.ResolveMemberEmailsResponse(members=answer)
