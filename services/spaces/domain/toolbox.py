"""A space's toolbox: the tools its coach puts in it and when each one opens to the coachee.
Plain Python, no infrastructure (ADR 0018).

A tool is an assessment, a resource, a module (each a target served by its own service), the
space's video room, or a note template (kept here). Each has an unlock rule, the AND of its
conditions: on a date (00:00 of that date in the coachee's time zone, fixed as an instant when
the rule is set: `unlocks_at`), after N sessions held, after another tool of the space is done,
by hand (only an explicit unlock). An empty rule unlocks at once.

Decisions (ADR 0018): an unlocked tool is never locked again by facts changing (attendance
corrected from held to no-show or cancelled); a tool the coach locked stays locked until the
coach unlocks it (its rule no longer applies to it); an explicit unlock opens a tool whatever
its rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from services.kernel.errors import FailedPrecondition, NotFound, Problem, invalid
from services.kernel.ids import new_id

ASSESSMENT, RESOURCE, MODULE, VIDEO_ROOM, NOTE_TEMPLATE = (
    "assessment",
    "resource",
    "module",
    "video_room",
    "note_template",
)
KINDS = (ASSESSMENT, RESOURCE, MODULE, VIDEO_ROOM, NOTE_TEMPLATE)
TARGETED = (ASSESSMENT, RESOURCE, MODULE)  # served by assessment or content: a target id
LOCKED, UNLOCKED, REMOVED = "locked", "unlocked", "removed"

LABEL_LIMIT = 200
TEMPLATE_LIMIT = 20_000
MAX_SESSIONS_HELD = 200
MAX_TOOLS = 100  # per space

# The reasons a locked tool gives the coachee (ListTools): one per condition still unmet.
ON_DATE, AFTER_SESSIONS_HELD, AFTER_TOOL_DONE, BY_HAND, LOCKED_BY_COACH = (
    "on_date",
    "after_sessions_held",
    "after_tool_done",
    "by_hand",
    "locked_by_coach",
)


@dataclass(frozen=True)
class Rule:
    """The AND of its conditions; none: unlocked now."""

    on_date: date | None = None
    after_sessions_held: int | None = None
    after_tool_id: str | None = None
    by_hand: bool = False

    def check(self) -> Rule:
        n = self.after_sessions_held
        if n is not None and not 1 <= n <= MAX_SESSIONS_HELD:
            raise invalid(
                **{"rule.after_sessions_held": Problem("between 1 and %(n)s", n=MAX_SESSIONS_HELD)}
            )
        return self

    @property
    def empty(self) -> bool:
        return self == Rule()

    def as_dict(self) -> dict[str, Any]:
        return {
            "on_date": self.on_date.isoformat() if self.on_date else None,
            "after_sessions_held": self.after_sessions_held,
            "after_tool_id": self.after_tool_id,
            "by_hand": self.by_hand,
        }


@dataclass(frozen=True)
class Facts:
    """What a space's rules are evaluated against."""

    now: datetime
    sessions_held: int = 0
    done_tools: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reason:
    """A condition still unmet, for the coachee to read ("after your 2nd session", "from
    12 March"): its kind and the one value it waits for."""

    kind: str
    on_date: date | None = None
    sessions_held: int | None = None
    tool_id: str | None = None


