"""The toolbox's tools that name this service's targets, copied from spaces' `spaces.tool_*`
events (the kernel's tool_copies_table): each tool's newest state by envelope sequence, looked up
by (kind, target id). docs/adr/0019-toolbox-gates.md.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tools",
        sa.Column("tool_id", sa.String(40), primary_key=True),
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(128)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tools_target", "tools", ["kind", "target_id"])


def downgrade() -> None:
    op.drop_table("tools")
