"""The scheduling service's tables and repositories (SQLAlchemy 2 Core).

No double booking, even under races: every participant's time in a booked session (and in a
proposal held for a reschedule request) is a row of `busy`, and one PostgreSQL exclusion
constraint (`btree_gist`) refuses two rows of one person whose intervals overlap, unless they
belong to the same session (a session's held proposal may overlap the session itself). A
cancelled session's rows are deleted. The coach's rows run on for their buffer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg2.extras import DateTimeTZRange
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    exc,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.kernel.crypto import MasterKey
from services.kernel.runtime.keyring import KeyRing
from services.kernel.runtime.pagination import keyset_page

from .domain.availability import Availability, Exception_, Hours, Interval
from .domain.model import ERASED_PERSON, PENDING, ChangeRequest, Session, SpaceCopy
from .domain.policy import Policy
from .domain.reminders import CalendarChoice
from .domain.rooms import VideoSettings

metadata = MetaData()

spaces = Table(
    "spaces",
    metadata,
    Column("space_id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("coachee_person_id", String(40), nullable=False),
    Column("coach_person_id", String(40), nullable=False),
    Column("co_coach_person_id", String(40)),
    Column("cadence", String(20), nullable=False),
    Column("sessions_planned", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

policies = Table(
    "policies",
    metadata,
    Column("tenant_id", String(40), primary_key=True),
    Column("free_hours", Integer, nullable=False),
    Column("request_hours", Integer, nullable=False),
    Column("late_cancel_uses_session", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(40)),
)

availability = Table(
    "availability",
    metadata,
    Column("coach_person_id", String(40), primary_key=True),
    Column("time_zone", String(64), nullable=False),
    Column("weekly", JSONB, nullable=False),
    Column("exceptions", JSONB, nullable=False),
    Column("session_minutes", JSONB, nullable=False),
    Column("buffer_minutes", Integer, nullable=False),
    Column("min_notice_minutes", Integer, nullable=False),
    Column("horizon_days", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

series = Table(
    "series",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("space_id", String(40), nullable=False),
    Column("frequency", String(20), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("count", Integer),
    Column("until", Date),
    Column("follows_series_id", String(40)),  # "this and all following" split it from this one
    Column("created_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sequence", Integer, nullable=False, server_default="0"),  # raised when it ends early
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("space_id", String(40), nullable=False),
    Column("series_id", String(40)),
    Column("status", String(20), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("local_start", DateTime(timezone=False), nullable=False),
    Column("shifted", Boolean, nullable=False),
    Column("coachee_person_id", String(40), nullable=False),
    Column("coach_person_id", String(40), nullable=False),
    Column("co_coach_person_id", String(40)),
    Column("booked_by", String(40), nullable=False),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancelled_by", String(10)),
    Column("cancel_reason", String(30)),
    Column("late", Boolean, nullable=False),
    Column("uses_session", Boolean, nullable=False),
    Column("marked_at", DateTime(timezone=True)),
    Column("marked_by", String(40)),
    Column("sequence", Integer, nullable=False),
    Column("pending_request_id", String(40)),
    Column("occurrence", DateTime(timezone=False)),  # the series' wall time for it
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_sessions_space", "tenant_id", "space_id", "starts_at", "id"),
    Index("ix_sessions_coach", "coach_person_id", "starts_at"),
    Index("ix_sessions_coachee", "coachee_person_id", "starts_at"),
    Index("ix_sessions_co_coach", "co_coach_person_id", "starts_at"),
    Index("ix_sessions_series", "series_id", "starts_at"),
    Index("ix_sessions_booked_start", "starts_at", postgresql_where=text("status = 'booked'")),
    Index(
        "ix_sessions_to_mark",
        "tenant_id",
        "coach_person_id",
        "ends_at",
        postgresql_where=text("status = 'booked'"),
    ),
)

busy = Table(
    "busy",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("person_id", String(40), nullable=False),
    Column("during", TSTZRANGE, nullable=False),
    Column("session_id", String(40), nullable=False),
    Column("request_id", String(40)),  # a held proposal of this reschedule request
    Index("ix_busy_session", "session_id"),
    Index("ix_busy_request", "request_id"),
)

video_settings = Table(
    "video_settings",
    metadata,
    Column("tenant_id", String(40), primary_key=True),
    Column("provider", String(20), nullable=False),
    Column("server_url", String(500), nullable=False),
    Column("app_id", String(200), nullable=False),
    Column("data_key", Text),  # wrapped by the tenant's key (kernel keyring)
    Column("secret_sealed", Text),  # the app or API secret, sealed by the data key
    Column("opens_before", Integer, nullable=False),
    Column("closes_after", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(40)),
)

# A session's video room: its name, made when first asked for, kept across moves.
rooms = Table(
    "rooms",
    metadata,
    Column("session_id", String(40), primary_key=True),
    Column("room", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Calendar messages sent: one row per calendar object, person and version, claimed before the
# mail goes (so the many events of one change send it once) and released if sending fails.
calendar_sent = Table(
    "calendar_sent",
    metadata,
    Column("uid", String(80), primary_key=True),
    Column("person_id", String(40), primary_key=True),
    Column("version", String(80), primary_key=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)

# Each person's reminders (none: the defaults), across their tenants.
reminder_settings = Table(
    "reminder_settings",
    metadata,
    Column("person_id", String(40), primary_key=True),
    Column("off", Boolean, nullable=False),
    Column("minutes", ARRAY(Integer), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("title", String(80), nullable=False, server_default=""),
    Column("show_coach_name", Boolean, nullable=False, server_default="false"),
)

# A person's calendar feed: the hash of its URL's secret (one feed a person; a new one replaces it).
calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("person_id", String(40), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A reminder claimed before its mail goes: at most one per session, person and offset.
reminders_sent = Table(
    "reminders_sent",
    metadata,
    Column("session_id", String(40), primary_key=True),
    Column("person_id", String(40), primary_key=True),
    Column("minutes", Integer, primary_key=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)

# The hot statements of a booking, built once: their SQL is fixed whatever the number of
# participants (arrays), so nothing is constructed or cache-keyed per call (measured: building
# the pre-check as an OR of one condition per row took a quarter of scheduling's CPU in a race).
_TAKEN = text(
    "SELECT 1 FROM busy JOIN unnest(:people, :starts, :ends, :sessions)"
    " AS r(person_id, starts_at, ends_at, session_id)"
    " ON busy.person_id = r.person_id"
    " AND busy.during && tstzrange(r.starts_at, r.ends_at, '[)')"
    " AND busy.session_id <> r.session_id LIMIT 1"
).bindparams(
    bindparam("people", type_=ARRAY(String)),
    bindparam("starts", type_=ARRAY(DateTime(timezone=True))),
    bindparam("ends", type_=ARRAY(DateTime(timezone=True))),
    bindparam("sessions", type_=ARRAY(String)),
)
# Before any transaction, for one booking asked in a space by one of its participants: is its
# time taken already (committed) for any of them? The same overlap as the busy rows the
# booking would write (the coach's with the buffer), the length the coach's default or the
# one asked if the coach offers it. No row (unknown space, not a participant, not active, no
# availability, a length not offered): the booking's own checks answer.
_TAKEN_IN_SPACE = text(
    "WITH asked AS ("
    " SELECT s.coachee_person_id, s.coach_person_id, s.co_coach_person_id, a.buffer_minutes,"
    " CAST(:start AS timestamptz) + make_interval(mins => COALESCE(CAST(:minutes AS int),"
    " CAST(a.session_minutes->>0 AS int))) AS ends_at"
    " FROM spaces AS s JOIN availability AS a ON a.coach_person_id = s.coach_person_id"
    " WHERE s.tenant_id = :tenant_id AND s.space_id = :space_id AND s.status = 'active'"
    " AND :person_id IN (s.coachee_person_id, s.coach_person_id, s.co_coach_person_id)"
    " AND (CAST(:minutes AS int) IS NULL"
    " OR a.session_minutes @> jsonb_build_array(CAST(:minutes AS int))))"
    " SELECT 1 FROM asked CROSS JOIN LATERAL"
    " unnest(ARRAY[asked.coachee_person_id, asked.coach_person_id, asked.co_coach_person_id])"
    " AS p(person_id)"
    " JOIN busy ON busy.person_id = p.person_id AND busy.during && tstzrange("
    " CAST(:start AS timestamptz), asked.ends_at + CASE WHEN p.person_id = asked.coach_person_id"
    " THEN make_interval(mins => asked.buffer_minutes) ELSE interval '0' END, '[)')"
    " LIMIT 1"
).bindparams(bindparam("start", type_=DateTime(timezone=True)))
_LOCK_PEOPLE = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(p, 0)) FROM unnest(:people) AS p"
).bindparams(bindparam("people", type_=ARRAY(String)))

change_requests = Table(
    "change_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("space_id", String(40), nullable=False),
    Column("session_id", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("original_starts_at", DateTime(timezone=True), nullable=False),
    Column("proposed_starts_at", DateTime(timezone=True), nullable=False),
    Column("proposed_ends_at", DateTime(timezone=True), nullable=False),
    Column("proposed_local", DateTime(timezone=False), nullable=False),
    Column("proposed_shifted", Boolean, nullable=False),
    Column("requested_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(40)),
    Index("ix_change_requests_tenant", "tenant_id", "created_at", "id"),
    # One pending request per session; the sweep finds the lapsed ones.
    Index(
        "ux_change_requests_pending",
        "session_id",
        unique=True,
        postgresql_where=text("status = 'pending'"),
    ),
    Index("ix_change_requests_lapse", "expires_at", postgresql_where=text("status = 'pending'")),
)

EXCLUSION_VIOLATION = "23P01"


def is_exclusion_violation(error: exc.DBAPIError) -> bool:
    return getattr(error.orig, "pgcode", None) == EXCLUSION_VIOLATION


class TimeTaken(Exception):
    """Someone's busy time overlaps what a booking, move or held proposal asks."""


