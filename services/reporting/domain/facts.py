"""Reporting's facts: the latest state of each object, as the publishing services described it
in their events (ids, states and times; never free text, never content).

Each fact is kept at the state of the newest event applied (its envelope `sequence`): an event
older than the stored fact changes nothing, and a correction, which re-emits the full state,
replaces it. Reports count facts, never events.

A person id is kept only where a coachee must be joined to their cohort attributes: on members,
spaces (the coachee), sessions and module progress. Erasure replaces it (ERASED_PERSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

COACHEE = "coachee"
TENANT_ADMIN = "tenant_admin"
ATTRIBUTES = ("department", "site", "programme")


@dataclass(frozen=True)
class Member:
    member_id: str
    tenant_id: str
    person_id: str
    roles: tuple[str, ...]
    status: str  # pending, active, deactivated, erased
    department: str | None = None
    site: str | None = None
    programme: str | None = None

    def attribute(self, name: str) -> str | None:
        value: str | None = getattr(self, name)
        return value

    @property
    def is_active_admin(self) -> bool:
        return self.status == "active" and TENANT_ADMIN in self.roles

    @property
    def counts_as_coachee(self) -> bool:
        """In reports: a coachee who accepted (active, or deactivated since: their history
        stays in the counts); never a pending or erased membership."""
        return COACHEE in self.roles and self.status in ("active", "deactivated")


@dataclass(frozen=True)
class Space:
    space_id: str
    tenant_id: str
    coachee_person_id: str
    status: str  # draft, active, paused, completed, archived
    sessions_planned: int
    starts_on: date
    ends_on: date | None = None


@dataclass(frozen=True)
class Session:
    session_id: str
    tenant_id: str
    space_id: str
    coachee_person_id: str
    status: str  # booked, cancelled, held, no_show_coachee, no_show_coach
    starts_at: datetime
    late: bool  # a late cancellation
    uses_session: bool  # counts against the engagement's planned sessions


@dataclass(frozen=True)
class Goal:
    goal_id: str
    tenant_id: str
    space_id: str
    achieved_at: datetime | None  # None: not (or no longer) achieved


@dataclass(frozen=True)
class Tool:
    tool_id: str
    tenant_id: str
    space_id: str
    state: str  # locked, unlocked, removed
    done: bool


@dataclass(frozen=True)
class Assessment:
    assignment_id: str
    tenant_id: str
    space_id: str
    status: str  # assigned, in_progress, submitted, retake_allowed
    assigned_at: datetime
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class ModuleProgress:
    assignment_id: str
    tenant_id: str
    space_id: str
    coachee_person_id: str
    status: str  # not_started, started, completed
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class TenantFacts:
    """Every fact of one tenant a report reads."""

    members: tuple[Member, ...] = ()
    spaces: tuple[Space, ...] = ()
    sessions: tuple[Session, ...] = ()
    goals: tuple[Goal, ...] = ()
    tools: tuple[Tool, ...] = ()
    assessments: tuple[Assessment, ...] = ()
    modules: tuple[ModuleProgress, ...] = ()
