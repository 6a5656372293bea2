"""How a person's calendar names the sessions: their own title, and (a coachee's choice) the
coach's name.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "reminder_settings", sa.Column("title", sa.String(80), nullable=False, server_default="")
    )
    op.add_column(
        "reminder_settings",
        sa.Column("show_coach_name", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("reminder_settings", "show_coach_name")
    op.drop_column("reminder_settings", "title")