# ---------------------------------------------------------------- spaces


class Spaces:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, tenant_id: str, space_id: str, *, for_update: bool = False) -> SpaceCopy | None:
        query = select(spaces).where(spaces.c.space_id == space_id, spaces.c.tenant_id == tenant_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return _space(row) if row else None

    def of_person(self, tenant_id: str, person_id: str) -> list[SpaceCopy]:
        rows = self.connection.execute(
            select(spaces).where(
                spaces.c.tenant_id == tenant_id,
                or_(
                    spaces.c.coachee_person_id == person_id,
                    spaces.c.coach_person_id == person_id,
                    spaces.c.co_coach_person_id == person_id,
                ),
            )
        )
        return [_space(r) for r in rows]

    def apply(self, copy: SpaceCopy) -> SpaceCopy | None:
        """Keep the newest state; the state replaced (None if new), or `copy` itself if the
        stored one is newer (the event is stale).

        Two events of one new space may arrive at once (space_created and space_activated
        handled by two workers): the insert skips a row another transaction inserted (waiting
        for it to commit), so the loser then locks that row and keeps whichever is newer. A
        `SELECT ... FOR UPDATE` first would lock nothing while the row does not exist."""
        values = {
            "tenant_id": copy.tenant_id,
            "status": copy.status,
            "coachee_person_id": copy.coachee_person_id,
            "coach_person_id": copy.coach_person_id,
            "co_coach_person_id": copy.co_coach_person_id,
            "cadence": copy.cadence,
            "sessions_planned": copy.sessions_planned,
            "updated_at": copy.updated_at,
        }
        inserted = self.connection.execute(
            pg_insert(spaces)
            .values(space_id=copy.space_id, **values)
            .on_conflict_do_nothing(index_elements=[spaces.c.space_id])
            .returning(spaces.c.space_id)
        ).first()
        if inserted is not None:
            return None
        row = self.connection.execute(
            select(spaces).where(spaces.c.space_id == copy.space_id).with_for_update()
        ).one()
        if row.updated_at > copy.updated_at:
            return copy
        self.connection.execute(
            update(spaces).where(spaces.c.space_id == copy.space_id).values(**values)
        )
        return _space(row)

    def anonymise(self, person_id: str) -> None:
        for column in ("coachee_person_id", "coach_person_id", "co_coach_person_id"):
            self.connection.execute(
                update(spaces).where(spaces.c[column] == person_id).values({column: ERASED_PERSON})
            )


def _space(r: Any) -> SpaceCopy:
    return SpaceCopy(
        space_id=r.space_id,
        tenant_id=r.tenant_id,
        status=r.status,
        coachee_person_id=r.coachee_person_id,
        coach_person_id=r.coach_person_id,
        co_coach_person_id=r.co_coach_person_id,
        cadence=r.cadence,
        sessions_planned=r.sessions_planned,
        updated_at=r.updated_at,
    )


# ---------------------------------------------------------------- policies


class Policies:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, tenant_id: str) -> Policy:
        """The tenant's policy; the defaults if it has none yet."""
        row = self.connection.execute(
            select(policies).where(policies.c.tenant_id == tenant_id)
        ).first()
        if row is None:
            return Policy(tenant_id)
        return Policy(
            tenant_id=row.tenant_id,
            free_hours=row.free_hours,
            request_hours=row.request_hours,
            late_cancel_uses_session=row.late_cancel_uses_session,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )

    def create_default(self, tenant_id: str, now: datetime) -> None:
        default = Policy(tenant_id)
        self.connection.execute(
            text(
                "INSERT INTO policies (tenant_id, free_hours, request_hours, "
                "late_cancel_uses_session, updated_at) VALUES (:t, :f, :r, :l, :u) "
                "ON CONFLICT (tenant_id) DO NOTHING"
            ),
            {
                "t": tenant_id,
                "f": default.free_hours,
                "r": default.request_hours,
                "l": default.late_cancel_uses_session,
                "u": now,
            },
        )

    def save(self, policy: Policy) -> None:
        values = {
            "free_hours": policy.free_hours,
            "request_hours": policy.request_hours,
            "late_cancel_uses_session": policy.late_cancel_uses_session,
            "updated_at": policy.updated_at,
            "updated_by": policy.updated_by,
        }
        done = self.connection.execute(
            update(policies).where(policies.c.tenant_id == policy.tenant_id).values(**values)
        )
        if done.rowcount == 0:
            self.connection.execute(insert(policies).values(tenant_id=policy.tenant_id, **values))

    def anonymise(self, person_id: str) -> None:
        self.connection.execute(
            update(policies)
            .where(policies.c.updated_by == person_id)
            .values(updated_by=ERASED_PERSON)
        )


