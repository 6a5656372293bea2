"""Goals: when each last became achieved (`achieved_at`), for the goal snapshot that reporting
rebuilds from (ADR 0022). Kept when the goal is archived, cleared when it is reopened.

A goal achieved before this column existed gets its last change (`updated_at`): exact unless it
was edited after it was achieved (the exact time is only in its sealed history).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("goals", sa.Column("achieved_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE goals SET achieved_at = updated_at WHERE status = 'achieved'")


def downgrade() -> None:
    op.drop_column("goals", "achieved_at")
