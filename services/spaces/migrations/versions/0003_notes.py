"""Notes (shared, coach-private, journal), their revisions and the access log of their reads.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "space_id",
            sa.String(40),
            sa.ForeignKey("spaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author_id", sa.String(40), nullable=False),
        sa.Column("parent_id", sa.String(40)),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("kind IN ('shared', 'coach_private', 'journal')", name="ck_notes_kind"),
    )
    op.create_index("ix_notes_space_page", "notes", ["space_id", "created_at", "id"])
    op.create_table(
        "note_revisions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "note_id", sa.String(40), sa.ForeignKey("notes.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.Text, nullable=False),
    )
    op.create_index("ix_note_revisions_note", "note_revisions", ["note_id", "created_at", "id"])
    op.create_table(
        "note_reads",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "note_id", sa.String(40), sa.ForeignKey("notes.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("space_id", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("reader_id", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refused", sa.Boolean, nullable=False),
    )
    op.create_index("ix_note_reads_space", "note_reads", ["space_id", "created_at", "id"])
    op.create_index("ix_note_reads_refused", "note_reads", ["refused", "created_at", "id"])


def downgrade() -> None:
    op.drop_table("note_reads")
    op.drop_table("note_revisions")
    op.drop_table("notes")