# ---------------------------------------------------------------- video rooms


def _secret_context(tenant_id: str) -> str:
    return f"scheduling.video_secret.{tenant_id}"


class VideoSettingsRepo:
    """Each tenant's video provider; the secret sealed under a data key of the tenant's."""

    def __init__(self, connection: Connection, master: MasterKey) -> None:
        self.connection = connection
        self.ring = KeyRing(connection, master)

    def get(self, tenant_id: str) -> VideoSettings | None:
        row = self.connection.execute(
            select(video_settings).where(video_settings.c.tenant_id == tenant_id)
        ).first()
        if row is None:
            return None
        secret = ""
        if row.data_key and row.secret_sealed:
            key = self.ring.data_key(tenant_id, row.data_key)
            secret = key.open_text(row.secret_sealed, _secret_context(tenant_id))
        return VideoSettings(
            tenant_id=tenant_id,
            provider=row.provider,
            server_url=row.server_url,
            app_id=row.app_id,
            secret=secret,
            opens_before=row.opens_before,
            closes_after=row.closes_after,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )

    def save(self, settings: VideoSettings, now: datetime) -> None:
        data_key = sealed = None
        if settings.secret:
            key, data_key = self.ring.new_data_key(settings.tenant_id, now)
            sealed = key.seal_text(settings.secret, _secret_context(settings.tenant_id))
        values = {
            "provider": settings.provider,
            "server_url": settings.server_url,
            "app_id": settings.app_id,
            "data_key": data_key,
            "secret_sealed": sealed,
            "opens_before": settings.opens_before,
            "closes_after": settings.closes_after,
            "updated_at": settings.updated_at,
            "updated_by": settings.updated_by,
        }
        self.connection.execute(
            pg_insert(video_settings)
            .values(tenant_id=settings.tenant_id, **values)
            .on_conflict_do_update(index_elements=[video_settings.c.tenant_id], set_=values)
        )


def anonymise_video_settings(connection: Connection, person_id: str) -> None:
    """An erased admin no longer shows as who last set the provider."""
    connection.execute(
        update(video_settings)
        .where(video_settings.c.updated_by == person_id)
        .values(updated_by=ERASED_PERSON)
    )


