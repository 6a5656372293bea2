"""Multi-factor sign-in: each person's authenticator (its TOTP secret sealed by the master key),
their recovery codes (hashes), and the challenges between the password and the code.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mfa_factors",
        sa.Column("person_id", sa.String(40), sa.ForeignKey("persons.id"), primary_key=True),
        sa.Column("sealed_secret", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("last_step", sa.BigInteger),
    )
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.String(40), sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_mfa_recovery_codes_person", "mfa_recovery_codes", ["person_id"])
    op.create_table(
        "sign_in_challenges",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("person_id", sa.String(40), sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("tenant_id", sa.String(40)),
        sa.Column("purpose", sa.String(10), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_sign_in_challenges_person", "sign_in_challenges", ["person_id"])


def downgrade() -> None:
    op.drop_table("sign_in_challenges")
    op.drop_table("mfa_recovery_codes")
    op.drop_table("mfa_factors")
