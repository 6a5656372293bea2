"""What is answered (contract views of spaces, goals and notes) and the events recorded."""

from __future__ import annotations

from typing import Any

from services.contracts import spaces as c
from services.kernel.markdown import render as render_markdown

from ..domain.goals import Goal
from ..domain.model import (
    ERASED_PERSON,
    Participant,
    Relation,
    Space,
)
from ..domain.notes import Note


def participant_view(p: Participant | None) -> c.ParticipantView | None:
    return c.ParticipantView(member_id=p.member_id, person_id=p.person_id) if p else None


def space_view(space: Space, relation: Relation) -> c.Space:
    s = space.set_up
    coachee, coach = participant_view(s.coachee), participant_view(s.coach)
    assert coachee is not None and coach is not None
    content = None
    hidden = space.earlier_hidden_from(relation)
    if relation is not Relation.TENANT_ADMIN and hidden is None:
        content = c.ContentView(
            project=space.content.project,
            objectives=space.content.objectives,
            context=space.content.context,
        )
    return c.Space(
        space_id=space.id,
        tenant_id=space.tenant_id,
        status=c.SpaceStatus(space.status),
        set_up=c.SetUpView(
            coachee=coachee,
            coach=coach,
            co_coach=participant_view(s.co_coach),
            cadence=s.cadence,
            sessions_planned=s.sessions_planned,
            starts_on=s.starts_on,
            ends_on=s.ends_on,
        ),
        content=content,
        relation=relation.value,
        created_by=space.created_by,
        created_at=space.created_at,
        updated_at=space.updated_at,
        pending_coach_change=pending_coach_view(space),
        earlier_content_hidden=hidden is not None,
        earlier_content_hidden_from_coaches=relation is Relation.COACHEE
        and any(
            space.earlier_hidden_from(seat) is not None
            for seat in (Relation.COACH, Relation.CO_COACH)
        ),
    )


def pending_coach_view(space: Space) -> c.PendingCoachChange | None:
    p = space.pending
    if p is None:
        return None
    proposed = participant_view(p.participant)
    assert proposed is not None
    return c.PendingCoachChange(
        seat=p.seat,
        proposed=proposed,
        proposed_by=p.proposed_by,
        proposed_at=p.proposed_at,
    )


def space_event(model: type[c.SpaceEvent], space: Space, **more: Any) -> c.SpaceEvent:
    s = space.set_up
    return model(
        **more,
        space_id=space.id,
        tenant_id=space.tenant_id,
        status=c.SpaceStatus(space.status),
        coachee_person_id=s.coachee.person_id,
        coach_person_id=s.coach.person_id,
        co_coach_person_id=s.co_coach.person_id if s.co_coach else None,
        cadence=s.cadence,
        sessions_planned=s.sessions_planned,
        starts_on=s.starts_on,
        ends_on=s.ends_on,
        updated_at=space.updated_at,
    )


def goal_view(goal: Goal) -> c.Goal:
    return c.Goal(
        goal_id=goal.id,
        space_id=goal.space_id,
        tenant_id=goal.tenant_id,
        title=goal.title,
        description=goal.description,
        due_on=goal.due_on,
        progress=goal.progress,
        status=goal.status,
        milestones=[
            c.MilestoneView(id=m.id, title=m.title, due_on=m.due_on, done=m.done)
            for m in goal.milestones
        ],
        created_by=goal.created_by,
        created_at=goal.created_at,
        updated_at=goal.updated_at,
    )


def note_view(note: Note) -> c.Note:
    return c.Note(
        note_id=note.id,
        space_id=note.space_id,
        tenant_id=note.tenant_id,
        kind=note.kind,
        author_person_id="" if note.author_id == ERASED_PERSON else note.author_id,
        author_erased=note.author_id == ERASED_PERSON,
        parent_note_id=note.parent_id,
        body=note.body,
        body_html=note.body_html or render_markdown(note.body),
        links=[c.LinkView(url=link.url, title=link.title) for link in note.links],
        session_id=note.session_id,
        created_at=note.created_at,
        updated_at=note.updated_at,
    )