class Reminders:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def choices(self, person_ids: set[str]) -> dict[str, CalendarChoice]:
        """Each person's choice; the defaults for those who made none."""
        rows = self.connection.execute(
            select(reminder_settings).where(reminder_settings.c.person_id.in_(person_ids))
        )
        found = {
            r.person_id: CalendarChoice(
                r.person_id, r.off, tuple(r.minutes), r.updated_at, r.title, r.show_coach_name
            )
            for r in rows
        }
        return {p: found.get(p, CalendarChoice(p)) for p in person_ids}

    def save(self, choice: CalendarChoice) -> None:
        values = {
            "off": choice.off,
            "minutes": list(choice.minutes),
            "updated_at": choice.updated_at,
            "title": choice.title,
            "show_coach_name": choice.show_coach_name,
        }
        self.connection.execute(
            pg_insert(reminder_settings)
            .values(person_id=choice.person_id, **values)
            .on_conflict_do_update(index_elements=[reminder_settings.c.person_id], set_=values)
        )

    def upcoming(self, now: datetime, within: timedelta) -> list[Session]:
        """Booked sessions starting in (now, now + within]."""
        rows = self.connection.execute(
            select(sessions).where(
                sessions.c.status == "booked",
                sessions.c.starts_at > now,
                sessions.c.starts_at <= now + within,
            )
        )
        return [_session(r) for r in rows]

    def already(self, session_ids: list[str]) -> set[tuple[str, str, int]]:
        rows = self.connection.execute(
            select(
                reminders_sent.c.session_id, reminders_sent.c.person_id, reminders_sent.c.minutes
            ).where(reminders_sent.c.session_id.in_(session_ids))
        )
        return {(r.session_id, r.person_id, r.minutes) for r in rows}

    def claim(self, session_id: str, person_id: str, minutes: int, now: datetime) -> bool:
        done = self.connection.execute(
            pg_insert(reminders_sent)
            .values(session_id=session_id, person_id=person_id, minutes=minutes, claimed_at=now)
            .on_conflict_do_nothing()
            .returning(reminders_sent.c.session_id)
        ).first()
        return done is not None

    def release(self, session_id: str, person_id: str, minutes: list[int]) -> None:
        """Claims given back (their mail could not be sent): the next sweep tries again."""
        self.connection.execute(
            delete(reminders_sent).where(
                reminders_sent.c.session_id == session_id,
                reminders_sent.c.person_id == person_id,
                reminders_sent.c.minutes.in_(minutes),
            )
        )

    def forget(self, person_id: str) -> None:
        """An erased person's choice and the record of their reminders."""
        self.connection.execute(
            delete(reminder_settings).where(reminder_settings.c.person_id == person_id)
        )
        self.connection.execute(
            delete(reminders_sent).where(reminders_sent.c.person_id == person_id)
        )


class Feeds:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def replace(self, person_id: str, token_hash: str, now: datetime) -> None:
        values = {"token_hash": token_hash, "created_at": now}
        self.connection.execute(
            pg_insert(calendar_feeds)
            .values(person_id=person_id, **values)
            .on_conflict_do_update(index_elements=[calendar_feeds.c.person_id], set_=values)
        )

    def delete(self, person_id: str) -> bool:
        done = self.connection.execute(
            delete(calendar_feeds).where(calendar_feeds.c.person_id == person_id)
        )
        return bool(done.rowcount)

    def created_at(self, person_id: str) -> datetime | None:
        return self.connection.execute(
            select(calendar_feeds.c.created_at).where(calendar_feeds.c.person_id == person_id)
        ).scalar()

    def person_of(self, token_hash: str) -> str | None:
        return self.connection.execute(
            select(calendar_feeds.c.person_id).where(calendar_feeds.c.token_hash == token_hash)
        ).scalar()


def claim_calendar(
    connection: Connection, uid: str, person_id: str, version: str, now: datetime
) -> bool:
    """True if this message was not claimed yet (and now is)."""
    done = connection.execute(
        pg_insert(calendar_sent)
        .values(uid=uid, person_id=person_id, version=version, sent_at=now)
        .on_conflict_do_nothing()
        .returning(calendar_sent.c.uid)
    ).first()
    return done is not None


def forget_calendar(connection: Connection, person_id: str) -> None:
    """An erased person's record of the invitations sent to them."""
    connection.execute(delete(calendar_sent).where(calendar_sent.c.person_id == person_id))


def release_calendar(connection: Connection, uid: str, person_id: str, version: str) -> None:
    connection.execute(
        delete(calendar_sent).where(
            calendar_sent.c.uid == uid,
            calendar_sent.c.person_id == person_id,
            calendar_sent.c.version == version,
        )
    )


def room_windows(connection: Connection, tenant_ids: set[str]) -> dict[str, tuple[int, int]]:
    """(opens_before, closes_after) minutes of the tenants that set theirs."""
    rows = connection.execute(
        select(
            video_settings.c.tenant_id,
            video_settings.c.opens_before,
            video_settings.c.closes_after,
        ).where(video_settings.c.tenant_id.in_(tenant_ids))
    )
    return {r.tenant_id: (r.opens_before, r.closes_after) for r in rows}


def room_of(connection: Connection, session_id: str, new_name: str, now: datetime) -> str:
    """The session's room name: `new_name` if it had none (two participants asking at once
    get the same one)."""
    connection.execute(
        pg_insert(rooms)
        .values(session_id=session_id, room=new_name, created_at=now)
        .on_conflict_do_nothing(index_elements=[rooms.c.session_id])
    )
    return str(
        connection.execute(
            select(rooms.c.room).where(rooms.c.session_id == session_id)
        ).scalar_one()
    )


# ---------------------------------------------------------------- availability


