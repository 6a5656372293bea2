"""Isolation rows of spaces' methods (ecoach/v1/spaces.proto: spaces, goals, notes, dashboards);
the cast and checks are in conftest.py."""

from __future__ import annotations

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from gateway.api.convert import tenant_name
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.isolation.conftest import (
    GOALS,
    NOT_FOUND,
    NOTES,
    PERMISSION_DENIED,
    SESSION_LINKERS,
    SPACES,
    TOOLBOX,
    Case,
    World,
    acme_admin,
    acme_coach,
    acme_coachee,
    acme_goals,
    acme_name,
    acme_notes,
    acme_other_coach,
    acme_space,
    acme_spaces,
    acme_tools,
    assert_cannot_reach,
    assert_hidden_like_missing,
    case_params,
    globex_admin,
    globex_admin_personal,
    globex_coachee,
    hidden_cases,
    named,
    own_notes,
    parent,
    the_goal,
    the_note,
    the_space,
    the_space_under_globex,
    the_tool,
    victim_set_up,
)

CASES: list[Case] = [
    # ------------------------------------------------------------ spaces (relationship, not role)
    *(
        Case(
            method=f"{SPACES}/GetSpace",
            label=label,
            caller=caller,
            request=named(spb.GetSpaceRequest, name),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_space,
        )
        for label, caller, name, reason in (
            ("other-tenant-admin", globex_admin, the_space, "TENANT_NOT_FOUND"),
            ("smuggled-under-own-tenant", globex_admin, the_space_under_globex, "SPACE_NOT_FOUND"),
            ("same-tenant-other-coach", acme_other_coach, the_space, "SPACE_NOT_FOUND"),
            ("personal-token", globex_admin_personal, the_space, "TENANT_NOT_FOUND"),
        )
    ),
    *(  # the coaches' names: the space's coachee, coach and co-coach only (identity answers)
        Case(
            method=f"{SPACES}/GetSpaceCoaches",
            label=label,
            caller=caller,
            request=named(spb.GetSpaceCoachesRequest, name),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_space,
        )
        for label, caller, name, reason in (
            ("other-tenant-admin", globex_admin, the_space, "TENANT_NOT_FOUND"),
            (
                "smuggled-under-own-tenant",
                globex_coachee,
                the_space_under_globex,
                "SPACE_NOT_FOUND",
            ),
            ("same-tenant-other-coach", acme_other_coach, the_space, "SPACE_NOT_FOUND"),
            ("victims-own-hr", acme_admin, the_space, "SPACE_NOT_FOUND"),
            ("operator", lambda w: w.operator, the_space, "SPACE_NOT_FOUND"),
            ("personal-token", globex_admin_personal, the_space, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{SPACES}/RotateTenantKey",
            label=label,
            caller=caller,
            request=parent(spb.RotateTenantKeyRequest),
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=acme_space,
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("other-tenant-admin", globex_admin),
        )
    ),
    Case(
        method=f"{SPACES}/ImportSpaces",
        label="other-tenant-admin",
        caller=globex_admin,
        request=lambda w: spb.ImportSpacesRequest(
            parent=acme_name(w),
            csv=b"coachee_email,coach_email,cadence,sessions,start_date\n"
            b"a@example.test,b@example.test,weekly,3,2027-01-04\n",
        ),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_spaces,
    ),
    Case(
        method=f"{SPACES}/ListSpaces",
        label="other-tenant-admin",
        caller=globex_admin,
        request=parent(spb.ListSpacesRequest),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_spaces,
    ),
    Case(
        method=f"{SPACES}/CreateSpace",
        label="other-tenant-admin-in-victim-tenant",
        caller=globex_admin,
        request=lambda w: spb.CreateSpaceRequest(parent=acme_name(w), set_up=victim_set_up(w)),
        code=NOT_FOUND,
        reason="TENANT_NOT_FOUND",
        read_back=acme_spaces,
    ),
    Case(
        method=f"{SPACES}/CreateSpace",
        label="victim-members-smuggled-into-own-tenant",
        caller=globex_admin,
        request=lambda w: spb.CreateSpaceRequest(
            parent=tenant_name(w.globex.tenant_id), set_up=victim_set_up(w)
        ),
        code=NOT_FOUND,
        reason="MEMBER_NOT_FOUND",
        read_back=acme_spaces,
    ),
    *(
        Case(
            method=f"{SPACES}/UpdateSpaceSetUp",
            label=label,
            caller=caller,
            request=lambda w: spb.UpdateSpaceSetUpRequest(
                name=the_space(w), set_up=victim_set_up(w)
            ),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_space,
        )
        for label, caller, reason in (
            ("other-tenant-admin", globex_admin, "TENANT_NOT_FOUND"),
            ("same-tenant-other-coach", acme_other_coach, "SPACE_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{SPACES}/UpdateSpaceContent",
            label=label,
            caller=caller,
            request=lambda w: spb.UpdateSpaceContentRequest(
                name=the_space(w),
                content=spb.SpaceContent(project="overwritten"),
                update_mask=FieldMask(paths=["project"]),
            ),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_space,
        )
        for label, caller, reason in (
            ("victims-own-hr", acme_admin, "SPACE_NOT_FOUND"),
            ("same-tenant-other-coach", acme_other_coach, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{SPACES}/{method}",
            label=label,
            caller=caller,
            request=named(spb.SpaceMoveRequest, the_space),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_space,
        )
        for method in (
            "ActivateSpace",
            "PauseSpace",
            "ResumeSpace",
            "CompleteSpace",
            "ArchiveSpace",
        )
        for label, caller, reason in (
            ("same-tenant-other-coach", acme_other_coach, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{SPACES}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=code,
            reason=reason,
            read_back=acme_space,
        )
        for method, request in (
            (
                "ChangeCoach",
                lambda w: spb.ChangeCoachRequest(
                    name=the_space(w), coach_member_id=w.acme.coach_member
                ),
            ),
            (
                "ChangeCoCoach",
                lambda w: spb.ChangeCoCoachRequest(
                    name=the_space(w), co_coach_member_id=w.acme.coach_member
                ),
            ),
        )
        for label, caller, code, reason in (
            ("victims-coachee", acme_coachee, PERMISSION_DENIED, "COACH_CHANGE_FORBIDDEN"),
            ("same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    *(  # a proposed coach change, and the earlier content, are the coachee's alone to answer
        Case(
            method=f"{SPACES}/{method}",
            label=label,
            caller=caller,
            request=named(request, the_space),
            code=code,
            reason=reason,
            read_back=acme_space,
        )
        for method, request in (
            ("GetPendingCoachChange", spb.GetPendingCoachChangeRequest),
            ("AcceptCoachChange", spb.AcceptCoachChangeRequest),
            ("DeclineCoachChange", spb.DeclineCoachChangeRequest),
            ("ShareEarlierContent", spb.ShareEarlierContentRequest),
        )
        for label, caller, code, reason in (
            ("victims-coach", acme_coach, PERMISSION_DENIED, "COACHEE_ONLY"),
            ("victims-own-hr", acme_admin, PERMISSION_DENIED, "COACHEE_ONLY"),
            ("same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"ecoach.v1.DashboardService/{method}",
            label="other-tenant-coach",
            caller=lambda w: w.globex.coach,
            request=parent(request),
            code=NOT_FOUND,
            reason="TENANT_NOT_FOUND",
            read_back=acme_space,
        )
        for method, request in (
            ("GetCoacheeDashboard", spb.GetCoacheeDashboardRequest),
            ("GetCoachDashboard", spb.GetCoachDashboardRequest),
        )
    ),
    # ------------------------------------------------------------ goals (participants only)
    *(
        Case(
            method=f"{GOALS}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=code,
            reason=reason,
            read_back=acme_goals,
        )
        for method, request in (
            (
                "CreateGoal",
                lambda w: spb.CreateGoalRequest(parent=the_space(w), goal=spb.Goal(title="x")),
            ),
            ("GetGoal", named(spb.GetGoalRequest, the_goal)),
            ("ListGoals", parent(spb.ListGoalsRequest, the_space)),
            (
                "UpdateGoal",
                lambda w: spb.UpdateGoalRequest(
                    goal=spb.Goal(name=the_goal(w), progress=100),
                    update_mask=FieldMask(paths=["progress"]),
                ),
            ),
            ("ArchiveGoal", named(spb.ArchiveGoalRequest, the_goal)),
            ("ListGoalChanges", parent(spb.ListGoalChangesRequest, the_goal)),
        )
        for label, caller, code, reason in (
            ("victims-own-hr", acme_admin, PERMISSION_DENIED, "CONTENT_FORBIDDEN"),
            ("same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    # ------------------------------------------------------------ notes (by kind and author)
    *(
        Case(
            method=f"{NOTES}/{method}",
            label=f"{label}-{kind}",
            caller=caller,
            request=request(kind),
            code=code,
            reason=reason,
            read_back=acme_notes,
        )
        for method, request in (
            ("GetNote", lambda kind: named(spb.GetNoteRequest, the_note(kind))),
            (
                "UpdateNote",
                lambda kind: (
                    lambda w: spb.UpdateNoteRequest(
                        note=spb.Note(name=the_note(kind)(w), body="overwritten"),
                        update_mask=FieldMask(paths=["body"]),
                    )
                ),
            ),
            ("DeleteNote", lambda kind: named(spb.DeleteNoteRequest, the_note(kind))),
            (
                "ListNoteRevisions",
                lambda kind: parent(spb.ListNoteRevisionsRequest, the_note(kind)),
            ),
        )
        for kind, label, caller, code, reason in (
            (
                "coach_private",
                "coachee-reads-coach-private",
                acme_coachee,
                NOT_FOUND,
                "NOTE_NOT_FOUND",
            ),
            ("journal", "coach-reads-journal", acme_coach, NOT_FOUND, "NOTE_NOT_FOUND"),
            ("shared", "victims-own-hr", acme_admin, PERMISSION_DENIED, "CONTENT_FORBIDDEN"),
            ("shared", "same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("shared", "other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{NOTES}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=code,
            reason=reason,
            read_back=acme_notes,
        )
        for method, request in (
            (
                "CreateNote",
                lambda w: spb.CreateNoteRequest(
                    parent=the_space(w), note=spb.Note(kind=spb.SHARED, body="intruder")
                ),
            ),
            ("ListNotes", parent(spb.ListNotesRequest, the_space)),
            ("ListNoteReads", parent(spb.ListNoteReadsRequest, the_space)),
        )
        for label, caller, code, reason in (
            ("victims-own-hr", acme_admin, PERMISSION_DENIED, "CONTENT_FORBIDDEN"),
            ("same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{NOTES}/ListRefusedNoteReads",
            label=label,
            caller=caller,
            request=lambda w: spb.ListRefusedNoteReadsRequest(),
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=acme_notes,
        )
        for label, caller in (("tenant-admin", acme_admin), ("coach", acme_coach))
    ),
    # ------------------------------------------------------------ toolbox (ADR 0018)
    *(
        Case(
            method=f"{TOOLBOX}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=code,
            reason=reason,
            read_back=acme_tools,
        )
        for method, request in (
            (
                "AddTool",
                lambda w: spb.AddToolRequest(
                    parent=the_space(w),
                    tool=spb.Tool(kind=spb.TOOL_VIDEO_ROOM, label="intruder"),
                ),
            ),
            (
                "UpdateTool",
                lambda w: spb.UpdateToolRequest(
                    tool=spb.Tool(name=the_tool(w), label="overwritten"),
                    update_mask=FieldMask(paths=["label"]),
                ),
            ),
            ("UnlockTool", named(spb.UnlockToolRequest, the_tool)),
            ("LockTool", named(spb.LockToolRequest, the_tool)),
            ("MoveTool", named(spb.MoveToolRequest, the_tool)),
            ("RemoveTool", named(spb.RemoveToolRequest, the_tool)),
        )
        for label, caller, code, reason in (
            ("victims-coachee", acme_coachee, PERMISSION_DENIED, "TOOLBOX_COACH_ONLY"),
            ("victims-own-hr", acme_admin, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("operator", lambda w: w.operator, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("same-tenant-other-coach", acme_other_coach, NOT_FOUND, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
        )
    ),
    *(
        Case(
            method=f"{TOOLBOX}/ListTools",
            label=label,
            caller=caller,
            request=parent(spb.ListToolsRequest, the_space),
            code=NOT_FOUND,
            reason=reason,
            read_back=acme_tools,
        )
        for label, caller, reason in (
            ("victims-own-hr", acme_admin, "SPACE_NOT_FOUND"),
            ("operator", lambda w: w.operator, "TENANT_NOT_FOUND"),
            ("same-tenant-other-coach", acme_other_coach, "SPACE_NOT_FOUND"),
            ("other-tenant-admin", globex_admin, "TENANT_NOT_FOUND"),
        )
    ),
    # ------------------------------------------------------------ notes about a session
    *(
        Case(
            method=f"{NOTES}/{method}",
            label=label,
            caller=caller,
            request=request(space, note, session),
            code=NOT_FOUND,
            reason="SESSION_NOT_FOUND",
            read_back=own_notes(space, caller),
        )
        for method, request in (
            (
                "CreateNote",
                lambda space, note, session: (
                    lambda w: spb.CreateNoteRequest(
                        parent=space(w),
                        note=spb.Note(
                            kind=spb.SHARED, body="about your session", session=session(w)
                        ),
                    )
                ),
            ),
            (
                "UpdateNote",
                lambda space, note, session: (
                    lambda w: spb.UpdateNoteRequest(
                        note=spb.Note(name=note(w), session=session(w)),
                        update_mask=FieldMask(paths=["session"]),
                    )
                ),
            ),
        )
        for label, caller, space, note, session in SESSION_LINKERS
    ),
]


# Methods that carry no id of another tenant or person, each with the reason.
EXEMPT: dict[str, str] = {}


# ---------------------------------------------------------------- the cases


@pytest.mark.parametrize("case", case_params(CASES))
def test_a_caller_cannot_reach_what_is_not_theirs(world: World, case: Case) -> None:
    assert_cannot_reach(world, case)


@pytest.mark.parametrize("case", case_params(hidden_cases(CASES)))
def test_a_hidden_object_is_refused_exactly_like_one_that_does_not_exist(
    world: World, case: Case
) -> None:
    assert_hidden_like_missing(world, case)
