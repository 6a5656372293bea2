"""Notes: which associated data each note's ciphertext is bound to.

Version 1 (every note written before): the note id only. Version 2 (every write from now on,
services/spaces/storage/notes.py `note_context`): the note id, its space, kind and author, so that a
ciphertext copied to another row, or a row whose kind or author is changed in the database,
no longer opens. Version-2 ciphertexts also hold the body rendered to HTML (rendered once, at
write time). A note sealed before is read as it is and sealed again, as version 2, the next
time it is written (an edit, a deletion, its author's erasure). A revision (a note's previous
body) is bound, in version 2, to its note as well as its own id; older revisions stay version 1.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


TABLES = ("notes", "note_revisions")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("seal_version", sa.SmallInteger(), nullable=False, server_default="1"),
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "seal_version")
