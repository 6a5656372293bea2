"""Reminders: each person's choice, and the reminders claimed (one per session, person and
offset).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_settings",
        sa.Column("person_id", sa.String(40), primary_key=True),
        sa.Column("off", sa.Boolean, nullable=False),
        sa.Column("minutes", ARRAY(sa.Integer), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "reminders_sent",
        sa.Column("session_id", sa.String(40), primary_key=True),
        sa.Column("person_id", sa.String(40), primary_key=True),
        sa.Column("minutes", sa.Integer, primary_key=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_sessions_booked_start",
        "sessions",
        ["starts_at"],
        postgresql_where=sa.text("status = 'booked'"),
    )


def downgrade() -> None:
    op.drop_index("ix_sessions_booked_start", "sessions")
    op.drop_table("reminders_sent")
    op.drop_table("reminder_settings")
