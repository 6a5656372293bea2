"""Searching a tenant's members (issue 20): `persons.name_key`, the display name as a search
compares it (accents dropped, case-folded: `domain.model.search_key`), computed in Python
because PostgreSQL's lower() follows the server's locale and has no accent folding without an
extension. Names and emails are contact details, stored in clear in identity (only free text
people write is encrypted at rest), so this folded copy reveals nothing the row did not hold.

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

from services.identity.domain.model import search_key

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    op.add_column("persons", sa.Column("name_key", sa.Text, nullable=False, server_default=""))
    bind = op.get_bind()
    persons = sa.table("persons", sa.column("id"), sa.column("display_name"), sa.column("name_key"))
    after = ""
    while True:
        rows = bind.execute(
            sa.select(persons.c.id, persons.c.display_name)
            .where(persons.c.id > after)
            .order_by(persons.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        named = [{"pid": r.id, "key": search_key(r.display_name)} for r in rows if r.display_name]
        if named:
            bind.execute(
                persons.update()
                .where(persons.c.id == sa.bindparam("pid"))
                .values(name_key=sa.bindparam("key")),
                named,
            )
        after = rows[-1].id


def downgrade() -> None:
    op.drop_column("persons", "name_key")
