"""A space's goals and their change history, sealed with the space's data key."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    select,
    update,
)

from services.kernel.crypto import SecretKey
from services.kernel.ids import new_id
from services.kernel.runtime.pagination import keyset_page

from ..domain.goals import Goal, Milestone
from .tables import (
    goal_changes,
    goals,
)


class Goals:
    """A space's goals, sealed with the space's data key (`key`)."""

    def __init__(self, connection: Connection, key: SecretKey) -> None:
        self.connection = connection
        self.key = key

    def _seal(self, goal: Goal) -> str:
        body = {
            "title": goal.title,
            "description": goal.description,
            "milestones": [m.as_dict() for m in goal.milestones],
        }
        return self.key.seal_text(json.dumps(body), f"spaces.goal.{goal.id}")

    def _goal(self, r: Any) -> Goal:
        body = json.loads(self.key.open_text(r.sealed, f"spaces.goal.{r.id}"))
        return Goal(
            id=r.id,
            space_id=r.space_id,
            tenant_id=r.tenant_id,
            title=body["title"],
            description=body["description"],
            due_on=r.due_on,
            progress=r.progress,
            status=r.status,
            milestones=[Milestone.of(m) for m in body["milestones"]],
            created_by=r.created_by,
            created_at=r.created_at,
            updated_at=r.updated_at,
            achieved_at=r.achieved_at,
        )

    def add(self, goal: Goal, changes: dict[str, list[Any]]) -> None:
        self.connection.execute(
            goals.insert().values(
                id=goal.id,
                space_id=goal.space_id,
                tenant_id=goal.tenant_id,
                status=goal.status,
                progress=goal.progress,
                due_on=goal.due_on,
                sealed=self._seal(goal),
                created_by=goal.created_by,
                created_at=goal.created_at,
                updated_at=goal.updated_at,
                achieved_at=goal.achieved_at,
            )
        )
        self.record(goal, goal.created_by, goal.created_at, changes)

    def save(self, goal: Goal, by: str, changes: dict[str, list[Any]]) -> None:
        self.connection.execute(
            update(goals)
            .where(goals.c.id == goal.id)
            .values(
                status=goal.status,
                progress=goal.progress,
                due_on=goal.due_on,
                sealed=self._seal(goal),
                updated_at=goal.updated_at,
                achieved_at=goal.achieved_at,
            )
        )
        self.record(goal, by, goal.updated_at, changes)

    def record(self, goal: Goal, by: str, when: datetime, changes: dict[str, list[Any]]) -> None:
        change_id = new_id("gch")
        self.connection.execute(
            goal_changes.insert().values(
                id=change_id,
                goal_id=goal.id,
                changed_by=by,
                created_at=when,
                sealed=self.key.seal_text(json.dumps(changes), f"spaces.goal_change.{change_id}"),
            )
        )

    def get(self, space_id: str, goal_id: str, *, for_update: bool = False) -> Goal | None:
        query = select(goals).where(goals.c.id == goal_id, goals.c.space_id == space_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return self._goal(row) if row else None

    def of_space(
        self, space_id: str, size: int, token: str, since: datetime | None = None
    ) -> tuple[list[Goal], str]:
        """`since`: only goals created then or later (a coach who joined late)."""
        query = select(goals).where(goals.c.space_id == space_id)
        if since is not None:
            query = query.where(goals.c.created_at >= since)
        return keyset_page(self.connection, goals, query, size, token, self._goal)

    def history(self, goal_id: str, size: int, token: str) -> tuple[list[dict[str, Any]], str]:
        def entry(r: Any) -> dict[str, Any]:
            what = json.loads(self.key.open_text(r.sealed, f"spaces.goal_change.{r.id}"))
            return {"changed_by": r.changed_by, "changed_at": r.created_at, "changes": what}

        query = select(goal_changes).where(goal_changes.c.goal_id == goal_id)
        return keyset_page(self.connection, goal_changes, query, size, token, entry)


# ---------------------------------------------------------------- notes and their access log