class Availabilities:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, coach_person_id: str) -> Availability | None:
        row = self.connection.execute(
            select(availability).where(availability.c.coach_person_id == coach_person_id)
        ).first()
        if row is None:
            return None
        return Availability(
            coach_person_id=row.coach_person_id,
            time_zone=row.time_zone,
            weekly=[Hours(**h) for h in row.weekly],
            exceptions=[
                Exception_(datetime.fromisoformat(e["on"]).date(), e["kind"], e["start"], e["end"])
                for e in row.exceptions
            ],
            session_minutes=list(row.session_minutes),
            buffer_minutes=row.buffer_minutes,
            min_notice_minutes=row.min_notice_minutes,
            horizon_days=row.horizon_days,
            updated_at=row.updated_at,
        )

    def save(self, a: Availability) -> None:
        values = {
            "time_zone": a.time_zone,
            "weekly": [{"weekday": h.weekday, "start": h.start, "end": h.end} for h in a.weekly],
            "exceptions": [
                {"on": e.on.isoformat(), "kind": e.kind, "start": e.start, "end": e.end}
                for e in a.exceptions
            ],
            "session_minutes": a.session_minutes,
            "buffer_minutes": a.buffer_minutes,
            "min_notice_minutes": a.min_notice_minutes,
            "horizon_days": a.horizon_days,
            "updated_at": a.updated_at,
        }
        done = self.connection.execute(
            update(availability)
            .where(availability.c.coach_person_id == a.coach_person_id)
            .values(**values)
        )
        if done.rowcount == 0:
            self.connection.execute(
                insert(availability).values(coach_person_id=a.coach_person_id, **values)
            )

    def delete(self, person_id: str) -> None:
        self.connection.execute(
            delete(availability).where(availability.c.coach_person_id == person_id)
        )


# ---------------------------------------------------------------- sessions and busy time


