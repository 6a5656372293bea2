"""Isolation rows of scheduling's methods (ecoach/v1/scheduling.proto: availability, sessions,
reschedule requests, policy, video, calendar), and the methods without ids that serve each caller
their own; the cast and checks are in conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest

from gateway.api.pb import scheduling_pb2 as schpb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.isolation.conftest import (
    AVAILABILITY,
    NOT_FOUND,
    PERMISSION_DENIED,
    POLICIES,
    REQUEST_INTRUDERS,
    REQUESTS,
    SESSION_INTRUDERS,
    SESSIONS,
    SPACE_INTRUDERS,
    UNAUTHENTICATED,
    VIDEO,
    Case,
    World,
    acme_availability,
    acme_coach,
    acme_coachee,
    acme_name,
    acme_policy,
    acme_schedule,
    acme_slots_and_schedule,
    acme_video,
    assert_cannot_reach,
    assert_hidden_like_missing,
    case_params,
    days_ahead,
    fallen_admin,
    globex_admin,
    globex_admin_personal,
    globex_coach,
    globex_coachee,
    hidden_cases,
    leaver,
    named,
    next_weeks_slots,
    parent,
    rogue_policy,
    rogue_video,
    the_policy,
    the_session,
    the_video_settings,
)
from tests.support import scheduling as sch
from tests.support.api import Session, error_details
from tests.support.isolation import (
    as_dict,
)

CASES: list[Case] = [
    # ------------------------------------------------------------ availability and slots
    *(
        Case(
            method=f"{AVAILABILITY}/ListBookableSlots",
            label=label,
            caller=caller,
            request=next_weeks_slots(space),
            code=code,
            reason=reason,
            read_back=acme_slots_and_schedule,
        )
        for label, caller, space, code, reason in SPACE_INTRUDERS
    ),
    # ------------------------------------------------------------ sessions (participants only)
    *(
        Case(
            method=f"{SESSIONS}/{method}",
            label=label,
            caller=caller,
            request=request(space),
            code=code,
            reason=reason,
            read_back=acme_schedule,
        )
        for method, request in (
            (
                "BookSession",
                lambda space: (
                    lambda w: schpb.BookSessionRequest(parent=space(w), start_time=days_ahead(20))
                ),
            ),
            (
                "BookSeries",
                lambda space: (
                    lambda w: schpb.BookSeriesRequest(
                        parent=space(w),
                        start_time=days_ahead(21),
                        frequency=schpb.FREQUENCY_WEEKLY,
                        count=2,
                    )
                ),
            ),
            (
                "ListSessions",
                lambda space: lambda w: schpb.ListSessionsRequest(parent=space(w)),
            ),
        )
        for label, caller, space, code, reason in SPACE_INTRUDERS
    ),
    *(
        Case(
            method=f"{SESSIONS}/{method}",
            label=label,
            caller=caller,
            request=request(session),
            code=code,
            reason=reason,
            read_back=acme_schedule,
        )
        for method, request in (
            ("GetSession", lambda session: named(schpb.GetSessionRequest, session)),
            ("GetSessionRoom", lambda session: named(schpb.GetSessionRoomRequest, session)),
            (
                "BookNextSession",
                lambda session: named(schpb.BookNextSessionRequest, session),
            ),
            (
                "RescheduleSession",
                lambda session: (
                    lambda w: schpb.RescheduleSessionRequest(
                        name=session(w), start_time=days_ahead(22)
                    )
                ),
            ),
            (
                "CancelSession",
                lambda session: (
                    lambda w: schpb.CancelSessionRequest(name=session(w), reason=schpb.REASON_OTHER)
                ),
            ),
            (
                "MarkAttendance",
                lambda session: (
                    lambda w: schpb.MarkAttendanceRequest(
                        name=session(w), attendance=schpb.ATTENDANCE_NO_SHOW_COACH
                    )
                ),
            ),
        )
        for label, caller, session, code, reason in SESSION_INTRUDERS
    ),
    Case(
        # The coachee sees the session, but only a coach records who turned up.
        method=f"{SESSIONS}/MarkAttendance",
        label="victims-coachee",
        caller=acme_coachee,
        request=lambda w: schpb.MarkAttendanceRequest(
            name=the_session(w), attendance=schpb.ATTENDANCE_NO_SHOW_COACH
        ),
        code=PERMISSION_DENIED,
        reason="COACH_ONLY",
        read_back=acme_schedule,
    ),
    # ------------------------------------------------------------ reschedule requests
    *(
        Case(
            method=f"{REQUESTS}/ListRescheduleRequests",
            label=label,
            caller=caller,
            request=parent(schpb.ListRescheduleRequestsRequest),
            code=code,
            reason=reason,
            read_back=acme_schedule,
        )
        for label, caller, code, reason in (
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("other-tenant-coach", globex_coach, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("personal-token", globex_admin_personal, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("deactivated-coachee", leaver, UNAUTHENTICATED, "TOKEN_REVOKED"),
        )
    ),
    *(
        Case(
            method=f"{REQUESTS}/{method}",
            label=label,
            caller=caller,
            request=named(request, name),
            code=code,
            reason=reason,
            read_back=acme_schedule,
        )
        for method, request in (
            ("ApproveRescheduleRequest", schpb.ApproveRescheduleRequestRequest),
            ("DeclineRescheduleRequest", schpb.DeclineRescheduleRequestRequest),
        )
        for label, caller, name, code, reason in REQUEST_INTRUDERS
    ),
    # ------------------------------------------------------------ the tenant's policy
    *(
        Case(
            method=f"{POLICIES}/GetSchedulingPolicy",
            label=label,
            caller=caller,
            request=named(schpb.GetSchedulingPolicyRequest, the_policy),
            code=code,
            reason=reason,
            read_back=acme_policy,
        )
        for label, caller, code, reason in (
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("other-tenant-coachee", globex_coachee, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("personal-token", globex_admin_personal, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("deactivated-coachee", leaver, UNAUTHENTICATED, "TOKEN_REVOKED"),
        )
    ),
    *(
        Case(
            method=f"{POLICIES}/UpdateSchedulingPolicy",
            label=label,
            caller=caller,
            request=rogue_policy,
            code=code,
            reason=reason,
            read_back=acme_policy,
        )
        for label, caller, code, reason in (
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("personal-token", globex_admin_personal, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("own-tenant-coach", acme_coach, PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
            ("own-tenant-coachee", acme_coachee, PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
            ("deactivated-admin", fallen_admin, UNAUTHENTICATED, "TOKEN_REVOKED"),
        )
    ),
    # ------------------------------------------------------------ the tenant's video provider
    *(
        Case(
            method=f"{VIDEO}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=code,
            reason=reason,
            read_back=acme_video,
        )
        for method, request in (
            ("GetVideoSettings", named(schpb.GetVideoSettingsRequest, the_video_settings)),
            ("UpdateVideoSettings", rogue_video),
        )
        for label, caller, code, reason in (
            ("other-tenant-admin", globex_admin, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("personal-token", globex_admin_personal, NOT_FOUND, "TENANT_NOT_FOUND"),
            ("own-tenant-coach", acme_coach, PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
            ("own-tenant-coachee", acme_coachee, PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
            ("deactivated-admin", fallen_admin, UNAUTHENTICATED, "TOKEN_REVOKED"),
        )
    ),
]


# Methods that carry no id of another tenant or person, each with the reason.
EXEMPT: dict[str, str] = {
    f"{AVAILABILITY}/GetMyAvailability": (
        "no ids: reads the caller's own availability "
        "(test_availability_is_ones_own_and_only_a_coach_sets_it)"
    ),
    f"{AVAILABILITY}/UpdateMyAvailability": (
        "no ids: replaces the caller's own availability, and only a coach's "
        "(test_availability_is_ones_own_and_only_a_coach_sets_it)"
    ),
    "ecoach.v1.CalendarService/GetMyCalendarSettings": (
        "no ids: reads the caller's own reminders (test_calendar_settings_are_ones_own)"
    ),
    "ecoach.v1.CalendarService/CreateCalendarFeed": (
        "no ids: makes the caller's own feed (tests/e2e/test_calendar_feed.py)"
    ),
    "ecoach.v1.CalendarService/DeleteCalendarFeed": (
        "no ids: revokes the caller's own feed (tests/e2e/test_calendar_feed.py)"
    ),
    "ecoach.v1.CalendarFeedService/GetCalendarFeed": (
        "public: the only id is the feed URL's secret (256 bits, kept hashed); unknown, "
        "replaced and revoked ones are NOT_FOUND (tests/e2e/test_calendar_feed.py)"
    ),
    "ecoach.v1.CalendarService/UpdateMyCalendarSettings": (
        "no ids: replaces the caller's own reminders (test_calendar_settings_are_ones_own)"
    ),
    f"{SESSIONS}/ListMySessions": (
        "no ids but a time range: the caller's own sessions in every tenant, a named "
        "cross-tenant read (rule 5; test_my_sessions_and_requests_are_only_my_own)"
    ),
}


# ---------------------------------------------------------------- the cases


@pytest.mark.parametrize("case", case_params(CASES))
def test_a_caller_cannot_reach_what_is_not_theirs(world: World, case: Case) -> None:
    assert_cannot_reach(world, case)


@pytest.mark.parametrize("case", case_params(hidden_cases(CASES)))
def test_a_hidden_object_is_refused_exactly_like_one_that_does_not_exist(
    world: World, case: Case
) -> None:
    assert_hidden_like_missing(world, case)


# ---------------------------------------------------------------- one's own, and only one's own


def test_availability_is_ones_own_and_only_a_coach_sets_it(world: World) -> None:
    """GetMyAvailability and UpdateMyAvailability take no ids: each reads or replaces the
    caller's own hours, and only a coach has any."""
    s = sch.stubs(world.api.channel)
    before = acme_availability(world)
    assert before["coach_person_id"] == world.acme.coach.person_id and before["weekly"]

    for label, who in (
        ("the victim's coachee", world.acme.coachee),
        ("the victim's admin", world.acme.admin),
        ("the other tenant's admin", world.globex.admin),
    ):
        try:
            sch.set_availability(s, who, sch.around_the_clock())
        except grpc.RpcError as exc:
            refused = error_details(exc)
            assert (refused.code, refused.reason) == (PERMISSION_DENIED, "COACH_ONLY"), label
        else:
            raise AssertionError(f"{label} set an availability without being a coach")
        own = as_dict(
            s.availability.GetMyAvailability(
                schpb.GetMyAvailabilityRequest(), metadata=who.metadata
            )
        )
        assert own["coach_person_id"] == who.person_id, label
        assert not own.get("weekly") and "update_time" not in own, label

    # Another tenant's coach replaces their own hours, not the victim's.
    theirs = sch.set_availability(s, world.globex.coach, sch.around_the_clock(minutes=(30,)))
    assert theirs.coach_person_id == world.globex.coach.person_id
    assert acme_availability(world) == before


