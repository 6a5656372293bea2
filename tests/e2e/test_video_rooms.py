"""Video rooms through the gateway: each tenant's provider set by its admins, a participant's
link given only within the room's window (the test clock moved), Jitsi tokens verified with the
tenant's app secret and HS256 then checked claim by claim, LiveKit tokens verified with
livekit-api, and the dashboards' "join" state."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import jwt
import pytest
from livekit import api as livekit

from ecoach_dev.deployment import Deployment
from gateway.api.convert import tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.pb import spaces_pb2 as spb
from gateway.api.scheduling import video_settings_name
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session, expect_error

FAILED = grpc.StatusCode.FAILED_PRECONDITION
INVALID = grpc.StatusCode.INVALID_ARGUMENT
JITSI_SECRET = "jitsi-app-secret-" + "0123456789abcdef" * 2
LIVEKIT_SECRET = "livekit-api-secret-" + "fedcba9876543210" * 2
ROOM_NAME = re.compile(r"^[a-z2-7]{32}$")  # 160 bits, base32


@pytest.fixture(scope="module")
def s(deployment: Deployment) -> Any:
    channel = deployment.channel()
    yield sch.stubs(channel)
    channel.close()


def me(api: Api, who: Session) -> Any:
    return api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person


def set_video(s: sch.Stubs, team: TenantWorld, **fields: Any) -> pb.VideoSettings:
    return s.video.UpdateVideoSettings(
        pb.UpdateVideoSettingsRequest(
            settings=pb.VideoSettings(name=video_settings_name(team.tenant_id), **fields)
        ),
        metadata=team.admin.metadata,
    )


def get_video(s: sch.Stubs, team: TenantWorld) -> pb.VideoSettings:
    return s.video.GetVideoSettings(
        pb.GetVideoSettingsRequest(name=video_settings_name(team.tenant_id)),
        metadata=team.admin.metadata,
    )


def room(s: sch.Stubs, who: Session, session: str) -> pb.SessionRoom:
    return s.sessions.GetSessionRoom(pb.GetSessionRoomRequest(name=session), metadata=who.metadata)


def booked(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs, hours: float = 3
) -> tuple[TenantWorld, spb.Space, pb.Session]:
    team = make_tenant(deployment, api, operator)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member)
    session = sch.book(s, space.name, team.coachee, sch.hour_from_now(hours), minutes=60)
    return team, space, session


def offset_to(at: datetime) -> float:
    return (at - datetime.now(UTC)).total_seconds()


def coachee_next(s: sch.Stubs, team: TenantWorld, who: Session) -> pb.Session:
    board = s.dashboards.GetCoacheeDashboard(
        spb.GetCoacheeDashboardRequest(parent=tenant_name(team.tenant_id)), metadata=who.metadata
    )
    return board.spaces[0].next_sessions[0]


def test_a_jitsi_link_is_given_to_participants_within_the_window_only(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team, _, session = booked(deployment, api, operator, s)
    coach, coachee, admin = me(api, team.coach), me(api, team.coachee), me(api, team.admin)
    settings = set_video(
        s,
        team,
        provider=pb.VIDEO_PROVIDER_JITSI,
        server_url="https://meet.acme.example",
        app_id="acme-ecoach",
        app_secret=JITSI_SECRET,
    )
    assert (settings.provider, settings.has_secret, settings.app_secret) == (
        pb.VIDEO_PROVIDER_JITSI,
        True,
        "",
    )
    assert (settings.open_minutes_before, settings.close_minutes_after) == (15, 30)
    assert get_video(s, team).app_secret == ""  # write-only

    start, end = sch.dt(session.start_time), sch.dt(session.end_time)
    opens, closes = start - timedelta(minutes=15), end + timedelta(minutes=30)

    # Before the window: refused, saying when it opens; the dashboard shows no "join" yet.
    early = expect_error(room, s, team.coachee, session.name)
    assert (early.code, early.reason) == (FAILED, "ROOM_NOT_OPEN")
    assert datetime.fromisoformat(early.metadata["opens_at"]) == opens
    shown = coachee_next(s, team, team.coachee)
    assert shown.room.open is False
    assert (sch.dt(shown.room.open_time), sch.dt(shown.room.close_time)) == (opens, closes)

    with sch.later(deployment, offset_to(start - timedelta(minutes=10))):
        coach_now = api.sign_in(coach.email, PASSWORD, team.tenant_id)
        coachee_now = api.sign_in(coachee.email, PASSWORD, team.tenant_id)
        assert coachee_next(s, team, coachee_now).room.open is True
        for who, person, moderator in (
            (coachee_now, coachee, False),
            (coach_now, coach, True),
        ):
            got = room(s, who, session.name)
            assert ROOM_NAME.match(got.room)
            assert (got.provider, got.moderator, got.session) == (
                pb.VIDEO_PROVIDER_JITSI,
                moderator,
                session.name,
            )
            assert got.url == f"https://meet.acme.example/{got.room}?jwt={got.token}"
            claims = jwt.decode(
                got.token,
                JITSI_SECRET,
                algorithms=["HS256"],
                audience="acme-ecoach",
                # the service's clock is moved; nbf and exp are checked below against it
                options={"verify_nbf": False, "verify_exp": False},
            )
            assert jwt.get_unverified_header(got.token)["alg"] == "HS256"
            assert claims["iss"] == "acme-ecoach"
            assert claims["aud"] == "acme-ecoach"
            assert claims["sub"] == "meet.acme.example"
            assert claims["room"] == got.room
            assert claims["nbf"] == int(opens.timestamp())
            assert claims["exp"] == int(closes.timestamp())
            assert claims["moderator"] is moderator
            assert claims["context"]["user"] == {
                "id": person.person_id,
                "name": person.display_name,
                "moderator": moderator,
            }
            assert sch.dt(got.expire_time) == closes
            with pytest.raises(jwt.InvalidSignatureError):
                jwt.decode(
                    got.token,
                    "another-secret-" + "x" * 32,
                    algorithms=["HS256"],
                    audience="acme-ecoach",
                    options={"verify_nbf": False, "verify_exp": False},
                )
        # Both participants meet in one room, and asking again gives the same one.
        assert room(s, coachee_now, session.name).room == room(s, coach_now, session.name).room
        # The tenant's admin is no participant: the session does not exist for them.
        admin_now = api.sign_in(admin.email, PASSWORD, team.tenant_id)
        hidden = expect_error(room, s, admin_now, session.name)
        assert (hidden.code, hidden.reason) == (grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")

    with sch.later(deployment, offset_to(closes + timedelta(seconds=30))):
        coachee_now = api.sign_in(coachee.email, PASSWORD, team.tenant_id)
        late = expect_error(room, s, coachee_now, session.name)
        assert (late.code, late.reason) == (FAILED, "ROOM_CLOSED")


def test_a_livekit_token_grants_the_session_room_only(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team, _, session = booked(deployment, api, operator, s)
    coach, coachee = me(api, team.coach), me(api, team.coachee)
    set_video(
        s,
        team,
        provider=pb.VIDEO_PROVIDER_LIVEKIT,
        server_url="wss://video.acme.example",
        app_id="APIacme",
        app_secret=LIVEKIT_SECRET,
        open_minutes_before=5,
        close_minutes_after=10,
    )
    start = sch.dt(session.start_time)
    still_early = expect_error(room, s, team.coach, session.name)
    assert still_early.reason == "ROOM_NOT_OPEN"
    with sch.later(deployment, offset_to(start - timedelta(minutes=4))):
        for who, person, moderator in (
            (api.sign_in(coach.email, PASSWORD, team.tenant_id), coach, True),
            (api.sign_in(coachee.email, PASSWORD, team.tenant_id), coachee, False),
        ):
            got = room(s, who, session.name)
            assert (got.provider, got.url, got.moderator) == (
                pb.VIDEO_PROVIDER_LIVEKIT,
                "wss://video.acme.example",
                moderator,
            )
            claims = livekit.TokenVerifier("APIacme", LIVEKIT_SECRET).verify(got.token)
            assert claims.identity == person.person_id
            assert claims.name == person.display_name
            assert claims.video is not None
            assert claims.video.room == got.room and ROOM_NAME.match(got.room)
            assert claims.video.room_join is True
            assert bool(claims.video.room_admin) is moderator
            assert not claims.video.room_create and not claims.video.room_list
            # LiveKit counts validity on the real clock: until the window closes (the end plus
            # 10 minutes, 4 + 60 + 10 minutes away on the moved clock).
            lasts = jwt.decode(got.token, options={"verify_signature": False})
            assert 73 * 60 <= lasts["exp"] - lasts["nbf"] <= 74 * 60 + 5
            with pytest.raises(Exception):  # noqa: B017 - livekit-api raises jwt's errors
                livekit.TokenVerifier("APIacme", "not-the-secret-" + "y" * 32).verify(got.token)


def test_video_settings_are_checked_kept_and_default_to_a_public_server_in_development(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    team, _, session = booked(deployment, api, operator, s)
    # Nothing set: the deployment's default, a public Jitsi server (not in production).
    default = get_video(s, team)
    assert (default.provider, default.deployment_default, default.server_url) == (
        pb.VIDEO_PROVIDER_JITSI_PUBLIC,
        True,
        "https://meet.jit.si",
    )
    coachee = me(api, team.coachee)
    with sch.later(deployment, offset_to(sch.dt(session.start_time))):
        public = room(s, api.sign_in(coachee.email, PASSWORD, team.tenant_id), session.name)
        assert (public.url, public.token) == (f"https://meet.jit.si/{public.room}", "")

    good = {
        "provider": pb.VIDEO_PROVIDER_JITSI,
        "server_url": "https://meet.acme.example",
        "app_id": "acme",
        "app_secret": JITSI_SECRET,
    }
    set_video(s, team, **good)
    before = get_video(s, team)
    for change, field in (
        ({"provider": pb.VIDEO_PROVIDER_UNSPECIFIED}, "settings.provider"),
        ({"server_url": "ftp://meet.acme.example"}, "server_url"),
        ({"server_url": "https://"}, "server_url"),
        ({"app_id": ""}, "app_id"),
        ({"app_secret": "short"}, "app_secret"),
        ({"open_minutes_before": 500}, "open_minutes_before"),
        ({"close_minutes_after": -1}, "close_minutes_after"),
    ):
        refused = expect_error(set_video, s, team, **{**good, **change})
        assert refused.code == INVALID, change
        assert field in refused.fields, (change, refused.fields)
    assert get_video(s, team) == before

    # An empty secret keeps the current one while the provider and app stay; a new app
    # needs its own.
    kept = set_video(s, team, **{**good, "app_secret": "", "close_minutes_after": 45})
    assert (kept.has_secret, kept.close_minutes_after) == (True, 45)
    moved_app = expect_error(set_video, s, team, **{**good, "app_id": "other", "app_secret": ""})
    assert (moved_app.code, "app_secret" in moved_app.fields) == (INVALID, True)
    with sch.later(deployment, offset_to(sch.dt(session.start_time))):
        got = room(s, api.sign_in(coachee.email, PASSWORD, team.tenant_id), session.name)
        jwt.decode(
            got.token,
            JITSI_SECRET,
            algorithms=["HS256"],
            audience="acme",
            options={"verify_nbf": False, "verify_exp": False},
        )

    # A cancelled session has no room.
    s.sessions.CancelSession(
        pb.CancelSessionRequest(name=session.name), metadata=team.coachee.metadata
    )
    with sch.later(deployment, offset_to(sch.dt(session.start_time))):
        gone = expect_error(
            room, s, api.sign_in(coachee.email, PASSWORD, team.tenant_id), session.name
        )
        assert (gone.code, gone.reason) == (FAILED, "SESSION_CANCELLED")
