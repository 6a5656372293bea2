"""The two dashboards, one gateway call each: the coachee's spaces with goals and latest shared
notes; the coach's coachees with status and last activity. Nothing anyone else may not see."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as pb
from gateway.api.pb import spaces_pb2_grpc as pb_grpc
from tests.e2e.conftest import TenantWorld, make_tenant
from tests.support.api import Api, Session, expect_error
from tests.support.spaces import add_person, create, move, set_up
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def stubs(deployment: Deployment) -> Iterator[dict[str, Any]]:
    channel = deployment.channel()
    yield {
        "spaces": pb_grpc.SpaceServiceStub(channel),
        "goals": pb_grpc.GoalServiceStub(channel),
        "notes": pb_grpc.NoteServiceStub(channel),
        "dashboards": pb_grpc.DashboardServiceStub(channel),
    }
    channel.close()


def note(stubs: dict[str, Any], space: str, who: Session, kind: int, body: str) -> None:
    stubs["notes"].CreateNote(
        pb.CreateNoteRequest(parent=space, note=pb.Note(kind=kind, body=body)),
        metadata=who.metadata,
    )


def test_the_coachee_and_the_coach_each_get_their_dashboard_in_one_call(
    deployment: Deployment, api: Api, operator: Session, stubs: dict[str, Any]
) -> None:
    team: TenantWorld = make_tenant(deployment, api, operator)
    spaces, dashboards = stubs["spaces"], stubs["dashboards"]
    first = create(spaces, team, team.coach, project="First engagement")
    move(spaces, "Activate", first.name, team.coach)
    stubs["goals"].CreateGoal(
        pb.CreateGoalRequest(parent=first.name, goal=pb.Goal(title="Speak up")),
        metadata=team.coachee.metadata,
    )
    for i in range(7):
        note(stubs, first.name, team.coach, pb.SHARED, f"shared {i}")
    note(stubs, first.name, team.coach, pb.COACH_PRIVATE, "the coach's own")
    note(stubs, first.name, team.coachee, pb.JOURNAL, "my journal")
    draft = create(spaces, team, team.coach)  # not the coachee's yet

    # A second coachee of the same coach, active a moment later.
    other_member, other = add_person(deployment, api, team, ipb.COACHEE, "second-coachee")
    time.sleep(0.05)
    second = spaces.CreateSpace(
        pb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id), set_up=set_up(team, coachee_member_id=other_member)
        ),
        metadata=team.coach.metadata,
    )
    move(spaces, "Activate", second.name, team.coach)

    mine = dashboards.GetCoacheeDashboard(
        pb.GetCoacheeDashboardRequest(parent=tenant_name(team.tenant_id)),
        metadata=team.coachee.metadata,
    )
    [card] = mine.spaces
    assert (
        card.space.space_id == first.space_id and card.space.content.project == "First engagement"
    )
    assert [g.title for g in card.goals] == ["Speak up"]
    assert [n.body for n in card.latest_notes] == [f"shared {i}" for i in (6, 5, 4, 3, 2)]
    assert all(n.kind == pb.SHARED for n in card.latest_notes)

    roster = dashboards.GetCoachDashboard(
        pb.GetCoachDashboardRequest(parent=tenant_name(team.tenant_id)),
        metadata=team.coach.metadata,
    ).coachees
    assert [e.space.space_id for e in roster] == [second.space_id, draft.space_id, first.space_id]
    assert [e.space.status for e in roster] == [pb.SPACE_ACTIVE, pb.SPACE_DRAFT, pb.SPACE_ACTIVE]
    assert all(not e.space.HasField("content") for e in roster)
    assert roster[0].space.set_up.coachee_person_id == other.person_id
    # A new shared note brings its space to the top.
    note(stubs, first.name, team.coachee, pb.SHARED, "news")
    roster = dashboards.GetCoachDashboard(
        pb.GetCoachDashboardRequest(parent=tenant_name(team.tenant_id)),
        metadata=team.coach.metadata,
    ).coachees
    assert roster[0].space.space_id == first.space_id

    # The coachees' names come from identity once it has learnt who coaches whom.
    named = wait_for(
        lambda: all(
            e.coachee_display_name
            for e in dashboards.GetCoachDashboard(
                pb.GetCoachDashboardRequest(parent=tenant_name(team.tenant_id)),
                metadata=team.coach.metadata,
            ).coachees
        ),
        15,
        "the coachees' names",
    )
    assert named
    roster = dashboards.GetCoachDashboard(
        pb.GetCoachDashboardRequest(parent=tenant_name(team.tenant_id)),
        metadata=team.coach.metadata,
    ).coachees
    assert {e.coachee_display_name for e in roster} == {"Coachee", "second-coachee"}

    # HR and another tenant get nothing of it.
    hr = dashboards.GetCoachDashboard(
        pb.GetCoachDashboardRequest(parent=tenant_name(team.tenant_id)),
        metadata=team.admin.metadata,
    )
    assert list(hr.coachees) == []
    assert (
        list(
            dashboards.GetCoacheeDashboard(
                pb.GetCoacheeDashboardRequest(parent=tenant_name(team.tenant_id)),
                metadata=team.admin.metadata,
            ).spaces
        )
        == []
    )
    elsewhere = make_tenant(deployment, api, operator)
    refused = expect_error(
        dashboards.GetCoachDashboard,
        pb.GetCoachDashboardRequest(parent=tenant_name(team.tenant_id)),
        metadata=elsewhere.coach.metadata,
    )
    assert refused.code == grpc.StatusCode.NOT_FOUND
