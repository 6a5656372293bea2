"""Tenant settings (seats, default language and time zone, roles that must use MFA) and
suspension.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenants", sa.Column("status", sa.String(20), nullable=False, server_default="active")
    )
    op.add_column("tenants", sa.Column("seats", sa.Integer))
    op.add_column(
        "tenants", sa.Column("default_locale", sa.String(5), nullable=False, server_default="en")
    )
    op.add_column(
        "tenants",
        sa.Column("default_time_zone", sa.String(64), nullable=False, server_default="UTC"),
    )
    op.add_column(
        "tenants",
        sa.Column(
            "mfa_required_roles",
            postgresql.ARRAY(sa.String(20)),
            nullable=False,
            server_default="{}",
        ),
    )
    op.add_column("tenants", sa.Column("suspended_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    for column in (
        "suspended_at",
        "mfa_required_roles",
        "default_time_zone",
        "default_locale",
        "seats",
        "status",
    ):
        op.drop_column("tenants", column)
