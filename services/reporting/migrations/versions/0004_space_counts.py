"""Reports read counts kept per space instead of scanning the facts (ADR 0025): `space_months`,
per space and UTC month, the sessions by outcome, the sessions used, the goals achieved, the
assessments assigned and submitted, the modules started and completed; `space_tools`, per space,
its toolbox tools (not removed), open and done. Each fact table has a trigger that, in the same
statement as the fact's insert, update or delete, takes the fact's former state out of the
counts and adds its new one (a correction moves one count, e.g. from cancelled_late to held), so
every writer (the handlers' upsert, the rebuild's delete, a bulk insert) keeps them right; an
erasure changes only person ids, which the counts do not hold. The counts of the facts already
stored are added before the triggers are created.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MONTH_COUNTS = (
    "held",
    "cancelled_late",
    "cancelled_in_time",
    "no_show_coachee",
    "no_show_coach",
    "sessions_used",
    "goals_achieved",
    "assigned",
    "submitted",
    "modules_started",
    "modules_completed",
)
TOOL_COUNTS = ("tools_total", "tools_open", "tools_done")


def _upsert(table: str, key: str, at: str | None, counts: dict[str, str]) -> str:
    """An INSERT adding `n` times each count (a SQL expression of the fact `r`) to its row."""
    columns = ", ".join(counts)
    values = ", ".join(f"n * ({v})::int" for v in counts.values())
    added = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in counts)
    if at is None:
        return f"""
            INSERT INTO {table} AS t (tenant_id, space_id, {columns})
            VALUES (r.tenant_id, r.{key}, {values})
            ON CONFLICT (tenant_id, space_id) DO UPDATE SET {added};"""  # noqa: S608 (fixed texts)
    return f"""
            INSERT INTO {table} AS t (tenant_id, space_id, month, {columns})
            VALUES (r.tenant_id, r.{key},
                    CAST(date_trunc('month', r.{at} AT TIME ZONE 'UTC') AS date), {values})
            ON CONFLICT (tenant_id, space_id, month) DO UPDATE SET {added};"""  # noqa: S608


# Per fact table: the body adding `n` times the fact `r` to the counts.
COUNTED = {
    "sessions": "IF r.status <> 'booked' THEN"
    + _upsert(
        "space_months",
        "space_id",
        "starts_at",
        {
            "held": "r.status = 'held'",
            "cancelled_late": "r.status = 'cancelled' AND r.late",
            "cancelled_in_time": "r.status = 'cancelled' AND NOT r.late",
            "no_show_coachee": "r.status = 'no_show_coachee'",
            "no_show_coach": "r.status = 'no_show_coach'",
            "sessions_used": "r.uses_session AND (r.status IN ('held', 'no_show_coachee')"
            " OR (r.status = 'cancelled' AND r.late))",
        },
    )
    + " END IF;",
    "goals": "IF r.achieved_at IS NOT NULL THEN"
    + _upsert("space_months", "space_id", "achieved_at", {"goals_achieved": "true"})
    + " END IF;",
    "assessments": _upsert("space_months", "space_id", "assigned_at", {"assigned": "true"})
    + " IF r.submitted_at IS NOT NULL THEN"
    + _upsert("space_months", "space_id", "submitted_at", {"submitted": "true"})
    + " END IF;",
    "modules": "IF r.started_at IS NOT NULL THEN"
    + _upsert("space_months", "space_id", "started_at", {"modules_started": "true"})
    + " END IF; IF r.completed_at IS NOT NULL THEN"
    + _upsert("space_months", "space_id", "completed_at", {"modules_completed": "true"})
    + " END IF;",
    "tools": "IF r.state <> 'removed' THEN"
    + _upsert(
        "space_tools",
        "space_id",
        None,
        {"tools_total": "true", "tools_open": "r.state = 'unlocked'", "tools_done": "r.done"},
    )
    + " END IF;",
}
# The columns whose change changes the counts (an erasure's update of a person id does not).
WATCHED = {
    "sessions": "tenant_id, space_id, status, starts_at, late, uses_session",
    "goals": "tenant_id, space_id, achieved_at",
    "assessments": "tenant_id, space_id, assigned_at, submitted_at",
    "modules": "tenant_id, space_id, started_at, completed_at",
    "tools": "tenant_id, space_id, state, done",
}


def _counts(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(n, sa.Integer, nullable=False, server_default="0") for n in names]


def upgrade() -> None:
    op.create_table(
        "space_months",
        sa.Column("tenant_id", sa.String(40), primary_key=True),
        sa.Column("space_id", sa.String(40), primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        *_counts(*MONTH_COUNTS),
    )
    op.create_table(
        "space_tools",
        sa.Column("tenant_id", sa.String(40), primary_key=True),
        sa.Column("space_id", sa.String(40), primary_key=True),
        *_counts(*TOOL_COUNTS),
    )
    for table, body in COUNTED.items():
        op.execute(f"""
            CREATE FUNCTION reporting_count_{table}(r {table}, n integer) RETURNS void
            LANGUAGE plpgsql AS $$ BEGIN {body} END $$""")
        op.execute(f"SELECT reporting_count_{table}(f, 1) FROM {table} AS f")  # noqa: S608
        op.execute(f"""
            CREATE FUNCTION reporting_{table}_counted() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN
                IF TG_OP <> 'INSERT' THEN PERFORM reporting_count_{table}(OLD, -1); END IF;
                IF TG_OP <> 'DELETE' THEN PERFORM reporting_count_{table}(NEW, 1); END IF;
                RETURN NULL;
            END $$""")
        op.execute(f"""
            CREATE TRIGGER {table}_counted
            AFTER INSERT OR DELETE OR UPDATE OF {WATCHED[table]} ON {table}
            FOR EACH ROW EXECUTE FUNCTION reporting_{table}_counted()""")


def downgrade() -> None:
    for table in COUNTED:
        op.execute(f"DROP TRIGGER {table}_counted ON {table}")
        op.execute(f"DROP FUNCTION reporting_{table}_counted()")
        op.execute(f"DROP FUNCTION reporting_count_{table}({table}, integer)")
    op.drop_table("space_tools")
    op.drop_table("space_months")
