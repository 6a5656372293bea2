"""Identity's tables and repositories (SQLAlchemy 2 Core). Domain objects in, domain objects out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.kernel.crypto import MasterKey
from services.kernel.ids import new_id
from services.kernel.runtime.pagination import keyset_page

from .domain.credentials import PersonLink
from .domain.mfa import Challenge
from .domain.model import MemberSearch, Membership, Person, Tenant
from .domain.sessions import RefreshToken
from .domain.throttle import Counter

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


# A draft gives its coach no view of the coachee. Once opened, the space links its coach for
# good (a completed or archived engagement still names its coachee on the coach's roster, as
# the coach still reads that space).
LINKING_STATUSES = ("active", "paused", "completed", "archived")


class CoachLinks:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def apply(self, row: dict[str, Any]) -> None:
        """The space's newest set-up: older events (retries reorder them) are ignored."""
        upsert = pg_insert(coach_links).values(**row)
        self.session.execute(
            upsert.on_conflict_do_update(
                index_elements=[coach_links.c.space_id],
                set_={k: upsert.excluded[k] for k in row if k != "space_id"},
                where=coach_links.c.sequence < upsert.excluded.sequence,
            )
        )

    def coaches(self, tenant_id: str, coach_id: str, coachee_id: str) -> bool:
        found = self.session.execute(
            select(coach_links.c.space_id)
            .where(
                coach_links.c.tenant_id == tenant_id,
                coach_links.c.coachee_person_id == coachee_id,
                coach_links.c.status.in_(LINKING_STATUSES),
                (coach_links.c.coach_person_id == coach_id)
                | (coach_links.c.co_coach_person_id == coach_id),
            )
            .limit(1)
        ).first()
        return found is not None

    def of_space(self, tenant_id: str, space_id: str) -> Any | None:
        """The space's newest coachee, coach and co-coach, once opened (a draft: None)."""
        return self.session.execute(
            select(coach_links).where(
                coach_links.c.tenant_id == tenant_id,
                coach_links.c.space_id == space_id,
                coach_links.c.status.in_(LINKING_STATUSES),
            )
        ).first()

    def delete_person(self, person_id: str) -> None:
        self.session.execute(
            coach_links.delete().where(coach_links.c.coachee_person_id == person_id)
        )

    def coachees_of(self, tenant_id: str, coach_id: str) -> list[tuple[Membership, Person]]:
        """The memberships and persons of everyone the coach coaches here, in one query."""
        coached = (
            select(coach_links.c.coachee_person_id)
            .where(
                coach_links.c.tenant_id == tenant_id,
                coach_links.c.status.in_(LINKING_STATUSES),
                (coach_links.c.coach_person_id == coach_id)
                | (coach_links.c.co_coach_person_id == coach_id),
            )
            .scalar_subquery()
        )
        rows = self.session.execute(
            select(memberships, *[c.label(f"p__{c.name}") for c in persons.c])
            .join(persons, persons.c.id == memberships.c.person_id)
            .where(memberships.c.tenant_id == tenant_id, memberships.c.person_id.in_(coached))
            .order_by(memberships.c.created_at, memberships.c.id)
        )
        return [(_membership(r), _person(r, "p__")) for r in rows]


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


# Statements on the hottest paths are built once: SQLAlchemy then reuses their cache key instead
# of rebuilding and hashing the whole statement on every call (measured: ~0.2 ms a query).
# GetMember in one round trip: the member, their person, and the caller's own membership.
_callers = memberships.alias("callers")
_MEMBER_WITH_PERSON_AND_CALLER = (
    select(
        memberships,
        *[c.label(f"p__{c.name}") for c in persons.c],
        _callers.c.status.label("c__status"),
        _callers.c.roles.label("c__roles"),
    )
    .join(persons, persons.c.id == memberships.c.person_id)
    .outerjoin(
        _callers,
        and_(
            _callers.c.tenant_id == memberships.c.tenant_id,
            _callers.c.person_id == bindparam("caller_person_id"),
        ),
    )
    .where(
        memberships.c.id == bindparam("member_id"),
        memberships.c.tenant_id == bindparam("tenant_id"),
    )
)
_MEMBERSHIP_OF_PERSON_IN = select(memberships).where(
    memberships.c.tenant_id == bindparam("tenant_id"),
    memberships.c.person_id == bindparam("person_id"),
)


_INSERT_PERSON = insert(persons)
_INSERT_MEMBERSHIP = insert(memberships)
_INSERT_LINK = insert(person_links)
_LOCK_EMAILS = text(
    "SELECT count(pg_advisory_xact_lock(hashtext(k))) "
    "FROM (SELECT k FROM unnest(CAST(:keys AS text[])) AS u(k) ORDER BY k) AS sorted_keys"
)


def _person_row(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "email": person.email,
        "email_key": person.email_key,
        "display_name": person.display_name,
        "name_key": person.name_key,
        "locale": person.locale,
        "time_zone": person.time_zone,
        "platform_admin": person.platform_admin,
        "password_hash": person.password_hash,
        "created_at": person.created_at,
        "updated_at": person.updated_at,
        "erased_at": person.erased_at,
        "calendar_email": person.calendar_email,
    }


