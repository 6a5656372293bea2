"""The space's toolbox (issue 24, ADR 0018): its tools, the mails their unlocks owe the
coachee, and each session's latest state (held sessions unlock tools).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "space_sessions",
        sa.Column("state", sa.String(16), nullable=False, server_default="booked"),
    )
    op.add_column(
        "space_sessions",
        sa.Column("state_sequence", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "tools",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "space_id",
            sa.String(40),
            sa.ForeignKey("spaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(40)),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("locked_by_coach", sa.Boolean, nullable=False),
        sa.Column("rule_on_date", sa.Date),
        sa.Column("rule_after_sessions_held", sa.Integer),
        sa.Column("rule_after_tool_id", sa.String(40)),
        sa.Column("rule_by_hand", sa.Boolean, nullable=False),
        sa.Column("unlocks_at", sa.DateTime(timezone=True)),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unlocked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_tools_space", "tools", ["space_id", "position"])
    op.create_index("ix_tools_target", "tools", ["tenant_id", "kind", "target_id"])
    op.create_index(
        "ix_tools_due",
        "tools",
        ["unlocks_at"],
        postgresql_where=sa.text("state = 'locked' AND NOT locked_by_coach"),
    )
    op.create_table(
        "tool_mails",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "tool_id",
            sa.String(40),
            sa.ForeignKey("tools.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("person_id", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_tool_mails_pending",
        "tool_mails",
        ["created_at"],
        postgresql_where=sa.text("claimed_at IS NULL"),
    )
    op.create_index("ix_tool_mails_person", "tool_mails", ["person_id"])


def downgrade() -> None:
    op.drop_table("tool_mails")
    op.drop_table("tools")
    op.drop_column("space_sessions", "state_sequence")
    op.drop_column("space_sessions", "state")