@dataclass
class Tool:
    id: str
    space_id: str
    tenant_id: str
    kind: str
    target_id: str | None
    label: str
    template: str  # a note template's text ("" for other kinds)
    position: int
    state: str
    done: bool
    rule: Rule
    # The instant `rule.on_date` begins in the coachee's zone (set with the rule).
    unlocks_at: datetime | None
    locked_by_coach: bool
    created_at: datetime
    updated_at: datetime
    unlocked_at: datetime | None = None

    @classmethod
    def create(
        cls,
        space_id: str,
        tenant_id: str,
        kind: str,
        target_id: str | None,
        label: str,
        template: str,
        rule: Rule,
        unlocks_at: datetime | None,
        position: int,
        now: datetime,
    ) -> Tool:
        if kind not in KINDS:
            raise invalid(kind="ASSESSMENT, RESOURCE, MODULE, VIDEO_ROOM or NOTE_TEMPLATE")
        if kind in TARGETED and not target_id:
            raise invalid(target_id="is required for this kind of tool")
        if kind not in TARGETED and target_id:
            raise invalid(target_id="only assessments, resources and modules have one")
        if kind != NOTE_TEMPLATE and template:
            raise invalid(template="only a note template has one")
        if kind == NOTE_TEMPLATE and not template.strip():
            raise invalid(template="is required for a note template")
        return cls(
            new_id("tol"),
            space_id,
            tenant_id,
            kind,
            target_id or None,
            check_label(label),
            check_template(template),
            position,
            LOCKED,
            False,
            rule.check(),
            unlocks_at if rule.on_date else None,
            False,
            now,
            now,
        )

    @property
    def live(self) -> bool:
        return self.state != REMOVED

    def waiting_for(self, facts: Facts) -> list[Reason]:
        """The conditions of its rule still unmet (none: it may unlock)."""
        rule, out = self.rule, []
        if rule.on_date is not None and (self.unlocks_at is None or facts.now < self.unlocks_at):
            out.append(Reason(ON_DATE, on_date=rule.on_date))
        n = rule.after_sessions_held
        if n is not None and facts.sessions_held < n:
            out.append(Reason(AFTER_SESSIONS_HELD, sessions_held=n))
        if rule.after_tool_id is not None and rule.after_tool_id not in facts.done_tools:
            out.append(Reason(AFTER_TOOL_DONE, tool_id=rule.after_tool_id))
        if rule.by_hand:
            out.append(Reason(BY_HAND))
        return out

    def reasons(self, facts: Facts) -> list[Reason]:
        """Why a locked tool is locked, for the coachee (none once unlocked or removed)."""
        if self.state != LOCKED:
            return []
        if self.locked_by_coach:
            return [Reason(LOCKED_BY_COACH)]
        return self.waiting_for(facts)

    def evaluate(self, facts: Facts) -> bool:
        """Unlocks it if its rule is met now; True if it did. A tool the coach locked, an
        unlocked or a removed one does not change (an unlocked tool is never locked again by
        its rule)."""
        if self.state != LOCKED or self.locked_by_coach or self.waiting_for(facts):
            return False
        self._unlock(facts.now)
        return True

    def _unlock(self, now: datetime) -> None:
        self.state, self.locked_by_coach = UNLOCKED, False
        self.unlocked_at = self.updated_at = now

    def unlock(self, now: datetime) -> bool:
        """The coach opens it now, whatever its rule; True if it changed."""
        self._alive()
        if self.state == UNLOCKED:
            return False
        self._unlock(now)
        return True

    def lock(self, now: datetime) -> bool:
        """The coach locks it: it stays locked until they unlock it; True if it was unlocked
        (a locked tool only stops following its rule)."""
        self._alive()
        was = self.state == UNLOCKED
        self.state, self.locked_by_coach, self.updated_at = LOCKED, True, now
        return was

    def remove(self, now: datetime) -> None:
        self._alive()
        self.state, self.updated_at = REMOVED, now

    def mark_done(self, now: datetime) -> bool:
        """Its work was done (an assessment submitted, ...); True the first time."""
        if self.done or not self.live:
            return False
        self.done, self.updated_at = True, now
        return True

    def change(
        self,
        now: datetime,
        label: str | None = None,
        template: str | None = None,
        rule: Rule | None = None,
        unlocks_at: datetime | None = None,
    ) -> None:
        self._alive()
        if label is not None:
            self.label = check_label(label)
        if template is not None:
            if self.kind != NOTE_TEMPLATE and template:
                raise invalid(template="only a note template has one")
            if self.kind == NOTE_TEMPLATE and not template.strip():
                raise invalid(template="is required for a note template")
            self.template = check_template(template)
        if rule is not None:
            self.rule = rule.check()
            self.unlocks_at = unlocks_at if rule.on_date else None
        self.updated_at = now

    def _alive(self) -> None:
        if not self.live:
            raise tool_not_found()


