"""Cohort attributes on memberships (issue 25): `department`, `site` and `programme`, the labels
a tenant's admins set and HR's reports group by (published in identity.membership_changed v2).
Nullable, no default: NULL is unset, so existing memberships need no backfill.

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

_COLUMNS = ("department", "site", "programme")


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column("memberships", sa.Column(name, sa.String(80), nullable=True))


def downgrade() -> None:
    for name in _COLUMNS:
        op.drop_column("memberships", name)
