"""360 feedback raters: an invitation per rater, its link's token hashed, the address and the
answers sealed with the assignment's data key (the address deleted once no longer needed).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "raters",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "assignment_id",
            sa.String(40),
            sa.ForeignKey("assignments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("rater_group", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("email_sealed", sa.Text),
        sa.Column("answers_sealed", sa.Text),
        sa.Column("invited_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("answered_at", TZ),
    )
    op.create_index("ix_raters_assignment", "raters", ["assignment_id", "invited_at"])
    op.create_index("ix_raters_expiry", "raters", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_table("raters")
