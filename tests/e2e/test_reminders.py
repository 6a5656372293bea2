"""Reminders as people receive them, with two scheduling instances sweeping at once: a
shared deployment mailing a real SMTP server, the test clock moved to each reminder's time.
Each reminder arrives once (claimed by a row before the mail leaves), in the person's language,
neutral; a person's own choice of offsets is kept, and one who turned them off gets none."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as pb
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.support import scheduling as sch
from tests.support import world_fixtures
from tests.support.api import Api, Session, expect_error, unique_email
from tests.support.deployments import SHARED, extra_instances
from tests.support.people import sign_in_operator
from tests.support.smtp import SmtpServer, body, use_calendar_address
from tests.support.waiting import wait_for

# The module deployment's clients (tests/support/world_fixtures.py).
api = world_fixtures.api
s = world_fixtures.s

SWEEP = 0.5


@pytest.fixture(scope="module")
def world(shared_world: Deployment) -> Iterator[Deployment]:
    """The shared "sweeping" deployment (reminders swept every SWEEP seconds, each sweep logged:
    see swept_again), with a second scheduling instance for the module."""
    assert SHARED["sweeping"].env["ECOACH_REMINDER_SWEEP_SECONDS"] == str(SWEEP)
    with extra_instances(shared_world, **{"scheduling-2": "scheduling"}):
        yield shared_world


def reminders_to(smtp: SmtpServer, address: str) -> list[str]:
    return [
        body(m)
        for m in smtp.inbox.to(address)
        if str(m["Subject"]).startswith(("Reminder", "Rappel"))
    ]


def sweeps(world: Deployment) -> dict[str, int]:
    return {
        name: world.logs[name].read_text().count('"reminder sweep done"')
        for name in ("scheduling", "scheduling-2")
    }


def swept_again(world: Deployment) -> None:
    """Both instances have swept twice more (so at least once from start to end after this
    call): the positive signal that a reminder not sent by now is not due."""
    before = sweeps(world)
    wait_for(
        lambda: all(n >= before[name] + 2 for name, n in sweeps(world).items()),
        30,
        "both scheduling instances to sweep again",
    )


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)


def at_least(smtp: SmtpServer, address: str, count: int) -> list[str]:
    deadline = time.monotonic() + 20
    while len(found := reminders_to(smtp, address)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_each_reminder_arrives_once_with_two_instances_and_follows_each_persons_choice(
    world: Deployment, api: Api, s: sch.Stubs, smtp: SmtpServer
) -> None:
    assert world.procs["scheduling-2"].poll() is None  # both instances sweep
    operator = sign_in_operator(api, world.config)
    team = make_tenant(world, api, operator)
    coach, coachee = email_of(api, team.coach), email_of(api, team.coachee)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member)

    # The coachee keeps the defaults (a day and an hour before); the coach wants 30 minutes.
    mine = s.calendar.GetMyCalendarSettings(
        pb.GetMyCalendarSettingsRequest(), metadata=team.coachee.metadata
    )
    assert (mine.reminders_off, list(mine.reminder_minutes), mine.HasField("update_time")) == (
        False,
        [1440, 60],
        False,
    )
    chosen = s.calendar.UpdateMyCalendarSettings(
        pb.UpdateMyCalendarSettingsRequest(settings=pb.CalendarSettings(reminder_minutes=[30])),
        metadata=team.coach.metadata,
    )
    assert list(chosen.reminder_minutes) == [30]
    bad = expect_error(
        s.calendar.UpdateMyCalendarSettings,
        pb.UpdateMyCalendarSettingsRequest(settings=pb.CalendarSettings(reminder_minutes=[1])),
        metadata=team.coach.metadata,
    )
    assert (bad.code, bad.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("reminder_minutes[0]",))
    assert list(
        s.calendar.GetMyCalendarSettings(
            pb.GetMyCalendarSettingsRequest(), metadata=team.coach.metadata
        ).reminder_minutes
    ) == [30]

    start = sch.hour_from_now(24 * 3)
    sch.book(s, space.name, team.coachee, start, minutes=60)
    swept_again(world)
    assert reminders_to(smtp, coachee) == [] and reminders_to(smtp, coach) == []

    def at(before: timedelta) -> float:
        return (start - before - datetime.now(UTC)).total_seconds()

    with sch.later(world, at(timedelta(hours=23, minutes=59))):
        [day] = at_least(smtp, coachee, 1)
        assert "ecoach appointment" in day and "Coachee" in day
        swept_again(world)
        assert len(reminders_to(smtp, coachee)) == 1
        assert reminders_to(smtp, coach) == []  # 30 minutes before, not a day
    with sch.later(world, at(timedelta(minutes=59))):
        assert len(at_least(smtp, coachee, 2)) == 2
        swept_again(world)
        assert len(reminders_to(smtp, coachee)) == 2
        assert reminders_to(smtp, coach) == []
    with sch.later(world, at(timedelta(minutes=25))):
        assert len(at_least(smtp, coach, 1)) == 1
        swept_again(world)
        assert len(reminders_to(smtp, coach)) == 1
        assert len(reminders_to(smtp, coachee)) == 2  # nothing more


def test_a_person_who_turned_reminders_off_gets_none_and_a_calendar_address_gets_them(
    world: Deployment, api: Api, s: sch.Stubs, smtp: SmtpServer
) -> None:
    operator = sign_in_operator(api, world.config)
    team = make_tenant(world, api, operator)
    coachee = email_of(api, team.coachee)
    s.calendar.UpdateMyCalendarSettings(
        pb.UpdateMyCalendarSettingsRequest(settings=pb.CalendarSettings(reminders_off=True)),
        metadata=team.coachee.metadata,
    )
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member)
    start = sch.hour_from_now(24 * 3)
    sch.book(s, space.name, team.coachee, start, minutes=60)
    # The coach has calendar mail sent to another address: reminders are calendar mail.
    coach, account = unique_email("coach-calendar"), email_of(api, team.coach)
    use_calendar_address(api, smtp, team.coach, coach, PASSWORD)
    with sch.later(world, (start - timedelta(minutes=59) - datetime.now(UTC)).total_seconds()):
        # The coach's day and hour reminders are both due: one mail says it.
        assert len(at_least(smtp, coach, 1)) == 1
        swept_again(world)
        assert len(reminders_to(smtp, coach)) == 1
        assert reminders_to(smtp, coachee) == []
        assert reminders_to(smtp, account) == []