def _membership_row(m: Membership) -> dict[str, Any]:
    return {
        "id": m.id,
        "tenant_id": m.tenant_id,
        "person_id": m.person_id,
        "invited_email": m.invited_email,
        "roles": list(m.roles),
        "status": m.status,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "accepted_at": m.accepted_at,
    }


def _tenant(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        slug=row.slug,
        name=row.name,
        created_at=row.created_at,
        status=row.status,
        seats=row.seats,
        default_locale=row.default_locale,
        default_time_zone=row.default_time_zone,
        mfa_required_roles=tuple(row.mfa_required_roles or ()),
        suspended_at=row.suspended_at,
    )


def _person(row: Any, prefix: str = "") -> Person:
    def col(name: str) -> Any:
        return getattr(row, prefix + name)

    return Person(
        id=col("id"),
        email=col("email"),
        display_name=col("display_name"),
        locale=col("locale"),
        time_zone=col("time_zone"),
        created_at=col("created_at"),
        updated_at=col("updated_at"),
        platform_admin=col("platform_admin"),
        password_hash=col("password_hash"),
        erased_at=col("erased_at"),
        calendar_email=col("calendar_email"),
    )


def _membership(row: Any) -> Membership:
    return Membership(
        id=row.id,
        tenant_id=row.tenant_id,
        person_id=row.person_id,
        invited_email=row.invited_email,
        roles=tuple(row.roles),
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        accepted_at=row.accepted_at,
    )


class Tenants:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, tenant: Tenant) -> None:
        values = vars(tenant).copy()
        values["mfa_required_roles"] = list(tenant.mfa_required_roles)
        self.session.execute(insert(tenants).values(**values))

    def save(self, tenant: Tenant) -> None:
        self.session.execute(
            update(tenants)
            .where(tenants.c.id == tenant.id)
            .values(
                status=tenant.status,
                seats=tenant.seats,
                default_locale=tenant.default_locale,
                default_time_zone=tenant.default_time_zone,
                mfa_required_roles=list(tenant.mfa_required_roles),
                suspended_at=tenant.suspended_at,
            )
        )

    def get_for_update(self, tenant_id: str) -> Tenant | None:
        """Locks the tenant row: seat counting is serialised per tenant."""
        row = self.session.execute(
            select(tenants).where(tenants.c.id == tenant_id).with_for_update()
        ).first()
        return _tenant(row) if row else None

    def get(self, tenant_id: str) -> Tenant | None:
        row = self.session.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        return _tenant(row) if row else None

    def by_slug(self, slug: str) -> Tenant | None:
        row = self.session.execute(select(tenants).where(tenants.c.slug == slug)).first()
        return _tenant(row) if row else None

    def page(self, size: int, token: str) -> tuple[list[Tenant], str]:
        return keyset_page(self.session, tenants, select(tenants), size, token, _tenant)


class Persons:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, person: Person) -> None:
        self.add_many([person])

    def add_many(self, people: Sequence[Person]) -> None:
        """One statement for any number (psycopg2 batches the rows)."""
        if people:
            self.session.execute(_INSERT_PERSON, [_person_row(p) for p in people])

    def get(self, person_id: str) -> Person | None:
        row = self.session.execute(select(persons).where(persons.c.id == person_id)).first()
        return _person(row) if row else None

    def by_email_key(self, email_key: str) -> Person | None:
        row = self.session.execute(select(persons).where(persons.c.email_key == email_key)).first()
        return _person(row) if row else None

    def by_email_keys(self, email_keys: Sequence[str]) -> dict[str, Person]:
        if not email_keys:
            return {}
        rows = self.session.execute(
            select(persons).where(persons.c.email_key.in_(list(email_keys)))
        )
        return {r.email_key: _person(r) for r in rows}

    def many(self, ids: Sequence[str]) -> dict[str, Person]:
        if not ids:
            return {}
        rows = self.session.execute(select(persons).where(persons.c.id.in_(list(ids))))
        return {r.id: _person(r) for r in rows}

    def save_profile(self, person: Person) -> None:
        self.session.execute(
            update(persons)
            .where(persons.c.id == person.id)
            .values(
                display_name=person.display_name,
                name_key=person.name_key,
                locale=person.locale,
                time_zone=person.time_zone,
                updated_at=person.updated_at,
            )
        )

    def change_email(self, person_id: str, email: str, email_key: str, now: datetime) -> None:
        self.session.execute(
            update(persons)
            .where(persons.c.id == person_id)
            .values(email=email, email_key=email_key, updated_at=now)
        )

    def set_calendar_email(self, person_id: str, email: str | None, now: datetime) -> None:
        self.session.execute(
            update(persons)
            .where(persons.c.id == person_id)
            .values(calendar_email=email, updated_at=now)
        )

    def save_erased(self, person: Person) -> None:
        row = _person_row(person)
        kept = ("email", "email_key", "display_name", "name_key", "password_hash", "calendar_email")
        self.session.execute(
            update(persons)
            .where(persons.c.id == person.id)
            .values({k: row[k] for k in kept})
            .values(updated_at=person.updated_at, erased_at=person.erased_at)
        )

    def get_for_update(self, person_id: str) -> Person | None:
        row = self.session.execute(
            select(persons).where(persons.c.id == person_id).with_for_update()
        ).first()
        return _person(row) if row else None

    def set_password(self, person_id: str, password_hash: str, now: datetime) -> None:
        self.session.execute(
            update(persons)
            .where(persons.c.id == person_id)
            .values(password_hash=password_hash, updated_at=now)
        )

    def lock_email(self, email_key: str) -> None:
        """Serialise concurrent creations of one email (the unique index would also refuse)."""
        self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": email_key})

    def lock_emails(self, email_keys: Sequence[str]) -> None:
        """`lock_email` for many, in one statement; always in sorted order, so that two imports
        sharing addresses cannot deadlock."""
        if email_keys:
            self.session.execute(_LOCK_EMAILS, {"keys": sorted(set(email_keys))})


