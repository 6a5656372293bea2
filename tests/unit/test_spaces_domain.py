"""The space's rules (services/spaces/domain/model.py), without broker or database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.kernel.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.spaces.domain.goals import Goal
from services.spaces.domain.model import (
    ACTIVE,
    ARCHIVED,
    COMPLETED,
    DRAFT,
    PAUSED,
    Content,
    Participant,
    Relation,
    SetUp,
    Space,
    check_creator,
    check_member_roles,
)
from services.spaces.domain.notes import COACH_PRIVATE, SHARED, Note

NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)
COACHEE, COACH, CO_COACH, HR, STRANGER = "per_1", "per_2", "per_3", "per_4", "per_5"


def set_up(**changes: object) -> SetUp:
    fields: dict[str, object] = {
        "coachee": Participant("mem_1", COACHEE),
        "coach": Participant("mem_2", COACH),
        "co_coach": Participant("mem_3", CO_COACH),
        "cadence": "weekly",
        "sessions_planned": 10,
        "starts_on": date(2027, 1, 4),
        "ends_on": date(2027, 6, 30),
    }
    fields.update(changes)
    return SetUp(**fields)  # type: ignore[arg-type]


def space(status: str = DRAFT) -> Space:
    s = Space.create("tnt_1", set_up(), Content(project="Grow"), COACH, NOW)
    s.status = status
    return s


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cadence": "daily"}, "cadence"),
        ({"sessions_planned": 0}, "sessions_planned"),
        ({"sessions_planned": 201}, "sessions_planned"),
        ({"ends_on": date(2026, 12, 31)}, "ends_on"),
        ({"coach": Participant("mem_9", COACHEE)}, "coach_member_id"),
        ({"co_coach": Participant("mem_9", COACH)}, "coach_member_id"),
    ],
)
def test_bad_set_ups_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        set_up(**changes).check()
    assert [f.field for f in raised.value.fields] == [field]


def test_who_sees_a_space_and_how() -> None:
    draft = space()
    assert draft.visible_relation(COACH, False) is Relation.COACH
    assert draft.visible_relation(CO_COACH, False) is Relation.CO_COACH
    assert draft.visible_relation(HR, True) is Relation.TENANT_ADMIN
    with pytest.raises(NotFound):  # a draft is not the coachee's yet
        draft.visible_relation(COACHEE, False)
    with pytest.raises(NotFound):
        draft.visible_relation(STRANGER, False)
    active = space(ACTIVE)
    assert active.visible_relation(COACHEE, False) is Relation.COACHEE
    # HR who is also the coachee sees their own space as its coachee.
    assert active.visible_relation(COACHEE, True) is Relation.COACHEE


@pytest.mark.parametrize(
    ("status", "move", "who", "ends"),
    [
        (DRAFT, "activate", Relation.COACH, ACTIVE),
        (DRAFT, "activate", Relation.CO_COACH, ACTIVE),
        (ACTIVE, "pause", Relation.COACHEE, PAUSED),
        (PAUSED, "resume", Relation.COACHEE, ACTIVE),
        (ACTIVE, "complete", Relation.COACH, COMPLETED),
        (COMPLETED, "archive", Relation.TENANT_ADMIN, ARCHIVED),
        (DRAFT, "archive", Relation.COACH, ARCHIVED),
    ],
)
def test_allowed_moves(status: str, move: str, who: Relation, ends: str) -> None:
    s = space(status)
    s.move(move, {who}, NOW)
    assert s.status == ends


@pytest.mark.parametrize(
    ("status", "move", "who", "error"),
    [
        (DRAFT, "activate", Relation.TENANT_ADMIN, PermissionDenied),
        (DRAFT, "activate", Relation.COACHEE, PermissionDenied),
        (ACTIVE, "complete", Relation.COACHEE, PermissionDenied),
        (ACTIVE, "pause", Relation.TENANT_ADMIN, PermissionDenied),
        (ACTIVE, "archive", Relation.COACH, FailedPrecondition),
        (COMPLETED, "resume", Relation.COACH, FailedPrecondition),
        (ARCHIVED, "activate", Relation.COACH, FailedPrecondition),
    ],
)
def test_refused_moves_change_nothing(
    status: str, move: str, who: Relation, error: type[Exception]
) -> None:
    s = space(status)
    with pytest.raises(error):
        s.move(move, {who}, NOW)
    assert s.status == status


def test_the_set_up_changes_in_draft_only_and_not_by_the_coachee() -> None:
    s = space()
    s.change_set_up(set_up(sessions_planned=4), {Relation.TENANT_ADMIN}, NOW)
    assert s.set_up.sessions_planned == 4
    with pytest.raises(PermissionDenied):
        s.change_set_up(set_up(), {Relation.COACHEE}, NOW)
    s.status = ACTIVE
    with pytest.raises(FailedPrecondition):
        s.change_set_up(set_up(), {Relation.COACH}, NOW)


def test_content_is_for_participants_and_has_a_limit() -> None:
    s = space(ACTIVE)
    s.change_content({"objectives": "  Speak up  "}, Relation.COACHEE, NOW)
    assert s.content.objectives == "Speak up" and s.content.project == "Grow"
    with pytest.raises(NotFound):
        s.change_content({"project": "x"}, Relation.TENANT_ADMIN, NOW)
    with pytest.raises(InvalidArgument):
        s.change_content({"project": "x" * 4001}, Relation.COACH, NOW)
    s.status = ARCHIVED
    with pytest.raises(FailedPrecondition):
        s.change_content({"project": "x"}, Relation.COACH, NOW)


def test_who_may_open_a_space() -> None:
    check_creator(HR, True, False, set_up())
    check_creator(COACH, False, True, set_up())
    check_creator(CO_COACH, False, True, set_up())
    for person, admin, coach in ((STRANGER, False, True), (COACHEE, False, False)):
        with pytest.raises(PermissionDenied):
            check_creator(person, admin, coach, set_up())


def test_members_need_the_right_role_and_to_belong_to_the_tenant() -> None:
    found = {
        "mem_1": ("per_1", ("coachee",), "active"),
        "mem_2": ("per_2", ("coach",), "pending"),
        "mem_3": ("per_3", ("coach",), "deactivated"),
    }
    check_member_roles(found, {"coachee_member_id": "mem_1", "coach_member_id": "mem_2"})
    with pytest.raises(InvalidArgument):
        check_member_roles(found, {"coachee_member_id": "mem_2"})
    with pytest.raises(InvalidArgument):
        check_member_roles(found, {"co_coach_member_id": "mem_3"})
    with pytest.raises(NotFound):
        check_member_roles(found, {"coach_member_id": "mem_9"})


def test_a_coach_who_oversees_the_tenant_is_refused_in_a_set_up_and_only_proposed_otherwise() -> (
    None
):
    found = {
        "mem_1": (COACHEE, ("coachee",), "active"),
        "mem_4": (HR, ("tenant_admin", "coach", "coachee"), "active"),
        "mem_5": (STRANGER, ("coach", "operator"), "pending"),
    }
    for member in ("mem_4", "mem_5"):
        with pytest.raises(InvalidArgument) as refused:
            check_member_roles(found, {"coachee_member_id": "mem_1", "coach_member_id": member})
        assert "coach_member_id" in str(refused.value.fields)
        check_member_roles(found, {"co_coach_member_id": member}, overseers=True)
    check_member_roles(found, {"coachee_member_id": "mem_4"})  # HR as a coachee is no coach


def test_a_proposed_coach_takes_the_seat_only_when_the_coachee_accepts() -> None:
    s = space(ACTIVE)
    hr = Participant("mem_4", HR)
    assert s.change_coach(hr, {Relation.TENANT_ADMIN}, NOW, by=HR, needs_agreement=True) is None
    assert s.set_up.coach.person_id == COACH and s.pending is not None
    assert s.relations(HR, False) == set()  # still nobody in the space
    for relations in ({Relation.COACH}, {Relation.TENANT_ADMIN}, {Relation.CO_COACH}):
        with pytest.raises(PermissionDenied):
            s.accept_pending(relations, NOW)
    accepted, previous = s.accept_pending({Relation.COACHEE}, NOW)
    assert (accepted.participant, previous) == (hr, Participant("mem_2", COACH))
    assert s.set_up.coach == hr and s.pending is None
    with pytest.raises(NotFound):
        s.decline_pending({Relation.COACHEE}, NOW)


def test_a_declined_or_overtaken_proposal_changes_nothing() -> None:
    s = space(ACTIVE)
    hr = Participant("mem_4", HR)
    s.change_co_coach(hr, {Relation.COACH}, NOW, by=COACH, needs_agreement=True)
    s.decline_pending({Relation.COACHEE}, NOW)
    assert s.pending is None and s.set_up.co_coach == Participant("mem_3", CO_COACH)
    s.change_co_coach(hr, {Relation.COACH}, NOW, by=COACH, needs_agreement=True)
    s.change_coach(Participant("mem_6", "per_6"), {Relation.TENANT_ADMIN}, NOW)
    assert s.pending is not None  # another seat's change leaves the proposal
    s.change_co_coach(None, {Relation.COACH}, NOW)
    assert s.pending is None and s.set_up.co_coach is None
    with pytest.raises(InvalidArgument):  # a proposal that could never be accepted
        s.change_co_coach(
            Participant("mem_1", COACHEE), {Relation.COACH}, NOW, needs_agreement=True
        )


def test_a_coach_who_joins_later_sees_the_earlier_content_once_the_coachee_agrees() -> None:
    s = space(ACTIVE)
    assert s.earlier_hidden_from(Relation.COACH) is None  # there from the start
    later = datetime(2027, 2, 1, tzinfo=UTC)
    s.change_coach(Participant("mem_6", "per_6"), {Relation.TENANT_ADMIN}, later)
    assert s.earlier_hidden_from(Relation.COACH) == later
    assert s.earlier_hidden_from(Relation.CO_COACH) is None
    assert s.earlier_hidden_from(Relation.COACHEE) is None
    with pytest.raises(PermissionDenied):
        s.change_content({"project": "unseen"}, Relation.COACH, later)
    with pytest.raises(PermissionDenied):
        s.share_earlier_content({Relation.COACH}, later)
    s.share_earlier_content({Relation.COACHEE}, datetime(2027, 2, 2, tzinfo=UTC))
    assert s.earlier_hidden_from(Relation.COACH) is None
    s.change_co_coach(
        Participant("mem_7", "per_7"), {Relation.COACH}, datetime(2027, 3, 1, tzinfo=UTC)
    )
    assert s.earlier_hidden_from(Relation.CO_COACH) == datetime(2027, 3, 1, tzinfo=UTC)
    assert s.earlier_hidden_from(Relation.COACH) is None


def test_nobody_who_oversees_the_tenant_is_proposed_for_a_draft_its_coachee_cannot_see() -> None:
    s = space(DRAFT)
    with pytest.raises(InvalidArgument) as refused:
        s.change_coach(Participant("mem_4", HR), {Relation.TENANT_ADMIN}, NOW, needs_agreement=True)
    assert "coach_member_id" in str(refused.value.fields)
    assert s.pending is None and s.set_up.coach.person_id == COACH


def test_a_late_coach_reads_no_one_elses_earlier_note_but_their_own() -> None:
    earlier = Note.create("spc_1", "tnt_1", SHARED, COACHEE, Relation.COACHEE, "b", [], None, NOW)
    own = Note.create("spc_1", "tnt_1", COACH_PRIVATE, COACH, Relation.COACH, "b", [], None, NOW)
    joined = datetime(2027, 2, 1, tzinfo=UTC)
    assert earlier.readable_by(COACH, Relation.COACH) is True
    assert earlier.readable_by(COACH, Relation.COACH, joined) is False
    assert earlier.readable_by(COACHEE, Relation.COACHEE, None) is True
    assert own.readable_by(COACH, Relation.COACH, joined) is True
    assert earlier.readable_by(COACH, Relation.COACH, NOW) is True  # written as they joined


def test_a_goal_remembers_when_it_became_achieved_until_it_is_reopened() -> None:
    start = datetime(2027, 3, 1, 9, tzinfo=UTC)
    goal = Goal.create("spc_1", "tnt_1", {"title": "Run", "progress": 90}, "per_1", start)
    assert not goal.achieved_now(start) and goal.achieved_at is None
    goal.apply({"progress": 100})
    assert goal.achieved_now(start + timedelta(days=1))
    assert (goal.status, goal.achieved_at) == ("achieved", start + timedelta(days=1))
    goal.apply({"title": "Run far"})  # an edit keeps when it was achieved
    assert not goal.achieved_now(start + timedelta(days=2))
    assert goal.achieved_at == start + timedelta(days=1)
    goal.apply({"progress": 50})
    assert not goal.achieved_now(start + timedelta(days=3))
    assert (goal.status, goal.achieved_at) == ("open", None)
    goal.apply({"progress": 100})
    goal.achieved_now(start + timedelta(days=4))
    goal.archive()  # archived, it still says when it was achieved
    assert (goal.status, goal.achieved_at) == ("archived", start + timedelta(days=4))
