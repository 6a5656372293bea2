"""Scheduling through the gateway, as a client would use it: availability, a series, moves,
the policy the platform enforces (free, request to the coach, late), attendance, the space's
lifecycle, time zones and races."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, ErrorDetails, Session, error_details, expect_error
from tests.support.mailbox import mails_to
from tests.support.spaces import add_person
from tests.support.waiting import wait_for

FAILED = grpc.StatusCode.FAILED_PRECONDITION
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def s(deployment: Deployment) -> Iterator[sch.Stubs]:
    channel = deployment.channel()
    yield sch.stubs(channel)
    channel.close()


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)


def reschedule(
    s: sch.Stubs, who: Session, session: str, at: datetime, scope: int = pb.SCOPE_THIS
) -> pb.RescheduleSessionResponse:
    return s.sessions.RescheduleSession(
        pb.RescheduleSessionRequest(name=session, start_time=sch.ts(at), scope=scope),
        metadata=who.metadata,
    )


def cancel(
    s: sch.Stubs, who: Session, session: str, reason: int = 0, scope: int = pb.SCOPE_THIS
) -> pb.CancelSessionResponse:
    return s.sessions.CancelSession(
        pb.CancelSessionRequest(name=session, reason=reason, scope=scope), metadata=who.metadata
    )


def get(s: sch.Stubs, who: Session, name: str) -> pb.Session:
    return s.sessions.GetSession(pb.GetSessionRequest(name=name), metadata=who.metadata)


def coach_dashboard(s: sch.Stubs, team: TenantWorld, who: Session) -> spb.CoachDashboard:
    return s.dashboards.GetCoachDashboard(
        spb.GetCoachDashboardRequest(parent=tenant_name(team.tenant_id)), metadata=who.metadata
    )


def mails(deployment: Deployment, address: str, subject: str, count: int = 1) -> list[Any]:
    return list(
        wait_for(
            lambda: (
                found
                if len(
                    found := [
                        m
                        for m in mails_to(deployment.config.mail_path, address)
                        if subject in str(m["Subject"])
                    ]
                )
                >= count
                else None
            ),
            30,
            f"{count} mail(s) '{subject}' to {address}",
        )
    )


@pytest.fixture(scope="module")
def team(deployment: Deployment, api: Api, operator: Session, s: sch.Stubs) -> TenantWorld:
    """A tenant whose coach is available around the clock with no notice (UTC)."""
    world = make_tenant(deployment, api, operator)
    sch.set_availability(s, world.coach, sch.around_the_clock())
    return world


def new_space(s: sch.Stubs, team: TenantWorld, **set_up: Any) -> spb.Space:
    return sch.active_space(
        s, team.tenant_id, team.coach, team.coachee_member, team.coach_member, **set_up
    )


# ---------------------------------------------------------------- the judged journey


def test_a_coachee_books_a_series_moves_it_asks_late_cancels_late_and_the_coach_marks(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team = make_tenant(deployment, api, operator)
    coach_email, coachee_email = email_of(api, team.coach), email_of(api, team.coachee)

    # The coach's availability: theirs, as they set it.
    given = sch.around_the_clock(minutes=(60, 30))
    given.buffer_minutes = 15
    sch.set_availability(s, team.coach, given)
    mine = s.availability.GetMyAvailability(
        pb.GetMyAvailabilityRequest(), metadata=team.coach.metadata
    )
    assert (mine.time_zone, list(mine.session_minutes), mine.buffer_minutes) == (
        "UTC",
        [60, 30],
        15,
    )
    assert len(mine.weekly) == 7 and mine.coach_person_id == team.coach.person_id
    space = new_space(s, team)

    # Slots in the coachee's time zone.
    sch.set_time_zone(api, team.coachee, "America/New_York")
    start = datetime.now(UTC).date() + timedelta(days=3)
    slots = s.availability.ListBookableSlots(
        pb.ListBookableSlotsRequest(
            parent=space.name, start_date=start.isoformat(), end_date=start.isoformat()
        ),
        metadata=team.coachee.metadata,
    )
    assert slots.time_zone == "America/New_York" and slots.minutes == 60
    assert slots.slots and all(x.local_start.startswith(start.isoformat()) for x in slots.slots)
    first_local = datetime.fromisoformat(slots.slots[0].local_start)
    assert first_local.utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))

    # A weekly series of four, booked in one call.
    first = sch.hour_from_now(24 * 5)
    series = s.sessions.BookSeries(
        pb.BookSeriesRequest(
            parent=space.name, start_time=sch.ts(first), frequency=pb.FREQUENCY_WEEKLY, count=4
        ),
        metadata=team.coachee.metadata,
    )
    assert [sch.dt(x.start_time) for x in series.sessions] == [
        first + timedelta(weeks=i) for i in range(4)
    ]
    assert {x.series_id for x in series.sessions} == {series.series_id}
    assert all(x.status == pb.SESSION_BOOKED for x in series.sessions)

    # One occurrence moved (more than 48 h ahead: free); the others stay.
    second = series.sessions[1]
    moved_to = sch.dt(second.start_time) + timedelta(hours=3)
    moved = reschedule(s, team.coachee, second.name, moved_to)
    assert moved.outcome == pb.RESCHEDULED
    [after] = moved.sessions
    assert sch.dt(after.start_time) == moved_to and after.sequence > second.sequence
    listed = sch.space_sessions(s, space.name, team.coach)
    assert sorted(sch.dt(x.start_time) for x in listed) == sorted(
        [first, moved_to, first + timedelta(weeks=2), first + timedelta(weeks=3)]
    )

    # Between 24 and 48 h before: moving is a request to the coach, who is mailed.
    soon = sch.book(s, space.name, team.coachee, sch.hour_from_now(30))
    proposed = sch.dt(soon.start_time) + timedelta(hours=2)
    asked = reschedule(s, team.coachee, soon.name, proposed)
    assert asked.outcome == pb.REQUESTED
    assert asked.request.status == pb.REQUEST_PENDING
    assert sch.dt(asked.request.proposed_start_time) == proposed
    assert sch.dt(get(s, team.coachee, soon.name).start_time) == sch.dt(soon.start_time)
    [mail] = mails(deployment, coach_email, "request")
    assert "notes" not in str(mail.get_body(preferencelist=("plain",)).get_content()).lower()
    # The proposed slot is held meanwhile.
    held = expect_error(
        s.sessions.BookSession,
        pb.BookSessionRequest(parent=space.name, start_time=sch.ts(proposed)),
        metadata=team.coach.metadata,
    )
    assert (held.code, held.reason) == (FAILED, "SLOT_TAKEN")
    dashboard = coach_dashboard(s, team, team.coach)
    assert [r.name for r in dashboard.reschedule_requests] == [asked.request.name]
    approved = s.requests.ApproveRescheduleRequest(
        pb.ApproveRescheduleRequestRequest(name=asked.request.name), metadata=team.coach.metadata
    )
    assert approved.outcome == pb.RESCHEDULED
    assert approved.request.status == pb.REQUEST_APPROVED
    assert sch.dt(get(s, team.coachee, soon.name).start_time) == proposed
    mails(deployment, coachee_email, "request")  # the coachee hears the answer
    assert not coach_dashboard(s, team, team.coach).reschedule_requests

    # Under 24 h: cancel only, recorded as late, and it uses up a session (the default).
    late = sch.book(s, space.name, team.coachee, sch.hour_from_now(5))
    refused = expect_error(
        reschedule, s, team.coachee, late.name, sch.dt(late.start_time) + timedelta(hours=1)
    )
    assert (refused.code, refused.reason) == (FAILED, "POLICY_LATE_RESCHEDULE")
    [cancelled] = cancel(s, team.coachee, late.name).sessions
    assert cancelled.status == pb.SESSION_CANCELLED
    assert (cancelled.late, cancelled.uses_session, cancelled.cancelled_by) == (
        True,
        True,
        pb.SIDE_COACHEE,
    )
    mails(deployment, coach_email, "cancelled")

    # The next session from the current one, in one step: one cadence (weekly) later.
    nxt = s.sessions.BookNextSession(
        pb.BookNextSessionRequest(name=series.sessions[3].name), metadata=team.coachee.metadata
    )
    assert sch.dt(nxt.start_time) == first + timedelta(weeks=4)

    # Attendance: a session an hour from now, then the clock three hours on.
    short = sch.book(s, space.name, team.coachee, sch.hour_from_now(0), minutes=30)
    too_early = expect_error(
        s.sessions.MarkAttendance,
        pb.MarkAttendanceRequest(name=short.name, attendance=pb.ATTENDANCE_HELD),
        metadata=team.coach.metadata,
    )
    assert (too_early.code, too_early.reason) == (FAILED, "SESSION_NOT_STARTED")
    offset = (sch.dt(short.end_time) - datetime.now(UTC)).total_seconds() + 2.5 * 3600
    with sch.later(deployment, offset):
        coach = api.sign_in(coach_email, PASSWORD, team.tenant_id)
        coachee = api.sign_in(coachee_email, PASSWORD, team.tenant_id)
        waiting = coach_dashboard(s, team, coach).to_mark
        assert [x.name for x in waiting] == [short.name]
        by_coachee = expect_error(
            s.sessions.MarkAttendance,
            pb.MarkAttendanceRequest(name=short.name, attendance=pb.ATTENDANCE_HELD),
            metadata=coachee.metadata,
        )
        assert by_coachee.code == grpc.StatusCode.PERMISSION_DENIED
        marked = s.sessions.MarkAttendance(
            pb.MarkAttendanceRequest(name=short.name, attendance=pb.ATTENDANCE_HELD),
            metadata=coach.metadata,
        )
        assert marked.status == pb.SESSION_HELD and marked.HasField("mark_time")
        assert not coach_dashboard(s, team, coach).to_mark
        # The coachee's dashboard shows the next sessions.
        card = s.dashboards.GetCoacheeDashboard(
            spb.GetCoacheeDashboardRequest(parent=tenant_name(team.tenant_id)),
            metadata=coachee.metadata,
        ).spaces[0]
        assert card.next_sessions and all(x.status == pb.SESSION_BOOKED for x in card.next_sessions)
        assert len(card.next_sessions) <= 3


def test_a_cancelled_session_that_took_place_is_corrected_to_held_unless_its_time_was_taken(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    """A coachee's late cancellation, the session held after all: the coach corrects it to held
    (the cancellation and its lateness gone, one session used, as held); a cancelled session
    whose freed time another session has taken cannot be (SLOT_TAKEN), and stays cancelled."""
    team = make_tenant(deployment, api, operator)  # its own coach: no other test's bookings
    coach_email = email_of(api, team.coach)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = new_space(s, team)
    took_place = sch.book(s, space.name, team.coachee, sch.hour_from_now(5))
    given_away = sch.book(s, space.name, team.coachee, sch.hour_from_now(8))
    for booked in (took_place, given_away):
        [gone] = cancel(s, team.coachee, booked.name).sessions
        assert (gone.status, gone.late) == (pb.SESSION_CANCELLED, True)
    # The coach books another session in the freed time of the second one.
    instead = sch.book(s, space.name, team.coach, sch.dt(given_away.start_time))
    assert instead.status == pb.SESSION_BOOKED
    with sch.later(deployment, 11 * 3600):
        coach = api.sign_in(coach_email, PASSWORD, team.tenant_id)
        corrected = s.sessions.MarkAttendance(
            pb.MarkAttendanceRequest(name=took_place.name, attendance=pb.ATTENDANCE_HELD),
            metadata=coach.metadata,
        )
        assert (corrected.status, corrected.late, corrected.uses_session) == (
            pb.SESSION_HELD,
            False,
            True,
        )
        assert corrected.cancelled_by == pb.SIDE_UNSPECIFIED
        taken = expect_error(
            s.sessions.MarkAttendance,
            pb.MarkAttendanceRequest(name=given_away.name, attendance=pb.ATTENDANCE_HELD),
            metadata=coach.metadata,
        )
        assert (taken.code, taken.reason) == (FAILED, "SLOT_TAKEN")
        assert get(s, coach, given_away.name).status == pb.SESSION_CANCELLED


# ---------------------------------------------------------------- time zones


def test_a_weekly_paris_series_keeps_nine_o_clock_across_the_october_change_and_new_york_sees_it(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team = make_tenant(deployment, api, operator)
    hours = pb.Availability(
        time_zone="Europe/Paris",
        weekly=[
            pb.WeeklyHours(weekday=d, start_time="08:00", end_time="18:00") for d in range(1, 6)
        ],
        session_minutes=[60],
        min_notice_minutes=0,
        horizon_days=730,
    )
    sch.set_availability(s, team.coach, hours)
    space = new_space(s, team)
    sch.set_time_zone(api, team.coachee, "America/New_York")
    year = datetime.now(UTC).year + 1
    # The last Sunday of October ends summer time in Paris; the first of November in New York.
    monday = datetime(year, 10, 31, 9, tzinfo=PARIS)
    while monday.weekday() != 6:
        monday -= timedelta(days=1)
    monday -= timedelta(days=13)  # two Mondays before the change
    series = s.sessions.BookSeries(
        pb.BookSeriesRequest(
            parent=space.name, start_time=sch.ts(monday), frequency=pb.FREQUENCY_WEEKLY, count=4
        ),
        metadata=team.coachee.metadata,
    )
    starts = [sch.dt(x.start_time) for x in series.sessions]
    assert [x.astimezone(PARIS).strftime("%H:%M") for x in starts] == ["09:00"] * 4
    assert [x.hour for x in starts] == [7, 7, 8, 8]  # UTC: +02:00, then +01:00
    assert all(x.local_start.endswith("T09:00") for x in series.sessions)
    assert all(x.time_zone == "Europe/Paris" and not x.shifted_by_gap for x in series.sessions)
    # New York moves a week later than Paris: 03:00, 03:00, 04:00 (EDT), 03:00 (EST).
    assert [x.astimezone(NEW_YORK).strftime("%H:%M") for x in starts] == [
        "03:00",
        "03:00",
        "04:00",
        "03:00",
    ]
    # The coachee's slots, in their own time zone, around the change.
    slots = s.availability.ListBookableSlots(
        pb.ListBookableSlotsRequest(
            parent=space.name,
            start_date=starts[2].astimezone(NEW_YORK).date().isoformat(),
            end_date=starts[3].astimezone(NEW_YORK).date().isoformat(),
        ),
        metadata=team.coachee.metadata,
    )
    assert slots.time_zone == "America/New_York"
    for slot in slots.slots:
        local = datetime.fromisoformat(slot.local_start)
        assert local == sch.dt(slot.start_time).astimezone(NEW_YORK)
        paris = sch.dt(slot.start_time).astimezone(PARIS)
        assert 8 <= paris.hour < 18 and paris.weekday() < 5
    taken = {sch.dt(x.start_time) for x in slots.slots}
    assert starts[2] not in taken and starts[3] not in taken  # the series' own hours are busy


def test_a_wall_time_in_the_spring_gap_moves_forward_and_is_flagged(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team = make_tenant(deployment, api, operator)
    sch.set_availability(s, team.coach, sch.around_the_clock("Europe/Paris"))
    space = new_space(s, team)
    year = datetime.now(UTC).year + 1
    change = datetime(year, 3, 31, 2, 30)
    while change.weekday() != 6:  # the last Sunday of March
        change -= timedelta(days=1)
    first = (change - timedelta(days=7)).replace(tzinfo=PARIS)
    series = s.sessions.BookSeries(
        pb.BookSeriesRequest(
            parent=space.name, start_time=sch.ts(first), frequency=pb.FREQUENCY_WEEKLY, count=2
        ),
        metadata=team.coachee.metadata,
    )
    one, two = series.sessions
    assert (one.local_start[11:16], one.shifted_by_gap) == ("02:30", False)
    assert (two.local_start[11:16], two.shifted_by_gap) == ("03:30", True)
    assert sch.dt(two.start_time) - sch.dt(one.start_time) == timedelta(days=7)


# ---------------------------------------------------------------- races


def race(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[ErrorDetails]]:
    barrier = threading.Barrier(len(calls))
    won: list[Any] = []
    lost: list[ErrorDetails] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            answer = call()
        except grpc.RpcError as exc:
            with lock:
                lost.append(error_details(exc))
        else:
            with lock:
                won.append(answer)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return won, lost


def test_fifty_simultaneous_bookings_of_one_slot_one_succeeds(
    s: sch.Stubs, team: TenantWorld
) -> None:
    space = new_space(s, team)
    at = sch.hour_from_now(24 * 20)

    def book() -> pb.Session:
        return sch.book(s, space.name, team.coachee, at)

    won, lost = race([book] * 50)
    assert len(won) == 1, [x.reason for x in lost]
    assert {(x.code, x.reason) for x in lost} == {(FAILED, "SLOT_TAKEN")}
    assert [x.name for x in sch.space_sessions(s, space.name, team.coach)] == [won[0].name]


def test_two_partially_overlapping_bookings_of_two_coachees_race_and_one_succeeds(
    deployment: Deployment, api: Api, s: sch.Stubs, team: TenantWorld
) -> None:
    """Different coachees, the same coach: the coach's time is what they race for."""
    other_member, other = add_person(deployment, api, team, ipb.COACHEE, "overlap")
    mine = new_space(s, team)
    theirs = sch.active_space(s, team.tenant_id, team.coach, other_member, team.coach_member)
    for day in range(5):
        at = sch.hour_from_now(24 * (30 + day))
        won, lost = race(
            [
                lambda at=at: sch.book(s, mine.name, team.coachee, at),
                lambda at=at: sch.book(s, theirs.name, other, at + timedelta(minutes=30)),
            ]
        )
        assert len(won) == 1 and [(x.code, x.reason) for x in lost] == [(FAILED, "SLOT_TAKEN")]