class Memberships:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, m: Membership) -> None:
        self.add_many([m])

    def add_many(self, ms: Sequence[Membership]) -> None:
        if ms:
            self.session.execute(_INSERT_MEMBERSHIP, [_membership_row(m) for m in ms])

    def save(self, m: Membership) -> None:
        self.session.execute(
            update(memberships)
            .where(memberships.c.id == m.id)
            .values(
                roles=list(m.roles),
                status=m.status,
                updated_at=m.updated_at,
                accepted_at=m.accepted_at,
            )
        )

    def save_erased(self, m: Membership) -> None:
        self.session.execute(
            update(memberships)
            .where(memberships.c.id == m.id)
            .values(status=m.status, invited_email=m.invited_email, updated_at=m.updated_at)
        )

    def get(self, tenant_id: str, member_id: str, *, for_update: bool = False) -> Membership | None:
        query = select(memberships).where(
            memberships.c.id == member_id, memberships.c.tenant_id == tenant_id
        )
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return _membership(row) if row else None

    def many_in(self, tenant_id: str, member_ids: Sequence[str]) -> list[Membership]:
        if not member_ids:
            return []
        rows = self.session.execute(
            select(memberships).where(
                memberships.c.tenant_id == tenant_id, memberships.c.id.in_(list(member_ids))
            )
        )
        return [_membership(r) for r in rows]

    def by_id(self, member_id: str, *, for_update: bool = False) -> Membership | None:
        """Trusted lookups only (a link names its membership): no tenant check here."""
        query = select(memberships).where(memberships.c.id == member_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return _membership(row) if row else None

    def get_for_caller(
        self, tenant_id: str, member_id: str, caller_person_id: str
    ) -> tuple[Membership, Person, str | None, tuple[str, ...]] | None:
        """A membership, its person, and the status and roles of the caller's own membership in
        the same tenant (None and () without one), in one query."""
        row = self.session.execute(
            _MEMBER_WITH_PERSON_AND_CALLER,
            {"tenant_id": tenant_id, "member_id": member_id, "caller_person_id": caller_person_id},
        ).first()
        if row is None:
            return None
        roles = tuple(row.c__roles) if row.c__roles is not None else ()
        return _membership(row), _person(row, prefix="p__"), row.c__status, roles

    def of_person_in(self, tenant_id: str, person_id: str) -> Membership | None:
        row = self.session.execute(
            _MEMBERSHIP_OF_PERSON_IN, {"tenant_id": tenant_id, "person_id": person_id}
        ).first()
        return _membership(row) if row else None

    def of_persons_in(self, tenant_id: str, person_ids: Sequence[str]) -> dict[str, Membership]:
        """Each person's membership in `tenant_id`, by person id (those without one are absent)."""
        if not person_ids:
            return {}
        rows = self.session.execute(
            select(memberships).where(
                memberships.c.tenant_id == tenant_id,
                memberships.c.person_id.in_(list(person_ids)),
            )
        )
        return {r.person_id: _membership(r) for r in rows}

    def of_person(self, person_id: str) -> list[tuple[Membership, Tenant]]:
        rows = self.session.execute(
            select(
                memberships,
                tenants.c.slug,
                tenants.c.name.label("tenant_name"),
                tenants.c.created_at.label("tenant_created_at"),
            )
            .join(tenants, tenants.c.id == memberships.c.tenant_id)
            .where(memberships.c.person_id == person_id)
            .order_by(memberships.c.created_at)
        )
        return [
            (_membership(r), Tenant(r.tenant_id, r.slug, r.tenant_name, r.tenant_created_at))
            for r in rows
        ]

    def seats_used(self, tenant_id: str) -> int:
        """Memberships that hold a seat: active or pending."""
        return int(
            self.session.execute(
                select(func.count())
                .select_from(memberships)
                .where(
                    memberships.c.tenant_id == tenant_id,
                    memberships.c.status.in_(["active", "pending"]),
                )
            ).scalar_one()
        )

    def search(
        self, tenant_id: str, found: MemberSearch, size: int, token: str
    ) -> tuple[list[tuple[Membership, Person]], str]:
        """One page of the tenant's members that match `found`, with their persons, oldest
        first by (created_at, id), so that pages stay stable while members are added.

        The text matches only what the tenant sees of a member (handlers.member_view): while a
        membership was never accepted, the email the tenant typed; afterwards the person's
        email and name. So a search never reveals whose account an invitation went to."""
        query = (
            select(memberships, *[c.label(f"p__{c.name}") for c in persons.c])
            .join(persons, persons.c.id == memberships.c.person_id)
            .where(memberships.c.tenant_id == tenant_id)
        )
        if found.role:
            query = query.where(memberships.c.roles.any(found.role))
        if found.status:
            query = query.where(memberships.c.status == found.status)
        if found.email_prefix:
            invited = or_(memberships.c.status == "pending", memberships.c.accepted_at.is_(None))
            typed = func.lower(memberships.c.invited_email).startswith(
                found.email_prefix, autoescape=True
            )
            seen = [persons.c.email_key.startswith(found.email_prefix, autoescape=True)]
            if found.name_prefix:  # a word of the name starts with it
                seen.append(persons.c.name_key.startswith(found.name_prefix, autoescape=True))
                seen.append(persons.c.name_key.contains(" " + found.name_prefix, autoescape=True))
            query = query.where(or_(and_(invited, typed), and_(~invited, or_(*seen))))
        return keyset_page(
            self.session,
            memberships,
            query,
            size,
            token,
            lambda r: (_membership(r), _person(r, prefix="p__")),
        )


def _jsonable(row: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}


class RefreshTokens:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, token: RefreshToken) -> None:
        row = {k: v for k, v in vars(token).items() if k != "secret"}
        self.session.execute(insert(refresh_tokens).values(**row))

    def get_for_update(self, token_id: str) -> RefreshToken | None:
        row = self.session.execute(
            select(refresh_tokens).where(refresh_tokens.c.id == token_id).with_for_update()
        ).first()
        return RefreshToken(**row._mapping) if row else None

    def mark_used(self, token: RefreshToken, now: datetime) -> None:
        token.used_at = now
        self.session.execute(
            update(refresh_tokens).where(refresh_tokens.c.id == token.id).values(used_at=now)
        )

    def sessions_of(self, person_id: str) -> list[dict[str, Any]]:
        """Each session (family) of the person: when it started, its tenant now, its state."""
        rows = self.session.execute(
            select(
                refresh_tokens.c.family_id,
                func.min(refresh_tokens.c.created_at).label("started_at"),
                func.max(refresh_tokens.c.created_at).label("last_used_at"),
                func.max(refresh_tokens.c.revoked_at).label("ended_at"),
            )
            .where(refresh_tokens.c.person_id == person_id)
            .group_by(refresh_tokens.c.family_id)
            .order_by(func.min(refresh_tokens.c.created_at))
        ).all()
        return [_jsonable(r._mapping) for r in rows]

    def delete_person(self, person_id: str) -> None:
        self.session.execute(refresh_tokens.delete().where(refresh_tokens.c.person_id == person_id))

    def revoke_family(self, family_id: str, now: datetime) -> int:
        return self._revoke(refresh_tokens.c.family_id == family_id, now)

    def revoke_person(self, person_id: str, now: datetime, keep_family: str | None = None) -> int:
        """Every session of the person ("sign out everywhere", a password reset), but
        `keep_family` (a password change keeps the session it was made in)."""
        where = refresh_tokens.c.person_id == person_id
        if keep_family is not None:
            where = and_(where, refresh_tokens.c.family_id != keep_family)
        return self._revoke(where, now)

    def revoke_membership(self, person_id: str, tenant_id: str, now: datetime) -> int:
        return self._revoke(
            and_(refresh_tokens.c.person_id == person_id, refresh_tokens.c.tenant_id == tenant_id),
            now,
        )

    def _revoke(self, where: Any, now: datetime) -> int:
        result = self.session.execute(
            update(refresh_tokens)
            .where(where, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)

    def prune_person(self, person_id: str, before: datetime) -> None:
        """Forgets the person's tokens that expired or were revoked before `before`. Used tokens
        stay until they expire: presenting one again must still revoke its family."""
        self.session.execute(
            refresh_tokens.delete().where(
                refresh_tokens.c.person_id == person_id,
                (refresh_tokens.c.expires_at < before) | (refresh_tokens.c.revoked_at < before),
            )
        )


class AccessRevocations:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, row: dict[str, Any]) -> None:
        self.session.execute(insert(access_revocations).values(**row))

    def since(self, since: datetime) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(access_revocations)
            .where(access_revocations.c.not_before >= since)
            .order_by(access_revocations.c.not_before)
        ).all()
        return [dict(r._mapping) for r in rows]

    def prune(self, before: datetime) -> None:
        self.session.execute(
            access_revocations.delete().where(access_revocations.c.not_before < before)
        )


