"""People, tenants and memberships, and the rules that keep them consistent."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.kernel.errors import FailedPrecondition, Problem, invalid
from services.kernel.ids import new_id
from services.kernel.timezones import check_time_zone
from services.kernel.validation import SLUG_PATTERN, looks_like_email

ROLES = ("tenant_admin", "coach", "coachee")
LOCALES = ("fr", "en")
PENDING, ACTIVE, DEACTIVATED, ERASED = "pending", "active", "deactivated", "erased"
# Where erased accounts' addresses point: RFC 2606 reserves .invalid, which no mail reaches
# and check_email refuses, so nobody can invite or reset an erased account.
ERASED_DOMAIN = "erased.invalid"
TENANT_ACTIVE, SUSPENDED = "active", "suspended"
# The space statuses after which a space links its coach to its coachee. A draft gives its coach
# no view of the coachee. Once opened, the space links its coach for good (a completed or
# archived engagement still names its coachee on the coach's roster, as the coach still reads
# that space).
LINKING_STATUSES = ("active", "paused", "completed", "archived")

_SLUG = re.compile(SLUG_PATTERN)
_NAME_BREAKS = re.compile(r"[\s\-'\u2019]+")


def normalize_email(email: str) -> str:
    """The key that makes emails unique platform-wide: case-insensitive, Unicode-normalised."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def search_key(text: str) -> str:
    """How names are compared in a search: Unicode-normalised, accents dropped, case-folded,
    runs of spaces, hyphens and apostrophes made one space ("Éloïse  D'Arc" and "eloise d arc"
    compare equal), so a search word matches the start of a word of the name."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(_NAME_BREAKS.split(plain)).strip()


@dataclass(frozen=True)
class MemberSearch:
    """What a search of a tenant's members asks for: a text that starts the member's email or
    a word of their name (case and accents aside), a role they hold, a status; each optional."""

    email_prefix: str = ""
    name_prefix: str = ""
    role: str = ""
    status: str = ""

    @classmethod
    def of(cls, query: str, role: str = "", status: str = "") -> MemberSearch:
        query = query.strip()
        return cls(
            email_prefix=normalize_email(query) if query else "",
            name_prefix=search_key(query),
            role=role,
            status=status,
        )


def check_email(email: str, field_name: str = "email") -> str:
    email = email.strip()
    if not looks_like_email(email) or email.lower().endswith(".invalid"):
        raise invalid(**{field_name: "must be an email address such as name@example.com"})
    return email


def check_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise invalid(
            slug="2 to 40 lowercase letters, digits or hyphens, not starting or ending "
            "with a hyphen"
        )
    return slug


# The cohort attributes HR groups reports by: labels a tenant's admins set on a membership, each
# on one line, trimmed, at most this long (the contract's CohortLabel), empty meaning unset.
COHORT_ATTRIBUTES = ("department", "site", "programme")
MAX_COHORT_LABEL = 80


def check_cohort_label(label: str, field_name: str) -> str | None:
    """A cohort label, trimmed; None when empty (unset)."""
    label = label.strip()
    if len(label) > MAX_COHORT_LABEL:
        why = Problem("has more than %(max_length)s characters", max_length=MAX_COHORT_LABEL)
        raise invalid(**{field_name: why})  # the contract's words for its own check
    return label or None


def check_roles(roles: list[str] | tuple[str, ...], field_name: str = "roles") -> tuple[str, ...]:
    if not roles:
        raise invalid(**{field_name: "needs a role: tenant_admin, coach or coachee"})
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise invalid(**{field_name: "must be tenant_admin, coach or coachee"})
    return tuple(sorted(set(roles)))


@dataclass
class Tenant:
    id: str
    slug: str
    name: str
    created_at: datetime
    status: str = "active"  # or "suspended": its members cannot sign in
    seats: int | None = None  # memberships active or pending; None: no limit
    default_locale: str = "en"
    default_time_zone: str = "UTC"
    # Roles whose members must use MFA (enforced with MFA, in the security issue).
    mfa_required_roles: tuple[str, ...] = ()
    suspended_at: datetime | None = None

    @classmethod
    def create(cls, name: str, slug: str, now: datetime) -> Tenant:
        name = name.strip()
        if not name:
            raise invalid(name="must not be empty")
        return cls(
            id=new_id("tnt"), slug=check_slug(slug.strip().lower()), name=name, created_at=now
        )

    @property
    def is_suspended(self) -> bool:
        return self.status == SUSPENDED

    def suspend(self, now: datetime) -> None:
        if self.status != SUSPENDED:  # idempotent
            self.status, self.suspended_at = SUSPENDED, now

    def reinstate(self) -> None:
        self.status, self.suspended_at = TENANT_ACTIVE, None

    def update_settings(self, changes: dict[str, Any]) -> None:
        """Checked values only; the caller's right to each field is checked by the handler."""
        if "seats" in changes:
            seats = changes["seats"]
            if seats is not None and (not isinstance(seats, int) or seats < 0):
                raise invalid(seats="a number of seats, 0 or more (or none for no limit)")
            self.seats = seats
        if "default_locale" in changes:
            if changes["default_locale"] not in LOCALES:
                raise invalid(default_locale="fr or en")
            self.default_locale = changes["default_locale"]
        if "default_time_zone" in changes:
            self.default_time_zone = check_time_zone(
                changes["default_time_zone"], "default_time_zone"
            )
        if "mfa_required_roles" in changes:
            roles = tuple(changes["mfa_required_roles"])
            self.mfa_required_roles = check_roles(roles) if roles else ()

    def check_seat_for_one_more(self, used: int) -> None:
        if self.seats is not None and used >= self.seats:
            raise FailedPrecondition(
                f"All {self.seats} seats of this organisation are taken; free one (deactivate a "
                "member) or ask for more.",
                reason="SEATS_EXHAUSTED",
                metadata={"seats": str(self.seats)},
            )


