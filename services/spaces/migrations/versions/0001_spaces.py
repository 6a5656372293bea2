"""Spaces, the kernel's event tables and its key ring (tenant keys).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.kernel.runtime.keyring import create_keyring_tables
from services.kernel.runtime.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spaces",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("coachee_member_id", sa.String(40), nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("coach_member_id", sa.String(40), nullable=False),
        sa.Column("coach_person_id", sa.String(40), nullable=False),
        sa.Column("co_coach_member_id", sa.String(40)),
        sa.Column("co_coach_person_id", sa.String(40)),
        sa.Column("cadence", sa.String(20), nullable=False),
        sa.Column("sessions_planned", sa.Integer, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date),
        sa.Column("data_key", sa.Text, nullable=False),
        sa.Column("content_sealed", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'paused', 'completed', 'archived')",
            name="ck_spaces_status",
        ),
    )
    op.create_index("ix_spaces_tenant_page", "spaces", ["tenant_id", "created_at", "id"])
    op.create_index("ix_spaces_coach", "spaces", ["tenant_id", "coach_person_id"])
    op.create_index("ix_spaces_co_coach", "spaces", ["tenant_id", "co_coach_person_id"])
    op.create_index("ix_spaces_coachee", "spaces", ["coachee_person_id"])
    create_event_tables(op.get_bind())
    create_keyring_tables(op.get_bind())


def downgrade() -> None:
    op.drop_table("spaces")