class Throttle:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def get(self, keys: Sequence[str]) -> list[Counter]:
        rows = self.session.execute(
            select(sign_in_throttle).where(sign_in_throttle.c.key.in_(list(keys)))
        ).all()
        return [Counter(**r._mapping) for r in rows]

    def locked(self, keys: Sequence[str], now: datetime) -> dict[str, Counter]:
        """The counters, created if missing, locked for update (in key order: no deadlock)."""
        ordered = sorted(set(keys))
        self.session.execute(
            pg_insert(sign_in_throttle)
            .values([{"key": k, "failures": 0, "window_start": now} for k in ordered])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        rows = self.session.execute(
            select(sign_in_throttle)
            .where(sign_in_throttle.c.key.in_(ordered))
            .order_by(sign_in_throttle.c.key)
            .with_for_update()
        ).all()
        return {r.key: Counter(**r._mapping) for r in rows}

    def save(self, counters: Sequence[Counter]) -> None:
        for c in counters:
            self.session.execute(
                update(sign_in_throttle)
                .where(sign_in_throttle.c.key == c.key)
                .values(
                    failures=c.failures,
                    window_start=c.window_start,
                    blocked_until=c.blocked_until,
                )
            )

    def clear(self, key: str) -> None:
        self.session.execute(sign_in_throttle.delete().where(sign_in_throttle.c.key == key))

    def prune(self, before: datetime) -> None:
        """Forgets counters whose window and wait are both over."""
        self.session.execute(
            sign_in_throttle.delete().where(
                sign_in_throttle.c.window_start < before,
                (sign_in_throttle.c.blocked_until.is_(None))
                | (sign_in_throttle.c.blocked_until < before),
            )
        )


class SignInHistory:
    KEPT = timedelta(days=90)

    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(
        self, person_id: str, outcome: str, tenant_id: str | None, source: str, now: datetime
    ) -> None:
        self.session.execute(
            insert(sign_in_history).values(
                id=new_id("sgn"),
                person_id=person_id,
                created_at=now,
                outcome=outcome,
                tenant_id=tenant_id,
                source=source[:64],
            )
        )
        self.session.execute(
            sign_in_history.delete().where(
                sign_in_history.c.person_id == person_id,
                sign_in_history.c.created_at < now - self.KEPT,
            )
        )

    def delete_person(self, person_id: str) -> None:
        self.session.execute(
            sign_in_history.delete().where(sign_in_history.c.person_id == person_id)
        )

    def all_of(self, person_id: str) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(
                sign_in_history.c.created_at,
                sign_in_history.c.outcome,
                sign_in_history.c.tenant_id,
                sign_in_history.c.source,
            )
            .where(sign_in_history.c.person_id == person_id)
            .order_by(sign_in_history.c.created_at)
        ).all()
        return [_jsonable(r._mapping) for r in rows]

    def page(self, person_id: str, size: int, token: str) -> tuple[list[dict[str, Any]], str]:
        query = select(sign_in_history).where(sign_in_history.c.person_id == person_id)
        return keyset_page(
            self.session,
            sign_in_history,
            query,
            size,
            token,
            lambda r: dict(r._mapping),
            newest_first=True,
        )


