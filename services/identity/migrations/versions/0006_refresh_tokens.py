"""Refresh tokens, stored as hashes, in families (one per sign-in).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("family_id", sa.String(40), nullable=False, index=True),
        sa.Column(
            "person_id", sa.String(40), sa.ForeignKey("persons.id"), nullable=False, index=True
        ),
        sa.Column("tenant_id", sa.String(40), sa.ForeignKey("tenants.id")),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("amr", postgresql.ARRAY(sa.String(10)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("refresh_tokens")
