"""A shared note may link to a session of its space: the sessions each space holds, from
scheduling's events, and the note's link.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "space_sessions",
        sa.Column("session_id", sa.String(40), primary_key=True),
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.String(40), nullable=False),
    )
    op.create_index("ix_space_sessions_space", "space_sessions", ["space_id"])
    op.add_column("notes", sa.Column("session_id", sa.String(40)))


def downgrade() -> None:
    op.drop_column("notes", "session_id")
    op.drop_table("space_sessions")