def test_the_engagements_number_of_sessions_holds_under_races(
    s: sch.Stubs, team: TenantWorld
) -> None:
    space = new_space(s, team, sessions_planned=2)
    times = [sch.hour_from_now(24 * 40 + 2 * i) for i in range(8)]
    won, lost = race([lambda at=at: sch.book(s, space.name, team.coachee, at) for at in times])
    assert len(won) == 2
    assert {(x.code, x.reason) for x in lost} == {(FAILED, "ENGAGEMENT_EXHAUSTED")}


# ---------------------------------------------------------------- bad input


def test_a_booking_the_rules_refuse_names_the_rule_and_books_nothing(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team = make_tenant(deployment, api, operator)
    hours = pb.Availability(
        time_zone="Europe/Paris",
        weekly=[
            pb.WeeklyHours(weekday=d, start_time="09:00", end_time="17:00") for d in range(1, 6)
        ],
        session_minutes=[60],
        min_notice_minutes=24 * 60,
        horizon_days=60,
    )
    sch.set_availability(s, team.coach, hours)
    space = new_space(s, team, sessions_planned=3)
    day = (datetime.now(PARIS) + timedelta(days=10)).date()
    while day.weekday() != 1:  # a Tuesday
        day += timedelta(days=1)
    tuesday = datetime(day.year, day.month, day.day, 10, tzinfo=PARIS)
    saturday = tuesday + timedelta(days=4)
    ok = sch.book(s, space.name, team.coachee, tuesday)

    def refused(at: datetime, who: Session = team.coachee, **more: Any) -> ErrorDetails:
        return expect_error(
            s.sessions.BookSession,
            pb.BookSessionRequest(parent=space.name, start_time=sch.ts(at), **more),
            metadata=who.metadata,
        )

    cases = {
        "OUTSIDE_AVAILABILITY": refused(saturday),
        "OUTSIDE_AVAILABILITY-evening": refused(tuesday.replace(hour=16, minute=30)),
        "IN_THE_PAST": refused(datetime.now(UTC) - timedelta(hours=1)),
        "TOO_SOON": refused(sch.hour_from_now(2)),
        "BEYOND_HORIZON": refused(tuesday + timedelta(days=70)),
        "SLOT_TAKEN": refused(tuesday + timedelta(minutes=30)),
    }
    for rule, answer in cases.items():
        assert (answer.code, answer.reason) == (FAILED, rule.split("-")[0]), rule
    wrong_length = refused(tuesday + timedelta(hours=3), minutes=45)
    assert (wrong_length.code, wrong_length.fields) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ("minutes",),
    )
    # Someone who is not part of the space: as if it did not exist.
    _, stranger = add_person(deployment, api, team, ipb.COACHEE, "stranger")
    hidden = refused(tuesday + timedelta(hours=2), who=stranger)
    assert (hidden.code, hidden.reason) == (grpc.StatusCode.NOT_FOUND, "SPACE_NOT_FOUND")
    hr = refused(tuesday + timedelta(hours=2), who=team.admin)
    assert (hr.code, hr.reason) == (grpc.StatusCode.NOT_FOUND, "SPACE_NOT_FOUND")

    # A series that meets a booked session is refused whole, with the dates in conflict.
    conflicting = expect_error(
        s.sessions.BookSeries,
        pb.BookSeriesRequest(
            parent=space.name,
            start_time=sch.ts(tuesday - timedelta(weeks=1)),
            frequency=pb.FREQUENCY_WEEKLY,
            count=2,
        ),
        metadata=team.coachee.metadata,
    )
    assert (conflicting.code, conflicting.reason) == (FAILED, "SLOT_TAKEN")
    assert conflicting.metadata and day.isoformat() in conflicting.metadata["conflicts"]
    # Longer than the sessions left in the engagement (3, one booked).
    too_long = expect_error(
        s.sessions.BookSeries,
        pb.BookSeriesRequest(
            parent=space.name,
            start_time=sch.ts(tuesday + timedelta(days=1)),
            frequency=pb.FREQUENCY_WEEKLY,
            count=3,
        ),
        metadata=team.coachee.metadata,
    )
    assert (too_long.code, too_long.reason) == (FAILED, "ENGAGEMENT_EXHAUSTED")
    both = expect_error(
        s.sessions.BookSeries,
        pb.BookSeriesRequest(
            parent=space.name,
            start_time=sch.ts(tuesday + timedelta(days=1)),
            frequency=pb.FREQUENCY_WEEKLY,
            count=2,
            until_date=(day + timedelta(days=30)).isoformat(),
        ),
        metadata=team.coachee.metadata,
    )
    assert both.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [x.name for x in sch.space_sessions(s, space.name, team.coach)] == [ok.name]

    # Availability that does not hold together: nothing saved.
    before = s.availability.GetMyAvailability(
        pb.GetMyAvailabilityRequest(), metadata=team.coach.metadata
    )
    bad = pb.Availability(
        time_zone="Mars/Olympus_Mons",
        weekly=[pb.WeeklyHours(weekday=1, start_time="18:00", end_time="09:00")],
    )
    wrong = expect_error(
        s.availability.UpdateMyAvailability,
        pb.UpdateMyAvailabilityRequest(availability=bad),
        metadata=team.coach.metadata,
    )
    assert wrong.code == grpc.StatusCode.INVALID_ARGUMENT
    bad.time_zone = "Europe/Paris"
    wrong = expect_error(
        s.availability.UpdateMyAvailability,
        pb.UpdateMyAvailabilityRequest(availability=bad),
        metadata=team.coach.metadata,
    )
    assert (wrong.code, wrong.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("weekly[0]",))
    assert (
        s.availability.GetMyAvailability(
            pb.GetMyAvailabilityRequest(), metadata=team.coach.metadata
        )
        == before
    )
    not_a_coach = expect_error(
        s.availability.UpdateMyAvailability,
        pb.UpdateMyAvailabilityRequest(availability=hours),
        metadata=team.coachee.metadata,
    )
    assert (not_a_coach.code, not_a_coach.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "COACH_ONLY",
    )


