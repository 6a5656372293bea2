"""Password-reset links become person links, with a purpose: a password reset or the
confirmation of a new email address (`detail`).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table("password_resets", "person_links")
    op.execute("ALTER INDEX ix_password_resets_person_id RENAME TO ix_person_links_person_id")
    op.add_column(
        "person_links",
        sa.Column("purpose", sa.String(40), nullable=False, server_default="password-reset"),
    )
    op.alter_column("person_links", "purpose", server_default=None)
    op.add_column("person_links", sa.Column("detail", sa.Text))


def downgrade() -> None:
    op.execute("DELETE FROM person_links WHERE purpose <> 'password-reset'")
    op.drop_column("person_links", "detail")
    op.drop_column("person_links", "purpose")
    op.execute("ALTER INDEX ix_person_links_person_id RENAME TO ix_password_resets_person_id")
    op.rename_table("person_links", "password_resets")
