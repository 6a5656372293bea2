"""The witness's tables and the kernel's event tables.

Revision ID: 0001
Revises:
"""

from alembic import op

from services.kernel.runtime.outbox import create_event_tables
from tests.support.witness.service import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())
    create_event_tables(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
