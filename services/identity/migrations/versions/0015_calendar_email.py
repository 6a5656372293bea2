"""A person's calendar address: where calendar mail (invitations, reminders) goes instead of the
account's email, once confirmed from that address.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("persons", sa.Column("calendar_email", sa.Text))


def downgrade() -> None:
    op.drop_column("persons", "calendar_email")
