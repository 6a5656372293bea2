"""The outbox's traceparent column (the kernel's event tables, tracing: docs/operations/tracing.md).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from services.kernel.runtime.outbox import add_traceparent_column, drop_traceparent_column

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_traceparent_column(op.get_bind())


def downgrade() -> None:
    drop_traceparent_column(op.get_bind())
