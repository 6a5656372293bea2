"""E-learning modules: their versions (a version never changes; the module as JSONB), their
assignments to a space, and each coachee's progress (in the version they started).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "module_versions",
        sa.Column("slug", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("imported_by_person_id", sa.String(40)),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "module_assignments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("assigned_by_person_id", sa.String(40), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("space_id", "slug", name="uq_module_assignments_space_slug"),
    )
    op.create_index("ix_module_assignments_space", "module_assignments", ["space_id", "created_at"])
    op.create_table(
        "module_progress",
        sa.Column("assignment_id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("lessons", ARRAY(sa.String(64)), nullable=False),
        sa.Column("position", sa.String(64), nullable=False),
        sa.Column("completed", ARRAY(sa.String(64)), nullable=False),
        sa.Column("seconds", sa.Integer, nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("completed_at", TZ),
    )
    op.create_index("ix_module_progress_coachee", "module_progress", ["coachee_person_id"])


def downgrade() -> None:
    op.drop_table("module_progress")
    op.drop_table("module_assignments")
    op.drop_table("module_versions")
