"""The content service's tables: what its migrations create (`metadata`)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

from services.kernel.runtime.space_copies import space_copies_table
from services.kernel.runtime.tool_copies import tool_copies_table

metadata = MetaData()

TZ = DateTime(timezone=True)

# Who is in each space, and its status, from spaces' events (the kernel's SpaceCopies).
spaces = space_copies_table(metadata)

# The tools of spaces' toolboxes that name this service's targets, from spaces' events (the
# kernel's ToolCopies): a target a locked tool holds is refused to the coachee.
tools = tool_copies_table(metadata)

# The library. `search` is the folded title, author, tags and note (domain/resources.py: fold),
# written with the row; a GIN index serves word searches, another tag filters.
resources = Table(
    "resources",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("scope", String(16), nullable=False),
    Column("tenant_id", String(40)),  # None: the global library
    Column("owner_person_id", String(40)),  # a private resource's coach
    Column("kind", String(16), nullable=False),
    Column("title", String(300), nullable=False),
    Column("url", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("language", String(2), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("tags", ARRAY(String(40)), nullable=False),
    Column("why", Text, nullable=False),
    Column("search", TSVECTOR, nullable=False),
    Column("link_status", String(16), nullable=False),
    Column("link_checked_at", TZ),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
)
Index("ix_resources_search", resources.c.search, postgresql_using="gin")
Index("ix_resources_tags", resources.c.tags, postgresql_using="gin")
Index("ix_resources_scope", resources.c.scope, resources.c.tenant_id, resources.c.owner_person_id)

# A resource recommended into a space, copied as it was (`resource`). `note` is the coach's,
# sealed with the row's data key (the kernel's key ring, wrapped by the tenant key).
recommendations = Table(
    "recommendations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("space_id", String(40), nullable=False),
    Column("resource_id", String(40), nullable=False),
    Column("resource", JSONB, nullable=False),
    Column("note", Text, nullable=False),  # sealed
    Column("recommended_by_person_id", String(40), nullable=False),
    Column("status", String(8), nullable=False),
    Column("useful", Boolean),
    Column("data_key", Text, nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
)
Index("ix_recommendations_space", recommendations.c.space_id, recommendations.c.created_at)

# E-learning modules. A version never changes once stored: `document` is the whole module
# (adapters/module_document.py), `source` says whether an operator imported it or it is a
# shipped module's version, copied when first assigned (so a coachee keeps reading the version
# they started even after ecoach ships the next one).
module_versions = Table(
    "module_versions",
    metadata,
    Column("slug", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("source", String(16), nullable=False),
    Column("document", JSONB, nullable=False),
    Column("imported_by_person_id", String(40)),  # None: a shipped module
    Column("created_at", TZ, nullable=False),
)

# A module assigned to a space (its slug: the coachee takes the latest version when they start).
module_assignments = Table(
    "module_assignments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("space_id", String(40), nullable=False),
    Column("coachee_person_id", String(40), nullable=False),
    Column("slug", String(64), nullable=False),
    Column("assigned_by_person_id", String(40), nullable=False),
    Column("created_at", TZ, nullable=False),
    UniqueConstraint("space_id", "slug", name="uq_module_assignments_space_slug"),
)
Index("ix_module_assignments_space", module_assignments.c.space_id, module_assignments.c.created_at)

# The coachee's progress through an assignment's module, in the version they started.
module_progress = Table(
    "module_progress",
    metadata,
    Column("assignment_id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("coachee_person_id", String(40), nullable=False),
    Column("slug", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("lessons", ARRAY(String(64)), nullable=False),
    Column("position", String(64), nullable=False),
    Column("completed", ARRAY(String(64)), nullable=False),
    Column("seconds", Integer, nullable=False),
    Column("started_at", TZ, nullable=False),
    Column("last_seen_at", TZ, nullable=False),
    Column("completed_at", TZ),
)
Index("ix_module_progress_coachee", module_progress.c.coachee_person_id)

# xAPI (ADR 0016). Each learner's pseudonym, per person and tenant: the only name statements
# carry, deleted at erasure (what the LRS keeps then belongs to nobody).
learners = Table(
    "learners",
    metadata,
    Column("tenant_id", String(40), primary_key=True),
    Column("person_id", String(40), primary_key=True),
    Column("pseudonym", String(40), nullable=False, unique=True),
    Column("created_at", TZ, nullable=False),
)

# The statements built, each once (its id derives from the fact it records), recorded in the
# transaction of the progress it describes; `pushed_at` is set when the LRS has it.
statements = Table(
    "statements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("person_id", String(40), nullable=False),
    Column("assignment_id", String(40), nullable=False),
    Column("statement", JSONB, nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("pushed_at", TZ),
    Index("ix_statements_pending", "created_at", postgresql_where=text("pushed_at IS NULL")),
    Index("ix_statements_person", "person_id"),
)

# The operator's LRS: one row (`scope` 'deployment'). The secret is sealed with the master key
# (context `content.lrs_secret.deployment`) and never shown.
lrs_settings = Table(
    "lrs_settings",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("endpoint", String(500), nullable=False),
    Column("key", String(200), nullable=False),
    Column("secret_sealed", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", TZ, nullable=False),
    Column("updated_by_person_id", String(40), nullable=False),
    Column("last_push_at", TZ),
    Column("last_error", Text),
)
