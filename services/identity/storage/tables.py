"""Identity's tables (`metadata`): what its migrations create
(tests/integration/test_migrations_match_tables.py compares them)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("slug", String(40), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False, server_default="active"),
    Column("seats", Integer),
    Column("default_locale", String(5), nullable=False, server_default="en"),
    Column("default_time_zone", String(64), nullable=False, server_default="UTC"),
    Column("mfa_required_roles", ARRAY(String(20)), nullable=False, server_default="{}"),
    Column("suspended_at", DateTime(timezone=True)),
    Index("ix_tenants_page", "created_at", "id"),
)

persons = Table(
    "persons",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("email", Text, nullable=False),
    # casefolded email: the platform-wide uniqueness key
    Column("email_key", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("locale", String(8), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("platform_admin", Boolean, nullable=False, server_default="false"),
    Column("password_hash", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True)),
    # where calendar mail goes instead of `email`, once confirmed; NULL: to `email`
    Column("calendar_email", Text),
    # the display name as a member search compares it (domain.model.search_key)
    Column("name_key", Text, nullable=False, server_default=""),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("person_id", String(40), ForeignKey("persons.id"), nullable=False),
    Column("invited_email", Text, nullable=False),
    Column("roles", ARRAY(String(20)), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True)),
    # Cohort attributes (domain.model.COHORT_ATTRIBUTES): NULL when unset.
    Column("department", String(80)),
    Column("site", String(80)),
    Column("programme", String(80)),
    UniqueConstraint("tenant_id", "person_id", name="uq_membership_tenant_person"),
    Index("ix_memberships_tenant_page", "tenant_id", "created_at", "id"),
    Index("ix_memberships_person", "person_id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("family_id", String(40), nullable=False, index=True),
    Column("person_id", String(40), ForeignKey("persons.id"), nullable=False, index=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id")),
    Column("secret_hash", String(64), nullable=False),
    Column("amr", ARRAY(String(10)), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

access_revocations = Table(
    "access_revocations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("person_id", String(40)),
    Column("tenant_id", String(40)),
    Column("not_before", DateTime(timezone=True), nullable=False, index=True),
    Column("reason", String(40), nullable=False),
    Column("session_id", String(40)),  # only this session's tokens (a sign-out)
    Column("except_session_id", String(40)),  # all but this session's (a password change)
)

sign_in_throttle = Table(
    "sign_in_throttle",
    metadata,
    Column("key", String(48), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False, index=True),
    Column("blocked_until", DateTime(timezone=True)),
)

sign_in_history = Table(
    "sign_in_history",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("person_id", String(40), ForeignKey("persons.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(20), nullable=False),  # succeeded | failed
    Column("tenant_id", String(40)),
    Column("source", String(64), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("action", String(40), nullable=False),
    Column("tenant_id", String(40)),
    Column("actor_id", String(40)),
    Column("subject", String(80)),
    Column("detail", JSONB, nullable=False, server_default="{}"),
    Index("ix_audit_log_tenant_created", "tenant_id", "created_at"),
    Index("ix_audit_log_created", "created_at"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(32), primary_key=True),
    Column("public_jwk", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The Ed25519 private key wrapped by the master key (context: seal_context(kid)).
    Column("sealed_private_key", Text, nullable=False),
    # From then on the key no longer verifies; NULL while it signs (the newest such key signs).
    Column("retire_at", DateTime(timezone=True)),
)

person_links = Table(
    "person_links",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("purpose", String(40), nullable=False),
    Column("person_id", String(40), ForeignKey("persons.id"), nullable=False, index=True),
    Column("nonce", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("detail", Text),
    Column("used_at", DateTime(timezone=True)),
    Column("superseded_at", DateTime(timezone=True)),
    Column("session_id", String(40)),  # the session that asked (kept by an email change)
)

mfa_factors = Table(
    "mfa_factors",
    metadata,
    Column("person_id", String(40), ForeignKey("persons.id"), primary_key=True),
    # The TOTP secret sealed by the master key (context: totp_context(person_id)).
    Column("sealed_secret", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),  # NULL while enrolment is under way
    Column("last_step", BigInteger),  # the last time step accepted: no code replays
    # Set by an operator's reset: the secret is void and the next sign-in enrols anew.
    Column("reset_at", DateTime(timezone=True)),
)

mfa_recovery_codes = Table(
    "mfa_recovery_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("person_id", String(40), ForeignKey("persons.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Index("ix_mfa_recovery_codes_person", "person_id"),
)

sign_in_challenges = Table(
    "sign_in_challenges",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("person_id", String(40), ForeignKey("persons.id"), nullable=False),
    Column("tenant_id", String(40)),
    Column("purpose", String(10), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("failures", Integer, nullable=False, server_default="0"),
    # An enrolment a signed-in person started: it belongs to that session (no new one).
    Column("session_id", String(40)),
    Index("ix_sign_in_challenges_person", "person_id"),
)

# Who coaches whom, per space, from the spaces service's events (the newest state only).
coach_links = Table(
    "coach_links",
    metadata,
    Column("space_id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("coachee_person_id", String(40), nullable=False),
    Column("coach_person_id", String(40), nullable=False),
    Column("co_coach_person_id", String(40)),
    Column("sequence", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # the space's; only running ones link
    Index("ix_coach_links_coach", "tenant_id", "coach_person_id"),
    Index("ix_coach_links_co_coach", "tenant_id", "co_coach_person_id"),
)


# Kept for good (ids and times only): a restored backup replays the erasures made since.
erasures = Table(
    "erasures",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("person_id", String(40), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),  # requested
    Column("requested_by", String(16), nullable=False),  # person | operator
    Column("receipt_hash", String(64), unique=True),
    Column("completed_at", DateTime(timezone=True)),
    Index("ix_erasures_requested", "created_at", "id"),
)

erasure_steps = Table(
    "erasure_steps",
    metadata,
    Column("erasure_id", String(40), ForeignKey("erasures.id"), primary_key=True),
    Column("service", String(64), primary_key=True),
    Column("completed_at", DateTime(timezone=True)),
)

service_secrets = Table(
    "service_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("wrapped", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