class AuditLog:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(audit_log), [{"id": new_id("aud"), **r} for r in rows])

    def forget_sources(self, person_id: str) -> None:
        """Erasure: the addresses the person's attempts came from go; the ids and times stay
        (security records that name nobody once the account is anonymised)."""
        self.session.execute(
            update(audit_log)
            .where(audit_log.c.subject == person_id, audit_log.c.detail.has_key("source"))
            .values(detail=audit_log.c.detail - "source")
        )

    def about(self, person_id: str, member_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Rows the person did, or that are about them or their memberships."""
        subjects = [person_id, *member_ids]
        rows = self.session.execute(
            select(
                audit_log.c.created_at,
                audit_log.c.action,
                audit_log.c.tenant_id,
                audit_log.c.actor_id,
                audit_log.c.subject,
                audit_log.c.detail,
            )
            .where((audit_log.c.actor_id == person_id) | audit_log.c.subject.in_(subjects))
            .order_by(audit_log.c.created_at)
        ).all()
        return [_jsonable(r._mapping) for r in rows]

    def page(
        self, size: int, token: str, *, tenant_id: str | None, actions: Sequence[str] | None
    ) -> tuple[list[dict[str, Any]], str]:
        """Newest first; one tenant's rows (`tenant_id`), or every row (None)."""
        query = select(audit_log)
        if tenant_id is not None:
            query = query.where(audit_log.c.tenant_id == tenant_id)
        if actions is not None:
            query = query.where(audit_log.c.action.in_(list(actions)))
        return keyset_page(
            self.session,
            audit_log,
            query,
            size,
            token,
            lambda r: dict(r._mapping),
            newest_first=True,
        )


def seal_context(kid: str) -> str:
    """What a sealed signing key is, authenticated by the master key's AEAD."""
    return f"identity.signing_key.{kid}"


class SigningKeys:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def signing(self, now: datetime, publish: timedelta) -> tuple[str, str, datetime | None] | None:
        """(kid, sealed private key, when a newer key takes over) of the key that signs now: the
        newest in service created at least `publish` ago (every process had the time to fetch
        its public half), else the oldest in service (the very first key, or the one a rotation
        moments after it is replacing)."""
        rows = self.session.execute(
            select(signing_keys.c.kid, signing_keys.c.sealed_private_key, signing_keys.c.created_at)
            .where((signing_keys.c.retire_at.is_(None)) | (signing_keys.c.retire_at > now))
            .order_by(signing_keys.c.created_at.desc())
        ).all()
        if not rows:
            return None
        due = [r for r in rows if r.created_at <= now - publish]
        chosen = due[0] if due else rows[-1]  # none published long enough: the oldest
        newer = [r for r in rows if r.created_at > chosen.created_at]
        switch_at = min(r.created_at for r in newer) + publish if newer else None
        return chosen.kid, chosen.sealed_private_key, switch_at

    def add(self, kid: str, sealed: str, public_jwk: dict[str, str], now: datetime) -> None:
        self.session.execute(
            insert(signing_keys).values(
                kid=kid,
                sealed_private_key=sealed,
                public_jwk=json.dumps(public_jwk),
                created_at=now,
            )
        )

    def retire_all_but(self, kid: str, at: datetime) -> None:
        """Every other key still in service stops verifying at `at`."""
        self.session.execute(
            update(signing_keys)
            .where(signing_keys.c.kid != kid, signing_keys.c.retire_at.is_(None))
            .values(retire_at=at)
        )
        self.session.execute(
            update(signing_keys)
            .where(signing_keys.c.kid != kid, signing_keys.c.retire_at > at)
            .values(retire_at=at)
        )

    def retire(self, kid: str, at: datetime) -> None:
        self.session.execute(
            update(signing_keys)
            .where(
                signing_keys.c.kid == kid,
                (signing_keys.c.retire_at.is_(None)) | (signing_keys.c.retire_at > at),
            )
            .values(retire_at=at)
        )

    def all(self) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(
                signing_keys.c.kid, signing_keys.c.created_at, signing_keys.c.retire_at
            ).order_by(signing_keys.c.created_at)
        ).all()
        return [dict(r._mapping) for r in rows]

    def public_jwks(self, now: datetime) -> list[dict[str, Any]]:
        """The keys that still verify, each being retired with its `retire_at` (epoch seconds)."""
        rows = self.session.execute(
            select(signing_keys.c.public_jwk, signing_keys.c.retire_at)
            .where((signing_keys.c.retire_at.is_(None)) | (signing_keys.c.retire_at > now))
            .order_by(signing_keys.c.created_at)
        )
        jwks = []
        for r in rows:
            jwk = json.loads(r.public_jwk)
            if r.retire_at is not None:
                jwk["retire_at"] = r.retire_at.timestamp()
            jwks.append(jwk)
        return jwks

    def lock(self) -> None:
        self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))")
        )


