"""The demo coachee's space, made once through the public gRPC API when `make run` has started
everything: so that a newcomer signing in as the demo coachee sees a space with a goal (and its
progress over time), a shared note from their coach and a booked session.

It goes through the gateway as the demo coach and coachee would (the services own their
data: no database is written here), after the accounts exist (`services/identity/seed.py`).
Idempotent: once the coachee has a space, nothing is done. The services come up in any
order, so each call is retried until they answer or `timeout` runs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import identity_pb2_grpc as ipb_grpc
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import scheduling_pb2_grpc as pb_grpc
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.pb import spaces_pb2_grpc as spb_grpc

T = TypeVar("T")
# Answers that mean "not ready yet": a service still starting, or an event not learnt yet
# (scheduling learns the space from the spaces events).
NOT_YET = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.INTERNAL,
)
DEMO_PROJECT = "Lead my new team with confidence"
DEMO_GOAL = "Hold a weekly one-to-one with each team member"
DEMO_NOTE = (
    "Welcome to your space! Before our first session, think about **one situation** this "
    "week where you would have liked to delegate.\n\n- What held you back?\n- What would help?"
)
COHORT_PROJECT = "Find my footing in a new role"
COHORT_GOAL = "Agree on my first three priorities with my manager"


class Demo:
    def __init__(self, channel: grpc.Channel, timeout: float = 120.0) -> None:
        self.auth = ipb_grpc.AuthServiceStub(channel)
        self.members = ipb_grpc.MemberServiceStub(channel)
        self.spaces = spb_grpc.SpaceServiceStub(channel)
        self.goals = spb_grpc.GoalServiceStub(channel)
        self.notes = spb_grpc.NoteServiceStub(channel)
        self.dashboards = spb_grpc.DashboardServiceStub(channel)
        self.availability = pb_grpc.AvailabilityServiceStub(channel)
        self.sessions = pb_grpc.SessionServiceStub(channel)
        self.deadline = time.monotonic() + timeout

    def retry(self, what: Callable[[], T], not_yet: tuple[grpc.StatusCode, ...] = NOT_YET) -> T:
        while True:
            try:
                return what()
            except grpc.RpcError as exc:
                late = time.monotonic() > self.deadline
                if exc.code() not in not_yet or late:  # type: ignore[attr-defined]
                    raise
            time.sleep(1.0)

    def every(self, field: str, page: Callable[[str], Any]) -> Iterator[Any]:
        """Every item of a listing: `page(token)` for each page, its `field`'s items."""
        token = ""
        while True:
            answer = self.retry(lambda token=token: page(token))
            yield from getattr(answer, field)
            token = answer.next_page_token
            if not token:
                return

    def member_id(self, metadata: tuple[tuple[str, str], ...], tenant_id: str) -> str:
        """The signed-in person's member id in `tenant_id`."""
        mine = self.retry(
            lambda: self.members.ListMyMemberships(
                ipb.ListMyMembershipsRequest(), metadata=metadata, timeout=30
            )
        )
        return next(m.member_id for m in mine.memberships if m.tenant_id == tenant_id)

    def write(self, what: Callable[[], T]) -> T:
        """A call that makes something: retried only when it surely did not arrive (a timeout
        might have made it, and a retry would make it twice)."""
        return self.retry(what, (grpc.StatusCode.UNAVAILABLE,))

    def sign_in(
        self, email: str, password: str, tenant: str
    ) -> tuple[tuple[tuple[str, str], ...], str]:
        """The person's call metadata in `tenant`, and the tenant's id."""
        reply = self.retry(
            lambda: self.auth.SignIn(
                ipb.SignInRequest(email=email, password=password, tenant=tenant), timeout=30
            )
        )
        return (("authorization", f"Bearer {reply.access_token}"),), reply.tenant_id


