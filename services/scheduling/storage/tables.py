"""The scheduling service's tables (SQLAlchemy 2 Core): what Alembic's migrations create and
the repositories (one module each beside this one) read and write.

No double booking, even under races: every participant's time in a booked session (and in a
proposal held for a reschedule request) is a row of `busy`, and one PostgreSQL exclusion
constraint (`btree_gist`) refuses two rows of one person whose intervals overlap, unless they
belong to the same session (a session's held proposal may overlap the session itself). A
cancelled session's rows are deleted. The coach's rows run on for their buffer.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE

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
