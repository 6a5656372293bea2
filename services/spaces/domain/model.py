"""A coaching engagement's space: its set-up, its content, its lifecycle, and who may do what.
Plain Python, no infrastructure.

Access is by relationship (rule 5): the space's coachee, coach and co-coach; a tenant admin (HR)
sees the set-up and status of every space of the tenant and never the content (project,
objectives, context, which are the coachee's words). Anyone else: not found.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum

from services.kernel.errors import FailedPrecondition, NotFound, PermissionDenied, Problem, invalid
from services.kernel.i18n import N_
from services.kernel.ids import new_id

DRAFT, ACTIVE, PAUSED, COMPLETED, ARCHIVED = "draft", "active", "paused", "completed", "archived"
CADENCES = ("weekly", "every_two_weeks", "every_four_weeks", "monthly")
MAX_SESSIONS = 200
CONTENT_LIMIT = 4000  # characters, per content field
CONTENT_FIELDS = ("project", "objectives", "context")
SET_UP_FIELDS = (
    "coachee_member_id",
    "coach_member_id",
    "co_coach_member_id",
    "cadence",
    "sessions_planned",
    "starts_on",
    "ends_on",
)

# What a note, goal change or space keeps as its author once that person was erased.
ERASED_PERSON = "erased"


class Relation(Enum):
    COACHEE = "coachee"
    COACH = "coach"
    CO_COACH = "co_coach"
    TENANT_ADMIN = "tenant_admin"  # HR: set-up and status only


@dataclass(frozen=True)
class Participant:
    member_id: str
    person_id: str


@dataclass
class SetUp:
    coachee: Participant
    coach: Participant
    co_coach: Participant | None
    cadence: str
    sessions_planned: int
    starts_on: date
    ends_on: date | None = None

    def check(self) -> SetUp:
        if self.cadence not in CADENCES:
            raise invalid(cadence="weekly, every_two_weeks, every_four_weeks or monthly")
        if not 1 <= self.sessions_planned <= MAX_SESSIONS:
            raise invalid(sessions_planned=Problem("between 1 and %(n)s", n=MAX_SESSIONS))
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise invalid(ends_on="must not be before starts_on")
        people = [self.coachee.person_id, self.coach.person_id]
        if self.co_coach is not None:
            people.append(self.co_coach.person_id)
        if len(set(people)) != len(people):
            raise invalid(coach_member_id="coachee, coach and co-coach must be three people")
        return self

    def seated(self, seat: str, who: Participant | None) -> SetUp:
        """This set-up with `who` in `seat` (COACH_SEAT or CO_COACH_SEAT), checked."""
        if seat == CO_COACH_SEAT:
            return replace(self, co_coach=who).check()
        assert who is not None, "a space always has a coach"
        return replace(self, coach=who).check()


# Roles that oversee a tenant: their holder coaches a space there only with the coachee's
# agreement (issue 19). "operator" is a platform operator, as identity tells spaces.
OVERSEER_ROLES = frozenset({"tenant_admin", "operator"})
COACH_SEAT, CO_COACH_SEAT = "coach", "co_coach"
OVERSEER_IN_SET_UP = N_(
    "is a tenant admin or an operator, who coaches only with the coachee's agreement: open "
    "the space with another coach, activate it, then propose them with ChangeCoach or "
    "ChangeCoCoach"
)


@dataclass(frozen=True)
class PendingCoach:
    """A coach or co-coach proposed who oversees the tenant: it waits for the coachee."""

    seat: str  # COACH_SEAT or CO_COACH_SEAT
    participant: Participant
    proposed_by: str  # person id
    proposed_at: datetime


@dataclass
class Content:
    project: str = ""
    objectives: str = ""
    context: str = ""

    def changed(self, changes: dict[str, str]) -> Content:
        for name, value in changes.items():
            if len(value) > CONTENT_LIMIT:
                raise invalid(**{name: Problem("at most %(n)s characters", n=CONTENT_LIMIT)})
        return replace(self, **{k: v.strip() for k, v in changes.items()})


# Lifecycle: the move, where it may start, where it ends, and who may make it.
MOVES: dict[str, tuple[tuple[str, ...], str, frozenset[Relation]]] = {
    "activate": ((DRAFT,), ACTIVE, frozenset({Relation.COACH, Relation.CO_COACH})),
    "pause": (
        (ACTIVE,),
        PAUSED,
        frozenset({Relation.COACH, Relation.CO_COACH, Relation.COACHEE}),
    ),
    "resume": (
        (PAUSED,),
        ACTIVE,
        frozenset({Relation.COACH, Relation.CO_COACH, Relation.COACHEE}),
    ),
    "complete": ((ACTIVE,), COMPLETED, frozenset({Relation.COACH, Relation.CO_COACH})),
    "archive": (
        (COMPLETED, DRAFT),
        ARCHIVED,
        frozenset({Relation.COACH, Relation.CO_COACH, Relation.TENANT_ADMIN}),
    ),
}
# The event each move publishes.
MOVE_EVENTS = {
    "activate": "activated",
    "pause": "paused",
    "resume": "resumed",
    "complete": "completed",
    "archive": "archived",
}


@dataclass
class Space:
    id: str
    tenant_id: str
    status: str
    set_up: SetUp
    content: Content
    created_by: str
    created_at: datetime
    updated_at: datetime
    data_key: str = field(default="", repr=False)  # wrapped; storage fills it
    pending: PendingCoach | None = None
    # When the coach and co-coach of now took their seat (None: from the start), and when the
    # coachee last agreed that the coaches then present see what was written before they came.
    coach_joined_at: datetime | None = None
    co_coach_joined_at: datetime | None = None
    earlier_content_shared_at: datetime | None = None

    @classmethod
    def create(
        cls, tenant_id: str, set_up: SetUp, content: Content, created_by: str, now: datetime
    ) -> Space:
        return cls(new_id("spc"), tenant_id, DRAFT, set_up.check(), content, created_by, now, now)

    def relations(self, person_id: str, tenant_admin: bool) -> set[Relation]:
        found = set()
        if person_id == self.set_up.coachee.person_id:
            found.add(Relation.COACHEE)
        if person_id == self.set_up.coach.person_id:
            found.add(Relation.COACH)
        if self.set_up.co_coach is not None and person_id == self.set_up.co_coach.person_id:
            found.add(Relation.CO_COACH)
        if tenant_admin:
            found.add(Relation.TENANT_ADMIN)
        return found

    def visible_relation(self, person_id: str, tenant_admin: bool) -> Relation:
        """How the person sees this space, or NOT_FOUND. A coachee sees it once it left draft;
        a participant's view wins over HR's (a person who is both sees their own space whole)."""
        found = self.relations(person_id, tenant_admin)
        for relation in (Relation.COACH, Relation.CO_COACH):
            if relation in found:
                return relation
        if Relation.COACHEE in found and self.status != DRAFT:
            return Relation.COACHEE
        if Relation.TENANT_ADMIN in found:
            return Relation.TENANT_ADMIN
        raise space_not_found()

    def move(self, move: str, relation: set[Relation], now: datetime) -> None:
        starts, ends, allowed = MOVES[move]
        if not relation & allowed:
            raise PermissionDenied(
                "You may not make this change to the space.", reason="SPACE_MOVE_FORBIDDEN"
            )
        if self.status not in starts:
            raise FailedPrecondition(
                f"A {self.status} space cannot be {MOVE_EVENTS[move]}.",
                reason="SPACE_MOVE_NOT_ALLOWED",
            )
        self.status = ends
        self.updated_at = now

    def change_set_up(self, set_up: SetUp, relation: set[Relation], now: datetime) -> None:
        """The coach (or co-coach) or a tenant admin, in draft only."""
        if not relation & {Relation.COACH, Relation.CO_COACH, Relation.TENANT_ADMIN}:
            raise PermissionDenied(
                "Only the coach or a tenant admin may change the set-up.",
                reason="SET_UP_FORBIDDEN",
            )
        if self.status != DRAFT:
            raise FailedPrecondition(
                "The set-up can change only while the space is a draft.", reason="NOT_A_DRAFT"
            )
        self.set_up = set_up.check()
        self.updated_at = now

    def change_coach(
        self,
        coach: Participant,
        relations: set[Relation],
        now: datetime,
        *,
        by: str = "",
        needs_agreement: bool = False,
    ) -> Participant | None:
        """A tenant admin gives the space another coach, at any time; returns the previous
        one, who loses access at once (their private notes stay theirs alone). A coach who
        oversees the tenant (`needs_agreement`) is only proposed: None, and `pending` waits
        for the coachee."""
        if Relation.TENANT_ADMIN not in relations:
            raise PermissionDenied(
                "Only a tenant admin may change the coach.", reason="COACH_CHANGE_FORBIDDEN"
            )
        return self._seat(COACH_SEAT, coach, now, by, needs_agreement)

    def change_co_coach(
        self,
        co_coach: Participant | None,
        relations: set[Relation],
        now: datetime,
        *,
        by: str = "",
        needs_agreement: bool = False,
    ) -> Participant | None:
        """A tenant admin or the coach adds, replaces or removes the co-coach (a proposal
        only, as for the coach, when the new one oversees the tenant)."""
        if not relations & {Relation.TENANT_ADMIN, Relation.COACH}:
            raise PermissionDenied(
                "Only a tenant admin or the coach may change the co-coach.",
                reason="COACH_CHANGE_FORBIDDEN",
            )
        return self._seat(CO_COACH_SEAT, co_coach, now, by, needs_agreement)

    def _seat(
        self, seat: str, who: Participant | None, now: datetime, by: str, needs_agreement: bool
    ) -> Participant | None:
        changed = self.set_up.seated(seat, who)  # a bad proposal fails now
        if needs_agreement:
            assert who is not None
            if self.status == DRAFT:  # its coachee does not see it yet: nobody could agree
                raise invalid(**{f"{seat}_member_id": OVERSEER_IN_SET_UP})
            self.pending = PendingCoach(seat, who, by, now)
            self.updated_at = now
            return None
        previous: Participant | None = getattr(self.set_up, seat)
        self.set_up = changed
        self._joined(seat, who, now)
        if self.pending is not None and self.pending.seat == seat:
            self.pending = None  # the seat was filled otherwise: the proposal is moot
        self.updated_at = now
        return previous

    def _joined(self, seat: str, who: Participant | None, now: datetime) -> None:
        """The seat's new holder joined now (a running space's earlier content is not theirs
        to read until the coachee agrees)."""
        setattr(self, f"{seat}_joined_at", now if who is not None else None)

    def earlier_hidden_from(self, relation: Relation) -> datetime | None:
        """For a coach or co-coach who joined after the start and to whom the coachee has not
        agreed to show it since: the instant before which content is hidden from them (goals
        and notes written earlier, and the space's own content, which carries no date)."""
        joined = {
            Relation.COACH: self.coach_joined_at,
            Relation.CO_COACH: self.co_coach_joined_at,
        }.get(relation)
        if joined is None:
            return None
        shared = self.earlier_content_shared_at
        return None if shared is not None and shared >= joined else joined

    def share_earlier_content(self, relations: set[Relation], now: datetime) -> None:
        """The coachee agrees that the coach and co-coach of now see what was written before
        they joined (a coach who joins later needs a new agreement)."""
        if Relation.COACHEE not in relations:
            raise PermissionDenied(
                "Only the coachee shares what was written before a coach joined.",
                reason="COACHEE_ONLY",
            )
        self.earlier_content_shared_at = now
        self.updated_at = now

    def pending_for(self, relations: set[Relation]) -> PendingCoach:
        """The proposal waiting for the coachee: theirs alone to see and answer."""
        if Relation.COACHEE not in relations:
            raise PermissionDenied(
                "Only the coachee answers a proposed coach change.",
                reason="COACHEE_ONLY",
            )
        if self.pending is None:
            raise NotFound(
                "No coach change waits for your agreement in this space.",
                reason="NO_PENDING_COACH_CHANGE",
            )
        return self.pending

    def accept_pending(
        self, relations: set[Relation], now: datetime, seen: PendingCoach | None = None
    ) -> tuple[PendingCoach, Participant | None]:
        """The coachee agrees: the proposed coach takes the seat; returns the proposal and
        the seat's previous holder. `seen`: the proposal the coachee was shown, which must
        still be the one waiting (not answered or replaced meanwhile)."""
        if seen is not None and self.pending != seen:
            raise FailedPrecondition(
                "The proposed coach change was replaced or answered meanwhile; look again.",
                reason="COACH_CHANGE_REPLACED",
            )
        pending = self.pending_for(relations)
        self.pending = None
        previous: Participant | None = getattr(self.set_up, pending.seat)
        self.set_up = self.set_up.seated(pending.seat, pending.participant)
        self._joined(pending.seat, pending.participant, now)
        self.updated_at = now
        return pending, previous

    def decline_pending(self, relations: set[Relation], now: datetime) -> PendingCoach:
        pending = self.pending_for(relations)
        self.pending = None
        self.updated_at = now
        return pending

    def change_content(self, changes: dict[str, str], relation: Relation, now: datetime) -> None:
        """The coachee's words: the coachee, coach or co-coach, until it is archived."""
        if relation is Relation.TENANT_ADMIN:
            raise space_not_found()  # HR never reads nor writes content
        if self.earlier_hidden_from(relation) is not None:
            raise earlier_content_not_shared()
        if self.status == ARCHIVED:
            raise FailedPrecondition("An archived space is read only.", reason="SPACE_ARCHIVED")
        self.content = self.content.changed(changes)
        self.updated_at = now


def space_not_found() -> NotFound:
    return NotFound("No such space.", reason="SPACE_NOT_FOUND")


def earlier_content_not_shared() -> PermissionDenied:
    return PermissionDenied(
        "You joined this space after it started: its content is yours to read and change once "
        "the coachee agrees (ShareEarlierContent).",
        reason="EARLIER_CONTENT_NOT_SHARED",
    )


def check_creator(person_id: str, tenant_admin: bool, coach_role: bool, set_up: SetUp) -> None:
    """A tenant admin creates any space of the tenant; a coach, only spaces they coach."""
    if tenant_admin:
        return
    if coach_role and person_id in (
        set_up.coach.person_id,
        set_up.co_coach.person_id if set_up.co_coach else None,
    ):
        return
    raise PermissionDenied(
        "Only a tenant admin, or the space's own coach, may create it.",
        reason="SPACE_CREATE_FORBIDDEN",
    )


# person id, roles (with "operator" for a platform operator), status
MemberFacts = tuple[str, tuple[str, ...], str]


def oversees(member: MemberFacts) -> bool:
    """A tenant admin of the tenant, or an operator: coaches only if the coachee agrees."""
    return bool(OVERSEER_ROLES & set(member[1]))


def check_member_roles(
    found: dict[str, MemberFacts], set_up_ids: dict[str, str], *, overseers: bool = False
) -> None:
    """`found`: member id -> (person id, roles, status) from identity; `set_up_ids`: field ->
    member id. The coachee must hold the coachee role, coaches the coach role, all of them
    active or invited members of the tenant. A coach who oversees the tenant is refused
    unless `overseers` (a coach change, which then waits for the coachee's agreement)."""
    wanted = {
        "coachee_member_id": "coachee",
        "coach_member_id": "coach",
        "co_coach_member_id": "coach",
    }
    for field_name, member_id in set_up_ids.items():
        member = found.get(member_id)
        if member is None:  # unknown, or another tenant's: rule 6
            raise NotFound("No such member in this tenant.", reason="MEMBER_NOT_FOUND")
        if member[2] not in ("active", "pending"):
            raise invalid(**{field_name: "is not an active member of this tenant"})
        if wanted[field_name] not in member[1]:
            raise invalid(
                **{
                    field_name: Problem(
                        "must be a member with the %(role)s role", role=wanted[field_name]
                    )
                }
            )
        if wanted[field_name] == "coach" and not overseers and oversees(member):
            raise invalid(**{field_name: OVERSEER_IN_SET_UP})
