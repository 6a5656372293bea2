"""The content service's database: the kernel's event tables (it handles spaces' events and
`identity.person_erased`, and publishes its own) and tenant keys (recommendations' notes are
sealed with the kernel's key ring); space copies, the library and recommendations.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

from services.kernel.runtime.keyring import create_keyring_tables
from services.kernel.runtime.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_event_tables(op.get_bind())
    create_keyring_tables(op.get_bind())
    op.create_table(
        "spaces",
        sa.Column("space_id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("coachee_person_id", sa.String(40), nullable=False),
        sa.Column("coach_person_id", sa.String(40), nullable=False),
        sa.Column("co_coach_person_id", sa.String(40)),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "resources",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.String(40)),
        sa.Column("owner_person_id", sa.String(40)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("tags", ARRAY(sa.String(40)), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.Column("search", TSVECTOR, nullable=False),
        sa.Column("link_status", sa.String(16), nullable=False),
        sa.Column("link_checked_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_resources_search", "resources", ["search"], postgresql_using="gin")
    op.create_index("ix_resources_tags", "resources", ["tags"], postgresql_using="gin")
    op.create_index("ix_resources_scope", "resources", ["scope", "tenant_id", "owner_person_id"])
    op.create_table(
        "recommendations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("resource_id", sa.String(40), nullable=False),
        sa.Column("resource", JSONB, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("recommended_by_person_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("useful", sa.Boolean),
        sa.Column("data_key", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_recommendations_space", "recommendations", ["space_id", "created_at"])


def downgrade() -> None:
    op.drop_table("recommendations")
    op.drop_table("resources")
    op.drop_table("spaces")
