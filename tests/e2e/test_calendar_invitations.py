"""Calendar invitations as people receive them: a shared deployment whose scheduling sends
mail to a real SMTP server (aiosmtpd); each mail's text/calendar part is parsed with the
`icalendar` library. A single session booked, moved and cancelled (the other side's mail is the
cancellation notice, carrying the CANCEL); a series booked is one mail with its rule, however
many occurrences; "this and all following" ends it and starts one with a new UID."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from icalendar import Calendar

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import spaces_pb2 as spb
from services.contracts import scheduling as sc
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support import world_fixtures
from tests.support.api import Api, Session, unique_email
from tests.support.smtp import SmtpServer, body, use_calendar_address
from tests.support.waiting import wait_for

# The module deployment's clients (tests/support/world_fixtures.py).
api = world_fixtures.api
operator = world_fixtures.operator
s = world_fixtures.s

DOMAIN = "ecoach.localhost"  # the default sender's


# The worker's deployment that mails its SMTP server, shared (tests/e2e/conftest.py).
world = world_fixtures.shared


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)


def calendars(mails: list[EmailMessage]) -> list[tuple[EmailMessage, Calendar]]:
    found = []
    for mail in mails:
        for part in mail.walk():
            if part.get_content_type() == "text/calendar":
                assert part.get_param("method") in ("REQUEST", "CANCEL")
                found.append((mail, Calendar.from_ical(part.get_content())))
    return found


def inbox_of(smtp: SmtpServer, address: str, count: int) -> list[tuple[EmailMessage, Calendar]]:
    """The first `count` calendar mails to `address` (waiting for them)."""
    deadline = time.monotonic() + 30
    while True:
        found = calendars(smtp.inbox.to(address))
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) >= count, f"{len(found)} calendar mails to {address}, not {count}"
            return found[:count]
        time.sleep(0.1)


def settle(world: Deployment, tenant_id: str) -> None:
    """Every session event of the tenant handled by scheduling's mail handlers, each of which
    records the event in the inbox only once its mails are sent: what follows sends nothing."""
    engine = sa.create_engine(world.config.database_url_for("scheduling"))
    counts = sa.text(
        "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS "
        "(SELECT 1 FROM inbox i WHERE i.event_id = o.event_id)) "
        "FROM outbox o WHERE o.envelope->>'tenant_id' = :t AND o.event_type IN :types"
    ).bindparams(sa.bindparam("types", expanding=True))
    types = [sc.SessionBooked.TYPE, sc.SessionRescheduled.TYPE, sc.SessionCancelled.TYPE]

    def handled() -> bool:
        with engine.connect() as conn:
            events, unhandled = conn.execute(counts, {"t": tenant_id, "types": types}).one()
        assert events > 0, "no session event of this tenant: the query looks in the wrong place"
        return bool(unhandled == 0)

    try:
        wait_for(handled, 30, "the events of the change all handled")
    finally:
        engine.dispose()


def vevent(cal: Calendar) -> dict[str, object]:
    (event,) = cal.walk("VEVENT")
    return event  # type: ignore[no-any-return]


def setup(world: Deployment, api: Api, operator: Session, s: sch.Stubs) -> tuple[TenantWorld, str]:
    team = make_tenant(world, api, operator)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member)
    return team, space.name


def test_a_single_session_booked_moved_and_cancelled_reaches_both_calendars(
    world: Deployment, api: Api, operator: Session, s: sch.Stubs, smtp: SmtpServer
) -> None:
    team, space = setup(world, api, operator, s)
    coach, coachee = email_of(api, team.coach), email_of(api, team.coachee)
    at = sch.hour_from_now(24 * 5)
    booked = sch.book(s, space, team.coachee, at, minutes=60)
    uid = f"{booked.session_id}@{DOMAIN}"
    for address in (coach, coachee):
        [(mail, cal)] = inbox_of(smtp, address, 1)
        assert cal["METHOD"] == "REQUEST"
        e = vevent(cal)
        assert (e["UID"], e["SEQUENCE"], e["CLASS"]) == (uid, 0, "PRIVATE")
        assert e.decoded("DTSTART") == at
        assert str(e["ATTENDEE"]) == f"mailto:{address}"
        assert str(e["ORGANIZER"]) == f"mailto:no-reply@{DOMAIN}"
        assert any(p.get_filename() == "invite.ics" for p in mail.walk())
        assert "Rendez-vous" not in str(mail["Subject"])  # English speakers: English

    later = at + timedelta(hours=2)
    s.sessions.RescheduleSession(
        pb.RescheduleSessionRequest(name=booked.name, start_time=sch.ts(later)),
        metadata=team.coachee.metadata,
    )
    for address in (coach, coachee):
        (_, cal) = inbox_of(smtp, address, 2)[1]
        e = vevent(cal)
        assert (cal["METHOD"], e["UID"], e["SEQUENCE"]) == ("REQUEST", uid, 1)
        assert e.decoded("DTSTART") == later

    s.sessions.CancelSession(
        pb.CancelSessionRequest(name=booked.name), metadata=team.coachee.metadata
    )
    for address, notice in ((coach, True), (coachee, False)):
        (mail, cal) = inbox_of(smtp, address, 3)[2]
        e = vevent(cal)
        assert (cal["METHOD"], e["UID"], e["SEQUENCE"], e["STATUS"]) == (
            "CANCEL",
            uid,
            2,
            "CANCELLED",
        )
        # The other side's mail is the cancellation notice (one mail, not two).
        assert ("appointment cancelled" in str(mail["Subject"])) is True
        assert notice == ("book another one" in mail.get_body(("plain",)).get_content())
    settle(world, team.tenant_id)
    assert len(calendars(smtp.inbox.to(coach))) == 3  # nothing twice


def test_a_series_is_one_invitation_and_this_and_following_starts_a_new_uid(
    world: Deployment, api: Api, operator: Session, s: sch.Stubs, smtp: SmtpServer
) -> None:
    team, space = setup(world, api, operator, s)
    coachee = email_of(api, team.coachee)
    first = sch.hour_from_now(24 * 5)
    series = s.sessions.BookSeries(
        pb.BookSeriesRequest(
            parent=space, start_time=sch.ts(first), frequency=pb.FREQUENCY_WEEKLY, count=4
        ),
        metadata=team.coachee.metadata,
    )
    [(_, cal)] = inbox_of(smtp, coachee, 1)
    e = vevent(cal)
    assert e["UID"] == f"{series.series_id}@{DOMAIN}"
    assert e["RRULE"]["FREQ"] == ["WEEKLY"]
    assert e["RRULE"]["UNTIL"] == [first + timedelta(weeks=3)]
    settle(world, team.tenant_id)
    assert len(calendars(smtp.inbox.to(coachee))) == 1  # four occurrences, one mail

    # The second occurrence and those after it, an hour later.
    second = series.sessions[1]
    moved = s.sessions.RescheduleSession(
        pb.RescheduleSessionRequest(
            name=second.name,
            start_time=sch.ts(sch.dt(second.start_time) + timedelta(hours=1)),
            scope=pb.SCOPE_THIS_AND_FOLLOWING,
        ),
        metadata=team.coachee.metadata,
    )
    got = inbox_of(smtp, coachee, 3)[1:]
    by_uid = {str(vevent(c)["UID"]): vevent(c) for _, c in got}
    old = by_uid[f"{series.series_id}@{DOMAIN}"]
    assert old["SEQUENCE"] == 1
    assert old["RRULE"]["UNTIL"] == [first]  # the series ends with its first occurrence
    new_series = moved.sessions[0].series_id
    new = by_uid[f"{new_series}@{DOMAIN}"]
    assert new.decoded("DTSTART").astimezone(UTC) == sch.dt(second.start_time) + timedelta(hours=1)
    assert new["RRULE"]["UNTIL"] == [first + timedelta(weeks=3, hours=1)]
    settle(world, team.tenant_id)
    assert len(calendars(smtp.inbox.to(coachee))) == 3

    # One occurrence of the new series cancelled: a CANCEL with its RECURRENCE-ID.
    third = moved.sessions[1]
    s.sessions.CancelSession(
        pb.CancelSessionRequest(name=third.name), metadata=team.coachee.metadata
    )
    (_, cal) = inbox_of(smtp, coachee, 4)[3]
    e = vevent(cal)
    assert (cal["METHOD"], e["UID"]) == ("CANCEL", f"{new_series}@{DOMAIN}")
    assert e.decoded("RECURRENCE-ID").astimezone(UTC) == sch.dt(third.start_time)
    assert datetime.now(UTC) < sch.dt(third.start_time)


def test_a_coachee_names_their_own_entries_and_may_show_the_coach(
    world: Deployment, api: Api, operator: Session, s: sch.Stubs, smtp: SmtpServer
) -> None:
    team, space = setup(world, api, operator, s)
    coach, coachee = email_of(api, team.coach), email_of(api, team.coachee)
    chosen = s.calendar.UpdateMyCalendarSettings(
        pb.UpdateMyCalendarSettingsRequest(
            settings=pb.CalendarSettings(title="Point carrière", show_coach_name=True)
        ),
        metadata=team.coachee.metadata,
    )
    assert (chosen.title, chosen.show_coach_name) == ("Point carrière", True)
    sch.book(s, space, team.coachee, sch.hour_from_now(24 * 5), minutes=60)
    [(_, mine)] = inbox_of(smtp, coachee, 1)
    assert vevent(mine)["SUMMARY"] == "Point carrière (Coach)"
    [(_, theirs)] = inbox_of(smtp, coach, 1)
    assert vevent(theirs)["SUMMARY"] == "ecoach appointment"  # the coach's stays neutral


def test_a_coachee_has_calendar_mail_sent_to_the_address_they_confirmed(
    world: Deployment, api: Api, operator: Session, s: sch.Stubs, smtp: SmtpServer
) -> None:
    team, space = setup(world, api, operator, s)
    coach, coachee = email_of(api, team.coach), email_of(api, team.coachee)
    calendar = unique_email("coachee-calendar")
    use_calendar_address(api, smtp, team.coachee, calendar, PASSWORD)
    booked = sch.book(s, space, team.coachee, sch.hour_from_now(24 * 5), minutes=60)
    [(_, cal)] = inbox_of(smtp, calendar, 1)
    e = vevent(cal)
    assert (e["UID"], str(e["ATTENDEE"])) == (
        f"{booked.session_id}@{DOMAIN}",
        f"mailto:{calendar}",  # the calendar that receives it is the attendee
    )
    [(_, theirs)] = inbox_of(smtp, coach, 1)
    assert str(vevent(theirs)["ATTENDEE"]) == f"mailto:{coach}"  # the coach's own choice

    api.auth.ClearCalendarEmail(ipb.ClearCalendarEmailRequest(), metadata=team.coachee.metadata)
    s.sessions.CancelSession(
        pb.CancelSessionRequest(name=booked.name), metadata=team.coachee.metadata
    )
    [(_, cancel)] = inbox_of(smtp, coachee, 1)  # back to the account's address
    assert (cancel["METHOD"], str(vevent(cancel)["ATTENDEE"])) == ("CANCEL", f"mailto:{coachee}")
    assert len(calendars(smtp.inbox.to(calendar))) == 1  # only the booking went there


def test_a_paused_space_is_one_message_per_series_and_one_notice_per_person(
    world: Deployment, api: Api, operator: Session, s: sch.Stubs, smtp: SmtpServer
) -> None:
    team, space = setup(world, api, operator, s)
    coach, coachee = email_of(api, team.coach), email_of(api, team.coachee)
    first = sch.hour_from_now(24 * 5)
    series = s.sessions.BookSeries(
        pb.BookSeriesRequest(
            parent=space, start_time=sch.ts(first), frequency=pb.FREQUENCY_WEEKLY, count=3
        ),
        metadata=team.coachee.metadata,
    )
    single = sch.book(s, space, team.coachee, first + timedelta(days=1), minutes=60)
    for address in (coach, coachee):
        inbox_of(smtp, address, 2)  # the series' invitation and the single session's
    s.spaces.PauseSpace(spb.SpaceMoveRequest(name=space), metadata=team.coach.metadata)
    for address in (coach, coachee):
        got = inbox_of(smtp, address, 4)[2:]
        settle(world, team.tenant_id)
        assert len(calendars(smtp.inbox.to(address))) == 4  # not one per occurrence
        by_uid = {str(vevent(cal)["UID"]): (mail, cal) for mail, cal in got}
        assert set(by_uid) == {
            f"{series.series_id}@{DOMAIN}",
            f"{single.session_id}@{DOMAIN}",
        }
        whole = by_uid[f"{series.series_id}@{DOMAIN}"][1]
        assert (whole["METHOD"], vevent(whole)["SEQUENCE"]) == ("CANCEL", 1)
        notices = [
            m
            for m in smtp.inbox.to(address)
            if str(m["Subject"]) == "ecoach appointments cancelled"
        ]
        assert len(notices) == 1, "one notice for the whole change"
        text = body(notices[0])
        assert "because the coaching was paused" in text
        assert text.count("\n- ") == 4  # the four appointments, listed