def test_calendar_settings_are_ones_own(world: World) -> None:
    """Get/UpdateMyCalendarSettings take no ids: one person's choice never reaches another's."""
    s = sch.stubs(world.api.channel)

    def mine(who: Session) -> Any:
        return as_dict(
            s.calendar.GetMyCalendarSettings(
                schpb.GetMyCalendarSettingsRequest(), metadata=who.metadata
            )
        )

    before = mine(world.acme.coachee)
    for who in (world.globex.admin, world.acme.admin, world.acme.coach):
        s.calendar.UpdateMyCalendarSettings(
            schpb.UpdateMyCalendarSettingsRequest(
                settings=schpb.CalendarSettings(reminders_off=True)
            ),
            metadata=who.metadata,
        )
        assert mine(who)["reminders_off"] is True
    assert mine(world.acme.coachee) == before


def test_my_sessions_and_requests_are_only_my_own(world: World) -> None:
    """ListMySessions (no ids, every tenant) answers each caller their own sessions only; the
    lists of requests and the coach's dashboard hold only the caller's own spaces'."""
    s = sch.stubs(world.api.channel)
    now = datetime.now(UTC)
    window = schpb.ListMySessionsRequest(
        start_time=sch.ts(now), end_time=sch.ts(now + timedelta(days=366))
    )
    victim_sessions = {world.acme_session_id, world.acme_asked_session_id}

    def mine(who: Session) -> list[schpb.Session]:
        return list(s.sessions.ListMySessions(window, metadata=who.metadata).sessions)

    for who in (world.acme.coach, world.acme.coachee):  # the control: the victims see theirs
        listed = mine(who)
        assert victim_sessions <= {x.session_id for x in listed}
        assert all(who.person_id in (x.coachee_person_id, x.coach_person_id) for x in listed)
    for label, who in (
        ("the victim's admin", world.acme.admin),
        ("the victim's other coach", world.acme_other_coach),
        ("the other tenant's admin", world.globex.admin),
        ("the other tenant's coach", world.globex.coach),
        ("the other tenant's coachee", world.globex.coachee),
        ("a personal token", world.globex_admin_personal),
    ):
        listed = mine(who)
        assert not victim_sessions & {x.session_id for x in listed}, label
        assert all(
            who.person_id in (x.coachee_person_id, x.coach_person_id, x.co_coach_person_id)
            for x in listed
        ), label

    def requests(who: Session) -> set[str]:
        listed = s.requests.ListRescheduleRequests(
            schpb.ListRescheduleRequestsRequest(parent=acme_name(world), page_size=100),
            metadata=who.metadata,
        )
        return {r.request_id for r in listed.requests}

    assert world.acme_request_id in requests(world.acme.coach)
    for label, who in (
        ("the victim's admin", world.acme.admin),
        ("the victim's other coach", world.acme_other_coach),
    ):
        assert world.acme_request_id not in requests(who), label

    board = s.dashboards.GetCoachDashboard(
        spb.GetCoachDashboardRequest(parent=acme_name(world)),
        metadata=world.acme_other_coach.metadata,
    )
    assert world.acme_request_id not in {r.request_id for r in board.reschedule_requests}
    shown = {x.session_id for x in board.to_mark} | {
        x.session_id for entry in board.coachees for x in entry.next_sessions
    }
    assert not victim_sessions & shown