def check_label(label: str) -> str:
    label = label.strip()
    if not label:
        raise invalid(label="is required")
    if len(label) > LABEL_LIMIT:
        raise invalid(label=Problem("at most %(n)s characters", n=LABEL_LIMIT))
    return label


def check_template(template: str) -> str:
    if len(template) > TEMPLATE_LIMIT:
        raise invalid(template=Problem("at most %(n)s characters", n=TEMPLATE_LIMIT))
    return template


@dataclass
class Toolbox:
    """A space's tools, in order (removed ones kept, out of the order)."""

    space_id: str
    tools: list[Tool] = field(default_factory=list)

    @property
    def live(self) -> list[Tool]:
        return sorted((t for t in self.tools if t.live), key=lambda t: (t.position, t.id))

    def get(self, tool_id: str) -> Tool:
        for tool in self.tools:
            if tool.id == tool_id and tool.live:
                return tool
        raise tool_not_found()

    def done_ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.tools if t.done)

    def _check_rule(self, tool_id: str, rule: Rule) -> None:
        """`after_tool_id` names another live tool of this toolbox, and no cycle follows."""
        after = rule.after_tool_id
        if after is None:
            return
        if after == tool_id:
            raise invalid(**{"rule.after_tool_id": "a tool cannot wait for itself"})
        if after not in {t.id for t in self.live}:
            raise invalid(**{"rule.after_tool_id": "is no tool of this space"})
        waits = {t.id: t.rule.after_tool_id for t in self.live}
        waits[tool_id] = after
        seen: set[str] = {tool_id}
        at: str | None = after
        while at is not None:
            if at in seen:
                raise invalid(**{"rule.after_tool_id": "would make tools wait for each other"})
            seen.add(at)
            at = waits.get(at)

    def add(self, tool: Tool) -> Tool:
        if len(self.live) >= MAX_TOOLS:
            raise FailedPrecondition(
                f"A space holds at most {MAX_TOOLS} tools.", reason="TOOLBOX_FULL"
            )
        if tool.target_id is not None and any(
            t.kind == tool.kind and t.target_id == tool.target_id for t in self.live
        ):
            raise FailedPrecondition(
                "This target is already a tool of this space.", reason="TOOL_EXISTS"
            )
        self._check_rule(tool.id, tool.rule)
        tool.position = len(self.live)
        self.tools.append(tool)
        return tool

    def change_rule(self, tool: Tool, rule: Rule) -> None:
        self._check_rule(tool.id, rule)

    def move(self, tool: Tool, position: int, now: datetime) -> list[Tool]:
        """`tool` to `position` (0: first; past the end: last); the tools whose position
        changed."""
        order = [t for t in self.live if t.id != tool.id]
        order.insert(max(0, min(position, len(order))), tool)
        moved = []
        for i, t in enumerate(order):
            if t.position != i:
                t.position, t.updated_at = i, now
                moved.append(t)
        return moved

    def remove(self, tool: Tool, now: datetime) -> list[Tool]:
        """Takes it out; the tools after it move up (returned, with it). Refused while a live
        tool waits for it to be done."""
        if any(t.rule.after_tool_id == tool.id and t.state == LOCKED for t in self.live):
            raise FailedPrecondition(
                "Another tool waits for this one to be done: change its rule first.",
                reason="TOOL_WAITED_FOR",
            )
        tool.remove(now)
        changed = [tool]
        for i, t in enumerate(self.live):
            if t.position != i:
                t.position, t.updated_at = i, now
                changed.append(t)
        return changed

    def evaluate(self, facts: Facts) -> list[Tool]:
        """The tools whose rule is met now, unlocked (in order)."""
        facts = replace(facts, done_tools=facts.done_tools | self.done_ids())
        return [t for t in self.live if t.evaluate(facts)]


def tool_not_found() -> NotFound:
    return NotFound("No such tool in this space.", reason="TOOL_NOT_FOUND")
