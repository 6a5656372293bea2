"""The assessment service's tables: what its migrations create (`metadata`)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.kernel.runtime.space_copies import space_copies_table
from services.kernel.runtime.tool_copies import tool_copies_table

metadata = MetaData()

TZ = DateTime(timezone=True)

# Who is in each space, and its status, from spaces' events (the kernel's SpaceCopies).
spaces = space_copies_table(metadata)

# The tools of spaces' toolboxes that name this service's targets, from spaces' events (the
# kernel's ToolCopies): a target a locked tool holds is refused to the coachee.
tools = tool_copies_table(metadata)

# Coaches' own instruments: one row per version (the catalogue's are files, not rows). A
# version, once written, never changes; `shared` is the instrument's, on its every version.
instruments = Table(
    "instruments",
    metadata,
    Column("instrument_id", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("tenant_id", String(40), nullable=False),
    Column("owner_person_id", String(40), nullable=False),
    Column("slug", String(64), nullable=False),
    Column("shared", Boolean, nullable=False),
    Column("document", JSONB, nullable=False),
    Column("created_at", TZ, nullable=False),
    UniqueConstraint("instrument_id", "version", name="uq_instruments_version"),
)
Index("ix_instruments_tenant", instruments.c.tenant_id, instruments.c.owner_person_id)

# An instrument version assigned in a space. `instrument` is the version's document as it was
# assigned (a catalogue file may move on; results never change). `data_key` seals its attempts'
# answers (the kernel's key ring, wrapped by the tenant key).
assignments = Table(
    "assignments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("space_id", String(40), nullable=False),
    Column("coachee_person_id", String(40), nullable=False),
    Column("instrument_id", String(64), nullable=False),
    Column("instrument", JSONB, nullable=False),
    Column("attempts_allowed", Integer, nullable=False),
    Column("assigned_by_person_id", String(40), nullable=False),
    Column("data_key", Text, nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
)
Index("ix_assignments_space", assignments.c.space_id, assignments.c.created_at, assignments.c.id)
Index("ix_assignments_coachee", assignments.c.coachee_person_id)
Index("ix_assignments_tenant", assignments.c.tenant_id)

# One attempt at an assignment: its answers sealed with the assignment's data key; its scores
# in clear once submitted (numbers and band indexes: no answer's text, see ADR 0014).
attempts = Table(
    "attempts",
    metadata,
    Column(
        "assignment_id",
        String(40),
        ForeignKey("assignments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("number", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("answers_sealed", Text, nullable=False),
    Column("scores", JSONB),
    Column("started_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    Column("submitted_at", TZ),
)

# 360 feedback raters: one invitation each on an assignment (ADR 0014). `token_hash` finds the
# row from the mailed link's token (derived with the assignment's data key, never stored);
# `email_sealed` is the rater's address sealed with that key, deleted (NULL) once the rater
# answered or the link expired; `answers_sealed` their answers, sealed the same way.
raters = Table(
    "raters",
    metadata,
    Column("id", String(40), primary_key=True),
    Column(
        "assignment_id",
        String(40),
        ForeignKey("assignments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("tenant_id", String(40), nullable=False),
    Column("rater_group", String(16), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("email_sealed", Text),
    Column("answers_sealed", Text),
    Column("invited_at", TZ, nullable=False),
    Column("expires_at", TZ, nullable=False),
    Column("answered_at", TZ),
)
Index("ix_raters_assignment", raters.c.assignment_id, raters.c.invited_at)
Index("ix_raters_expiry", raters.c.status, raters.c.expires_at)
