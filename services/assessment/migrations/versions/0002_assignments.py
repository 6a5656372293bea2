"""Space copies, coaches' instruments (one row per version), assignments (the version's
document as assigned, a data key) and attempts (answers sealed, scores in clear).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "spaces",
        sa.Column("space_id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("coach_person_id", sa.String(40), nullable=False),
        sa.Column("co_coach_person_id", sa.String(40)),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "instruments",
        sa.Column("instrument_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("owner_person_id", sa.String(40), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("instrument_id", "version", name="uq_instruments_version"),
    )
    op.create_index("ix_instruments_tenant", "instruments", ["tenant_id", "owner_person_id"])
    op.create_table(
        "assignments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("instrument_id", sa.String(64), nullable=False),
        sa.Column("instrument", JSONB, nullable=False),
        sa.Column("attempts_allowed", sa.Integer, nullable=False),
        sa.Column("assigned_by_person_id", sa.String(40), nullable=False),
        sa.Column("data_key", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_assignments_space", "assignments", ["space_id", "created_at", "id"])
    op.create_index("ix_assignments_coachee", "assignments", ["coachee_person_id"])
    op.create_index("ix_assignments_tenant", "assignments", ["tenant_id"])
    op.create_table(
        "attempts",
        sa.Column(
            "assignment_id",
            sa.String(40),
            sa.ForeignKey("assignments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answers_sealed", sa.Text, nullable=False),
        sa.Column("scores", JSONB),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("submitted_at", TZ),
    )


def downgrade() -> None:
    op.drop_table("attempts")
    op.drop_table("assignments")
    op.drop_table("instruments")
    op.drop_table("spaces")
