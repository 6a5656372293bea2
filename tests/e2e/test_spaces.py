"""The coachee's space through the gateway: a tenant admin or a coach opens it, the lifecycle
moves go to the right people, HR sees the set-up and never the content, other coaches and other
tenants see nothing, bad input changes nothing, and the content is sealed at rest (pg_dump finds
neither a marker nor a key in the clear)."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from ecoach_dev.pg import client_binary
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as pb
from gateway.api.pb import spaces_pb2_grpc as pb_grpc
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support.api import Api, Session, expect_error, unique_email
from tests.support.people import set_password
from tests.support.spaces import add_person, create, get, listed, move, set_up
from tests.support.waiting import wait_for

NOT_FOUND = grpc.StatusCode.NOT_FOUND
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
def spaces(deployment: Deployment) -> Any:
    channel = deployment.channel()
    yield pb_grpc.SpaceServiceStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def goals(deployment: Deployment) -> Any:
    channel = deployment.channel()
    yield pb_grpc.GoalServiceStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def notes(deployment: Deployment) -> Any:
    channel = deployment.channel()
    yield pb_grpc.NoteServiceStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def team(deployment: Deployment, api: Api, operator: Session) -> TenantWorld:
    return make_tenant(deployment, api, operator)


def test_a_coach_opens_a_space_and_each_sees_what_is_theirs(
    deployment: Deployment, api: Api, spaces: Any, team: TenantWorld, globex: TenantWorld
) -> None:
    space = create(spaces, team, team.coach, project="Lead the new team", objectives="Delegate")
    assert space.status == pb.SPACE_DRAFT and space.relation == pb.AS_COACH
    assert space.content.project == "Lead the new team"
    assert space.set_up.coachee_person_id == team.coachee.person_id
    assert space.set_up.cadence == pb.EVERY_TWO_WEEKS and space.set_up.end_date == "2027-06-30"

    # In draft the coachee does not see it yet; HR sees the set-up only.
    assert expect_error(get, spaces, space.name, team.coachee).code == NOT_FOUND
    assert [s.space_id for s in listed(spaces, team, team.coachee)] == []
    hr = get(spaces, space.name, team.admin)
    assert hr.relation == pb.AS_TENANT_ADMIN and not hr.HasField("content")
    assert space.space_id in [s.space_id for s in listed(spaces, team, team.admin)]
    assert all(not s.HasField("content") for s in listed(spaces, team, team.admin))

    active = move(spaces, "Activate", space.name, team.coach)
    assert active.status == pb.SPACE_ACTIVE
    mine = get(spaces, space.name, team.coachee)
    assert mine.relation == pb.AS_COACHEE and mine.content.objectives == "Delegate"
    assert [s.space_id for s in listed(spaces, team, team.coachee)] == [space.space_id]

    # The coachee writes in their words; HR may not, and still reads none of it.
    edited = spaces.UpdateSpaceContent(
        pb.UpdateSpaceContentRequest(
            name=space.name,
            content=pb.SpaceContent(context="A team of nine, two new managers"),
            update_mask=FieldMask(paths=["context"]),
        ),
        metadata=team.coachee.metadata,
    )
    assert edited.content.context.startswith("A team of nine")
    assert edited.content.project == "Lead the new team"
    hr_edit = expect_error(
        spaces.UpdateSpaceContent,
        pb.UpdateSpaceContentRequest(
            name=space.name,
            content=pb.SpaceContent(project="HR was here"),
            update_mask=FieldMask(paths=["project"]),
        ),
        metadata=team.admin.metadata,
    )
    assert hr_edit.code == NOT_FOUND
    assert get(spaces, space.name, team.coach).content.project == "Lead the new team"

    # Another coach of the tenant, and another tenant, see nothing.
    _, other_coach = add_person(deployment, api, team, ipb.COACH, "other-coach")
    assert expect_error(get, spaces, space.name, other_coach).code == NOT_FOUND
    assert listed(spaces, team, other_coach) == []
    assert expect_error(get, spaces, space.name, globex.admin).code == NOT_FOUND
    assert expect_error(listed, spaces, team, globex.admin).code == NOT_FOUND


def test_each_lifecycle_move_belongs_to_someone(spaces: Any, team: TenantWorld) -> None:
    space = create(spaces, team, team.admin)
    assert space.relation == pb.AS_TENANT_ADMIN
    refused = expect_error(move, spaces, "Activate", space.name, team.admin)
    assert (refused.code, refused.reason) == (PERMISSION_DENIED, "SPACE_MOVE_FORBIDDEN")
    move(spaces, "Activate", space.name, team.coach)
    assert move(spaces, "Pause", space.name, team.coachee).status == pb.SPACE_PAUSED
    assert move(spaces, "Resume", space.name, team.coachee).status == pb.SPACE_ACTIVE
    by_coachee = expect_error(move, spaces, "Complete", space.name, team.coachee)
    assert by_coachee.reason == "SPACE_MOVE_FORBIDDEN"
    too_soon = expect_error(move, spaces, "Archive", space.name, team.admin)
    assert (too_soon.code, too_soon.reason) == (FAILED_PRECONDITION, "SPACE_MOVE_NOT_ALLOWED")
    assert move(spaces, "Complete", space.name, team.coach).status == pb.SPACE_COMPLETED
    again = expect_error(move, spaces, "Resume", space.name, team.coach)
    assert again.reason == "SPACE_MOVE_NOT_ALLOWED"
    assert move(spaces, "Archive", space.name, team.admin).status == pb.SPACE_ARCHIVED
    assert get(spaces, space.name, team.coachee).status == pb.SPACE_ARCHIVED


def test_the_set_up_changes_only_in_draft(spaces: Any, team: TenantWorld) -> None:
    space = create(spaces, team, team.coach)
    changed = spaces.UpdateSpaceSetUp(
        pb.UpdateSpaceSetUpRequest(name=space.name, set_up=set_up(team, sessions_planned=6)),
        metadata=team.admin.metadata,
    )
    assert changed.set_up.sessions_planned == 6
    by_coachee = expect_error(
        spaces.UpdateSpaceSetUp,
        pb.UpdateSpaceSetUpRequest(name=space.name, set_up=set_up(team, sessions_planned=3)),
        metadata=team.coachee.metadata,
    )
    assert by_coachee.code == NOT_FOUND  # a draft is not theirs to see yet
    move(spaces, "Activate", space.name, team.coach)
    late = expect_error(
        spaces.UpdateSpaceSetUp,
        pb.UpdateSpaceSetUpRequest(name=space.name, set_up=set_up(team, sessions_planned=3)),
        metadata=team.coach.metadata,
    )
    assert (late.code, late.reason) == (FAILED_PRECONDITION, "NOT_A_DRAFT")
    assert get(spaces, space.name, team.coach).set_up.sessions_planned == 6


def test_bad_set_ups_are_refused_naming_the_field_and_nothing_is_created(
    deployment: Deployment, api: Api, spaces: Any, team: TenantWorld
) -> None:
    before = len(listed(spaces, team, team.admin))
    other_member, other_coach = add_person(deployment, api, team, ipb.COACH, "coach-two")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"sessions_planned": 0}, "set_up.sessions_planned"),
        ({"cadence": pb.CADENCE_UNSPECIFIED}, "set_up.cadence"),
        ({"start_date": "next monday"}, "set_up.starts_on"),
        ({"end_date": "2026-01-01"}, "ends_on"),
        ({"coachee_member_id": team.coach_member}, "coachee_member_id"),
        ({"coach_member_id": team.coachee_member}, "coach_member_id"),
        ({"co_coach_member_id": team.coach_member}, "coach_member_id"),
    ]
    for changes, field in cases:
        refused = expect_error(
            spaces.CreateSpace,
            pb.CreateSpaceRequest(
                parent=tenant_name(team.tenant_id), set_up=set_up(team, **changes)
            ),
            metadata=team.admin.metadata,
        )
        assert refused.code == INVALID_ARGUMENT, changes
        assert any(field in f for f in refused.fields), (changes, refused.fields)
    too_long = expect_error(
        spaces.CreateSpace,
        pb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id),
            set_up=set_up(team),
            content=pb.SpaceContent(project="x" * 4001),
        ),
        metadata=team.admin.metadata,
    )
    assert too_long.code == INVALID_ARGUMENT
    # A coach opens spaces they coach, not another coach's.
    forbidden = expect_error(
        spaces.CreateSpace,
        pb.CreateSpaceRequest(parent=tenant_name(team.tenant_id), set_up=set_up(team)),
        metadata=other_coach.metadata,
    )
    assert (forbidden.code, forbidden.reason) == (PERMISSION_DENIED, "SPACE_CREATE_FORBIDDEN")
    by_coachee = expect_error(create, spaces, team, team.coachee)
    assert by_coachee.reason == "SPACE_CREATE_FORBIDDEN"
    unknown_member = expect_error(
        spaces.CreateSpace,
        pb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id), set_up=set_up(team, coach_member_id="mem_0000")
        ),
        metadata=team.admin.metadata,
    )
    assert (unknown_member.code, unknown_member.reason) == (NOT_FOUND, "MEMBER_NOT_FOUND")
    assert len(listed(spaces, team, team.admin)) == before
    unknown = expect_error(get, spaces, f"tenants/{team.tenant_id}/spaces/spc_000000", team.admin)
    assert (unknown.code, unknown.reason) == (NOT_FOUND, "SPACE_NOT_FOUND")
    assert expect_error(get, spaces, "spaces/nope", team.admin).code == INVALID_ARGUMENT
    assert other_member


def test_content_is_sealed_at_rest(
    deployment: Deployment, spaces: Any, goals: Any, notes: Any, team: TenantWorld, tmp_path: Path
) -> None:
    markers = {f: f"MARKER-{f}-7f3a" for f in ("project", "objectives", "context")}
    space = create(spaces, team, team.coach, **markers)
    assert get(spaces, space.name, team.coach).content.context == markers["context"]
    goal = goals.CreateGoal(
        pb.CreateGoalRequest(
            parent=space.name,
            goal=pb.Goal(
                title="MARKER-goal-title",
                description="MARKER-goal-description",
                milestones=[pb.Milestone(title="MARKER-milestone")],
            ),
        ),
        metadata=team.coach.metadata,
    )
    goals.UpdateGoal(
        pb.UpdateGoalRequest(
            goal=pb.Goal(name=goal.name, title="MARKER-goal-renamed"),
            update_mask=FieldMask(paths=["title"]),
        ),
        metadata=team.coach.metadata,
    )
    markers.update(goal="MARKER-goal", milestone="MARKER-milestone")
    move(spaces, "Activate", space.name, team.coach)
    for who, kind in (
        (team.coach, pb.SHARED),
        (team.coach, pb.COACH_PRIVATE),
        (team.coachee, pb.JOURNAL),
    ):
        note = notes.CreateNote(
            pb.CreateNoteRequest(
                parent=space.name,
                note=pb.Note(
                    kind=kind,
                    body=f"MARKER-note-{kind}",
                    links=[pb.NoteLink(url="https://example.com", title=f"MARKER-link-{kind}")],
                ),
            ),
            metadata=who.metadata,
        )
        notes.UpdateNote(  # a revision keeps the first body
            pb.UpdateNoteRequest(
                note=pb.Note(name=note.name, body=f"MARKER-edited-{kind}"),
                update_mask=FieldMask(paths=["body"]),
            ),
            metadata=who.metadata,
        )
        notes.GetNote(pb.GetNoteRequest(name=note.name), metadata=who.metadata)  # a logged read
    markers.update(note="MARKER-note", link="MARKER-link", edited="MARKER-edited")

    url = deployment.config.database_url_for("spaces").replace("+psycopg2", "")
    dump = subprocess.run(
        [str(client_binary("pg_dump")), "--dbname", url, "--no-owner"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    assert b"COPY public.spaces" in dump and space.space_id.encode() in dump
    assert b"COPY public.note_revisions" in dump and b"COPY public.note_reads" in dump
    for marker in markers.values():
        assert marker.encode() not in dump
    # Nor any key in the clear: the space's data key and its tenant's key, as unwrapped.
    keys = unwrapped_keys(deployment, team.tenant_id, space.space_id)
    for raw in keys:
        for form in (raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            assert form not in dump
    # The services' logs hold no marker either.
    for log in deployment.var_dir.glob("*.log"):
        text = log.read_text(errors="replace")
        assert not any(m in text for m in markers.values()), log.name


def unwrapped_keys(deployment: Deployment, tenant_id: str, space_id: str) -> list[bytes]:
    import sqlalchemy as sa

    from services.kernel.crypto import master_key_from
    from services.kernel.runtime.keyring import KeyRing, tenant_keys

    config = deployment.config
    master = master_key_from(config)
    engine = sa.create_engine(config.database_url_for("spaces"))
    try:
        with engine.connect() as conn:
            wrapped = conn.execute(
                sa.text("SELECT data_key FROM spaces WHERE id = :id"), {"id": space_id}
            ).scalar_one()
            data_key = KeyRing(conn, master).data_key(tenant_id, wrapped)
            tenant_wrapped = conn.execute(
                sa.select(tenant_keys.c.wrapped_key).where(tenant_keys.c.tenant_id == tenant_id)
            ).scalar_one()
    finally:
        engine.dispose()
    tenant_key = master.unwrap(tenant_wrapped, f"tenant_key.{tenant_id}")
    return [data_key.raw, tenant_key]


def test_coach_and_coachee_work_on_goals_and_every_change_is_kept(
    deployment: Deployment, api: Api, spaces: Any, goals: Any, team: TenantWorld
) -> None:
    space = create(spaces, team, team.coach)
    move(spaces, "Activate", space.name, team.coach)
    goal = goals.CreateGoal(
        pb.CreateGoalRequest(
            parent=space.name,
            goal=pb.Goal(
                title="Delegate the weekly report",
                due_date="2027-03-31",
                milestones=[pb.Milestone(title="Pick who", due_date="2027-02-01")],
            ),
        ),
        metadata=team.coach.metadata,
    )
    assert goal.status == pb.GOAL_OPEN and goal.progress == 0
    assert goal.milestones[0].milestone_id.startswith("mil_")

    # The coachee moves it on: progress and the milestone done.
    done = pb.Milestone(milestone_id=goal.milestones[0].milestone_id, title="Pick who", done=True)
    later = goals.UpdateGoal(
        pb.UpdateGoalRequest(
            goal=pb.Goal(name=goal.name, progress=60, milestones=[done]),
            update_mask=FieldMask(paths=["progress", "milestones"]),
        ),
        metadata=team.coachee.metadata,
    )
    assert later.progress == 60 and later.milestones[0].done
    assert later.title == "Delegate the weekly report"  # not in the mask: unchanged
    achieved = goals.UpdateGoal(
        pb.UpdateGoalRequest(
            goal=pb.Goal(name=goal.name, progress=100), update_mask=FieldMask(paths=["progress"])
        ),
        metadata=team.coachee.metadata,
    )
    assert achieved.status == pb.GOAL_ACHIEVED

    history = goals.ListGoalChanges(
        pb.ListGoalChangesRequest(parent=goal.name), metadata=team.coach.metadata
    ).changes
    assert [h.changer_person_id for h in history] == [
        team.coach.person_id,
        team.coachee.person_id,
        team.coachee.person_id,
    ]
    second = json.loads(history[1].changes_json)
    assert second["progress"] == {"before": 0, "after": 60}
    assert second["milestones"]["after"][0]["done"] is True
    assert json.loads(history[2].changes_json)["status"] == {"before": "open", "after": "achieved"}

    # HR sees the space, never its goals; another coach sees nothing.
    hr = expect_error(
        goals.ListGoals, pb.ListGoalsRequest(parent=space.name), metadata=team.admin.metadata
    )
    assert (hr.code, hr.reason) == (PERMISSION_DENIED, "CONTENT_FORBIDDEN")
    hr_one = expect_error(
        goals.GetGoal, pb.GetGoalRequest(name=goal.name), metadata=team.admin.metadata
    )
    assert hr_one.reason == "CONTENT_FORBIDDEN"
    _, stranger = add_person(deployment, api, team, ipb.COACH, "goal-stranger")
    hidden = expect_error(
        goals.GetGoal, pb.GetGoalRequest(name=goal.name), metadata=stranger.metadata
    )
    assert hidden.code == NOT_FOUND

    # Bad input changes nothing; an archived goal is read only.
    for bad, paths in (
        (pb.Goal(name=goal.name, title="  "), ["title"]),
        (pb.Goal(name=goal.name, progress=101), ["progress"]),
        (pb.Goal(name=goal.name, milestones=[pb.Milestone(title="m")] * 21), ["milestones"]),
        (pb.Goal(name=goal.name, due_date="soon"), ["due_date"]),
    ):
        refused = expect_error(
            goals.UpdateGoal,
            pb.UpdateGoalRequest(goal=bad, update_mask=FieldMask(paths=paths)),
            metadata=team.coach.metadata,
        )
        assert refused.code == INVALID_ARGUMENT, paths
    archived = goals.ArchiveGoal(
        pb.ArchiveGoalRequest(name=goal.name), metadata=team.coach.metadata
    )
    assert archived.status == pb.GOAL_ARCHIVED and archived.progress == 100
    frozen = expect_error(
        goals.UpdateGoal,
        pb.UpdateGoalRequest(
            goal=pb.Goal(name=goal.name, progress=10), update_mask=FieldMask(paths=["progress"])
        ),
        metadata=team.coach.metadata,
    )
    assert (frozen.code, frozen.reason) == (FAILED_PRECONDITION, "GOAL_ARCHIVED")
    listed_goals = goals.ListGoals(
        pb.ListGoalsRequest(parent=space.name), metadata=team.coachee.metadata
    ).goals
    assert [(g.goal_id, g.progress) for g in listed_goals] == [(goal.goal_id, 100)]


def test_a_coachees_export_holds_their_spaces_goals_and_history(
    api: Api, spaces: Any, goals: Any, team: TenantWorld
) -> None:
    space = create(spaces, team, team.coach, project="Export me")
    move(spaces, "Activate", space.name, team.coach)
    goals.CreateGoal(
        pb.CreateGoalRequest(parent=space.name, goal=pb.Goal(title="Exported goal")),
        metadata=team.coach.metadata,
    )
    documents = {
        d.service: json.loads(d.data)
        for d in api.auth.ExportMyData(ipb.ExportMyDataRequest(), metadata=team.coachee.metadata)
    }
    mine = {s["space_id"]: s for s in documents["spaces"]["spaces_as_coachee"]}
    assert mine[space.space_id]["content"]["project"] == "Export me"
    [goal] = mine[space.space_id]["goals"]
    assert goal["title"] == "Exported goal" and goal["history"][0]["changed_by"]
    coach = {
        d.service: json.loads(d.data)
        for d in api.auth.ExportMyData(ipb.ExportMyDataRequest(), metadata=team.coach.metadata)
    }
    coached = {s["space_id"]: s for s in coach["spaces"]["spaces_as_coach"]}
    assert coached[space.space_id]["content"] is None  # the coachee's words are theirs


def test_a_new_coach_sees_the_history_once_the_coachee_agrees_and_the_old_one_loses_it_at_once(
    deployment: Deployment, api: Api, spaces: Any, goals: Any, notes: Any, team: TenantWorld
) -> None:
    new_member, new_coach = add_person(deployment, api, team, ipb.COACH, "new-coach")
    space = create(spaces, team, team.coach, project="Keep going")
    move(spaces, "Activate", space.name, team.coach)
    shared = notes.CreateNote(
        pb.CreateNoteRequest(parent=space.name, note=pb.Note(kind=pb.SHARED, body="our history")),
        metadata=team.coach.metadata,
    )
    private = notes.CreateNote(
        pb.CreateNoteRequest(
            parent=space.name, note=pb.Note(kind=pb.COACH_PRIVATE, body="the old coach's own")
        ),
        metadata=team.coach.metadata,
    )
    goal = goals.CreateGoal(
        pb.CreateGoalRequest(parent=space.name, goal=pb.Goal(title="Carried over")),
        metadata=team.coachee.metadata,
    )
    by_coach = expect_error(
        spaces.ChangeCoach,
        pb.ChangeCoachRequest(name=space.name, coach_member_id=new_member),
        metadata=team.coach.metadata,
    )
    assert (by_coach.code, by_coach.reason) == (PERMISSION_DENIED, "COACH_CHANGE_FORBIDDEN")
    not_a_coach = expect_error(
        spaces.ChangeCoach,
        pb.ChangeCoachRequest(name=space.name, coach_member_id=team.coachee_member),
        metadata=team.admin.metadata,
    )
    assert not_a_coach.code == INVALID_ARGUMENT

    changed = spaces.ChangeCoach(
        pb.ChangeCoachRequest(name=space.name, coach_member_id=new_member),
        metadata=team.admin.metadata,
    )
    assert changed.set_up.coach_person_id == new_coach.person_id
    assert changed.status == pb.SPACE_ACTIVE and not changed.HasField("content")

    def bodies(who: Session) -> list[str]:
        found = notes.ListNotes(pb.ListNotesRequest(parent=space.name), metadata=who.metadata)
        return [n.body for n in found.notes]

    def titles(who: Session) -> list[str]:
        found = goals.ListGoals(pb.ListGoalsRequest(parent=space.name), metadata=who.metadata)
        return [g.title for g in found.goals]

    # The new coach: the space, and only what is written from now on until the coachee agrees.
    theirs = get(spaces, space.name, new_coach)
    assert theirs.relation == pb.AS_COACH and theirs.earlier_content_hidden
    assert not theirs.HasField("content")
    # The coachee is told it is hidden from a coach of theirs (and the coach is not told so).
    assert get(spaces, space.name, team.coachee).earlier_content_hidden_from_coaches
    assert not theirs.earlier_content_hidden_from_coaches
    assert bodies(new_coach) == [] and titles(new_coach) == []
    for earlier in (
        lambda: notes.GetNote(pb.GetNoteRequest(name=shared.name), metadata=new_coach.metadata),
        lambda: goals.ListGoalChanges(
            pb.ListGoalChangesRequest(parent=goal.name), metadata=new_coach.metadata
        ),
    ):
        assert expect_error(earlier).code == NOT_FOUND
    overwrite = expect_error(
        spaces.UpdateSpaceContent,
        pb.UpdateSpaceContentRequest(
            name=space.name,
            content=pb.SpaceContent(project="unseen"),
            update_mask=FieldMask(paths=["project"]),
        ),
        metadata=new_coach.metadata,
    )
    assert (overwrite.code, overwrite.reason) == (PERMISSION_DENIED, "EARLIER_CONTENT_NOT_SHARED")
    notes.CreateNote(
        pb.CreateNoteRequest(parent=space.name, note=pb.Note(kind=pb.SHARED, body="from now")),
        metadata=team.coachee.metadata,
    )
    assert bodies(new_coach) == ["from now"]
    not_theirs = expect_error(
        spaces.ShareEarlierContent,
        pb.ShareEarlierContentRequest(name=space.name),
        metadata=new_coach.metadata,
    )
    assert (not_theirs.code, not_theirs.reason) == (PERMISSION_DENIED, "COACHEE_ONLY")
    agreed = spaces.ShareEarlierContent(
        pb.ShareEarlierContentRequest(name=space.name), metadata=team.coachee.metadata
    )
    assert not agreed.earlier_content_hidden  # the coachee's own view
    assert not agreed.earlier_content_hidden_from_coaches
    # Agreed: the content, the shared notes and goals; never the old coach's private notes.
    theirs = get(spaces, space.name, new_coach)
    assert theirs.content.project == "Keep going" and not theirs.earlier_content_hidden
    assert bodies(new_coach) == ["from now", "our history"]
    hidden = expect_error(
        notes.GetNote, pb.GetNoteRequest(name=private.name), metadata=new_coach.metadata
    )
    assert hidden.reason == "NOTE_NOT_FOUND"
    assert titles(new_coach) == ["Carried over"]
    # The previous coach: nothing, at once.
    assert expect_error(get, spaces, space.name, team.coach).code == NOT_FOUND
    old = expect_error(
        notes.GetNote, pb.GetNoteRequest(name=shared.name), metadata=team.coach.metadata
    )
    assert old.code == NOT_FOUND

    # Co-coach: added by the coach, removed by the admin.
    co_member, co_coach = add_person(deployment, api, team, ipb.COACH, "co-coach-2")
    added = spaces.ChangeCoCoach(
        pb.ChangeCoCoachRequest(name=space.name, co_coach_member_id=co_member),
        metadata=new_coach.metadata,
    )
    assert added.set_up.co_coach_person_id == co_coach.person_id
    co_view = get(spaces, space.name, co_coach)  # joined after the agreement: needs a new one
    assert co_view.relation == pb.AS_CO_COACH and co_view.earlier_content_hidden
    assert get(spaces, space.name, team.coachee).earlier_content_hidden_from_coaches
    assert bodies(co_coach) == [] and bodies(new_coach) == ["from now", "our history"]
    removed = spaces.ChangeCoCoach(
        pb.ChangeCoCoachRequest(name=space.name), metadata=team.admin.metadata
    )
    assert not removed.set_up.co_coach_person_id
    assert not get(spaces, space.name, team.coachee).earlier_content_hidden_from_coaches
    assert expect_error(get, spaces, space.name, co_coach).code == NOT_FOUND
    by_coachee = expect_error(
        spaces.ChangeCoCoach,
        pb.ChangeCoCoachRequest(name=space.name, co_coach_member_id=co_member),
        metadata=team.coachee.metadata,
    )
    assert by_coachee.reason == "COACH_CHANGE_FORBIDDEN"


def test_a_coach_reads_the_profile_of_the_people_they_coach_only(
    deployment: Deployment, api: Api, spaces: Any, operator: Session
) -> None:
    team = make_tenant(deployment, api, operator)
    coachee_name = member_name(team.tenant_id, team.coachee_member)

    def profile(who: Session) -> Any:
        return api.members.GetMember(ipb.GetMemberRequest(name=coachee_name), metadata=who.metadata)

    assert expect_error(profile, team.coach).code == NOT_FOUND  # no space yet
    space = create(spaces, team, team.coach)
    # A draft links no one: once identity has applied a later space's activation (that coach
    # reads that coachee's profile), the draft's coach still reads nothing of this coachee.
    later_member, _ = add_person(deployment, api, team, ipb.COACHEE, "later")
    later = spaces.CreateSpace(
        pb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id), set_up=set_up(team, coachee_member_id=later_member)
        ),
        metadata=team.coach.metadata,
    )
    move(spaces, "Activate", later.name, team.coach)
    wait_for(
        lambda: _or_none(
            lambda who: api.members.GetMember(
                ipb.GetMemberRequest(name=member_name(team.tenant_id, later_member)),
                metadata=who.metadata,
            ),
            team.coach,
        ),
        15,
        "identity to learn the active space's link",
    )
    assert expect_error(profile, team.coach).code == NOT_FOUND  # the draft's coach
    move(spaces, "Activate", space.name, team.coach)
    seen = wait_for(lambda: _or_none(profile, team.coach), 15, "identity to learn the link")
    assert seen.person_id == team.coachee.person_id and seen.email
    new_member, new_coach = add_person(deployment, api, team, ipb.COACH, "next-coach")
    assert expect_error(profile, new_coach).code == NOT_FOUND  # another coach of the tenant
    spaces.ChangeCoach(
        pb.ChangeCoachRequest(name=space.name, coach_member_id=new_member),
        metadata=team.admin.metadata,
    )
    wait_for(lambda: _or_none(profile, new_coach), 15, "identity to learn the new coach")
    wait_for(lambda: _or_none(profile, team.coach) is None, 15, "the old coach to lose it")
    assert profile(team.admin).person_id == team.coachee.person_id  # HR, as always


def _or_none(call: Any, who: Session) -> Any:
    try:
        return call(who)
    except grpc.RpcError:
        return None


def test_a_csv_of_coachee_and_coach_emails_opens_drafts_and_reports_each_bad_row(
    deployment: Deployment, api: Api, spaces: Any, operator: Session
) -> None:
    team = make_tenant(deployment, api, operator)

    def email(who: Session) -> str:
        return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)

    coachee, coach = email(team.coachee), email(team.coach)
    _, second = add_person(deployment, api, team, ipb.COACHEE, "csv-coachee")
    csv = (
        "\ufeffCoachee_Email;coach_email;cadence;sessions;start_date;end_date\r\n"
        f"{coachee};{coach};weekly;10;2027-01-04;2027-06-30\r\n"
        f"{email(second).upper()};{coach};monthly;6;2027-02-01;\r\n"
        "\r\n"
        f"nobody@example.test;{coach};weekly;10;2027-01-04;\r\n"
        f"{coach};{coachee};weekly;10;2027-01-04;\r\n"
        f"{coachee};{coach};daily;10;2027-01-04;\r\n"
        f"{coachee};{coach};weekly;0;2027-01-04;\r\n"
        f"{coachee};{coach};weekly;10;soon;\r\n"
        f"{coachee};{coach};weekly;10;2027-01-04;2026-01-01\r\n"
    ).encode()
    answer = spaces.ImportSpaces(
        pb.ImportSpacesRequest(parent=tenant_name(team.tenant_id), csv=csv),
        metadata=team.admin.metadata,
    )
    assert [c.line for c in answer.created] == [2, 3]
    reasons = {r.line: r.reason for r in answer.rejected}
    assert sorted(reasons) == [5, 6, 7, 8, 9, 10]
    assert "coachee_email" in reasons[5] and "cadence" in reasons[7] and "sessions" in reasons[8]
    assert "start_date" in reasons[9] and "ends_on" in reasons[10]
    made = [get(spaces, c.name, team.admin) for c in answer.created]
    assert [s.status for s in made] == [pb.SPACE_DRAFT, pb.SPACE_DRAFT]
    assert made[1].set_up.coachee_person_id == second.person_id
    assert made[1].set_up.cadence == pb.MONTHLY and made[1].set_up.sessions_planned == 6

    # A coach opens only spaces they coach; a coachee none; an unreadable file opens nothing.
    other_member, other_coach = add_person(deployment, api, team, ipb.COACH, "csv-coach")
    by_other = spaces.ImportSpaces(
        pb.ImportSpacesRequest(parent=tenant_name(team.tenant_id), csv=csv),
        metadata=other_coach.metadata,
    )
    assert list(by_other.created) == [] and {2, 3} <= {r.line for r in by_other.rejected}
    refused = expect_error(
        spaces.ImportSpaces,
        pb.ImportSpacesRequest(parent=tenant_name(team.tenant_id), csv=csv),
        metadata=team.coachee.metadata,
    )
    assert refused.reason == "SPACE_CREATE_FORBIDDEN"
    before = len(listed(spaces, team, team.admin))
    for bad in (b"coachee_email,coach_email\r\nx,y\r\n", b"\xff\xfe", b"x" * 1_048_577):
        unreadable = expect_error(
            spaces.ImportSpaces,
            pb.ImportSpacesRequest(parent=tenant_name(team.tenant_id), csv=bad),
            metadata=team.admin.metadata,
        )
        assert unreadable.code == INVALID_ARGUMENT and "csv" in unreadable.fields
    assert len(listed(spaces, team, team.admin)) == before
    assert other_member


def test_rotating_a_tenants_key_rewraps_every_space_and_loses_no_concurrent_edit(
    deployment: Deployment, api: Api, spaces: Any, operator: Session
) -> None:
    team = make_tenant(deployment, api, operator)
    made = [create(spaces, team, team.coach, project=f"project {i}") for i in range(5)]
    edited = made[0]
    stop = threading.Event()
    last: list[str] = []

    def keep_editing() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            spaces.UpdateSpaceContent(
                pb.UpdateSpaceContentRequest(
                    name=edited.name,
                    content=pb.SpaceContent(objectives=f"edit {n}"),
                    update_mask=FieldMask(paths=["objectives"]),
                ),
                metadata=team.coach.metadata,
            )
            last.append(f"edit {n}")

    editor = threading.Thread(target=keep_editing)
    editor.start()
    try:
        wait_for(lambda: last, 10, "the editor's first edit")  # it edits before the rotations
        first = spaces.RotateTenantKey(
            pb.RotateTenantKeyRequest(parent=tenant_name(team.tenant_id)),
            metadata=operator.metadata,
        )
        second = spaces.RotateTenantKey(
            pb.RotateTenantKeyRequest(parent=tenant_name(team.tenant_id)),
            metadata=operator.metadata,
        )
        edits = len(last)
        wait_for(lambda: len(last) > edits + 1, 10, "edits after the rotations")
    finally:
        stop.set()
        editor.join()
    assert first.key_id != second.key_id and second.rewrapped >= 4
    assert last, "the concurrent editor made no edit"
    assert get(spaces, edited.name, team.coach).content.objectives == last[-1]
    assert [get(spaces, s.name, team.coach).content.project for s in made] == [
        f"project {i}" for i in range(5)
    ]
    engine = sa.create_engine(deployment.config.database_url_for("spaces"))
    try:
        with engine.connect() as conn:
            keys = (
                conn.execute(
                    sa.text("SELECT key_id FROM tenant_keys WHERE tenant_id = :t"),
                    {"t": team.tenant_id},
                )
                .scalars()
                .all()
            )
            wrapped = (
                conn.execute(
                    sa.text("SELECT data_key FROM spaces WHERE tenant_id = :t"),
                    {"t": team.tenant_id},
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert second.key_id in keys and len(keys) <= 2  # the first key retired once unused
    assert sum(w.split(".")[1] == second.key_id for w in wrapped) >= 4
    refused = expect_error(
        spaces.RotateTenantKey,
        pb.RotateTenantKeyRequest(parent=tenant_name(team.tenant_id)),
        metadata=team.admin.metadata,
    )
    assert (refused.code, refused.reason) == (PERMISSION_DENIED, "OPERATOR_ONLY")


def test_someone_both_hr_and_coachee_sees_their_own_space_whole_and_no_one_elses_content(
    deployment: Deployment, api: Api, spaces: Any, goals: Any, operator: Session
) -> None:
    team = make_tenant(deployment, api, operator)
    email = unique_email("hr-coachee")
    both = api.members.AddMember(
        ipb.AddMemberRequest(
            parent=tenant_name(team.tenant_id), email=email, roles=[ipb.TENANT_ADMIN, ipb.COACHEE]
        ),
        metadata=team.admin.metadata,
    )
    set_password(deployment.config, email, PASSWORD)
    me = api.sign_in(email, PASSWORD, team.tenant_id)
    mine = spaces.CreateSpace(
        pb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id),
            set_up=set_up(team, coachee_member_id=both.member_id),
            content=pb.SpaceContent(project="my own project"),
        ),
        metadata=team.coach.metadata,
    )
    theirs = create(spaces, team, team.coach, project="someone else's project")
    for s in (mine, theirs):
        move(spaces, "Activate", s.name, team.coach)

    own = get(spaces, mine.name, me)
    assert own.relation == pb.AS_COACHEE and own.content.project == "my own project"
    other = get(spaces, theirs.name, me)
    assert other.relation == pb.AS_TENANT_ADMIN and not other.HasField("content")
    refused = expect_error(
        goals.ListGoals, pb.ListGoalsRequest(parent=theirs.name), metadata=me.metadata
    )
    assert refused.reason == "CONTENT_FORBIDDEN"
    assert goals.ListGoals(pb.ListGoalsRequest(parent=mine.name), metadata=me.metadata)
    by_id = {s.space_id: s for s in listed(spaces, team, me)}
    assert by_id[mine.space_id].content.project == "my own project"
    assert not by_id[theirs.space_id].HasField("content")
