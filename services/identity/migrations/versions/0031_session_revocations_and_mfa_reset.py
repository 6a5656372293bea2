"""Proof of the person and revocation by session (issue 19, item 2).

- access_revocations: a revocation may name one session (`session_id`: sign-out), or spare one
  (`except_session_id`: a password or email change keeps the device it was made on).
- person_links: the session that asked for an email change (`session_id`), kept when it is
  confirmed while every other session ends.
- sign_in_challenges: an enrolment started by a signed-in person belongs to their session
  (`session_id`): completing it starts no new session.
- mfa_factors: `reset_at`, set when an operator resets a person's MFA: the secret is void and
  the person's next sign-in enrols a new authenticator, whatever the policy.

Revision ID: 0031
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("access_revocations", sa.Column("session_id", sa.String(40)))
    op.add_column("access_revocations", sa.Column("except_session_id", sa.String(40)))
    op.add_column("person_links", sa.Column("session_id", sa.String(40)))
    op.add_column("sign_in_challenges", sa.Column("session_id", sa.String(40)))
    op.add_column("mfa_factors", sa.Column("reset_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("mfa_factors", "reset_at")
    op.drop_column("sign_in_challenges", "session_id")
    op.drop_column("person_links", "session_id")
    op.drop_column("access_revocations", "except_session_id")
    op.drop_column("access_revocations", "session_id")
