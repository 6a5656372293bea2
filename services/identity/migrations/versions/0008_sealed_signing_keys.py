"""Signing keys: private halves sealed by the master key (never raw in the database), and a
`retire_at` instant from which a key no longer verifies (rotation without downtime).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from services.kernel.config import settings
from services.kernel.crypto import load_master_key

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def seal_context(kid: str) -> str:
    return f"identity.signing_key.{kid}"


def upgrade() -> None:
    op.add_column("signing_keys", sa.Column("sealed_private_key", sa.Text))
    op.add_column("signing_keys", sa.Column("retire_at", sa.DateTime(timezone=True)))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT kid, private_key, retired_at FROM signing_keys")).all()
    if rows:
        config = settings()
        master = load_master_key(config.master_key, config.master_key_path)
        for row in rows:
            conn.execute(
                sa.text(
                    "UPDATE signing_keys SET sealed_private_key = :sealed, retire_at = :retire "
                    "WHERE kid = :kid"
                ),
                {
                    "sealed": master.wrap(bytes(row.private_key), seal_context(row.kid)),
                    "retire": row.retired_at,
                    "kid": row.kid,
                },
            )
    op.alter_column("signing_keys", "sealed_private_key", nullable=False)
    op.drop_column("signing_keys", "private_key")
    op.drop_column("signing_keys", "retired_at")


def downgrade() -> None:
    op.add_column("signing_keys", sa.Column("retired_at", sa.DateTime(timezone=True)))
    op.add_column("signing_keys", sa.Column("private_key", sa.LargeBinary))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT kid, sealed_private_key, retire_at FROM signing_keys"))
    rows = rows.all()
    if rows:
        config = settings()
        master = load_master_key(config.master_key, config.master_key_path)
        for row in rows:
            conn.execute(
                sa.text(
                    "UPDATE signing_keys SET private_key = :raw, retired_at = :retire "
                    "WHERE kid = :kid"
                ),
                {
                    "raw": master.unwrap(row.sealed_private_key, seal_context(row.kid)),
                    "retire": row.retire_at,
                    "kid": row.kid,
                },
            )
    op.alter_column("signing_keys", "private_key", nullable=False)
    op.drop_column("signing_keys", "retire_at")
    op.drop_column("signing_keys", "sealed_private_key")
