"""What the web app's pages read beyond the spaces themselves (issue 20): the coachee sees their
coaches' names (and nobody else does), both dashboards show the sessions used and left in the
engagement, and the coach's shows per space the sessions to mark and the shared notes new since
their last visit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as schpb
from gateway.api.pb import spaces_pb2 as pb
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session, expect_error
from tests.support.spaces import add_person, create, get, move, set_up
from tests.support.waiting import wait_for

NOT_FOUND = grpc.StatusCode.NOT_FOUND


@pytest.fixture(scope="module")
def s(deployment: Deployment) -> Iterator[sch.Stubs]:
    channel = deployment.channel()
    yield sch.stubs(channel)
    channel.close()


def coaches(s: sch.Stubs, space: str, who: Session) -> pb.SpaceCoaches:
    return s.spaces.GetSpaceCoaches(pb.GetSpaceCoachesRequest(name=space), metadata=who.metadata)


def coaches_or_none(s: sch.Stubs, space: str, who: Session) -> pb.SpaceCoaches | None:
    try:
        return coaches(s, space, who)
    except grpc.RpcError as exc:
        if exc.code() == NOT_FOUND:
            return None
        raise


def coachee_cards(s: sch.Stubs, team: TenantWorld, who: Session) -> list[Any]:
    return list(
        s.dashboards.GetCoacheeDashboard(
            pb.GetCoacheeDashboardRequest(parent=tenant_name(team.tenant_id)),
            metadata=who.metadata,
        ).spaces
    )


def coach_desk(s: sch.Stubs, team: TenantWorld, who: Session) -> dict[str, Any]:
    """The coach's roster entries by space id."""
    board = s.dashboards.GetCoachDashboard(
        pb.GetCoachDashboardRequest(parent=tenant_name(team.tenant_id)), metadata=who.metadata
    )
    return {e.space.space_id: e for e in board.coachees}


def use(entry: Any) -> tuple[int, int, int, int, int]:
    e = entry.engagement
    return (
        e.sessions_planned,
        e.sessions_used,
        e.sessions_held,
        e.sessions_booked,
        e.sessions_left,
    )


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)


# ---------------------------------------------------------------- the coaches' names