# ---------------------------------------------------------------- policy


def test_the_tenant_admin_sets_the_policy_and_the_platform_applies_it(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team = make_tenant(deployment, api, operator)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    name = f"tenants/{team.tenant_id}/schedulingPolicy"
    policy = wait_for(
        lambda: s.policies.GetSchedulingPolicy(
            pb.GetSchedulingPolicyRequest(name=name), metadata=team.coachee.metadata
        ),
        10,
        "the default policy",
    )
    assert (policy.free_hours, policy.request_hours, policy.late_cancel_uses_session) == (
        48,
        24,
        True,
    )
    for who in (team.coach, team.coachee):
        denied = expect_error(
            s.policies.UpdateSchedulingPolicy,
            pb.UpdateSchedulingPolicyRequest(
                policy=pb.SchedulingPolicy(name=name, free_hours=1, request_hours=0)
            ),
            metadata=who.metadata,
        )
        assert (denied.code, denied.reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "TENANT_ADMIN_ONLY",
        )
    upside_down = expect_error(
        s.policies.UpdateSchedulingPolicy,
        pb.UpdateSchedulingPolicyRequest(
            policy=pb.SchedulingPolicy(name=name, free_hours=12, request_hours=36)
        ),
        metadata=team.admin.metadata,
    )
    assert (upside_down.code, upside_down.fields) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ("request_hours",),
    )
    changed = s.policies.UpdateSchedulingPolicy(
        pb.UpdateSchedulingPolicyRequest(
            policy=pb.SchedulingPolicy(
                name=name, free_hours=12, request_hours=6, late_cancel_uses_session=False
            )
        ),
        metadata=team.admin.metadata,
    )
    assert (changed.free_hours, changed.updater_person_id) == (12, team.admin.person_id)

    space = new_space(s, team)
    # 20 h ahead: free under this tenant's policy (it would be a request under the default).
    free = sch.book(s, space.name, team.coachee, sch.hour_from_now(20))
    moved = reschedule(s, team.coachee, free.name, sch.dt(free.start_time) + timedelta(hours=1))
    assert moved.outcome == pb.RESCHEDULED
    # A late cancellation that, here, does not use up a session.
    late = sch.book(s, space.name, team.coachee, sch.hour_from_now(3))
    [cancelled] = cancel(s, team.coachee, late.name).sessions
    assert (cancelled.late, cancelled.uses_session) == (True, False)

    # A coach always may cancel, gives a reason, and it never uses up a session.
    mine = sch.book(s, space.name, team.coachee, sch.hour_from_now(2))
    no_reason = expect_error(cancel, s, team.coach, mine.name)
    assert (no_reason.code, no_reason.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("reason",))
    [by_coach] = cancel(s, team.coach, mine.name, reason=pb.REASON_ILLNESS).sessions
    assert (
        by_coach.cancelled_by,
        by_coach.cancel_reason,
        by_coach.late,
        by_coach.uses_session,
    ) == (
        pb.SIDE_COACH,
        pb.REASON_ILLNESS,
        False,
        False,
    )
    again = expect_error(cancel, s, team.coachee, mine.name)
    assert (again.code, again.reason) == (FAILED, "SESSION_NOT_BOOKED")


