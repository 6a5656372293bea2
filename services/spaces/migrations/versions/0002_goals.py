"""Goals of a space and the history of their changes (both sealed by the space's data key).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "space_id",
            sa.String(40),
            sa.ForeignKey("spaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'achieved', 'archived')", name="ck_goals_status"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="ck_goals_progress"),
    )
    op.create_index("ix_goals_space", "goals", ["space_id", "created_at", "id"])
    op.create_table(
        "goal_changes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "goal_id", sa.String(40), sa.ForeignKey("goals.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("changed_by", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.Text, nullable=False),
    )
    op.create_index("ix_goal_changes_goal", "goal_changes", ["goal_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_table("goal_changes")
    op.drop_table("goals")
