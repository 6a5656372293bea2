"""xAPI: each learner's pseudonym (per person and tenant), the statements built (pending until
the LRS has them) and the operator's LRS settings (one row, the secret sealed).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "learners",
        sa.Column("tenant_id", sa.String(40), primary_key=True),
        sa.Column("person_id", sa.String(40), primary_key=True),
        sa.Column("pseudonym", sa.String(40), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "statements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("person_id", sa.String(40), nullable=False),
        sa.Column("assignment_id", sa.String(40), nullable=False),
        sa.Column("statement", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("pushed_at", TZ),
    )
    op.create_index(
        "ix_statements_pending",
        "statements",
        ["created_at"],
        postgresql_where=sa.text("pushed_at IS NULL"),
    )
    op.create_index("ix_statements_person", "statements", ["person_id"])
    op.create_table(
        "lrs_settings",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("endpoint", sa.String(500), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("secret_sealed", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by_person_id", sa.String(40), nullable=False),
        sa.Column("last_push_at", TZ),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("lrs_settings")
    op.drop_table("statements")
    op.drop_table("learners")
