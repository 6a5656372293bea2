"""A space's set-up (coachee, coach, co-coach) from member ids, through identity."""

from __future__ import annotations

from collections.abc import Callable

from services.contracts import spaces as c

from ..domain.model import (
    MemberFacts,
    Participant,
    SetUp,
    check_member_roles,
    oversees,
)

# member ids of one tenant -> what identity knows of them
Resolve = Callable[[str, list[str]], dict[str, MemberFacts]]


ResolveEmails = Callable[[str, list[str]], dict[str, tuple[str, MemberFacts]]]


def resolve_set_up(resolve: Resolve, tenant_id: str, given: c.SetUpInput) -> SetUp:
    ids = {
        "coachee_member_id": given.coachee_member_id,
        "coach_member_id": given.coach_member_id,
    }
    if given.co_coach_member_id:
        ids["co_coach_member_id"] = given.co_coach_member_id
    found = resolve(tenant_id, sorted(set(ids.values())))
    check_member_roles(found, ids)

    def participant(member_id: str | None) -> Participant | None:
        return Participant(member_id, found[member_id][0]) if member_id else None

    coachee, coach = participant(given.coachee_member_id), participant(given.coach_member_id)
    assert coachee is not None and coach is not None
    return SetUp(
        coachee=coachee,
        coach=coach,
        co_coach=participant(given.co_coach_member_id),
        cadence=given.cadence,
        sessions_planned=given.sessions_planned,
        starts_on=given.starts_on,
        ends_on=given.ends_on,
    ).check()


def resolve_participant(
    resolve: Resolve, tenant_id: str, field: str, member_id: str
) -> tuple[Participant, bool]:
    """The member as a coach of the space, and whether they oversee the tenant (then the
    coachee must agree first)."""
    found = resolve(tenant_id, [member_id])
    check_member_roles(found, {field: member_id}, overseers=True)
    return Participant(member_id, found[member_id][0]), oversees(found[member_id])