class PersonLinks:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, link: PersonLink) -> None:
        self.add_many([link])

    def add_many(self, links: Sequence[PersonLink]) -> None:
        if links:
            self.session.execute(_INSERT_LINK, [vars(link) for link in links])

    def get(self, link_id: str) -> PersonLink | None:
        row = self.session.execute(select(person_links).where(person_links.c.id == link_id)).first()
        return PersonLink(**row._mapping) if row else None

    def by_token_hash(self, token_hash: str) -> PersonLink | None:
        row = self.session.execute(
            select(person_links).where(person_links.c.token_hash == token_hash).with_for_update()
        ).first()
        return PersonLink(**row._mapping) if row else None

    def delete_person(self, person_id: str) -> None:
        """Erasure: the person's links (an email change's holds the new address) go."""
        self.session.execute(person_links.delete().where(person_links.c.person_id == person_id))

    def supersede_live(self, person_id: str, purpose: str, now: datetime) -> None:
        """Re-sending kills the old link (rule 8)."""
        self.session.execute(
            update(person_links)
            .where(
                person_links.c.person_id == person_id,
                person_links.c.purpose == purpose,
                person_links.c.used_at.is_(None),
                person_links.c.superseded_at.is_(None),
            )
            .values(superseded_at=now)
        )

    def issued_since(
        self, person_id: str, purpose: str, since: datetime, tenant_id: str | None = None
    ) -> list[datetime]:
        """When the person's links of `purpose` issued after `since` were, oldest first."""
        return self.issued_since_to_many([person_id], purpose, since, tenant_id).get(person_id, [])

    def issued_since_to_many(
        self,
        person_ids: Sequence[str],
        purpose: str,
        since: datetime,
        tenant_id: str | None = None,
    ) -> dict[str, list[datetime]]:
        """`issued_since` for many people in one statement, by person (absent: none); with
        `tenant_id`, only the links about that tenant's memberships (invitations)."""
        found: dict[str, list[datetime]] = {}
        if not person_ids:
            return found
        query = select(person_links.c.person_id, person_links.c.created_at).where(
            person_links.c.person_id.in_(list(person_ids)),
            person_links.c.purpose == purpose,
            person_links.c.created_at > since,
        )
        if tenant_id is not None:
            query = query.join(memberships, memberships.c.id == person_links.c.detail).where(
                memberships.c.tenant_id == tenant_id
            )
        rows = self.session.execute(query.order_by(person_links.c.created_at)).all()
        for person_id, created_at in rows:
            found.setdefault(person_id, []).append(created_at)
        return found

    def supersede_for(self, purpose: str, detail: str, now: datetime) -> None:
        """Kills the live links of one purpose about one object (an invitation's membership)."""
        self.session.execute(
            update(person_links)
            .where(
                person_links.c.purpose == purpose,
                person_links.c.detail == detail,
                person_links.c.used_at.is_(None),
                person_links.c.superseded_at.is_(None),
            )
            .values(superseded_at=now)
        )

    def mark_used(self, link: PersonLink) -> None:
        self.session.execute(
            update(person_links).where(person_links.c.id == link.id).values(used_at=link.used_at)
        )