@dataclass
class Person:
    id: str
    email: str
    display_name: str
    locale: str
    time_zone: str
    created_at: datetime
    updated_at: datetime
    platform_admin: bool = False
    password_hash: str | None = None
    erased_at: datetime | None = None
    calendar_email: str | None = None  # confirmed; calendar mail goes there instead of `email`

    def erase(self, now: datetime) -> None:
        """Anonymises the account for good (the personal-data contract): no email, name or
        password is left, and the id, which is not personal data once nothing points from it to
        the person, keeps the other services' records consistent until they erase them too."""
        if self.platform_admin:
            raise FailedPrecondition(
                "An operator account cannot be erased; another operator must first take over.",
                reason="OPERATOR_ACCOUNT",
            )
        if self.erased_at is not None:
            raise FailedPrecondition(
                "This person's data was already erased.", reason="ALREADY_ERASED"
            )
        self.email = f"erased-{self.id}@{ERASED_DOMAIN}"
        self.display_name = ""
        self.password_hash = None
        self.calendar_email = None
        self.erased_at = now
        self.updated_at = now

    @property
    def email_key(self) -> str:
        return normalize_email(self.email)

    @property
    def name_key(self) -> str:
        return search_key(self.display_name)

    def update_profile(self, changes: dict[str, str], now: datetime) -> None:
        """The person's own name, language and time zone (checked; nothing else)."""
        if "display_name" in changes:
            name = changes["display_name"].strip()
            if len(name) > 200:
                raise invalid(display_name="has more than 200 characters")
            self.display_name = name
        if "locale" in changes:
            if changes["locale"] not in LOCALES:
                raise invalid(locale="fr or en")
            self.locale = changes["locale"]
        if "time_zone" in changes:
            self.time_zone = check_time_zone(changes["time_zone"])
        self.updated_at = now

    @classmethod
    def create(
        cls,
        *,
        email: str,
        display_name: str,
        locale: str,
        time_zone: str,
        now: datetime,
        platform_admin: bool = False,
    ) -> Person:
        if locale not in LOCALES:
            raise invalid(locale="fr or en")
        return cls(
            id=new_id("per"),
            email=check_email(email),
            display_name=display_name.strip(),
            locale=locale,
            time_zone=check_time_zone(time_zone),
            created_at=now,
            updated_at=now,
            platform_admin=platform_admin,
        )


