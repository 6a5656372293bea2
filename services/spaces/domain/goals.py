"""Goals of a space, with milestones, due dates and progress; every change is kept as history
(who, when, what changed) to show progress over time. Plain Python, no infrastructure.

Coach, co-coach and coachee create and edit them; HR never sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.kernel.errors import FailedPrecondition, NotFound, Problem, invalid
from services.kernel.ids import new_id

OPEN, ACHIEVED, ARCHIVED = "open", "achieved", "archived"
TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 4000
MAX_MILESTONES = 20
EDITABLE = ("title", "description", "due_on", "progress", "milestones")


@dataclass
class Milestone:
    id: str
    title: str
    due_on: date | None = None
    done: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "done": self.done,
        }

    @classmethod
    def of(cls, d: dict[str, Any]) -> Milestone:
        due = d.get("due_on")
        return cls(d["id"], d["title"], date.fromisoformat(due) if due else None, d["done"])


def _title(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise invalid(**{name: "is required"})
    if len(value) > TITLE_LIMIT:
        raise invalid(**{name: Problem("at most %(n)s characters", n=TITLE_LIMIT)})
    return value


def check_milestones(given: list[dict[str, Any]]) -> list[Milestone]:
    """Milestones as given (title, optional due date, done); an id kept, or a new one."""
    if len(given) > MAX_MILESTONES:
        raise invalid(milestones=Problem("at most %(n)s", n=MAX_MILESTONES))
    return [
        Milestone(
            m.get("id") or new_id("mil"),
            _title(m.get("title", ""), f"milestones[{i}].title"),
            m.get("due_on"),
            bool(m.get("done")),
        )
        for i, m in enumerate(given)
    ]


@dataclass
class Goal:
    id: str
    space_id: str
    tenant_id: str
    title: str
    description: str
    due_on: date | None
    progress: int
    status: str
    milestones: list[Milestone]
    created_by: str
    created_at: datetime
    updated_at: datetime
    history: list[dict[str, Any]] = field(default_factory=list)  # filled by reads that ask
    achieved_at: datetime | None = None  # when it last became achieved (kept when archived)

    def hidden_by(self, hidden_before: datetime | None) -> bool:
        """A goal set before a late coach joined is not theirs to see yet (`hidden_before`:
        `Space.earlier_hidden_from(relation)`)."""
        return hidden_before is not None and self.created_at < hidden_before

    @classmethod
    def create(
        cls,
        space_id: str,
        tenant_id: str,
        values: dict[str, Any],
        by: str,
        now: datetime,
    ) -> Goal:
        goal = cls(new_id("gol"), space_id, tenant_id, "", "", None, 0, OPEN, [], by, now, now)
        goal.apply({**{"progress": 0, "description": "", "milestones": []}, **values})
        return goal

    def apply(self, changes: dict[str, Any]) -> dict[str, list[Any]]:
        """Checks and applies `changes`; returns what changed: field -> [before, after]."""
        if self.status == ARCHIVED:
            raise FailedPrecondition("An archived goal cannot change.", reason="GOAL_ARCHIVED")
        changed: dict[str, list[Any]] = {}
        for name, value in changes.items():
            if name == "title":
                value = _title(value, "title")
            elif name == "description":
                if len(value) > DESCRIPTION_LIMIT:
                    raise invalid(
                        description=Problem("at most %(n)s characters", n=DESCRIPTION_LIMIT)
                    )
                value = value.strip()
            elif name == "progress":
                if not 0 <= value <= 100:
                    raise invalid(progress="a percentage, 0 to 100")
            elif name == "milestones":
                value = check_milestones(value)
            elif name != "due_on":
                raise invalid(update_mask=Problem("%(name)s cannot be changed", name=name))
            before = getattr(self, name)
            if before != value:
                changed[name] = [_plain(before), _plain(value)]
                setattr(self, name, value)
        return changed

    def achieved_now(self, now: datetime) -> bool:
        """Full progress makes an open goal achieved (once: the event says it once)."""
        if self.status == OPEN and self.progress == 100:
            self.status = ACHIEVED
            self.achieved_at = now
            return True
        if self.status == ACHIEVED and self.progress < 100:
            self.status = OPEN
            self.achieved_at = None
        return False

    def archive(self) -> None:
        if self.status == ARCHIVED:
            raise FailedPrecondition("This goal is already archived.", reason="GOAL_ARCHIVED")
        self.status = ARCHIVED


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [m.as_dict() if isinstance(m, Milestone) else m for m in value]
    return value


def goal_not_found() -> NotFound:
    return NotFound("No such goal.", reason="GOAL_NOT_FOUND")