def _session_row(s: Session) -> dict[str, Any]:
    return {
        "tenant_id": s.tenant_id,
        "space_id": s.space_id,
        "series_id": s.series_id,
        "status": s.status,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "time_zone": s.time_zone,
        "local_start": s.local_start,
        "shifted": s.shifted,
        "coachee_person_id": s.coachee_person_id,
        "coach_person_id": s.coach_person_id,
        "co_coach_person_id": s.co_coach_person_id,
        "booked_by": s.booked_by,
        "cancelled_at": s.cancelled_at,
        "cancelled_by": s.cancelled_by,
        "cancel_reason": s.cancel_reason,
        "late": s.late,
        "uses_session": s.uses_session,
        "marked_at": s.marked_at,
        "marked_by": s.marked_by,
        "sequence": s.sequence,
        "pending_request_id": s.pending_request_id,
        "occurrence": s.occurrence,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _session(r: Any) -> Session:
    return Session(
        id=r.id,
        tenant_id=r.tenant_id,
        space_id=r.space_id,
        series_id=r.series_id,
        status=r.status,
        starts_at=r.starts_at,
        ends_at=r.ends_at,
        time_zone=r.time_zone,
        local_start=r.local_start,
        shifted=r.shifted,
        coachee_person_id=r.coachee_person_id,
        coach_person_id=r.coach_person_id,
        co_coach_person_id=r.co_coach_person_id,
        booked_by=r.booked_by,
        created_at=r.created_at,
        updated_at=r.updated_at,
        cancelled_at=r.cancelled_at,
        cancelled_by=r.cancelled_by,
        cancel_reason=r.cancel_reason,
        late=r.late,
        uses_session=r.uses_session,
        marked_at=r.marked_at,
        marked_by=r.marked_by,
        sequence=r.sequence,
        pending_request_id=r.pending_request_id,
        occurrence=r.occurrence,
    )


def _participant(person_id: str) -> Any:
    return or_(
        sessions.c.coachee_person_id == person_id,
        sessions.c.coach_person_id == person_id,
        sessions.c.co_coach_person_id == person_id,
    )


def _busy_rows(
    booked: list[Session],
    buffer_minutes: int,
    request_id: str | None,
    at: list[Interval] | None,
) -> list[dict[str, Any]]:
    """Each participant's busy row for each session (or for its proposal `at`): the coach's
    runs on by the buffer; an erased participant holds no time."""
    rows = []
    for i, s in enumerate(booked):
        start, end = at[i] if at else (s.starts_at, s.ends_at)
        for person in s.people():
            if person == ERASED_PERSON:
                continue
            extra = timedelta(minutes=buffer_minutes) if person == s.coach_person_id else None
            rows.append(
                {
                    "person_id": person,
                    "during": DateTimeTZRange(start, end + extra if extra else end, "[)"),
                    "session_id": s.id,
                    "request_id": request_id,
                }
            )
    return rows


def _to_mark(tenant_id: str, coach_person_id: str, before: datetime) -> Any:
    """The coach's (or co-coach's) sessions of the tenant still booked, ended before `before`:
    waiting for their attendance."""
    return and_(
        sessions.c.tenant_id == tenant_id,
        or_(
            sessions.c.coach_person_id == coach_person_id,
            sessions.c.co_coach_person_id == coach_person_id,
        ),
        sessions.c.status == "booked",
        sessions.c.ends_at <= before,
    )


class Sessions:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -------------------------------------------------------- sessions

    def add_series(
        self,
        series_id: str,
        tenant_id: str,
        space_id: str,
        frequency: str,
        time_zone: str,
        count: int | None,
        until: Any,
        by: str,
        now: datetime,
        follows: str | None = None,
    ) -> None:
        self.connection.execute(
            insert(series).values(
                id=series_id,
                tenant_id=tenant_id,
                space_id=space_id,
                frequency=frequency,
                time_zone=time_zone,
                count=count,
                until=until,
                follows_series_id=follows,
                created_by=by,
                created_at=now,
            )
        )

    def end_series(self, series_id: str, until: Any) -> None:
        """The series stops after `until` (a date); calendars are told (its sequence is raised)."""
        self.connection.execute(
            update(series)
            .where(series.c.id == series_id)
            .values(until=until, count=None, sequence=series.c.sequence + 1)
        )

    def raise_series(self, series_ids: list[str]) -> None:
        """Calendars are sent these series whole again (their sequence is raised)."""
        if series_ids:
            self.connection.execute(
                update(series)
                .where(series.c.id.in_(series_ids))
                .values(sequence=series.c.sequence + 1)
            )

    def cancelled_together(self, s: Session) -> list[Session]:
        """The sessions of `s`'s space that the change which cancelled `s` cancelled (one
        transaction: they share its time), in time order."""
        if s.cancelled_at is None:
            return []
        rows = self.connection.execute(
            select(sessions)
            .where(
                sessions.c.space_id == s.space_id,
                sessions.c.status == "cancelled",
                sessions.c.cancelled_at == s.cancelled_at,
            )
            .order_by(sessions.c.starts_at)
        )
        return [_session(r) for r in rows]

    def series_state(self, series_id: str) -> tuple[Any, list[Session]] | None:
        """A series' row and all its sessions (every status), in occurrence order."""
        row = self.connection.execute(select(series).where(series.c.id == series_id)).first()
        if row is None:
            return None
        rows = self.connection.execute(
            select(sessions)
            .where(sessions.c.series_id == series_id)
            .order_by(sessions.c.occurrence, sessions.c.starts_at)
        )
        return row, [_session(r) for r in rows]

    def frequency_of(self, series_id: str) -> str | None:
        return self.connection.execute(
            select(series.c.frequency).where(series.c.id == series_id)
        ).scalar()

    def add(self, booked: list[Session], buffer_minutes: int) -> None:
        """The sessions and their participants' busy rows (the exclusion constraint decides)."""
        rows = _busy_rows(booked, buffer_minutes, None, None)
        self._refuse_taken(rows)  # first: a race's losers are answered in one query
        self.connection.execute(insert(sessions), [{"id": s.id, **_session_row(s)} for s in booked])
        self._write_busy(rows)

    def hold_time(
        self,
        booked: list[Session],
        buffer_minutes: int,
        request_id: str | None = None,
        at: list[Interval] | None = None,
    ) -> None:
        """Hold the participants' time for sessions already stored (moved ones), or for a
        reschedule request's proposals `at` (one interval per session)."""
        rows = _busy_rows(booked, buffer_minutes, request_id, at)
        self._refuse_taken(rows)
        self._write_busy(rows)

    def taken_in_space(
        self,
        tenant_id: str,
        space_id: str,
        person_id: str,
        starts_at: datetime,
        minutes: int | None,
    ) -> bool:
        """True if a booking of `starts_at` in the space, asked by `person_id`, would overlap
        time already taken (committed) by one of its participants (`_TAKEN_IN_SPACE`)."""
        found = self.connection.execute(
            _TAKEN_IN_SPACE,
            {
                "tenant_id": tenant_id,
                "space_id": space_id,
                "person_id": person_id,
                "start": starts_at,
                "minutes": minutes,
            },
        ).first()
        return found is not None

    def _refuse_taken(self, rows: list[dict[str, Any]]) -> None:
        """Time already taken (committed) is refused at once, without queueing for the lock:
        in a race, everyone who arrives after the winner's commit is answered in a query."""
        if not rows:
            return
        taken = self.connection.execute(
            _TAKEN,
            {
                "people": [r["person_id"] for r in rows],
                "starts": [r["during"].lower for r in rows],
                "ends": [r["during"].upper for r in rows],
                "sessions": [r["session_id"] for r in rows],
            },
        ).first()
        if taken is not None:
            raise TimeTaken()

    def _write_busy(self, rows: list[dict[str, Any]]) -> None:
        """Insert the rows under the participants' locks. Racers that passed the check before
        the winner committed queue on the lock; once they hold it, the check is asked again
        (a query is far cheaper than a constraint violation's error and rollback)."""
        if not rows:
            return
        self._lock_people([r["person_id"] for r in rows])
        self._refuse_taken(rows)
        try:
            self.connection.execute(insert(busy), rows)
        except exc.IntegrityError as error:
            if is_exclusion_violation(error):
                raise TimeTaken() from None
            raise

    def _lock_people(self, people: list[str]) -> None:
        """One transaction at a time writes a person's busy time. Without this, two bookings
        of overlapping time can each insert its row, then each wait for the other's outcome
        while checking the exclusion constraint: PostgreSQL's deadlock detector breaks that
        after `deadlock_timeout` (1 s) with an error (measured: 50-way races had 1-10 s tails
        and INTERNAL errors). Locks are taken in one order (sorted ids, one statement whose
        function scan keeps the array's order), so they cannot deadlock among themselves; the
        constraint stays the guarantee."""
        self.connection.execute(_LOCK_PEOPLE, {"people": sorted(set(people))})

    def release_time(self, session_ids: list[str], *, holds_only: str | None = None) -> None:
        """Delete the sessions' busy rows (booked time), or one request's held proposal."""
        if holds_only is not None:
            self.connection.execute(delete(busy).where(busy.c.request_id == holds_only))
            return
        self.connection.execute(
            delete(busy).where(busy.c.session_id.in_(session_ids), busy.c.request_id.is_(None))
        )

    def promote_hold(self, request_id: str, session_id: str) -> None:
        """An approved proposal's held time becomes the session's time."""
        self.release_time([session_id])
        self.connection.execute(
            update(busy).where(busy.c.request_id == request_id).values(request_id=None)
        )

    def save(self, s: Session) -> None:
        self.connection.execute(
            update(sessions).where(sessions.c.id == s.id).values(**_session_row(s))
        )

    def get(self, tenant_id: str, session_id: str, *, for_update: bool = False) -> Session | None:
        query = select(sessions).where(
            sessions.c.id == session_id, sessions.c.tenant_id == tenant_id
        )
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return _session(row) if row else None

    def following(self, s: Session) -> list[Session]:
        """This occurrence and the later ones of its series still booked, locked."""
        rows = self.connection.execute(
            select(sessions)
            .where(
                sessions.c.series_id == s.series_id,
                sessions.c.starts_at >= s.starts_at,
                sessions.c.status == "booked",
            )
            .order_by(sessions.c.starts_at)
            .with_for_update()
        )
        return [_session(r) for r in rows]

    def used(self, tenant_id: str, space_id: str) -> int:
        """Sessions that count against the engagement (booked, held, no-shows, late)."""
        return self.connection.execute(
            select(func.count())
            .select_from(sessions)
            .where(
                sessions.c.tenant_id == tenant_id,
                sessions.c.space_id == space_id,
                sessions.c.uses_session.is_(True),
            )
        ).scalar_one()

    def page_of_space(
        self, tenant_id: str, space_id: str, size: int, token: str
    ) -> tuple[list[Session], str]:
        query = select(sessions).where(
            sessions.c.tenant_id == tenant_id, sessions.c.space_id == space_id
        )
        return keyset_page(self.connection, sessions, query, size, token, _session, key="starts_at")

    def of_person(
        self, person_id: str, from_at: datetime, to_at: datetime, limit: int = 1000
    ) -> list[Session]:
        rows = self.connection.execute(
            select(sessions)
            .where(
                _participant(person_id),
                sessions.c.starts_at >= from_at,
                sessions.c.starts_at < to_at,
            )
            .order_by(sessions.c.starts_at, sessions.c.id)
            .limit(limit)
        )
        return [_session(r) for r in rows]

    def all_of_person(self, person_id: str) -> list[Session]:
        rows = self.connection.execute(
            select(sessions).where(_participant(person_id)).order_by(sessions.c.starts_at)
        )
        return [_session(r) for r in rows]

    def future_of_space(
        self, space_id: str, now: datetime, coach_person_id: str | None = None
    ) -> list[Session]:
        query = select(sessions).where(
            sessions.c.space_id == space_id,
            sessions.c.status == "booked",
            sessions.c.starts_at > now,
        )
        if coach_person_id is not None:
            query = query.where(sessions.c.coach_person_id == coach_person_id)
        return [
            _session(r)
            for r in self.connection.execute(query.order_by(sessions.c.starts_at).with_for_update())
        ]

    def future_of_person(self, person_id: str, now: datetime) -> list[Session]:
        rows = self.connection.execute(
            select(sessions)
            .where(
                _participant(person_id), sessions.c.status == "booked", sessions.c.starts_at > now
            )
            .with_for_update()
        )
        return [_session(r) for r in rows]

    def next_of_spaces(
        self, tenant_id: str, space_ids: list[str], now: datetime, per_space: int
    ) -> list[Session]:
        if not space_ids:
            return []
        ranked = (
            select(
                sessions,
                func.row_number()
                .over(partition_by=sessions.c.space_id, order_by=sessions.c.starts_at)
                .label("rank"),
            )
            .where(
                sessions.c.tenant_id == tenant_id,
                sessions.c.space_id.in_(space_ids),
                sessions.c.status == "booked",
                sessions.c.ends_at > now,
            )
            .subquery()
        )
        rows = self.connection.execute(
            select(ranked).where(ranked.c.rank <= per_space).order_by(ranked.c.starts_at)
        )
        return [_session(r) for r in rows]

    def use_of_spaces(self, tenant_id: str, space_ids: list[str]) -> dict[str, dict[str, int]]:
        """Per space, the sessions that use the engagement, those held and those booked (one
        query; a space without sessions is absent)."""
        if not space_ids:
            return {}
        rows = self.connection.execute(
            select(
                sessions.c.space_id,
                func.count().filter(sessions.c.uses_session.is_(True)).label("used"),
                func.count().filter(sessions.c.status == "held").label("held"),
                func.count().filter(sessions.c.status == "booked").label("booked"),
            )
            .where(sessions.c.tenant_id == tenant_id, sessions.c.space_id.in_(space_ids))
            .group_by(sessions.c.space_id)
        )
        return {r.space_id: {"used": r.used, "held": r.held, "booked": r.booked} for r in rows}

    def to_mark_counts(
        self, tenant_id: str, coach_person_id: str, space_ids: list[str], before: datetime
    ) -> dict[str, int]:
        """Per space, how many sessions `to_mark` would list (without its limit)."""
        if not space_ids:
            return {}
        rows = self.connection.execute(
            select(sessions.c.space_id, func.count().label("n"))
            .where(_to_mark(tenant_id, coach_person_id, before), sessions.c.space_id.in_(space_ids))
            .group_by(sessions.c.space_id)
        )
        return {r.space_id: r.n for r in rows}

    def to_mark(
        self, tenant_id: str, coach_person_id: str, before: datetime, limit: int = 100
    ) -> list[Session]:
        rows = self.connection.execute(
            select(sessions)
            .where(_to_mark(tenant_id, coach_person_id, before))
            .order_by(sessions.c.starts_at)
            .limit(limit)
        )
        return [_session(r) for r in rows]

    def busy_of(
        self,
        people: list[str],
        from_at: datetime,
        to_at: datetime,
        ignore_session: str | None = None,
        *,
        here_only: tuple[str, ...] = (),
        tenant_id: str = "",
    ) -> list[Interval]:
        """Every busy interval of these people overlapping [from_at, to_at), in all tenants;
        of `here_only`'s, only those of sessions of `tenant_id` (someone else's view of them
        must not show what they do in another tenant)."""
        whose = busy.c.person_id.in_(people)
        if here_only:
            local = select(sessions.c.id).where(sessions.c.tenant_id == tenant_id)
            whose = or_(whose, busy.c.person_id.in_(here_only) & busy.c.session_id.in_(local))
        query = select(func.lower(busy.c.during), func.upper(busy.c.during)).where(
            whose, busy.c.during.op("&&")(func.tstzrange(from_at, to_at, "[)"))
        )
        if ignore_session is not None:
            query = query.where(busy.c.session_id != ignore_session)
        return [(r[0], r[1]) for r in self.connection.execute(query)]

    def conflicts(
        self,
        people: list[str],
        intervals: list[Interval],
        buffer_minutes: int,
        coach: str,
        ignore: list[str] | None = None,
    ) -> list[int]:
        """Indexes of the intervals where one of the people is busy already."""
        found = []
        for i, (start, end) in enumerate(intervals):
            for person in people:
                extra = timedelta(minutes=buffer_minutes) if person == coach else timedelta(0)
                query = select(busy.c.id).where(
                    busy.c.person_id == person,
                    busy.c.during.op("&&")(func.tstzrange(start, end + extra, "[)")),
                )
                if ignore:
                    query = query.where(busy.c.session_id.not_in(ignore))
                if self.connection.execute(query.limit(1)).first():
                    found.append(i)
                    break
        return found

    def replace_person(
        self, space_id: str, column: str, old: str | None, new: str | None, now: datetime
    ) -> list[Session]:
        """Future booked sessions of a space get another co-coach: the previous one's time is
        released, the new one's held where they are free (ON CONFLICT DO NOTHING)."""
        changed = []
        for s in self.future_of_space(space_id, now):
            if getattr(s, column) != old:
                continue
            if old:
                self.connection.execute(
                    delete(busy).where(busy.c.session_id == s.id, busy.c.person_id == old)
                )
            setattr(s, column, new)
            s.sequence += 1
            s.updated_at = now
            self.save(s)
            if new:
                self.connection.execute(
                    text(
                        "INSERT INTO busy (person_id, during, session_id) "
                        "VALUES (:p, tstzrange(:s, :e, '[)'), :id) ON CONFLICT DO NOTHING"
                    ),
                    {"p": new, "s": s.starts_at, "e": s.ends_at, "id": s.id},
                )
            changed.append(s)
        return changed

    def anonymise(self, person_id: str) -> None:
        self.connection.execute(delete(busy).where(busy.c.person_id == person_id))
        for column in (
            "coachee_person_id",
            "coach_person_id",
            "co_coach_person_id",
            "booked_by",
            "marked_by",
        ):
            self.connection.execute(
                update(sessions)
                .where(sessions.c[column] == person_id)
                .values({column: ERASED_PERSON})
            )
        self.connection.execute(
            update(series).where(series.c.created_by == person_id).values(created_by=ERASED_PERSON)
        )


# ---------------------------------------------------------------- reschedule requests


def _request_row(r: ChangeRequest) -> dict[str, Any]:
    return {
        "tenant_id": r.tenant_id,
        "space_id": r.space_id,
        "session_id": r.session_id,
        "status": r.status,
        "original_starts_at": r.original_starts_at,
        "proposed_starts_at": r.proposed_starts_at,
        "proposed_ends_at": r.proposed_ends_at,
        "proposed_local": r.proposed_local,
        "proposed_shifted": r.proposed_shifted,
        "requested_by": r.requested_by,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "decided_at": r.decided_at,
        "decided_by": r.decided_by,
    }


def _request(r: Any) -> ChangeRequest:
    return ChangeRequest(
        id=r.id,
        tenant_id=r.tenant_id,
        space_id=r.space_id,
        session_id=r.session_id,
        status=r.status,
        original_starts_at=r.original_starts_at,
        proposed_starts_at=r.proposed_starts_at,
        proposed_ends_at=r.proposed_ends_at,
        proposed_local=r.proposed_local,
        proposed_shifted=r.proposed_shifted,
        requested_by=r.requested_by,
        created_at=r.created_at,
        expires_at=r.expires_at,
        decided_at=r.decided_at,
        decided_by=r.decided_by,
    )


class ChangeRequests:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, r: ChangeRequest) -> None:
        self.connection.execute(insert(change_requests).values(id=r.id, **_request_row(r)))

    def save(self, r: ChangeRequest) -> None:
        self.connection.execute(
            update(change_requests).where(change_requests.c.id == r.id).values(**_request_row(r))
        )

    def get(
        self, tenant_id: str, request_id: str, *, for_update: bool = False
    ) -> ChangeRequest | None:
        query = select(change_requests).where(
            change_requests.c.id == request_id, change_requests.c.tenant_id == tenant_id
        )
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return _request(row) if row else None

    def pending_of(self, session_ids: list[str]) -> list[ChangeRequest]:
        rows = self.connection.execute(
            select(change_requests)
            .where(
                change_requests.c.session_id.in_(session_ids), change_requests.c.status == PENDING
            )
            .with_for_update()
        )
        return [_request(r) for r in rows]

    def page(
        self, tenant_id: str, space_ids: list[str], status: str | None, size: int, token: str
    ) -> tuple[list[ChangeRequest], str]:
        query = select(change_requests).where(
            change_requests.c.tenant_id == tenant_id, change_requests.c.space_id.in_(space_ids)
        )
        if status is not None:
            query = query.where(change_requests.c.status == status)
        return keyset_page(self.connection, change_requests, query, size, token, _request)

    def pending_for(
        self, tenant_id: str, space_ids: list[str], limit: int = 100
    ) -> list[ChangeRequest]:
        if not space_ids:
            return []
        rows = self.connection.execute(
            select(change_requests)
            .where(
                change_requests.c.tenant_id == tenant_id,
                change_requests.c.space_id.in_(space_ids),
                change_requests.c.status == PENDING,
            )
            .order_by(change_requests.c.expires_at)
            .limit(limit)
        )
        return [_request(r) for r in rows]

    def lapsed(self, now: datetime, limit: int = 100) -> list[ChangeRequest]:
        """Pending requests whose session has started, locked (other instances skip them)."""
        rows = self.connection.execute(
            select(change_requests)
            .where(change_requests.c.status == PENDING, change_requests.c.expires_at <= now)
            .order_by(change_requests.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_request(r) for r in rows]

    def of_person(self, person_id: str) -> list[ChangeRequest]:
        rows = self.connection.execute(
            select(change_requests).where(
                or_(
                    change_requests.c.requested_by == person_id,
                    change_requests.c.decided_by == person_id,
                )
            )
        )
        return [_request(r) for r in rows]

    def anonymise(self, person_id: str) -> None:
        for column in ("requested_by", "decided_by"):
            self.connection.execute(
                update(change_requests)
                .where(change_requests.c[column] == person_id)
                .values({column: ERASED_PERSON})
            )