def test_the_coachee_reads_their_coaches_names_and_nobody_else_does(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team = make_tenant(deployment, api, operator)
    co_member, co_coach = add_person(deployment, api, team, ipb.COACH, "Second-Coach")
    _, other_coach = add_person(deployment, api, team, ipb.COACH, "Other-Coach")
    other_member, other_coachee = add_person(deployment, api, team, ipb.COACHEE, "Other")
    space = s.spaces.CreateSpace(
        pb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id), set_up=set_up(team, co_coach_member_id=co_member)
        ),
        metadata=team.coach.metadata,
    )
    move(s.spaces, "Activate", space.name, team.coach)

    seen = wait_for(
        lambda: coaches_or_none(s, space.name, team.coachee), 15, "identity to learn the space"
    )
    assert seen.space == space.name
    assert (seen.coach.person_id, seen.coach.display_name) == (team.coach.person_id, "Coach")
    assert (seen.co_coach.person_id, seen.co_coach.display_name) == (
        co_coach.person_id,
        "Second-Coach",
    )
    # A name, never an address.
    assert {f.name for f in pb.CoachName.DESCRIPTOR.fields} == {"person_id", "display_name"}
    # The coaches of the space read it too.
    assert coaches(s, space.name, team.coach) == seen == coaches(s, space.name, co_coach)
    # The coachee's dashboard carries the names.
    [card] = coachee_cards(s, team, team.coachee)
    assert card.coaches == seen

    # Nobody else: another coachee or coach of the tenant, its HR, an operator, another tenant.
    elsewhere = make_tenant(deployment, api, operator)
    for who, reason in (
        (other_coachee, "SPACE_NOT_FOUND"),
        (other_coach, "SPACE_NOT_FOUND"),
        (team.admin, "SPACE_NOT_FOUND"),
        (operator, "SPACE_NOT_FOUND"),
        (elsewhere.admin, "TENANT_NOT_FOUND"),
        (elsewhere.coachee, "TENANT_NOT_FOUND"),
    ):
        refused = expect_error(coaches, s, space.name, who)
        assert (refused.code, refused.reason) == (NOT_FOUND, reason)
    bad = expect_error(coaches, s, f"{space.name}/x", team.coachee)
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and bad.fields == ("name",)

    # A draft links nobody: its coachee (who does not see it) and its coach read no names, even
    # once identity has applied a later space's activation.
    draft = s.spaces.CreateSpace(
        pb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id), set_up=set_up(team, coachee_member_id=other_member)
        ),
        metadata=team.coach.metadata,
    )
    marker = s.spaces.CreateSpace(
        pb.CreateSpaceRequest(parent=tenant_name(team.tenant_id), set_up=set_up(team)),
        metadata=team.coach.metadata,
    )
    move(s.spaces, "Activate", marker.name, team.coach)
    wait_for(lambda: coaches_or_none(s, marker.name, team.coachee), 15, "the marker space")
    for who in (other_coachee, team.coach):
        assert expect_error(coaches, s, draft.name, who).code == NOT_FOUND
    assert coachee_cards(s, team, other_coachee) == []
    move(s.spaces, "Activate", draft.name, team.coach)
    wait_for(lambda: coaches_or_none(s, draft.name, other_coachee), 15, "the draft activated")

    # A new coach: the coachee reads the new name within a second; the former coach nothing.
    new_member, new_coach = add_person(deployment, api, team, ipb.COACH, "New-Coach")
    s.spaces.ChangeCoach(
        pb.ChangeCoachRequest(name=space.name, coach_member_id=new_member),
        metadata=team.admin.metadata,
    )
    wait_for(
        lambda: coaches(s, space.name, team.coachee).coach.display_name == "New-Coach",
        15,
        "identity to learn the new coach",
    )
    assert coaches(s, space.name, new_coach).coach.person_id == new_coach.person_id
    former = expect_error(coaches, s, space.name, team.coach)
    assert (former.code, former.reason) == (NOT_FOUND, "SPACE_NOT_FOUND")
    # Without a co-coach, none is named.
    s.spaces.ChangeCoCoach(pb.ChangeCoCoachRequest(name=space.name), metadata=team.admin.metadata)
    wait_for(
        lambda: not coaches(s, space.name, team.coachee).HasField("co_coach"),
        15,
        "identity to learn the co-coach left",
    )
    assert expect_error(coaches, s, space.name, co_coach).code == NOT_FOUND


# ---------------------------------------------------------------- the engagement's sessions