def test_a_declined_request_leaves_the_original_and_frees_the_held_slot(
    s: sch.Stubs, team: TenantWorld
) -> None:
    space = new_space(s, team)
    session = sch.book(s, space.name, team.coachee, sch.hour_from_now(36))
    proposed = sch.dt(session.start_time) + timedelta(hours=4)
    asked = reschedule(s, team.coachee, session.name, proposed)
    assert asked.outcome == pb.REQUESTED
    twice = expect_error(reschedule, s, team.coachee, session.name, proposed + timedelta(hours=1))
    assert (twice.code, twice.reason) == (FAILED, "REQUEST_PENDING")
    declined = s.requests.DeclineRescheduleRequest(
        pb.DeclineRescheduleRequestRequest(name=asked.request.name), metadata=team.coach.metadata
    )
    assert declined.status == pb.REQUEST_DECLINED
    assert sch.dt(get(s, team.coachee, session.name).start_time) == sch.dt(session.start_time)
    # The slot it held is free again.
    assert sch.dt(sch.book(s, space.name, team.coachee, proposed).start_time) == proposed
    closed = expect_error(
        s.requests.ApproveRescheduleRequest,
        pb.ApproveRescheduleRequestRequest(name=asked.request.name),
        metadata=team.coach.metadata,
    )
    assert (closed.code, closed.reason) == (FAILED, "REQUEST_CLOSED")
    listed = s.requests.ListRescheduleRequests(
        pb.ListRescheduleRequestsRequest(
            parent=tenant_name(team.tenant_id), status=pb.REQUEST_DECLINED
        ),
        metadata=team.coach.metadata,
    )
    assert asked.request.name in [r.name for r in listed.requests]


