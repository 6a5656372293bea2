"""When the coach and co-coach of a space took their seat, and when the coachee last agreed
that they see what was written before: a coach who joins a running space reads its earlier
content only once the coachee agrees (issue 19). Existing seats count as held from the start.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("coach_joined_at", "co_coach_joined_at", "earlier_content_shared_at")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("spaces", sa.Column(name, sa.DateTime(timezone=True)))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("spaces", name)
