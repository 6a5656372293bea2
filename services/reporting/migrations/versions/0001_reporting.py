"""The reporting service's database: the kernel's event tables (it handles identity's, spaces',
scheduling's, assessment's and content's events, and publishes its part of an erasure) and one
table of facts per kind of object, each row at the state of the newest event applied.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from services.kernel.runtime.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
LABEL = sa.String(100)


def _facts(name: str, key: str, *columns: sa.Column) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column(key, sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        *columns,
        sa.Column("sequence", sa.BigInteger, nullable=False),
    )
    op.create_index(f"ix_{name}_tenant", name, ["tenant_id"])


def upgrade() -> None:
    create_event_tables(op.get_bind())
    _facts(
        "members",
        "member_id",
        sa.Column("person_id", sa.String(40), nullable=False),
        sa.Column("roles", ARRAY(sa.String(16)), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("department", LABEL),
        sa.Column("site", LABEL),
        sa.Column("programme", LABEL),
    )
    op.create_index("ix_members_person", "members", ["tenant_id", "person_id"])
    _facts(
        "spaces",
        "space_id",
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sessions_planned", sa.Integer, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date),
    )
    op.create_index("ix_spaces_coachee", "spaces", ["coachee_person_id"])
    _facts(
        "sessions",
        "session_id",
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("uses_session", sa.Boolean, nullable=False),
    )
    op.create_index("ix_sessions_coachee", "sessions", ["coachee_person_id"])
    _facts(
        "goals",
        "goal_id",
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("achieved_at", TZ),
    )
    _facts(
        "tools",
        "tool_id",
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
    )
    _facts(
        "assessments",
        "assignment_id",
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assigned_at", TZ, nullable=False),
        sa.Column("submitted_at", TZ),
    )
    _facts(
        "modules",
        "assignment_id",
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TZ),
        sa.Column("completed_at", TZ),
    )
    op.create_index("ix_modules_coachee", "modules", ["coachee_person_id"])


def downgrade() -> None:
    for name in ("modules", "assessments", "tools", "goals", "sessions", "spaces", "members"):
        op.drop_table(name)
