"""A coach or co-coach who oversees the tenant (a tenant admin, an operator) is only proposed:
the proposal waits on the space for the coachee's agreement (issue 19).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (
    ("pending_seat", 16),
    ("pending_member_id", 40),
    ("pending_person_id", 40),
    ("pending_by", 40),
)


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column("spaces", sa.Column(name, sa.String(length)))
    op.add_column("spaces", sa.Column("pending_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("spaces", "pending_at")
    for name, _ in reversed(COLUMNS):
        op.drop_column("spaces", name)
