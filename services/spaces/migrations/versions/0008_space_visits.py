"""Space visits: when each person last opened a space (GetSpace, ListNotes), so that the coach's
dashboard counts the shared notes written since (issue 20).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "space_visits",
        sa.Column(
            "space_id",
            sa.String(40),
            sa.ForeignKey("spaces.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("person_id", sa.String(40), primary_key=True),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_space_visits_person", "space_visits", ["person_id"])


def downgrade() -> None:
    op.drop_table("space_visits")