class Secrets:
    """Service secrets wrapped by the master key (the link key)."""

    def __init__(self, session: Connection) -> None:
        self.session = session

    def get(self, name: str) -> str | None:
        row = self.session.execute(
            select(service_secrets.c.wrapped).where(service_secrets.c.name == name)
        ).first()
        return str(row.wrapped) if row else None

    def add_if_missing(self, name: str, wrapped: str, now: datetime) -> None:
        self.session.execute(
            pg_insert(service_secrets)
            .values(name=name, wrapped=wrapped, created_at=now)
            .on_conflict_do_nothing()
        )


def totp_context(person_id: str) -> str:
    """What a sealed TOTP secret is, authenticated by the master key's AEAD."""
    return f"identity.totp.{person_id}"


class Mfa:
    """Authenticators, recovery codes and sign-in challenges."""

    def __init__(self, session: Connection) -> None:
        self.session = session

    def factor(self, person_id: str, *, for_update: bool = False) -> Any:
        query = select(mfa_factors).where(mfa_factors.c.person_id == person_id)
        return self.session.execute(query.with_for_update() if for_update else query).first()

    def start_factor(self, person_id: str, sealed_secret: str, now: datetime) -> None:
        """A new, unconfirmed authenticator (replacing an enrolment left unfinished)."""
        upsert = pg_insert(mfa_factors).values(
            person_id=person_id, sealed_secret=sealed_secret, created_at=now
        )
        self.session.execute(
            upsert.on_conflict_do_update(
                index_elements=[mfa_factors.c.person_id],
                set_={"sealed_secret": sealed_secret, "created_at": now, "last_step": None},
                where=mfa_factors.c.confirmed_at.is_(None),
            )
        )

    def confirm_factor(self, person_id: str, step: int, now: datetime) -> None:
        self.session.execute(
            update(mfa_factors)
            .where(mfa_factors.c.person_id == person_id)
            .values(confirmed_at=now, last_step=step, reset_at=None)
        )

    def reset(self, person_id: str, now: datetime) -> bool:
        """An operator's reset: the authenticator and recovery codes are void, and the row stays,
        marked, so that the next sign-in enrols a new one. False if there was none to reset."""
        self.session.execute(
            mfa_recovery_codes.delete().where(mfa_recovery_codes.c.person_id == person_id)
        )
        self.session.execute(
            sign_in_challenges.delete().where(sign_in_challenges.c.person_id == person_id)
        )
        done = self.session.execute(
            update(mfa_factors)
            .where(mfa_factors.c.person_id == person_id)
            .values(sealed_secret="", confirmed_at=None, last_step=None, reset_at=now)
        )
        return bool(done.rowcount)

    def set_last_step(self, person_id: str, step: int) -> None:
        self.session.execute(
            update(mfa_factors).where(mfa_factors.c.person_id == person_id).values(last_step=step)
        )

    def replace_recovery_codes(self, person_id: str, hashes: Sequence[str], now: datetime) -> None:
        self.session.execute(
            mfa_recovery_codes.delete().where(mfa_recovery_codes.c.person_id == person_id)
        )
        self.session.execute(
            insert(mfa_recovery_codes),
            [{"code_hash": h, "person_id": person_id, "created_at": now} for h in hashes],
        )

    def use_recovery_code(self, person_id: str, code_hash: str, now: datetime) -> bool:
        """Spends the code if it is one of the person's and unused."""
        spent = self.session.execute(
            update(mfa_recovery_codes)
            .where(
                mfa_recovery_codes.c.code_hash == code_hash,
                mfa_recovery_codes.c.person_id == person_id,
                mfa_recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return bool(spent.rowcount)

    def summary(self, person_id: str) -> dict[str, Any] | None:
        """For the person's own export: when they enrolled and how many codes are left."""
        factor = self.factor(person_id)
        if factor is None or factor.confirmed_at is None:
            return None
        left = self.session.execute(
            select(func.count())
            .select_from(mfa_recovery_codes)
            .where(
                mfa_recovery_codes.c.person_id == person_id,
                mfa_recovery_codes.c.used_at.is_(None),
            )
        ).scalar_one()
        return {"enrolled_at": factor.confirmed_at.isoformat(), "recovery_codes_left": left}

    def add_challenge(self, challenge: Challenge) -> None:
        row = {k: v for k, v in vars(challenge).items() if k != "secret"}
        self.session.execute(insert(sign_in_challenges).values(row))
        self.session.execute(  # a person's spent and expired challenges go as new ones come
            sign_in_challenges.delete().where(
                sign_in_challenges.c.person_id == challenge.person_id,
                sign_in_challenges.c.expires_at < challenge.created_at - timedelta(days=1),
            )
        )

    def challenge_for_update(self, challenge_id: str) -> Challenge | None:
        row = self.session.execute(
            select(sign_in_challenges)
            .where(sign_in_challenges.c.id == challenge_id)
            .with_for_update()
        ).first()
        return Challenge(**row._mapping) if row else None

    def save_challenge(self, challenge: Challenge) -> None:
        self.session.execute(
            update(sign_in_challenges)
            .where(sign_in_challenges.c.id == challenge.id)
            .values(used_at=challenge.used_at, failures=challenge.failures)
        )

    def delete_person(self, person_id: str) -> None:
        """Erasure: the authenticator, its codes and challenges go."""
        for table in (sign_in_challenges, mfa_recovery_codes, mfa_factors):
            self.session.execute(table.delete().where(table.c.person_id == person_id))


class Erasures:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(
        self,
        erasure_id: str,
        person_id: str,
        now: datetime,
        requested_by: str,
        receipt_hash: str | None,
        services: Sequence[str],
        done: str,
    ) -> None:
        """The request, and one step per service; `done` (identity) completes with it."""
        self.session.execute(
            insert(erasures).values(
                id=erasure_id,
                person_id=person_id,
                created_at=now,
                requested_by=requested_by,
                receipt_hash=receipt_hash,
            )
        )
        self.session.execute(
            insert(erasure_steps),
            [
                {"erasure_id": erasure_id, "service": s, "completed_at": now if s == done else None}
                for s in services
            ],
        )
        self._complete_if_done(erasure_id, now)

    def complete_step(self, erasure_id: str, service: str, now: datetime) -> None:
        """A service reported; the erasure completes with its last step (under a row lock, so
        that two services reporting at once cannot both miss it)."""
        locked = self.session.execute(
            select(erasures.c.id).where(erasures.c.id == erasure_id).with_for_update()
        ).first()
        if locked is None:
            return  # not ours (another deployment's erasure): nothing to record
        self.session.execute(
            update(erasure_steps)
            .where(
                erasure_steps.c.erasure_id == erasure_id,
                erasure_steps.c.service == service,
                erasure_steps.c.completed_at.is_(None),
            )
            .values(completed_at=now)
        )
        self._complete_if_done(erasure_id, now)

    def _complete_if_done(self, erasure_id: str, now: datetime) -> None:
        waiting = self.session.execute(
            select(func.count())
            .select_from(erasure_steps)
            .where(erasure_steps.c.erasure_id == erasure_id, erasure_steps.c.completed_at.is_(None))
        ).scalar_one()
        if waiting == 0:
            self.session.execute(
                update(erasures)
                .where(erasures.c.id == erasure_id, erasures.c.completed_at.is_(None))
                .values(completed_at=now)
            )

    def since(self, since: datetime) -> list[Any]:
        return list(
            self.session.execute(
                select(erasures)
                .where(erasures.c.created_at >= since)
                .order_by(erasures.c.created_at)
            )
        )

    def get(self, erasure_id: str) -> dict[str, Any] | None:
        row = self.session.execute(select(erasures).where(erasures.c.id == erasure_id)).first()
        return self._with_steps([row])[0] if row else None

    def by_receipt(self, receipt_hash: str) -> dict[str, Any] | None:
        row = self.session.execute(
            select(erasures).where(erasures.c.receipt_hash == receipt_hash)
        ).first()
        return self._with_steps([row])[0] if row else None

    def page(self, size: int, token: str) -> tuple[list[dict[str, Any]], str]:
        rows, nxt = keyset_page(
            self.session, erasures, select(erasures), size, token, lambda r: r, newest_first=True
        )
        return self._with_steps(rows), nxt

    def _with_steps(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        ids = [r.id for r in rows]
        steps: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for s in self.session.execute(
                select(erasure_steps)
                .where(erasure_steps.c.erasure_id.in_(ids))
                .order_by(erasure_steps.c.service)
            ):
                steps[s.erasure_id].append({"service": s.service, "completed_at": s.completed_at})
        return [{**dict(r._mapping), "steps": steps[r.id]} for r in rows]


class Repositories:
    """What identity's handlers see of a unit of work."""

    def __init__(self, session: Connection) -> None:
        self.tenants = Tenants(session)
        self.persons = Persons(session)
        self.memberships = Memberships(session)
        self.signing_keys = SigningKeys(session)
        self.refresh_tokens = RefreshTokens(session)
        self.revocations = AccessRevocations(session)
        self.throttle = Throttle(session)
        self.sign_ins = SignInHistory(session)
        self.audit = AuditLog(session)
        self.links = PersonLinks(session)
        self.secrets = Secrets(session)
        self.erasures = Erasures(session)
        self.mfa = Mfa(session)
        self.coach_links = CoachLinks(session)


def rewrap_master_key(connection: Connection, master: MasterKey) -> int:
    """After a master-key rotation: identity's sealed values (signing keys, the link key, TOTP
    secrets) wrapped again under the current master key. Returns how many changed."""
    sealed = [
        (signing_keys, signing_keys.c.kid, signing_keys.c.sealed_private_key, seal_context),
        (service_secrets, service_secrets.c.name, service_secrets.c.wrapped, lambda name: name),
        (mfa_factors, mfa_factors.c.person_id, mfa_factors.c.sealed_secret, totp_context),
    ]
    changed = 0
    for table, key, column, context in sealed:
        for row_key, wrapped in connection.execute(select(key, column)).all():
            new = master.rewrapped(wrapped, context(row_key))
            if new is not None:
                connection.execute(
                    update(table)
                    .where(key == row_key, column == wrapped)
                    .values({column.name: new})
                )
                changed += 1
    return changed