def test_this_and_all_following_moves_the_rest_of_the_series(
    s: sch.Stubs, team: TenantWorld
) -> None:
    space = new_space(s, team)
    first = sch.hour_from_now(24 * 60)
    series = s.sessions.BookSeries(
        pb.BookSeriesRequest(
            parent=space.name,
            start_time=sch.ts(first),
            frequency=pb.FREQUENCY_EVERY_TWO_WEEKS,
            count=4,
        ),
        metadata=team.coachee.metadata,
    )
    moved = reschedule(
        s,
        team.coachee,
        series.sessions[2].name,
        sch.dt(series.sessions[2].start_time) + timedelta(hours=2),
        scope=pb.SCOPE_THIS_AND_FOLLOWING,
    )
    assert moved.outcome == pb.RESCHEDULED
    assert [sch.dt(x.start_time) for x in moved.sessions] == [
        first + timedelta(weeks=4, hours=2),
        first + timedelta(weeks=6, hours=2),
    ]
    # The moved ones form a series of their own; the first two keep theirs.
    assert len({x.series_id for x in moved.sessions}) == 1
    assert moved.sessions[0].series_id != series.series_id
    assert get(s, team.coachee, series.sessions[1].name).series_id == series.series_id
    cancelled = cancel(
        s, team.coachee, series.sessions[1].name, scope=pb.SCOPE_THIS_AND_FOLLOWING
    ).sessions
    assert [x.name for x in cancelled] == [series.sessions[1].name]


