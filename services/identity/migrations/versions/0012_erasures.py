"""Erasures: the requests (kept for good, so that a restored backup can replay them) and each
service's completion; persons remember when they were erased.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("persons", sa.Column("erased_at", sa.DateTime(timezone=True)))
    op.drop_constraint("ck_membership_status", "memberships", type_="check")
    op.create_check_constraint(
        "ck_membership_status",
        "memberships",
        "status IN ('pending', 'active', 'deactivated', 'erased')",
    )
    op.create_table(
        "erasures",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("person_id", sa.String(40), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),  # requested
        sa.Column("requested_by", sa.String(16), nullable=False),
        sa.Column("receipt_hash", sa.String(64), unique=True),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_erasures_requested", "erasures", ["created_at", "id"])
    op.create_table(
        "erasure_steps",
        sa.Column("erasure_id", sa.String(40), sa.ForeignKey("erasures.id"), primary_key=True),
        sa.Column("service", sa.String(64), primary_key=True),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("erasure_steps")
    op.drop_table("erasures")
    op.drop_constraint("ck_membership_status", "memberships", type_="check")
    op.create_check_constraint(
        "ck_membership_status", "memberships", "status IN ('pending', 'active', 'deactivated')"
    )
    op.drop_column("persons", "erased_at")
