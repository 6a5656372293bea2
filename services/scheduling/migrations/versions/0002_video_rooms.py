"""Video rooms: each tenant's provider (its secret sealed under the tenant's keys, hence the
kernel's keyring tables) and each session's room name.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from services.kernel.runtime.keyring import create_keyring_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_keyring_tables(op.get_bind())
    op.create_table(
        "video_settings",
        sa.Column("tenant_id", sa.String(40), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("server_url", sa.String(500), nullable=False),
        sa.Column("app_id", sa.String(200), nullable=False),
        sa.Column("data_key", sa.Text),
        sa.Column("secret_sealed", sa.Text),
        sa.Column("opens_before", sa.Integer, nullable=False),
        sa.Column("closes_after", sa.Integer, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(40)),
    )
    op.create_table(
        "rooms",
        sa.Column("session_id", sa.String(40), primary_key=True),
        sa.Column("room", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rooms")
    op.drop_table("video_settings")
    op.drop_table("tenant_keys")