# A membership's status, roles and cohort at one moment (Membership.snapshot).
Snapshot = tuple[str, tuple[str, ...], tuple[str | None, str | None, str | None]]


@dataclass
class Membership:
    id: str
    tenant_id: str
    person_id: str
    invited_email: str
    roles: tuple[str, ...]
    status: str
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None = None
    # Cohort attributes (COHORT_ATTRIBUTES): None when unset.
    department: str | None = None
    site: str | None = None
    programme: str | None = None

    @classmethod
    def for_new_person(
        cls, tenant_id: str, person: Person, email: str, roles: tuple[str, ...], now: datetime
    ) -> Membership:
        """Active at once: for trusted code only (the demo seed). People are invited."""
        return cls(new_id("mem"), tenant_id, person.id, email, roles, ACTIVE, now, now, now)

    @classmethod
    def pending_for(
        cls, tenant_id: str, person: Person, email: str, roles: tuple[str, ...], now: datetime
    ) -> Membership:
        """An invitation: nobody is added silently, they accept first (with the emailed link)."""
        return cls(new_id("mem"), tenant_id, person.id, email, roles, PENDING, now, now)

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    def erase(self, email: str, now: datetime) -> None:
        """Final: an erased person's memberships never come back (not even reactivated)."""
        self.status = ERASED
        self.invited_email = email
        self.department = self.site = self.programme = None
        self.updated_at = now

    def _refuse_if_erased(self) -> None:
        if self.status == ERASED:
            raise FailedPrecondition(
                "This person's data was erased; the membership cannot change any more.",
                reason="MEMBERSHIP_ERASED",
            )

    def change_roles(self, roles: tuple[str, ...], now: datetime) -> None:
        self._refuse_if_erased()
        if self.status == DEACTIVATED:
            raise FailedPrecondition(
                "A deactivated membership cannot change roles; reactivate it first.",
                reason="MEMBERSHIP_INACTIVE",
            )
        self.roles = check_roles(roles)
        self.updated_at = now

    @property
    def cohort(self) -> tuple[str | None, str | None, str | None]:
        """The cohort attributes, in the order of COHORT_ATTRIBUTES."""
        return self.department, self.site, self.programme

    def set_cohort(
        self, department: str | None, site: str | None, programme: str | None, now: datetime
    ) -> None:
        """All three at once (checked labels, None to unset); a deactivated membership keeps
        its cohort, so HR may still correct it."""
        self._refuse_if_erased()
        if (department, site, programme) != self.cohort:
            self.department, self.site, self.programme = department, site, programme
            self.updated_at = now

    def deactivate(self, now: datetime) -> None:
        self._refuse_if_erased()
        if self.status == DEACTIVATED:
            return  # idempotent: retrying a deactivation is not an error
        self.status = DEACTIVATED
        self.updated_at = now

    def reactivate(self, now: datetime) -> None:
        self._refuse_if_erased()
        if self.status != DEACTIVATED:
            return
        # Reactivating never skips the person's own acceptance.
        self.status = ACTIVE if self.accepted_at is not None else PENDING
        self.updated_at = now

    def snapshot(self) -> Snapshot:
        return self.status, tuple(self.roles), self.cohort

    def change_since(self, before: Snapshot) -> str | None:
        """What changed since `snapshot()` returned `before`, as identity's events name it."""
        status, roles, cohort = before
        if self.status != status:
            if self.status == ERASED:
                return "erased"
            if self.status == DEACTIVATED:
                return "deactivated"
            if status == DEACTIVATED:
                return "reactivated"
            if status == PENDING and self.status == ACTIVE:
                return "accepted"
        if tuple(self.roles) != roles:
            return "roles_changed"
        if self.cohort != cohort:
            return "attributes_changed"
        return None

    def accept(self, now: datetime) -> None:
        self._refuse_if_erased()
        if self.status == DEACTIVATED:
            raise FailedPrecondition(
                "This membership was deactivated by the organisation.", reason="MEMBERSHIP_INACTIVE"
            )
        if self.status == PENDING:
            self.status = ACTIVE
            self.accepted_at = now
            self.updated_at = now
