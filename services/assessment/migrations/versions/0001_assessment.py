"""The assessment service's database: the kernel's event tables (it handles
`identity.person_erased` and publishes its completion) and tenant keys (answers are sealed with
the kernel's key ring).

Revision ID: 0001
Revises:
"""

from alembic import op

from services.kernel.runtime.keyring import create_keyring_tables
from services.kernel.runtime.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables(op.get_bind())
    create_keyring_tables(op.get_bind())


def downgrade() -> None:
    pass
