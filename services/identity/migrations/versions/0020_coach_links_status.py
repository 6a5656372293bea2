"""Coach links keep the space's status: a draft never links a coach to the coachee (issue 19).
Rows written before this revision came from spaces of unknown status; they count as opened until
the space's next event sets it.

Revision ID: 0020
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "coach_links",
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    )
    op.alter_column("coach_links", "status", server_default=None)


def downgrade() -> None:
    op.drop_column("coach_links", "status")
