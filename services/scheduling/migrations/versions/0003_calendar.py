"""Calendar invitations: each series occurrence's wall time by the series' rule (iCalendar's
RECURRENCE-ID), a series' sequence (raised when it ends early), and the messages sent.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("occurrence", sa.DateTime(timezone=False)))
    # Occurrences booked before: their current wall time is the best there is.
    op.execute("UPDATE sessions SET occurrence = local_start WHERE series_id IS NOT NULL")
    op.add_column("series", sa.Column("sequence", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "calendar_sent",
        sa.Column("uid", sa.String(80), primary_key=True),
        sa.Column("person_id", sa.String(40), primary_key=True),
        sa.Column("version", sa.String(80), primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("calendar_sent")
    op.drop_column("series", "sequence")
    op.drop_column("sessions", "occurrence")