def test_both_dashboards_show_the_sessions_used_and_left_and_the_coach_those_to_mark(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team = make_tenant(deployment, api, operator)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = sch.active_space(
        s, team.tenant_id, team.coach, team.coachee_member, team.coach_member, sessions_planned=5
    )
    [card] = coachee_cards(s, team, team.coachee)
    assert use(card) == (5, 0, 0, 0, 5)
    soon = sch.book(s, space.name, team.coachee, sch.hour_from_now(0), minutes=15)
    sch.book(s, space.name, team.coachee, sch.hour_from_now(72))
    [card] = coachee_cards(s, team, team.coachee)
    assert use(card) == (5, 2, 0, 2, 3)
    entry = coach_desk(s, team, team.coach)[space.space_id]
    assert use(entry) == (5, 2, 0, 2, 3) and entry.sessions_to_mark == 0

    # HR reads no one's engagement through the dashboards (aggregate counts only, elsewhere).
    assert coachee_cards(s, team, team.admin) == []
    assert coach_desk(s, team, team.admin) == {}

    coach_email, coachee_email = email_of(api, team.coach), email_of(api, team.coachee)
    offset = (sch.dt(soon.end_time) - datetime.now(UTC)).total_seconds() + 2.5 * 3600
    with sch.later(deployment, offset):
        coach = api.sign_in(coach_email, PASSWORD, team.tenant_id)
        coachee = api.sign_in(coachee_email, PASSWORD, team.tenant_id)
        entry = coach_desk(s, team, coach)[space.space_id]
        assert entry.sessions_to_mark == 1 and [x.name for x in entry.next_sessions] != [soon.name]
        s.sessions.MarkAttendance(
            schpb.MarkAttendanceRequest(name=soon.name, attendance=schpb.ATTENDANCE_HELD),
            metadata=coach.metadata,
        )
        entry = coach_desk(s, team, coach)[space.space_id]
        assert entry.sessions_to_mark == 0 and use(entry) == (5, 2, 1, 1, 3)
        [card] = coachee_cards(s, team, coachee)
        assert use(card) == (5, 2, 1, 1, 3)
        # The coachee cancels the other one early enough: it no longer counts.
        [upcoming] = [x for x in sch.space_sessions(s, space.name, coachee) if x.name != soon.name]
        s.sessions.CancelSession(
            schpb.CancelSessionRequest(name=upcoming.name), metadata=coachee.metadata
        )
        [card] = coachee_cards(s, team, coachee)
        assert use(card) == (5, 1, 1, 0, 4)


# ---------------------------------------------------------------- new shared notes


def note(s: sch.Stubs, space: str, who: Session, kind: int = pb.SHARED) -> pb.Note:
    return s.notes.CreateNote(
        pb.CreateNoteRequest(parent=space, note=pb.Note(kind=kind, body="a thought")),
        metadata=who.metadata,
    )


def test_the_coach_desk_counts_the_shared_notes_others_wrote_since_the_coachs_last_visit(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team = make_tenant(deployment, api, operator)
    space = create(s.spaces, team, team.coach)
    move(s.spaces, "Activate", space.name, team.coach)

    def new(who: Session) -> int:
        return int(coach_desk(s, team, who)[space.space_id].new_shared_notes)

    assert new(team.coach) == 0
    note(s, space.name, team.coachee)
    note(s, space.name, team.coachee)
    note(s, space.name, team.coachee, pb.JOURNAL)  # not the coach's to read
    note(s, space.name, team.coach)  # their own
    note(s, space.name, team.coach, pb.COACH_PRIVATE)
    assert new(team.coach) == 2  # never visited: every shared note by others

    get(s.spaces, space.name, team.coach)  # a visit
    assert new(team.coach) == 0
    fresh = note(s, space.name, team.coachee)
    assert new(team.coach) == 1
    # The coachee's own visits change nothing of the coach's count.
    s.notes.ListNotes(pb.ListNotesRequest(parent=space.name), metadata=team.coachee.metadata)
    assert new(team.coach) == 1
    s.notes.DeleteNote(pb.DeleteNoteRequest(name=fresh.name), metadata=team.coachee.metadata)
    assert new(team.coach) == 0  # a deleted note is no news
    note(s, space.name, team.coachee)
    s.notes.ListNotes(pb.ListNotesRequest(parent=space.name), metadata=team.coach.metadata)
    assert new(team.coach) == 0  # listing the notes is a visit too
    # HR's reading of the space is no visit of anyone's.
    note(s, space.name, team.coachee)
    get(s.spaces, space.name, team.admin)
    assert new(team.coach) == 1

    # A coach who joins a running space: what was written before stays hidden (and uncounted)
    # until the coachee shares it.
    new_member, new_coach = add_person(deployment, api, team, ipb.COACH, "Next-Coach")
    s.spaces.ChangeCoach(
        pb.ChangeCoachRequest(name=space.name, coach_member_id=new_member),
        metadata=team.admin.metadata,
    )
    assert new(new_coach) == 0
    note(s, space.name, team.coachee)
    assert new(new_coach) == 1
    s.spaces.ShareEarlierContent(
        pb.ShareEarlierContentRequest(name=space.name), metadata=team.coachee.metadata
    )
    # Every shared note but deleted ones: the coachee's 5 and the former coach's 1.
    assert new(new_coach) == 6
    assert space.space_id not in coach_desk(s, team, team.coach)  # the former coach's desk


def test_the_coach_desk_shows_the_tokens_tenant_only(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    """A coach serving two tenants sees on each tenant's desk that tenant's spaces only
    (docs/adr/0011-coach-desk-per-tenant.md)."""
    team = make_tenant(deployment, api, operator)
    other = make_tenant(deployment, api, operator)
    coach_email = email_of(api, team.coach)
    added = api.members.AddMember(
        ipb.AddMemberRequest(
            parent=tenant_name(other.tenant_id), email=coach_email, roles=[ipb.COACH]
        ),
        metadata=other.admin.metadata,
    )
    api.members.AcceptMembership(
        ipb.AcceptMembershipRequest(parent=tenant_name(other.tenant_id)),
        metadata=team.coach.metadata,
    )
    there = api.sign_in(coach_email, PASSWORD, other.tenant_id)
    here_space = create(s.spaces, team, team.coach)
    there_space = s.spaces.CreateSpace(
        pb.CreateSpaceRequest(
            parent=tenant_name(other.tenant_id),
            set_up=set_up(other, coach_member_id=added.member_id),
        ),
        metadata=there.metadata,
    )
    assert list(coach_desk(s, team, team.coach)) == [here_space.space_id]
    assert list(coach_desk(s, other, there)) == [there_space.space_id]
    refused = expect_error(
        s.dashboards.GetCoachDashboard,
        pb.GetCoachDashboardRequest(parent=tenant_name(other.tenant_id)),
        metadata=team.coach.metadata,
    )
    assert (refused.code, refused.reason) == (NOT_FOUND, "TENANT_NOT_FOUND")


def visits_of(deployment: Deployment, person_id: str) -> list[str]:
    engine = sa.create_engine(deployment.config.database_url_for("spaces"))
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text("SELECT space_id FROM space_visits WHERE person_id = :p"),
                    {"p": person_id},
                ).scalars()
            )
    finally:
        engine.dispose()


def test_a_coachs_visits_are_exported_and_erased_with_them_and_their_name_goes(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team = make_tenant(deployment, api, operator)
    co_member, co_coach = add_person(deployment, api, team, ipb.COACH, "Leaving-Coach")
    space = s.spaces.CreateSpace(
        pb.CreateSpaceRequest(
            parent=tenant_name(team.tenant_id), set_up=set_up(team, co_coach_member_id=co_member)
        ),
        metadata=team.coach.metadata,
    )
    move(s.spaces, "Activate", space.name, team.coach)
    get(s.spaces, space.name, co_coach)
    assert visits_of(deployment, co_coach.person_id) == [space.space_id]
    documents = api.auth.ExportMyData(ipb.ExportMyDataRequest(), metadata=co_coach.metadata)
    exported = next(json.loads(d.data) for d in documents if d.service == "spaces")
    assert [v["space_id"] for v in exported["space_visits"]] == [space.space_id]
    named = wait_for(
        lambda: coaches_or_none(s, space.name, team.coachee), 15, "identity to learn the space"
    )
    assert named.co_coach.display_name == "Leaving-Coach"

    erasure = api.privacy.ErasePerson(
        ipb.ErasePersonRequest(person_id=co_coach.person_id), metadata=operator.metadata
    )
    wait_for(
        lambda: (
            api.privacy.GetErasure(
                ipb.GetErasureRequest(erasure_id=erasure.erasure_id), metadata=operator.metadata
            ).state
            == ipb.ERASURE_COMPLETED
        ),
        30,
        "the erasure to complete",
    )
    assert visits_of(deployment, co_coach.person_id) == []
    after = coaches(s, space.name, team.coachee)
    assert (after.co_coach.person_id, after.co_coach.display_name) == (co_coach.person_id, "")
