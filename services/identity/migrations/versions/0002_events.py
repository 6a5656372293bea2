"""The outbox, per-aggregate event sequences and the inbox (the kernel's event tables, v1).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from services.kernel.runtime.outbox import create_event_tables, drop_event_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables(op.get_bind())


def downgrade() -> None:
    drop_event_tables(op.get_bind())