# ---------------------------------------------------------------- lifecycle and reads


def test_pausing_cancels_future_sessions_without_penalty_and_tells_both_sides(
    deployment: Deployment, api: Api, s: sch.Stubs, team: TenantWorld
) -> None:
    space = new_space(s, team)
    booked = [
        sch.book(s, space.name, team.coachee, sch.hour_from_now(24 * (70 + i))) for i in (0, 1)
    ]
    s.spaces.PauseSpace(spb.SpaceMoveRequest(name=space.name), metadata=team.coach.metadata)

    def all_cancelled() -> list[pb.Session] | None:
        found = sch.space_sessions(s, space.name, team.coach)
        return found if all(x.status == pb.SESSION_CANCELLED for x in found) else None

    found = wait_for(all_cancelled, 20, "the paused space's sessions cancelled")
    assert {x.name for x in found} == {x.name for x in booked}
    assert all(
        (x.cancelled_by, x.cancel_reason, x.late, x.uses_session)
        == (pb.SIDE_SYSTEM, pb.REASON_SPACE_PAUSED, False, False)
        for x in found
    )
    for who in (team.coach, team.coachee):
        # Each session's CANCEL, and one notice (on one of them) listing both.
        got = mails(deployment, email_of(api, who), "cancelled", 2)
        [notice] = [m for m in got if str(m["Subject"]) == "ecoach appointments cancelled"]
        text = notice.get_body(preferencelist=("plain",)).get_content()
        assert "because the coaching was paused" in text and text.count("\n- ") == 2
    paused = expect_error(
        s.sessions.BookSession,
        pb.BookSessionRequest(parent=space.name, start_time=sch.ts(sch.hour_from_now(24 * 80))),
        metadata=team.coachee.metadata,
    )
    assert (paused.code, paused.reason) == (FAILED, "SPACE_NOT_ACTIVE")


def test_a_new_coach_cancels_the_previous_coachs_future_sessions(
    deployment: Deployment, api: Api, s: sch.Stubs, team: TenantWorld
) -> None:
    space = new_space(s, team)
    booked = sch.book(s, space.name, team.coachee, sch.hour_from_now(24 * 90))
    new_member, _ = add_person(deployment, api, team, ipb.COACH, "new-coach")
    s.spaces.ChangeCoach(
        spb.ChangeCoachRequest(name=space.name, coach_member_id=new_member),
        metadata=team.admin.metadata,
    )
    gone = wait_for(
        lambda: (x := get(s, team.coachee, booked.name)).status == pb.SESSION_CANCELLED and x,
        20,
        "the previous coach's session cancelled",
    )
    assert (gone.cancel_reason, gone.uses_session) == (pb.REASON_COACH_CHANGED, False)
    hidden = expect_error(
        s.sessions.GetSession, pb.GetSessionRequest(name=booked.name), metadata=team.coach.metadata
    )
    assert hidden.code == grpc.StatusCode.NOT_FOUND  # no longer the space's coach


