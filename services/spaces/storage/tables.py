"""The spaces service's tables: what its migrations create (`metadata`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

spaces = Table(
    "spaces",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("coachee_member_id", String(40), nullable=False),
    Column("coachee_person_id", String(40), nullable=False),
    Column("coach_member_id", String(40), nullable=False),
    Column("coach_person_id", String(40), nullable=False),
    Column("co_coach_member_id", String(40)),
    Column("co_coach_person_id", String(40)),
    Column("cadence", String(20), nullable=False),
    Column("sessions_planned", Integer, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),
    # The space's data key, wrapped by its tenant's key; erasing it makes the content unreadable.
    Column("data_key", Text, nullable=False),
    Column("content_sealed", Text, nullable=False),
    Column("created_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # A coach change waiting for the coachee's agreement (PendingCoach), if any.
    Column("pending_seat", String(16)),
    Column("pending_member_id", String(40)),
    Column("pending_person_id", String(40)),
    Column("pending_by", String(40)),
    Column("pending_at", DateTime(timezone=True)),
    # When the seats' holders joined (null: from the start) and the coachee's agreement to show
    # them what came before.
    Column("coach_joined_at", DateTime(timezone=True)),
    Column("co_coach_joined_at", DateTime(timezone=True)),
    Column("earlier_content_shared_at", DateTime(timezone=True)),
    Index("ix_spaces_tenant_page", "tenant_id", "created_at", "id"),
    Index("ix_spaces_coach", "tenant_id", "coach_person_id"),
    Index("ix_spaces_co_coach", "tenant_id", "co_coach_person_id"),
    Index("ix_spaces_coachee", "coachee_person_id"),
)


goals = Table(
    "goals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("space_id", String(40), ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("tenant_id", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Integer, nullable=False),
    Column("due_on", Date),
    # title, description and milestones, sealed by the space's data key
    Column("sealed", Text, nullable=False),
    Column("created_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("achieved_at", DateTime(timezone=True)),  # when it last became achieved
    Index("ix_goals_space", "space_id", "created_at", "id"),
)

goal_changes = Table(
    "goal_changes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("goal_id", String(40), ForeignKey("goals.id", ondelete="CASCADE"), nullable=False),
    Column("changed_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),  # when
    Column("sealed", Text, nullable=False),  # what: field -> [before, after], sealed
    Index("ix_goal_changes_goal", "goal_id", "created_at", "id"),
)


notes = Table(
    "notes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("space_id", String(40), ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("tenant_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("author_id", String(40), nullable=False),
    Column("parent_id", String(40)),
    # body, links and the body rendered to HTML, sealed by the space's data key
    Column("sealed", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    Column("session_id", String(40)),  # the session it is about (an id, never sealed)
    # What `sealed` is bound to (its associated data): 1, the note id only (before migration 0007);
    # 2, the note id, space, kind and author (NOTE_SEAL_VERSION, what every write seals).
    Column("seal_version", SmallInteger, nullable=False, server_default="1"),
    Index("ix_notes_space_page", "space_id", "created_at", "id"),
)


space_sessions = Table(
    "space_sessions",
    metadata,
    Column("session_id", String(40), primary_key=True),
    Column("space_id", String(40), nullable=False),
    Column("tenant_id", String(40), nullable=False),
    # Its latest state from scheduling's events (booked, held, no_show, cancelled) and that
    # event's envelope sequence: an older event arriving late changes nothing (ADR 0018).
    Column("state", String(16), nullable=False, server_default="booked"),
    Column("state_sequence", BigInteger, nullable=False, server_default="0"),
    Index("ix_space_sessions_space", "space_id"),
)


# The space's toolbox (ADR 0018): ids, kinds, states and rules in the clear (the sweep and the
# events read them); the coach's label and a note template's text sealed by the space's key.
tools = Table(
    "tools",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("space_id", String(40), ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("tenant_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("target_id", String(40)),
    Column("position", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("done", Boolean, nullable=False),
    Column("locked_by_coach", Boolean, nullable=False),
    Column("rule_on_date", Date),
    Column("rule_after_sessions_held", Integer),
    Column("rule_after_tool_id", String(40)),
    Column("rule_by_hand", Boolean, nullable=False),
    Column("unlocks_at", DateTime(timezone=True)),  # rule_on_date's 00:00 in the coachee's zone
    Column("sealed", Text, nullable=False),  # label and template
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("unlocked_at", DateTime(timezone=True)),
    Index("ix_tools_space", "space_id", "position"),
    Index("ix_tools_target", "tenant_id", "kind", "target_id"),
    Index(
        "ix_tools_due",
        "unlocks_at",
        postgresql_where=text("state = 'locked' AND NOT locked_by_coach"),
    ),
)

# A neutral mail to the coachee per unlock: written with the unlock, claimed once by a sweep
# (any instance), released if the mail cannot be sent.
tool_mails = Table(
    "tool_mails",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tool_id", String(40), ForeignKey("tools.id", ondelete="CASCADE"), nullable=False),
    Column("space_id", String(40), nullable=False),
    Column("person_id", String(40), nullable=False),  # the coachee
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True)),
    Index("ix_tool_mails_pending", "created_at", postgresql_where=text("claimed_at IS NULL")),
    Index("ix_tool_mails_person", "person_id"),
)


# When each person last opened a space (GetSpace, ListNotes): the coach's dashboard counts the
# shared notes written since. Ids and a time only; goes with the space, or with its person's
# erasure.
space_visits = Table(
    "space_visits",
    metadata,
    Column("space_id", String(40), ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", String(40), primary_key=True),
    Column("visited_at", DateTime(timezone=True), nullable=False),
    Index("ix_space_visits_person", "person_id"),
)


note_revisions = Table(
    "note_revisions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("note_id", String(40), ForeignKey("notes.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),  # when it was replaced
    Column("sealed", Text, nullable=False),  # the previous body
    # 1: bound to the revision id only (before migration 0007); 2: to the revision and its note too.
    Column("seal_version", SmallInteger, nullable=False, server_default="1"),
    Index("ix_note_revisions_note", "note_id", "created_at", "id"),
)

note_reads = Table(
    "note_reads",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("note_id", String(40), ForeignKey("notes.id", ondelete="CASCADE"), nullable=False),
    Column("space_id", String(40), nullable=False),
    Column("tenant_id", String(40), nullable=False),
    Column("reader_id", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),  # when
    Column("refused", Boolean, nullable=False),
    Index("ix_note_reads_space", "space_id", "created_at", "id"),
    Index("ix_note_reads_refused", "refused", "created_at", "id"),
)
