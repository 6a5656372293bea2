"""RPC receipts (the kernel's event tables): a write carried out once per RPC call, however often
the broker delivers it (services/kernel/runtime/receipts.py).

Revision ID: 0035
Revises: 0034
"""

from alembic import op

from services.kernel.runtime.outbox import add_receipts_table, drop_receipts_table

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_receipts_table(op.get_bind())


def downgrade() -> None:
    drop_receipts_table(op.get_bind())
