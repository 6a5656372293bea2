"""Signed webhooks (ADR 0023): the kernel's webhook tables (secrets sealed under the tenant's
keys, hence the keyring tables) and the digests published, one per tenant and time slot.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from services.kernel.runtime.keyring import create_keyring_tables
from services.kernel.runtime.webhooks import create_webhook_tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_keyring_tables(op.get_bind())
    create_webhook_tables(op.get_bind())
    op.create_table(
        "digests",
        sa.Column("tenant_id", sa.String(40), primary_key=True),
        sa.Column("slot", sa.BigInteger, primary_key=True),
        sa.Column("digest_id", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("digests")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
    op.drop_table("tenant_keys")