def test_a_coachs_sessions_elsewhere_are_busy_and_listed_as_theirs_only(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs, team: TenantWorld
) -> None:
    """The same coach in a second tenant: that tenant's coachee cannot book the time the coach
    has in the first, and learns nothing else of it."""
    other = make_tenant(deployment, api, operator)
    coach_email = email_of(api, team.coach)
    added = api.members.AddMember(
        ipb.AddMemberRequest(
            parent=tenant_name(other.tenant_id), email=coach_email, roles=[ipb.COACH]
        ),
        metadata=operator.metadata,
    )
    # The other tenant's invitation (the first tenant's may never have been mailed: make_tenant
    # accepts it at once, often before the relay mails it).
    [invitation] = mails(deployment, coach_email, f"Tenant {other.slug} invites you")
    token = re.search(
        r"/invite/([A-Za-z0-9_-]+)", str(invitation.get_body(("plain",)).get_content())
    )
    assert token, "no invitation link"
    api.auth.AcceptInvitation(ipb.AcceptInvitationRequest(token=token.group(1), password=PASSWORD))
    coach_there = api.sign_in(coach_email, PASSWORD, other.tenant_id)
    here = new_space(s, team)
    there = sch.active_space(s, other.tenant_id, coach_there, other.coachee_member, added.member_id)
    at = sch.hour_from_now(24 * 100)
    booked = sch.book(s, here.name, team.coachee, at)
    taken = expect_error(
        s.sessions.BookSession,
        pb.BookSessionRequest(parent=there.name, start_time=sch.ts(at + timedelta(minutes=30))),
        metadata=other.coachee.metadata,
    )
    assert (taken.code, taken.reason) == (FAILED, "SLOT_TAKEN")
    assert "ses_" not in taken.message and team.tenant_id not in str(taken.metadata)
    slots = s.availability.ListBookableSlots(
        pb.ListBookableSlotsRequest(
            parent=there.name,
            start_date=at.date().isoformat(),
            end_date=at.date().isoformat(),
            time_zone="UTC",
        ),
        metadata=other.coachee.metadata,
    )
    assert at not in {sch.dt(x.start_time) for x in slots.slots}
    elsewhere = sch.book(s, there.name, other.coachee, at + timedelta(hours=3))
    window = pb.ListMySessionsRequest(
        start_time=sch.ts(at - timedelta(days=1)), end_time=sch.ts(at + timedelta(days=1))
    )
    coach_sees = s.sessions.ListMySessions(window, metadata=coach_there.metadata).sessions
    assert [x.name for x in coach_sees] == [booked.name, elsewhere.name]
    coachee_sees = s.sessions.ListMySessions(window, metadata=other.coachee.metadata).sessions
    assert [x.name for x in coachee_sees] == [elsewhere.name]


def test_a_coachees_sessions_elsewhere_never_shape_the_slots_their_coach_sees(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs, team: TenantWorld
) -> None:
    """The same coachee in a second tenant: their session there leaves the slot open in their
    coach's view here (the coach must not learn when they are busy elsewhere), and closes it in
    the coachee's own view."""
    other = make_tenant(deployment, api, operator)
    sch.set_availability(s, other.coach, sch.around_the_clock())
    coachee_email = email_of(api, team.coachee)
    added = api.members.AddMember(
        ipb.AddMemberRequest(
            parent=tenant_name(other.tenant_id), email=coachee_email, roles=[ipb.COACHEE]
        ),
        metadata=operator.metadata,
    )
    [invitation] = mails(deployment, coachee_email, f"Tenant {other.slug} invites you")
    token = re.search(
        r"/invite/([A-Za-z0-9_-]+)", str(invitation.get_body(("plain",)).get_content())
    )
    assert token, "no invitation link"
    api.auth.AcceptInvitation(ipb.AcceptInvitationRequest(token=token.group(1), password=PASSWORD))
    coachee_there = api.sign_in(coachee_email, PASSWORD, other.tenant_id)
    there = sch.active_space(s, other.tenant_id, other.coach, added.member_id, other.coach_member)
    here = new_space(s, team)
    at = sch.hour_from_now(24 * 140)
    sch.book(s, there.name, coachee_there, at)

    def open_to(who: Session) -> set[datetime]:
        found = s.availability.ListBookableSlots(
            pb.ListBookableSlotsRequest(
                parent=here.name,
                start_date=at.date().isoformat(),
                end_date=at.date().isoformat(),
                time_zone="UTC",
            ),
            metadata=who.metadata,
        )
        return {sch.dt(x.start_time) for x in found.slots}

    assert at in open_to(team.coach)
    assert at not in open_to(team.coachee)  # their own time, theirs to see


