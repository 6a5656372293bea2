"""Each person's calendar feed fetched over HTTP from the web gateway, as a calendar
application would: its secret URL shown once, the sessions in it (neutral, no addresses),
replaced, revoked, and rate-limited."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from icalendar import Calendar

from ecoach_dev.deployment import Deployment
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import scheduling_pb2_grpc as spb_grpc
from tests.e2e.conftest import TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session, expect_error


@pytest.fixture(scope="module")
def s(deployment: Deployment) -> Iterator[sch.Stubs]:
    channel = deployment.channel()
    yield sch.stubs(channel)
    channel.close()


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def new_feed(s: sch.Stubs, who: Session) -> str:
    feed = s.calendar.CreateCalendarFeed(pb.CreateCalendarFeedRequest(), metadata=who.metadata)
    return str(feed.url)


@pytest.fixture(scope="module")
def team(deployment: Deployment, api: Api, operator: Session, s: sch.Stubs) -> TenantWorld:
    world = make_tenant(deployment, api, operator)
    sch.set_availability(s, world.coach, sch.around_the_clock())
    return world


def test_the_feed_holds_the_persons_sessions_and_is_replaced_and_revoked(
    deployment: Deployment, s: sch.Stubs, team: TenantWorld
) -> None:
    space = sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member)
    single = sch.book(s, space.name, team.coachee, sch.hour_from_now(24 * 4))
    gone = sch.book(s, space.name, team.coachee, sch.hour_from_now(24 * 5))
    s.sessions.CancelSession(
        pb.CancelSessionRequest(name=gone.name), metadata=team.coachee.metadata
    )
    series = s.sessions.BookSeries(
        pb.BookSeriesRequest(
            parent=space.name,
            start_time=sch.ts(sch.hour_from_now(24 * 6)),
            frequency=pb.FREQUENCY_EVERY_TWO_WEEKS,
            count=3,
        ),
        metadata=team.coachee.metadata,
    )

    url = new_feed(s, team.coachee)
    assert url.startswith(f"http://{deployment.web_address}/calendar/") and url.endswith(".ics")
    assert len(url.rsplit("/", 1)[1].removesuffix(".ics")) >= 43  # 256 bits, base64url
    settings = s.calendar.GetMyCalendarSettings(
        pb.GetMyCalendarSettingsRequest(), metadata=team.coachee.metadata
    )
    assert settings.HasField("feed_create_time")

    status, body, headers = fetch(url)
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(body)
    assert cal["METHOD"] == "PUBLISH"
    events = {str(e["UID"]).split("@")[0]: e for e in cal.walk("VEVENT")}
    assert set(events) == {single.session_id, series.series_id}  # the cancelled one left out
    assert events[series.series_id]["RRULE"]["INTERVAL"] == [2]
    for e in events.values():
        assert e["CLASS"] == "PRIVATE" and e["SUMMARY"] == "ecoach appointment"
        assert "ATTENDEE" not in e and "ORGANIZER" not in e and "DESCRIPTION" not in e

    # The coachee's own title, and their coach's name once they choose it.
    s.calendar.UpdateMyCalendarSettings(
        pb.UpdateMyCalendarSettingsRequest(
            settings=pb.CalendarSettings(title="Coaching", show_coach_name=True)
        ),
        metadata=team.coachee.metadata,
    )
    titled = Calendar.from_ical(fetch(url)[1])
    assert {str(e["SUMMARY"]) for e in titled.walk("VEVENT")} == {"Coaching (Coach)"}

    # A new feed replaces the old one at once.
    replaced = new_feed(s, team.coachee)
    assert replaced != url
    assert fetch(url)[0] == 404
    assert fetch(replaced)[0] == 200
    # Revoked: gone, and revoking again says there is none.
    s.calendar.DeleteCalendarFeed(pb.DeleteCalendarFeedRequest(), metadata=team.coachee.metadata)
    assert fetch(replaced)[0] == 404
    again = expect_error(
        s.calendar.DeleteCalendarFeed,
        pb.DeleteCalendarFeedRequest(),
        metadata=team.coachee.metadata,
    )
    assert (again.code, again.reason) == (grpc.StatusCode.NOT_FOUND, "FEED_NOT_FOUND")
    assert not s.calendar.GetMyCalendarSettings(
        pb.GetMyCalendarSettingsRequest(), metadata=team.coachee.metadata
    ).HasField("feed_create_time")
    # Made-up or malformed secrets are simply not found.
    base = f"http://{deployment.web_address}/calendar/"
    assert fetch(base + "A" * 43 + ".ics")[0] == 404
    assert fetch(base + "not%20a%20secret.ics")[0] == 404


def test_a_feed_is_rate_limited(deployment: Deployment, s: sch.Stubs, team: TenantWorld) -> None:
    url = new_feed(s, team.coach)
    statuses = [fetch(url)[0] for _ in range(60)]
    assert statuses == [200] * 60  # an hour's worth (ECOACH_FEED_REQUESTS_PER_HOUR)
    status, _, headers = fetch(url)
    assert status == 429 and int(headers["Retry-After"]) > 0


def test_the_grpc_feed_method_is_rate_limited_too(
    deployment: Deployment, s: sch.Stubs, team: TenantWorld
) -> None:
    """`GetCalendarFeed` is public: called directly, past the web gateway's limits, it is
    limited the same way (per feed, ECOACH_FEED_REQUESTS_PER_HOUR)."""
    token = new_feed(s, team.coachee).rsplit("/", 1)[1].removesuffix(".ics")
    request = pb.GetCalendarFeedRequest(token=token)
    with deployment.channel() as channel:
        feeds = spb_grpc.CalendarFeedServiceStub(channel)
        for _ in range(60):
            assert feeds.GetCalendarFeed(request, timeout=10).ics
        refused = expect_error(feeds.GetCalendarFeed, request, timeout=10)
    assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.reason == "FEED_THROTTLED"
    assert refused.metadata and int(refused.metadata["retry_after_seconds"]) > 0
