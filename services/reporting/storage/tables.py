"""The reporting service's tables: one table of facts per kind of object, each row at the state
of the newest event applied (`sequence`, the envelope's), keyed by the object's id and read per
tenant. What `migrations/` creates (`metadata`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()

TZ = DateTime(timezone=True)
LABEL = String(100)


def _facts(name: str, key: str, *columns: Column) -> Table:  # type: ignore[type-arg]
    table = Table(
        name,
        metadata,
        Column(key, String(40), primary_key=True),
        Column("tenant_id", String(40), nullable=False),
        *columns,
        Column("sequence", BigInteger, nullable=False),
    )
    Index(f"ix_{name}_tenant", table.c.tenant_id)
    return table


# Memberships (identity.membership_changed): roles, status and the cohort attributes.
members = _facts(
    "members",
    "member_id",
    Column("person_id", String(40), nullable=False),
    Column("roles", ARRAY(String(16)), nullable=False),
    Column("status", String(16), nullable=False),
    Column("department", LABEL),
    Column("site", LABEL),
    Column("programme", LABEL),
)
Index("ix_members_person", members.c.tenant_id, members.c.person_id)

# Spaces (spaces.space_*): status, coachee, sessions planned and the engagement's dates.
spaces = _facts(
    "spaces",
    "space_id",
    Column("coachee_person_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("sessions_planned", Integer, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),
)
Index("ix_spaces_coachee", spaces.c.coachee_person_id)

# Sessions (scheduling.session_*): status, start, a late cancellation.
sessions = _facts(
    "sessions",
    "session_id",
    Column("space_id", String(40), nullable=False),
    Column("coachee_person_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("starts_at", TZ, nullable=False),
    Column("late", Boolean, nullable=False),
    Column("uses_session", Boolean, nullable=False),
)
Index("ix_sessions_coachee", sessions.c.coachee_person_id)

# Goals achieved (spaces.goal_achieved).
goals = _facts(
    "goals",
    "goal_id",
    Column("space_id", String(40), nullable=False),
    Column("achieved_at", TZ),  # None: not achieved (a snapshot of a goal open again)
)

# Toolbox tools (spaces.tool_*): open (unlocked) or not, done or not.
tools = _facts(
    "tools",
    "tool_id",
    Column("space_id", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("done", Boolean, nullable=False),
)

# Assessment assignments (assessment.assignment_created, attempt_submitted).
assessments = _facts(
    "assessments",
    "assignment_id",
    Column("space_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("assigned_at", TZ, nullable=False),
    Column("submitted_at", TZ),
)

# Module progress (content.module_started, module_completed).
modules = _facts(
    "modules",
    "assignment_id",
    Column("space_id", String(40), nullable=False),
    Column("coachee_person_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", TZ),
    Column("completed_at", TZ),
)
Index("ix_modules_coachee", modules.c.coachee_person_id)


# Digests published (handlers/webhooks.py): one per tenant and time slot, whichever instance's
# timer comes first (the primary key), so that a digest is sent once however many run.
digests = Table(
    "digests",
    metadata,
    Column("tenant_id", String(40), primary_key=True),
    Column("slot", BigInteger, primary_key=True),
    Column("digest_id", String(40), nullable=False),
    Column("created_at", TZ, nullable=False),
)


# A report's counts kept per space (ADR 0025, migration 0004): kept right by a trigger on each
# fact table, which takes a fact's former state out and adds its new one in the same statement.
def _counts(*names: str) -> list[Column]:  # type: ignore[type-arg]
    return [Column(n, Integer, nullable=False, server_default="0") for n in names]


# Per space and UTC month (the first day): sessions by outcome, sessions used, goals achieved,
# assessments assigned and submitted, modules started and completed.
space_months = Table(
    "space_months",
    metadata,
    Column("tenant_id", String(40), primary_key=True),
    Column("space_id", String(40), primary_key=True),
    Column("month", Date, primary_key=True),
    *_counts(
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
    ),
)

# Per space: its toolbox tools (not removed), open, done.
space_tools = Table(
    "space_tools",
    metadata,
    Column("tenant_id", String(40), primary_key=True),
    Column("space_id", String(40), primary_key=True),
    *_counts("tools_total", "tools_open", "tools_done"),
)

# Per space and UTC year (migration 0005, mirrored from space_months by a trigger): the
# participation counts, each an array of the year's 12 months and a mask of its non-zero months
# (bit 0: January).
PARTICIPATION = ("assigned", "submitted", "modules_started", "modules_completed")
space_years = Table(
    "space_years",
    metadata,
    Column("tenant_id", String(40), primary_key=True),
    Column("space_id", String(40), primary_key=True),
    Column("year", Integer, primary_key=True),
    *(Column(n, ARRAY(Integer), nullable=False) for n in PARTICIPATION),
    *(Column(f"{n}_mask", Integer, nullable=False) for n in PARTICIPATION),
)
