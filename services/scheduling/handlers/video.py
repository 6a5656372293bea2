"""The scheduling service's video use cases: each tenant's provider, set by its admins, and a
participant's way into a session's room while it is open (rule 5: only the session's
participants; anyone else, a tenant admin included, gets NOT_FOUND)."""

from __future__ import annotations

from collections.abc import Callable

from services.contracts import scheduling as c
from services.kernel.caller import Caller, admin_of, member_of
from services.kernel.config import Settings
from services.kernel.crypto import MasterKey
from services.kernel.errors import FailedPrecondition

from ..adapters import video as providers
from ..domain.model import CANCELLED, COACHEE, session_not_found
from ..domain.rooms import JITSI_PUBLIC, VideoSettings
from ..storage.unit import Db
from .access import session_for

# person id -> display name, asked from identity when a link is made
NameOf = Callable[[str], str]


def effective(found: VideoSettings | None, tenant_id: str, config: Settings) -> VideoSettings:
    """The tenant's settings, or the deployment's default provider ("none": no rooms)."""
    if found is not None:
        return found
    fallback = config.video_fallback
    return VideoSettings(
        tenant_id=tenant_id,
        provider=fallback,
        server_url=config.video_public_jitsi_url if fallback == JITSI_PUBLIC else "",
    )


def _view(s: VideoSettings, default: bool) -> c.VideoSettings:
    return c.VideoSettings(
        tenant_id=s.tenant_id,
        provider=s.provider,
        server_url=s.server_url,
        app_id=s.app_id,
        has_secret=bool(s.secret),
        open_minutes_before=s.opens_before,
        close_minutes_after=s.closes_after,
        deployment_default=default,
        updated_at=s.updated_at,
        updated_by_person_id=s.updated_by,
    )


VIDEO_ADMIN = "sees or sets the video provider"


def get_video_settings(
    db: Db, master: MasterKey, config: Settings, caller: Caller, request: c.TenantRef
) -> c.VideoSettings:
    admin_of(caller, request.tenant_id, VIDEO_ADMIN)
    with db.read_only() as uow:
        found = uow.video.get(request.tenant_id, master)
    return _view(effective(found, request.tenant_id, config), found is None)


def update_video_settings(
    db: Db,
    master: MasterKey,
    config: Settings,
    caller: Caller,
    request: c.UpdateVideoSettingsRequest,
) -> c.VideoSettings:
    who = admin_of(caller, request.tenant_id, VIDEO_ADMIN)
    asked = request.settings
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        secret = asked.app_secret
        if not secret:  # kept, unless the provider or the app changes
            current = uow.video.get(request.tenant_id, master)
            if current and (current.provider, current.app_id) == (asked.provider, asked.app_id):
                secret = current.secret
        settings = VideoSettings(
            tenant_id=request.tenant_id,
            provider=asked.provider,
            server_url=asked.server_url.strip(),
            app_id=asked.app_id.strip(),
            secret=secret if asked.provider != JITSI_PUBLIC else "",
            opens_before=asked.open_minutes_before,
            closes_after=asked.close_minutes_after,
            updated_at=now,
            updated_by=who.person_id,
        ).check(production=config.env == "production")
        uow.video.save(settings, now, master)
    return _view(settings, False)


def get_session_room(
    db: Db,
    master: MasterKey,
    config: Settings,
    name_of: NameOf,
    caller: Caller,
    request: c.SessionRef,
) -> c.SessionRoom:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        session, _, relation = session_for(uow, who, request.tenant_id, request.session_id)
        if session.side_of(who.person_id) is None:  # joined the space after this session
            raise session_not_found()
        if session.status == CANCELLED:
            raise FailedPrecondition("The session is cancelled.", reason="SESSION_CANCELLED")
        settings = effective(
            uow.video.get(request.tenant_id, master),
            request.tenant_id,
            config,
        )
        if settings.provider == "none":
            raise FailedPrecondition(
                "No video provider is set for this organisation.", reason="NO_VIDEO_PROVIDER"
            )
        if settings.provider == JITSI_PUBLIC and config.env == "production":
            raise FailedPrecondition(
                "A public Jitsi server is for development only.", reason="PUBLIC_VIDEO_REFUSED"
            )
        window = settings.window(session.starts_at, session.ends_at)
        window.check_open(now)
        room = uow.rooms.room_of(session.id, providers.new_room_name(), now)
    moderator = relation != COACHEE
    joined = providers.join(
        settings,
        room,
        providers.Participant(who.person_id, name_of(who.person_id), moderator),
        window,
        now,
    )
    return c.SessionRoom(
        session_id=session.id,
        provider=settings.provider,
        url=joined.url,
        token=joined.token,
        room=room,
        moderator=moderator,
        opens_at=window.opens_at,
        expires_at=joined.expires_at,
    )