def test_a_shared_note_links_to_a_session_of_its_space_only(
    s: sch.Stubs, team: TenantWorld
) -> None:
    space, other = new_space(s, team), new_space(s, team)
    session = sch.book(s, space.name, team.coachee, sch.hour_from_now(24 * 110))
    elsewhere = sch.book(s, other.name, team.coachee, sch.hour_from_now(24 * 111))

    def linked() -> spb.Note | None:
        try:
            return s.notes.CreateNote(
                spb.CreateNoteRequest(
                    parent=space.name,
                    note=spb.Note(kind=spb.SHARED, body="before we meet", session=session.name),
                ),
                metadata=team.coachee.metadata,
            )
        except grpc.RpcError as exc:
            if error_details(exc).reason == "SESSION_NOT_FOUND":
                return None  # spaces has not learnt of the session yet
            raise

    note = wait_for(linked, 20, "spaces to learn of the session")
    assert note.session == session.name
    wrong = expect_error(
        s.notes.CreateNote,
        spb.CreateNoteRequest(
            parent=space.name,
            note=spb.Note(kind=spb.SHARED, body="about another", session=elsewhere.name),
        ),
        metadata=team.coachee.metadata,
    )
    assert (wrong.code, wrong.reason) == (grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")


# ---------------------------------------------------------------- personal data


def test_a_coachee_exports_their_sessions_and_erasure_cancels_the_future_ones(
    deployment: Deployment, api: Api, s: sch.Stubs, team: TenantWorld
) -> None:
    member, leaver = add_person(deployment, api, team, ipb.COACHEE, "leaving")
    space = sch.active_space(s, team.tenant_id, team.coach, member, team.coach_member)
    booked = sch.book(s, space.name, leaver, sch.hour_from_now(24 * 120))
    documents = {
        d.service: json.loads(d.data)
        for d in api.auth.ExportMyData(ipb.ExportMyDataRequest(), metadata=leaver.metadata)
    }
    assert [x["session_id"] for x in documents["scheduling"]["sessions"]] == [booked.session_id]
    assert documents["scheduling"]["availability"] is None
    coach_export = {
        d.service: json.loads(d.data)
        for d in api.auth.ExportMyData(ipb.ExportMyDataRequest(), metadata=team.coach.metadata)
    }["scheduling"]
    assert coach_export["availability"]["time_zone"] == "UTC"
    assert booked.session_id in {x["session_id"] for x in coach_export["sessions"]}

    api.auth.EraseMyData(
        ipb.EraseMyDataRequest(current_password=PASSWORD), metadata=leaver.metadata
    )
    gone = wait_for(
        lambda: (x := get(s, team.coach, booked.name)).status == pb.SESSION_CANCELLED and x,
        30,
        "the erased coachee's future session cancelled",
    )
    assert (gone.cancel_reason, gone.cancelled_by, gone.uses_session) == (
        pb.REASON_PERSON_ERASED,
        pb.SIDE_SYSTEM,
        False,
    )
    assert leaver.person_id not in str(gone)


def test_the_co_coachs_time_elsewhere_is_busy_too(
    deployment: Deployment, api: Api, s: sch.Stubs, team: TenantWorld
) -> None:
    co_member, co_coach = add_person(deployment, api, team, ipb.COACH, "co-coach")
    sch.set_availability(s, co_coach, sch.around_the_clock())
    other_member, other = add_person(deployment, api, team, ipb.COACHEE, "co-coached")
    shared = new_space(s, team, co_coach_member=co_member)
    own = sch.active_space(s, team.tenant_id, co_coach, other_member, co_member)
    at = sch.hour_from_now(24 * 130)
    sch.book(s, own.name, other, at)  # the co-coach coaches someone else then
    taken = expect_error(
        s.sessions.BookSession,
        pb.BookSessionRequest(parent=shared.name, start_time=sch.ts(at)),
        metadata=team.coachee.metadata,
    )
    assert (taken.code, taken.reason) == (FAILED, "SLOT_TAKEN")
    booked = sch.book(s, shared.name, team.coachee, at + timedelta(hours=2))
    assert booked.co_coach_person_id == co_coach.person_id


def test_an_unanswered_request_expires_at_the_original_start_and_the_original_stands(
    deployment: Deployment, api: Api, s: sch.Stubs, team: TenantWorld
) -> None:
    space = new_space(s, team)
    session = sch.book(s, space.name, team.coachee, sch.hour_from_now(26))
    asked = reschedule(
        s, team.coachee, session.name, sch.dt(session.start_time) + timedelta(hours=5)
    )
    assert asked.outcome == pb.REQUESTED
    coachee_email, coach_email = email_of(api, team.coachee), email_of(api, team.coach)
    answers = len(
        [
            m
            for m in mails_to(deployment.config.mail_path, coachee_email)
            if "your request" in str(m["Subject"])
        ]
    )
    offset = (sch.dt(session.start_time) - datetime.now(UTC)).total_seconds() + 60
    with sch.later(deployment, offset):
        coach = api.sign_in(coach_email, PASSWORD, team.tenant_id)

        def expired() -> list[pb.RescheduleRequest]:
            return list(
                s.requests.ListRescheduleRequests(
                    pb.ListRescheduleRequestsRequest(
                        parent=tenant_name(team.tenant_id), status=pb.REQUEST_EXPIRED
                    ),
                    metadata=coach.metadata,
                ).requests
            )

        [lapsed] = wait_for(expired, 20, "the sweep to expire the request")
        assert lapsed.name == asked.request.name
        stood = get(s, coach, session.name)
        assert sch.dt(stood.start_time) == sch.dt(session.start_time) and not stood.pending_request
        late = expect_error(
            s.requests.ApproveRescheduleRequest,
            pb.ApproveRescheduleRequestRequest(name=asked.request.name),
            metadata=coach.metadata,
        )
        assert late.code == FAILED
    # (moving the clock on also brings reminders of the module's other sessions)
    [*_, told] = mails(deployment, coachee_email, "your request", answers + 1)
    assert "not answered before the appointment" in told.get_body(("plain",)).get_content()
