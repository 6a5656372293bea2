"""Events into facts: each event type maps to one small upsert, kept by the envelope's
sequence (storage/facts.py: FactStore.apply). An event carries its object's full state, so a
later correction (a late cancellation marked held, say) replaces the fact, and an older event
arriving late changes nothing. Facts are counted, never events.

The republish ("snapshot") events the publishing services add carry the same fields as their
live events: each is wired to the same function as them.
"""

from __future__ import annotations

from services.contracts import assessment as ac
from services.contracts import content as cc
from services.contracts import identity as ic
from services.contracts import scheduling as sch
from services.contracts import spaces as sc
from services.kernel.events import Envelope
from services.kernel.space_copy import ERASED_PERSON

from ..storage.unit import ReportingUnit


def record_membership(uow: ReportingUnit, event: ic.MembershipChanged, envelope: Envelope) -> None:
    erased = event.status == ic.MembershipStatus.ERASED
    uow.members.apply(
        event.member_id,
        envelope.sequence,
        {
            "tenant_id": event.tenant_id,
            "person_id": ERASED_PERSON if erased else event.person_id,
            "roles": [str(r) for r in event.roles],
            "status": str(event.status),
            "department": None if erased else event.department,
            "site": None if erased else event.site,
            "programme": None if erased else event.programme,
        },
    )


def record_space(uow: ReportingUnit, event: sc.SpaceEvent, envelope: Envelope) -> None:
    uow.spaces.apply(
        event.space_id,
        envelope.sequence,
        {
            "tenant_id": event.tenant_id,
            "coachee_person_id": event.coachee_person_id,
            "status": str(event.status),
            "sessions_planned": event.sessions_planned,
            "starts_on": event.starts_on,
            "ends_on": event.ends_on,
        },
    )


def record_goal(
    uow: ReportingUnit, event: sc.GoalAchieved | sc.GoalSnapshot, envelope: Envelope
) -> None:
    uow.goals.apply(
        event.goal_id,
        envelope.sequence,
        {
            "tenant_id": event.tenant_id,
            "space_id": event.space_id,
            "achieved_at": event.achieved_at,
        },
    )


def record_tool(uow: ReportingUnit, event: sc.ToolEvent, envelope: Envelope) -> None:
    uow.tools.apply(
        event.tool_id,
        envelope.sequence,
        {
            "tenant_id": event.tenant_id,
            "space_id": event.space_id,
            "state": str(event.state),
            "done": event.done,
        },
    )


def record_session(uow: ReportingUnit, event: sch.SessionEvent, envelope: Envelope) -> None:
    """`late` holds only while the session stands cancelled: a late cancellation corrected to
    held is one held session. (A cancellation and a snapshot carry `late`.)"""
    late = bool(getattr(event, "late", False))
    uow.sessions.apply(
        event.session_id,
        envelope.sequence,
        {
            "tenant_id": event.tenant_id,
            "space_id": event.space_id,
            "coachee_person_id": event.coachee_person_id,
            "status": event.status,
            "starts_at": event.starts_at,
            "late": late and event.status == "cancelled",
            "uses_session": event.uses_session,
        },
    )


def record_assessment(uow: ReportingUnit, event: ac.AssignmentEvent, envelope: Envelope) -> None:
    """A snapshot says when each attempt was submitted: the first is the fact's."""
    submitted = isinstance(event, ac.AttemptSubmitted) or event.status == "submitted"
    times = getattr(event, "submitted_at", None) or []
    first_submitted = min(times) if times else None
    uow.assessments.apply(
        event.assignment_id,
        envelope.sequence,
        {
            "tenant_id": event.tenant_id,
            "space_id": event.space_id,
            "status": event.status,
            "assigned_at": event.updated_at,  # kept from the first event applied
            "submitted_at": first_submitted or (event.updated_at if submitted else None),
        },
    )


def record_module(uow: ReportingUnit, event: cc.ModuleProgressEvent, envelope: Envelope) -> None:
    """A snapshot says when the module was started and completed; a live event is that moment."""
    started = event.status in ("started", "completed")
    started_at = getattr(event, "started_at", None) or (event.updated_at if started else None)
    completed_at = getattr(event, "completed_at", None) or (
        event.updated_at if event.status == "completed" else None
    )
    uow.modules.apply(
        event.assignment_id,
        envelope.sequence,
        {
            "tenant_id": event.tenant_id,
            "space_id": event.space_id,
            "coachee_person_id": event.coachee_person_id,
            "status": event.status,
            "started_at": started_at,  # kept once set
            "completed_at": completed_at,  # kept once set
        },
    )
