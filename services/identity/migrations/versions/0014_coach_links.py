"""Coach-coachee links, kept from the spaces service's events: a coach reads the profile of the
people they coach (and nobody else's).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coach_links",
        sa.Column("space_id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("coach_person_id", sa.String(40), nullable=False),
        sa.Column("co_coach_person_id", sa.String(40)),
        sa.Column("sequence", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_coach_links_coach", "coach_links", ["tenant_id", "coach_person_id"])
    op.create_index("ix_coach_links_co_coach", "coach_links", ["tenant_id", "co_coach_person_id"])


def downgrade() -> None:
    op.drop_table("coach_links")
