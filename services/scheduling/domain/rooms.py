"""Video rooms: each tenant's provider and its settings, and when a session's room is open.

A session's room opens `opens_before` minutes before its start and closes `closes_after`
minutes after its end (15 and 30 by default); its link is given only to the session's
participants, only meanwhile. Providers:

- `jitsi`: a Jitsi Meet server of the tenant's (or 8x8's), joined with a JWT in Jitsi's token
  format signed with the tenant's app secret;
- `livekit`: a LiveKit server, joined with LiveKit's own access token for that room only;
- `jitsi_public`: a public Jitsi server without tokens (anyone who knows the room's name may
  enter): for development only, refused in production.

Pure rules: the tokens themselves are made outside the domain
(`services.scheduling.adapters.video`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from services.kernel.errors import FailedPrecondition, Problem, invalid

JITSI = "jitsi"
LIVEKIT = "livekit"
JITSI_PUBLIC = "jitsi_public"
PROVIDERS = (JITSI, LIVEKIT, JITSI_PUBLIC)

OPENS_BEFORE_MINUTES = 15
CLOSES_AFTER_MINUTES = 30


@dataclass(frozen=True)
class RoomWindow:
    opens_at: datetime
    closes_at: datetime

    @classmethod
    def of(
        cls, starts_at: datetime, ends_at: datetime, opens_before: int, closes_after: int
    ) -> RoomWindow:
        return cls(
            starts_at - timedelta(minutes=opens_before), ends_at + timedelta(minutes=closes_after)
        )

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def check_open(self, now: datetime) -> None:
        if now < self.opens_at:
            raise FailedPrecondition(
                "The session's room is not open yet.",
                reason="ROOM_NOT_OPEN",
                metadata={"opens_at": self.opens_at.isoformat()},
            )
        if now >= self.closes_at:
            raise FailedPrecondition(
                "The session's room has closed.",
                reason="ROOM_CLOSED",
                metadata={"closed_at": self.closes_at.isoformat()},
            )


@dataclass(frozen=True)
class VideoSettings:
    """A tenant's provider. `secret` is the Jitsi app secret or the LiveKit API secret, in the
    clear only in memory (stored sealed, never shown)."""

    tenant_id: str
    provider: str
    server_url: str = ""
    app_id: str = ""
    secret: str = ""
    opens_before: int = OPENS_BEFORE_MINUTES
    closes_after: int = CLOSES_AFTER_MINUTES
    updated_at: datetime | None = None
    updated_by: str | None = None

    def window(self, starts_at: datetime, ends_at: datetime) -> RoomWindow:
        return RoomWindow.of(starts_at, ends_at, self.opens_before, self.closes_after)

    @property
    def host(self) -> str:
        return urlsplit(self.server_url).hostname or ""

    def check(self, *, production: bool) -> VideoSettings:
        """Refuse settings that cannot give a working, closed room."""
        if self.provider not in PROVIDERS:
            raise invalid(provider=Problem("one of %(providers)s", providers=", ".join(PROVIDERS)))
        if self.provider == JITSI_PUBLIC and production:
            raise FailedPrecondition(
                "A public Jitsi server without tokens lets anyone who knows a room's name in: "
                "it is for development only.",
                reason="PUBLIC_VIDEO_REFUSED",
            )
        schemes = ("wss", "https") if self.provider == LIVEKIT else ("https",)
        if not production:
            schemes = (*schemes, "http", "ws")  # a local test server
        parts = urlsplit(self.server_url)
        if parts.scheme not in schemes or not parts.hostname:
            raise invalid(
                server_url=Problem(
                    "a %(schemes)s URL of the video server", schemes=" or ".join(schemes)
                )
            )
        if parts.query or parts.fragment:
            raise invalid(server_url="no query or fragment")
        if self.provider in (JITSI, LIVEKIT):
            if not self.app_id:
                raise invalid(app_id="required for this provider")
            if len(self.secret) < 32:
                raise invalid(app_secret="at least 32 characters")  # noqa: S106 - a message
        if not 0 <= self.opens_before <= 120:
            raise invalid(open_minutes_before="0 to 120")
        if not 0 <= self.closes_after <= 240:
            raise invalid(close_minutes_after="0 to 240")
        return self


def check_deployment_default(provider: str | None, *, production: bool) -> None:
    """The deployment's provider for tenants that set none: a public Jitsi server only outside
    production (the scheduling service refuses to start otherwise)."""
    if provider not in (None, "none", JITSI_PUBLIC):
        raise ValueError(f"ECOACH_VIDEO_DEFAULT_PROVIDER: 'none' or '{JITSI_PUBLIC}'")
    if production and provider == JITSI_PUBLIC:
        raise RuntimeError(
            "ECOACH_VIDEO_DEFAULT_PROVIDER=jitsi_public in production: a public Jitsi server "
            "without tokens lets anyone who knows a room's name in. Unset it (tenants then "
            "set their own provider) or use 'none'."
        )
