"""The participation counts (assessments assigned and submitted, modules started and completed)
also kept per space and UTC year (ADR 0025): `space_years`, one row per space and year, each
count an array of its 12 months and a 12-bit mask of the months where it is not zero. A report
of modules or assessments reads one row per space and year (10,000 at 10,000 coachees over a
year) instead of one per space and month with activity (38,800), and counts its distinct
coachees per month from the masks, as seats do. The rows mirror `space_months`: a trigger on
it writes the changed month's values (its new ones, or zeros when the row goes) into the
year's row, so the fact tables' triggers (migration 0004) and every writer stay as they are.
The rows of the counts already kept are mirrored before the trigger is created; a row without
participation counts (a month of sessions only) has no year's row written for it.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MIRRORED = ("assigned", "submitted", "modules_started", "modules_completed")


def _set(n: str) -> str:
    """The month `m` (bit `b`) of count `n` set to `v_n` in the year's row `t`."""
    return f"{n}[m] = v_{n}, {n}_mask = (t.{n}_mask & ~b) | CASE WHEN v_{n} <> 0 THEN b ELSE 0 END"


def _counted(row: str) -> str:
    """Whether the space_months row `row` has a participation count."""
    return "(" + " OR ".join(f"{row}.{n} <> 0" for n in MIRRORED) + ")"


def _mirror() -> str:
    """The function writing a space_months row's month into its year's row (`kept`: its
    values, else zeros)."""
    return f"""
    CREATE FUNCTION reporting_year_of(r space_months, kept boolean) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        m integer := CAST(date_part('month', r.month) AS integer);
        b integer := 1 << (m - 1);
        zeros integer[] := array_fill(0, ARRAY[12]);
        {" ".join(f"v_{n} integer := CASE WHEN kept THEN r.{n} ELSE 0 END;" for n in MIRRORED)}
        {" ".join(f"a_{n} integer[] := zeros;" for n in MIRRORED)}
    BEGIN
        {" ".join(f"a_{n}[m] := v_{n};" for n in MIRRORED)}
        INSERT INTO space_years AS t (tenant_id, space_id, year, {", ".join(MIRRORED)},
                                      {", ".join(f"{n}_mask" for n in MIRRORED)})
        VALUES (r.tenant_id, r.space_id, CAST(date_part('year', r.month) AS integer),
                {", ".join(f"a_{n}" for n in MIRRORED)},
                {", ".join(f"CASE WHEN v_{n} <> 0 THEN b ELSE 0 END" for n in MIRRORED)})
        ON CONFLICT (tenant_id, space_id, year) DO UPDATE SET
            {", ".join(_set(n) for n in MIRRORED)};
    END $$"""  # noqa: S608 (fixed names only)


def upgrade() -> None:
    op.create_table(
        "space_years",
        sa.Column("tenant_id", sa.String(40), primary_key=True),
        sa.Column("space_id", sa.String(40), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        *(sa.Column(n, ARRAY(sa.Integer), nullable=False) for n in MIRRORED),
        *(sa.Column(f"{n}_mask", sa.Integer, nullable=False) for n in MIRRORED),
    )
    op.execute(_mirror())
    op.execute(f"SELECT reporting_year_of(c, true) FROM space_months AS c WHERE {_counted('c')}")  # noqa: S608
    # A row without participation counts (a month of sessions or goals only) changes no
    # year's row: its month there is zero before and after.
    op.execute(f"""
        CREATE FUNCTION reporting_space_months_mirrored() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            IF TG_OP = 'UPDATE' AND (OLD.tenant_id, OLD.space_id, OLD.month)
                                    = (NEW.tenant_id, NEW.space_id, NEW.month) THEN
                PERFORM reporting_year_of(NEW, true);  -- the same month: overwritten
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' AND {_counted("OLD")} THEN
                PERFORM reporting_year_of(OLD, false);
            END IF;
            IF TG_OP <> 'DELETE' AND {_counted("NEW")} THEN
                PERFORM reporting_year_of(NEW, true);
            END IF;
            RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE TRIGGER space_months_mirrored
        AFTER INSERT OR DELETE OR UPDATE OF tenant_id, space_id, month, {", ".join(MIRRORED)}
        ON space_months FOR EACH ROW EXECUTE FUNCTION reporting_space_months_mirrored()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER space_months_mirrored ON space_months")
    op.execute("DROP FUNCTION reporting_space_months_mirrored()")
    op.execute("DROP FUNCTION reporting_year_of(space_months, boolean)")
    op.drop_table("space_years")
