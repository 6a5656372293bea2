"""Each person's own sign-in history (what they read in ListMySignIns), kept 90 days.

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
    op.create_table(
        "sign_in_history",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "person_id", sa.String(40), sa.ForeignKey("persons.id"), nullable=False, index=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("tenant_id", sa.String(40)),
        sa.Column("source", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sign_in_history")
