"""Video rooms' rules without I/O: the room's window, the checks on a tenant's provider, the
deployment's default (no public server in production), room names, Jitsi's token format, and
the service token a clock jump must not outlive."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jwt
import pytest

from services.kernel.clock import FixedClock
from services.kernel.config import Settings
from services.kernel.errors import FailedPrecondition, InvalidArgument
from services.kernel.runtime.calls import ServiceRpc
from services.kernel.tokens import SigningKey
from services.scheduling.adapters import video as rooms
from services.scheduling.domain.rooms import (
    JITSI,
    JITSI_PUBLIC,
    LIVEKIT,
    RoomWindow,
    VideoSettings,
    check_deployment_default,
)

START = datetime(2027, 3, 1, 9, tzinfo=UTC)
END = START + timedelta(hours=1)
SECRET = "s" * 32


def jitsi(**changes: object) -> VideoSettings:
    fields: dict[str, object] = {
        "tenant_id": "tnt_1",
        "provider": JITSI,
        "server_url": "https://meet.example.com",
        "app_id": "app",
        "secret": SECRET,
    }
    fields.update(changes)
    return VideoSettings(**fields)  # type: ignore[arg-type]


def test_the_room_opens_15_minutes_before_and_closes_30_minutes_after_by_default() -> None:
    window = jitsi().window(START, END)
    assert (window.opens_at, window.closes_at) == (
        START - timedelta(minutes=15),
        END + timedelta(minutes=30),
    )
    assert not window.is_open(window.opens_at - timedelta(seconds=1))
    assert window.is_open(window.opens_at)
    assert window.is_open(window.closes_at - timedelta(seconds=1))
    assert not window.is_open(window.closes_at)
    with pytest.raises(FailedPrecondition) as early:
        window.check_open(START - timedelta(minutes=16))
    assert early.value.reason == "ROOM_NOT_OPEN"
    assert early.value.metadata == {"opens_at": window.opens_at.isoformat()}
    with pytest.raises(FailedPrecondition) as late:
        window.check_open(window.closes_at)
    assert late.value.reason == "ROOM_CLOSED"
    window.check_open(START)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"provider": "zoom"}, "provider"),
        ({"server_url": "ftp://meet.example.com"}, "server_url"),
        ({"server_url": "https://"}, "server_url"),
        ({"server_url": "https://meet.example.com/?room=x"}, "server_url"),
        ({"app_id": ""}, "app_id"),
        ({"secret": "short"}, "app_secret"),
        ({"opens_before": -1}, "open_minutes_before"),
        ({"closes_after": 241}, "close_minutes_after"),
        ({"provider": LIVEKIT, "server_url": "ftp://video.example.com"}, "server_url"),
    ],
)
def test_settings_that_cannot_give_a_closed_room_are_refused(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        jitsi(**changes).check(production=False)
    assert [v.field for v in refused.value.fields] == [field]


def test_production_wants_tls_and_no_public_server() -> None:
    jitsi().check(production=True)
    jitsi(provider=LIVEKIT, server_url="wss://video.example.com").check(production=True)
    jitsi(server_url="http://localhost:8000").check(production=False)  # a local test server
    with pytest.raises(InvalidArgument):
        jitsi(server_url="http://meet.example.com").check(production=True)
    public = jitsi(provider=JITSI_PUBLIC, app_id="", secret="")
    public.check(production=False)
    with pytest.raises(FailedPrecondition) as refused:
        public.check(production=True)
    assert refused.value.reason == "PUBLIC_VIDEO_REFUSED"


def test_the_deployment_default_is_a_public_server_only_outside_production() -> None:
    assert Settings(env="development").video_fallback == JITSI_PUBLIC
    assert Settings(env="test").video_fallback == JITSI_PUBLIC
    production = {"amqp_uri": "amqps://u:p@broker:5671/", "public_url": "https://ecoach.example"}
    assert Settings(env="production", **production).video_fallback == "none"
    assert Settings(env="development", video_default_provider="none").video_fallback == "none"
    check_deployment_default(None, production=True)
    check_deployment_default("none", production=True)
    check_deployment_default(JITSI_PUBLIC, production=False)
    with pytest.raises(RuntimeError, match="production"):
        check_deployment_default(JITSI_PUBLIC, production=True)
    with pytest.raises(ValueError):
        check_deployment_default("zoom", production=False)


def test_room_names_hold_160_random_bits_in_lowercase() -> None:
    names = {rooms.new_room_name() for _ in range(1000)}
    assert len(names) == 1000
    assert all(re.fullmatch(r"[a-z2-7]{32}", n) for n in names)  # 32 base32 digits: 160 bits


def test_a_jitsi_token_follows_jitsis_format_and_bounds_the_window() -> None:
    settings = jitsi(server_url="https://meet.example.com/")
    window = RoomWindow.of(START, END, 15, 30)
    who = rooms.Participant("per_1", "Ada Lovelace", moderator=False)
    joined = rooms.join(settings, "abcdefgh", who, window, START - timedelta(minutes=5))
    assert joined.url == f"https://meet.example.com/abcdefgh?jwt={joined.token}"
    assert joined.expires_at == window.closes_at
    claims = jwt.decode(
        joined.token,
        SECRET,
        algorithms=["HS256"],
        audience="app",
        options={"verify_nbf": False, "verify_exp": False},
    )
    assert claims == {
        "aud": "app",
        "iss": "app",
        "sub": "meet.example.com",
        "room": "abcdefgh",
        "nbf": int(window.opens_at.timestamp()),
        "exp": int(window.closes_at.timestamp()),
        "moderator": False,
        "context": {"user": {"id": "per_1", "name": "Ada Lovelace", "moderator": False}},
    }


def test_a_service_token_is_issued_again_when_the_clock_jumps() -> None:
    proxy = ServiceRpc.__new__(ServiceRpc)
    clock = FixedClock(START)
    proxy._clock = clock
    proxy._key = SigningKey.generate()
    proxy._ttl = timedelta(minutes=5)
    proxy._cached = None
    proxy.container = SimpleNamespace(service_name="scheduling")
    proxy.target_service = "identity"
    first = proxy.service_token()
    clock.advance(timedelta(minutes=2))
    assert proxy.service_token() == first  # reused for half its life
    clock.advance(timedelta(minutes=1))
    second = proxy.service_token()
    assert second != first
    clock.advance(timedelta(hours=3))  # a jump: the cached token would be refused
    third = proxy.service_token()
    assert third != second
    clock.advance(-timedelta(hours=3))  # and back
    assert proxy.service_token() not in (second, third)
