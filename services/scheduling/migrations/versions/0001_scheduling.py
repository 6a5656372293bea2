"""Scheduling: space copies, policies, availability, series, sessions, busy time (one exclusion
constraint against double booking), reschedule requests, and the kernel's event tables.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TSTZRANGE

from services.kernel.runtime.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "spaces",
        sa.Column("space_id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("coach_person_id", sa.String(40), nullable=False),
        sa.Column("co_coach_person_id", sa.String(40)),
        sa.Column("cadence", sa.String(20), nullable=False),
        sa.Column("sessions_planned", sa.Integer, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "policies",
        sa.Column("tenant_id", sa.String(40), primary_key=True),
        sa.Column("free_hours", sa.Integer, nullable=False),
        sa.Column("request_hours", sa.Integer, nullable=False),
        sa.Column("late_cancel_uses_session", sa.Boolean, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(40)),
        sa.CheckConstraint("request_hours <= free_hours", name="ck_policies_windows"),
    )
    op.create_table(
        "availability",
        sa.Column("coach_person_id", sa.String(40), primary_key=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("weekly", JSONB, nullable=False),
        sa.Column("exceptions", JSONB, nullable=False),
        sa.Column("session_minutes", JSONB, nullable=False),
        sa.Column("buffer_minutes", sa.Integer, nullable=False),
        sa.Column("min_notice_minutes", sa.Integer, nullable=False),
        sa.Column("horizon_days", sa.Integer, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "series",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("frequency", sa.String(20), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer),
        sa.Column("until", sa.Date),
        sa.Column("follows_series_id", sa.String(40)),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("series_id", sa.String(40)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("local_start", sa.DateTime(timezone=False), nullable=False),
        sa.Column("shifted", sa.Boolean, nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("coach_person_id", sa.String(40), nullable=False),
        sa.Column("co_coach_person_id", sa.String(40)),
        sa.Column("booked_by", sa.String(40), nullable=False),
        sa.Column("cancelled_at", TZ),
        sa.Column("cancelled_by", sa.String(10)),
        sa.Column("cancel_reason", sa.String(30)),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("uses_session", sa.Boolean, nullable=False),
        sa.Column("marked_at", TZ),
        sa.Column("marked_by", sa.String(40)),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("pending_request_id", sa.String(40)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'held', 'no_show_coachee', 'no_show_coach')",
            name="ck_sessions_status",
        ),
        sa.CheckConstraint("ends_at > starts_at", name="ck_sessions_length"),
    )
    op.create_index("ix_sessions_space", "sessions", ["tenant_id", "space_id", "starts_at", "id"])
    op.create_index("ix_sessions_coach", "sessions", ["coach_person_id", "starts_at"])
    op.create_index("ix_sessions_coachee", "sessions", ["coachee_person_id", "starts_at"])
    op.create_index("ix_sessions_co_coach", "sessions", ["co_coach_person_id", "starts_at"])
    op.create_index("ix_sessions_series", "sessions", ["series_id", "starts_at"])
    op.create_index(
        "ix_sessions_to_mark",
        "sessions",
        ["tenant_id", "coach_person_id", "ends_at"],
        postgresql_where=sa.text("status = 'booked'"),
    )
    op.create_table(
        "busy",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.String(40), nullable=False),
        sa.Column("during", TSTZRANGE, nullable=False),
        sa.Column("session_id", sa.String(40), nullable=False),
        sa.Column("request_id", sa.String(40)),
    )
    # The one rule against double booking: no person in two overlapping intervals, unless both
    # are the same session's (its time and a proposal held for it).
    op.execute(
        "ALTER TABLE busy ADD CONSTRAINT ex_busy_overlap EXCLUDE USING gist "
        "(person_id WITH =, during WITH &&, session_id WITH <>)"
    )
    op.create_index("ix_busy_session", "busy", ["session_id"])
    op.create_index("ix_busy_request", "busy", ["request_id"])
    op.create_table(
        "change_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("session_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("original_starts_at", TZ, nullable=False),
        sa.Column("proposed_starts_at", TZ, nullable=False),
        sa.Column("proposed_ends_at", TZ, nullable=False),
        sa.Column("proposed_local", sa.DateTime(timezone=False), nullable=False),
        sa.Column("proposed_shifted", sa.Boolean, nullable=False),
        sa.Column("requested_by", sa.String(40), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("decided_at", TZ),
        sa.Column("decided_by", sa.String(40)),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'declined', 'expired')", name="ck_requests_status"
        ),
    )
    op.create_index(
        "ix_change_requests_tenant", "change_requests", ["tenant_id", "created_at", "id"]
    )
    # At most one pending request per session.
    op.create_index(
        "ux_change_requests_pending",
        "change_requests",
        ["session_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_change_requests_lapse",
        "change_requests",
        ["expires_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    create_event_tables(op.get_bind())


def downgrade() -> None:
    for table in (
        "change_requests",
        "busy",
        "sessions",
        "series",
        "availability",
        "policies",
        "spaces",
    ):
        op.drop_table(table)
