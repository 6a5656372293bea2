"""Joining a session's video room: one interface, one implementation per provider.

`join(settings, room, who, window, now)` gives the link of one participant, valid for the
room's window only:

- Jitsi Meet: `https://<server>/<room>?jwt=<token>`, the token in Jitsi's format (prosody's
  `token` authentication), HS256 with the tenant's app secret: `iss` and `aud` the app id, `sub`
  the server's domain, `room`, `nbf`/`exp` the window, `context.user` with the person's id and
  name and whether they moderate (the coach and co-coach do), `moderator` likewise.
- LiveKit: the server's URL and an access token made by `livekit-api`, granting that room only
  (room admin for the coach and co-coach); LiveKit counts its validity from the real clock, so
  it lasts until the window closes.
- A public Jitsi server: the room's URL, no token (development only).

Room names are 160 random bits (base32, lowercase: Jitsi lowercases room names).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import jwt
from livekit import api as livekit

from ..domain.rooms import JITSI, JITSI_PUBLIC, LIVEKIT, RoomWindow, VideoSettings


def new_room_name() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().lower()


@dataclass(frozen=True)
class Participant:
    person_id: str
    display_name: str
    moderator: bool


@dataclass(frozen=True)
class Join:
    url: str
    token: str  # empty for a public server
    expires_at: datetime


# One function per provider: the participant's link into `room`, valid for `window`.
Provider = Callable[[VideoSettings, str, Participant, RoomWindow, datetime], Join]


def _jitsi(
    settings: VideoSettings, room: str, who: Participant, window: RoomWindow, now: datetime
) -> Join:
    claims = {
        "aud": settings.app_id,
        "iss": settings.app_id,
        "sub": settings.host,
        "room": room,
        "nbf": int(window.opens_at.timestamp()),
        "exp": int(window.closes_at.timestamp()),
        "moderator": who.moderator,
        "context": {
            "user": {"id": who.person_id, "name": who.display_name, "moderator": who.moderator}
        },
    }
    token = jwt.encode(claims, settings.secret, algorithm="HS256")
    url = f"{settings.server_url.rstrip('/')}/{quote(room)}?jwt={token}"
    return Join(url=url, token=token, expires_at=window.closes_at)


def _livekit(
    settings: VideoSettings, room: str, who: Participant, window: RoomWindow, now: datetime
) -> Join:
    token = (
        livekit.AccessToken(settings.app_id, settings.secret)
        .with_identity(who.person_id)
        .with_name(who.display_name)
        .with_ttl(max(window.closes_at - now, timedelta(seconds=1)))
        .with_grants(livekit.VideoGrants(room_join=True, room=room, room_admin=who.moderator))
        .to_jwt()
    )
    return Join(url=settings.server_url, token=token, expires_at=window.closes_at)


def _public_jitsi(
    settings: VideoSettings, room: str, who: Participant, window: RoomWindow, now: datetime
) -> Join:
    url = f"{settings.server_url.rstrip('/')}/{quote(room)}"
    return Join(url=url, token="", expires_at=window.closes_at)


PROVIDERS: dict[str, Provider] = {JITSI: _jitsi, LIVEKIT: _livekit, JITSI_PUBLIC: _public_jitsi}


def join(
    settings: VideoSettings, room: str, who: Participant, window: RoomWindow, now: datetime
) -> Join:
    return PROVIDERS[settings.provider](settings, room, who, window, now)