def seed_demo_space(
    channel: grpc.Channel,
    tenant: str,
    coach: tuple[str, str],
    coachee: tuple[str, str],
    timeout: float = 120.0,
) -> bool:
    """The demo space of `coachee` (email, password) with `coach` in `tenant` (slug or id);
    whether it was created (False: the coachee already had a space)."""
    demo = Demo(channel, timeout)
    as_coach, tenant_id = demo.sign_in(*coach, tenant)
    as_coachee, _ = demo.sign_in(*coachee, tenant)
    coachee_member = demo.member_id(as_coachee, tenant_id)
    parent = f"tenants/{tenant_id}"
    board = demo.retry(
        lambda: demo.dashboards.GetCoacheeDashboard(
            spb.GetCoacheeDashboardRequest(parent=parent), metadata=as_coachee, timeout=30
        )
    )
    if board.spaces:
        return False
    coach_member = demo.member_id(as_coach, tenant_id)
    demo.write(
        lambda: demo.availability.UpdateMyAvailability(
            pb.UpdateMyAvailabilityRequest(availability=working_hours()),
            metadata=as_coach,
            timeout=30,
        )
    )
    today = datetime.now(UTC).date()
    space = demo.write(
        lambda: demo.spaces.CreateSpace(
            spb.CreateSpaceRequest(
                parent=parent,
                set_up=spb.SpaceSetUp(
                    coachee_member_id=coachee_member,
                    coach_member_id=coach_member,
                    cadence=spb.EVERY_TWO_WEEKS,
                    sessions_planned=8,
                    start_date=today.isoformat(),
                ),
                content=spb.SpaceContent(
                    project=DEMO_PROJECT,
                    objectives="Delegate more, and give feedback that helps.",
                ),
            ),
            metadata=as_coach,
            timeout=30,
        )
    )
    demo.write(
        lambda: demo.spaces.ActivateSpace(
            spb.SpaceMoveRequest(name=space.name), metadata=as_coach, timeout=30
        )
    )
    goal = demo.write(
        lambda: demo.goals.CreateGoal(
            spb.CreateGoalRequest(parent=space.name, goal=spb.Goal(title=DEMO_GOAL, progress=20)),
            metadata=as_coachee,
            timeout=30,
        )
    )
    demo.write(  # a second point for the progress chart
        lambda: demo.goals.UpdateGoal(
            spb.UpdateGoalRequest(
                goal=spb.Goal(name=goal.name, progress=45),
                update_mask=FieldMask(paths=["progress"]),
            ),
            metadata=as_coachee,
            timeout=30,
        )
    )
    demo.write(
        lambda: demo.notes.CreateNote(
            spb.CreateNoteRequest(
                parent=space.name, note=spb.Note(kind=spb.SHARED, body=DEMO_NOTE)
            ),
            metadata=as_coach,
            timeout=30,
        )
    )

    def first_slot() -> pb.Slot:
        slots = demo.availability.ListBookableSlots(
            pb.ListBookableSlotsRequest(
                parent=space.name,
                start_date=(today + timedelta(days=2)).isoformat(),
                end_date=(today + timedelta(days=16)).isoformat(),
            ),
            metadata=as_coachee,
            timeout=30,
        )
        if not slots.slots:  # scheduling has not learnt the space is active yet
            raise NotYet()
        return slots.slots[0]

    slot = demo.retry(first_slot)
    demo.write(
        lambda: demo.sessions.BookSession(
            pb.BookSessionRequest(parent=space.name, start_time=slot.start_time),
            metadata=as_coachee,
            timeout=30,
        )
    )
    return True


def seed_demo_cohort(
    channel: grpc.Channel,
    tenant: str,
    hr: tuple[str, str],
    coach: tuple[str, str],
    emails: tuple[str, ...],
    timeout: float = 120.0,
) -> int:
    """An active space with `coach` (email, password) for each coachee of `emails` who has
    none, and a goal achieved in every other one, so that HR's reports have something to show;
    how many spaces were made. `hr`, an admin of `tenant`, finds the coachees' member ids.
    Idempotent: a coachee who has a space with the coach is left as they are."""
    demo = Demo(channel, timeout)
    as_hr, tenant_id = demo.sign_in(*hr, tenant)
    as_coach, _ = demo.sign_in(*coach, tenant)
    parent = f"tenants/{tenant_id}"
    wanted = {email.lower() for email in emails}
    members = {
        m.email.lower(): m.member_id
        for m in demo.every(
            "members",
            lambda token: demo.members.ListMembers(
                ipb.ListMembersRequest(
                    parent=parent, role=ipb.COACHEE, page_size=200, page_token=token
                ),
                metadata=as_hr,
                timeout=30,
            ),
        )
    }
    with_space = {
        space.set_up.coachee_member_id
        for space in demo.every(
            "spaces",
            lambda token: demo.spaces.ListSpaces(
                spb.ListSpacesRequest(parent=parent, page_size=200, page_token=token),
                metadata=as_coach,
                timeout=30,
            ),
        )
    }
    coach_id = demo.member_id(as_coach, tenant_id)
    made = 0
    for email in sorted(wanted):
        member_id = members.get(email)
        if member_id is None or member_id in with_space:
            continue
        space = demo.write(
            lambda member_id=member_id: demo.spaces.CreateSpace(
                spb.CreateSpaceRequest(
                    parent=parent,
                    set_up=spb.SpaceSetUp(
                        coachee_member_id=member_id,
                        coach_member_id=coach_id,
                        cadence=spb.MONTHLY,
                        sessions_planned=6,
                        start_date=datetime.now(UTC).date().isoformat(),
                    ),
                    content=spb.SpaceContent(project=COHORT_PROJECT),
                ),
                metadata=as_coach,
                timeout=30,
            )
        )
        demo.write(
            lambda space=space: demo.spaces.ActivateSpace(
                spb.SpaceMoveRequest(name=space.name), metadata=as_coach, timeout=30
            )
        )
        if made % 2 == 0:  # the first, third... space made
            demo.write(
                lambda space=space: demo.goals.CreateGoal(
                    spb.CreateGoalRequest(
                        parent=space.name, goal=spb.Goal(title=COHORT_GOAL, progress=100)
                    ),
                    metadata=as_coach,
                    timeout=30,
                )
            )
        made += 1
    return made


class NotYet(grpc.RpcError):
    """No bookable slot yet: retried like a service that is not ready."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.NOT_FOUND


def working_hours() -> pb.Availability:
    return pb.Availability(
        time_zone="Europe/Paris",
        weekly=[
            pb.WeeklyHours(weekday=day, start_time="09:00", end_time="18:00")
            for day in (pb.MONDAY, pb.TUESDAY, pb.WEDNESDAY, pb.THURSDAY, pb.FRIDAY)
        ],
        session_minutes=[60],
        min_notice_minutes=60,
        horizon_days=90,
    )
