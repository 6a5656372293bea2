"""Helpers for the scheduling tests through the gateway: stubs, a coach's availability, an
active space, timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import scheduling_pb2_grpc as pb_grpc
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.pb import spaces_pb2_grpc as spb_grpc
from tests.support.api import Api, Session
from tests.support.clock import clock_moved
from tests.support.waiting import wait_for


@dataclass
class Stubs:
    availability: Any
    sessions: Any
    requests: Any
    policies: Any
    video: Any
    calendar: Any
    spaces: Any
    dashboards: Any
    notes: Any


def stubs(channel: grpc.Channel) -> Stubs:
    return Stubs(
        availability=pb_grpc.AvailabilityServiceStub(channel),
        sessions=pb_grpc.SessionServiceStub(channel),
        requests=pb_grpc.RescheduleRequestServiceStub(channel),
        policies=pb_grpc.SchedulingPolicyServiceStub(channel),
        video=pb_grpc.VideoSettingsServiceStub(channel),
        calendar=pb_grpc.CalendarServiceStub(channel),
        spaces=spb_grpc.SpaceServiceStub(channel),
        dashboards=spb_grpc.DashboardServiceStub(channel),
        notes=spb_grpc.NoteServiceStub(channel),
    )


def ts(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at.astimezone(UTC))
    return stamp


def dt(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def hour_from_now(hours: float, now: datetime | None = None) -> datetime:
    """A whole hour at least `hours` from now (UTC)."""
    at = (now or datetime.now(UTC)) + timedelta(hours=hours)
    return at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def around_the_clock(
    time_zone: str = "UTC", minutes: tuple[int, ...] = (60, 15), notice: int = 0
) -> pb.Availability:
    """Every day, all day, no notice: any whole-minute start is bookable (tests of the policy
    and of races, where the hours themselves are not the point)."""
    return pb.Availability(
        time_zone=time_zone,
        weekly=[
            pb.WeeklyHours(weekday=d, start_time="00:00", end_time="24:00") for d in range(1, 8)
        ],
        session_minutes=list(minutes),
        min_notice_minutes=notice,
        horizon_days=400,
    )


def set_availability(s: Stubs, coach: Session, availability: pb.Availability) -> pb.Availability:
    return s.availability.UpdateMyAvailability(
        pb.UpdateMyAvailabilityRequest(availability=availability), metadata=coach.metadata
    )


def active_space(
    s: Stubs,
    tenant_id: str,
    who: Session,
    coachee_member: str,
    coach_member: str,
    *,
    sessions_planned: int = 40,
    cadence: int = spb.WEEKLY,
    co_coach_member: str = "",
) -> spb.Space:
    space = s.spaces.CreateSpace(
        spb.CreateSpaceRequest(
            parent=tenant_name(tenant_id),
            set_up=spb.SpaceSetUp(
                coachee_member_id=coachee_member,
                coach_member_id=coach_member,
                co_coach_member_id=co_coach_member,
                cadence=cadence,
                sessions_planned=sessions_planned,
                start_date=datetime.now(UTC).date().isoformat(),
            ),
        ),
        metadata=who.metadata,
    )
    active = s.spaces.ActivateSpace(spb.SpaceMoveRequest(name=space.name), metadata=who.metadata)
    wait_known(s, active.name, who)
    return active


def wait_known(s: Stubs, space: str, who: Session, timeout: float = 20.0) -> None:
    """Until scheduling has learnt the space is active (from the spaces events): its coach
    then has bookable slots (their availability must be set)."""
    today = datetime.now(UTC).date()

    def open_() -> bool:
        try:
            slots = s.availability.ListBookableSlots(
                pb.ListBookableSlotsRequest(
                    parent=space,
                    start_date=(today + timedelta(days=1)).isoformat(),
                    end_date=(today + timedelta(days=8)).isoformat(),
                    time_zone="UTC",
                ),
                metadata=who.metadata,
            )
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise
        return bool(slots.slots)

    wait_for(open_, timeout, f"scheduling to learn that {space} is active")


def book(s: Stubs, space: str, who: Session, at: datetime, minutes: int = 0) -> pb.Session:
    return s.sessions.BookSession(
        pb.BookSessionRequest(parent=space, start_time=ts(at), minutes=minutes),
        metadata=who.metadata,
    )


def space_sessions(s: Stubs, space: str, who: Session) -> list[pb.Session]:
    return list(
        s.sessions.ListSessions(
            pb.ListSessionsRequest(parent=space, page_size=100), metadata=who.metadata
        ).sessions
    )


def set_time_zone(api: Api, who: Session, time_zone: str) -> None:
    api.auth.UpdateMyProfile(
        ipb.UpdateMyProfileRequest(time_zone=time_zone, update_mask=FieldMask(paths=["time_zone"])),
        metadata=who.metadata,
    )


@contextmanager
def later(deployment: Deployment, seconds: float) -> Iterator[None]:
    """Every process's clock moved on, then back (tokens issued meanwhile are of no use after)."""
    with clock_moved(deployment.config.test_clock_path, seconds):
        yield
