"""Access revocations: who may no longer use the access tokens issued to them before when
(rule 5); kept for one access-token lifetime, for processes that start or reconnect.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_revocations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("person_id", sa.String(40)),
        sa.Column("tenant_id", sa.String(40)),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("reason", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("access_revocations")
