"""A space's goals and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.contracts import spaces as c
from services.kernel.caller import Caller, member_of
from services.kernel.crypto import MasterKey

from ..domain.goals import EDITABLE, Goal, goal_not_found
from ..domain.model import (
    Space,
)
from ..storage.goals import Goals
from ..storage.spaces import Spaces
from ..storage.unit import Db
from .access import content_relation, writable
from .views import goal_view


def space_goals(repo: Spaces, space: Space) -> Goals:
    return repo.goals_of(space)


def _goal_values(given: c.GoalInput, fields: list[str]) -> dict[str, Any]:
    values = given.model_dump()
    return {name: values[name] for name in fields}


def create_goal(db: Db, master: MasterKey, caller: Caller, request: c.CreateGoalRequest) -> c.Goal:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, _ = content_relation(uow, master, who, request)
        writable(space)
        now = uow.clock.now()
        values = _goal_values(request.goal, list(EDITABLE))
        goal = Goal.create(space.id, space.tenant_id, values, who.person_id, now)
        achieved = goal.achieved_now(now)
        created = {k: [None, v] for k, v in goal_view(goal).model_dump(mode="json").items()}
        space_goals(repo, space).add(goal, {k: created[k] for k in (*EDITABLE, "status")})
        if achieved:
            uow.record(_achieved(goal, now))
    return goal_view(goal)


def _achieved(goal: Goal, now: datetime) -> c.GoalAchieved:
    return c.GoalAchieved(
        goal_id=goal.id, space_id=goal.space_id, tenant_id=goal.tenant_id, achieved_at=now
    )


def _goal_of(
    goals: Goals, ref: Any, hidden_before: datetime | None, *, for_update: bool = False
) -> Goal:
    """`hidden_before`: a goal set before a late coach joined is not theirs to see yet."""
    goal = goals.get(ref.space_id, ref.goal_id, for_update=for_update)
    if goal is None or goal.hidden_by(hidden_before):
        raise goal_not_found()
    return goal


def update_goal(db: Db, master: MasterKey, caller: Caller, request: c.UpdateGoalRequest) -> c.Goal:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = content_relation(uow, master, who, request)
        writable(space)
        goals = space_goals(repo, space)
        goal = _goal_of(goals, request, space.earlier_hidden_from(relation), for_update=True)
        now = uow.clock.now()
        before = goal.status
        changes = goal.apply(_goal_values(request.goal, list(request.update_mask)))
        achieved = goal.achieved_now(now)
        if goal.status != before:
            changes["status"] = [before, goal.status]
        if changes:
            goal.updated_at = now
            goals.save(goal, who.person_id, changes)
        if achieved:
            uow.record(_achieved(goal, now))
    return goal_view(goal)


def archive_goal(db: Db, master: MasterKey, caller: Caller, request: c.GoalRef) -> c.Goal:
    who = member_of(caller, request.tenant_id)
    with db.unit_of_work() as uow:
        repo, space, relation = content_relation(uow, master, who, request)
        writable(space)
        goals = space_goals(repo, space)
        goal = _goal_of(goals, request, space.earlier_hidden_from(relation), for_update=True)
        before = goal.status
        goal.archive()
        goal.updated_at = uow.clock.now()
        goals.save(goal, who.person_id, {"status": [before, goal.status]})
    return goal_view(goal)


def get_goal(db: Db, master: MasterKey, caller: Caller, request: c.GoalRef) -> c.Goal:
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        repo, space, relation = content_relation(uow, master, who, request)
        goal = _goal_of(space_goals(repo, space), request, space.earlier_hidden_from(relation))
    return goal_view(goal)


def list_goals(
    db: Db, master: MasterKey, caller: Caller, request: c.ListGoalsRequest
) -> c.GoalList:
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        repo, space, relation = content_relation(uow, master, who, request)
        found, nxt = space_goals(repo, space).of_space(
            space.id,
            request.effective_page_size(),
            request.page_token,
            since=space.earlier_hidden_from(relation),
        )
    return c.GoalList(goals=[goal_view(g) for g in found], next_page_token=nxt)


def goal_history(
    db: Db, master: MasterKey, caller: Caller, request: c.GoalHistoryRequest
) -> c.GoalHistory:
    """Every change of the goal, oldest first: who, when, each field's before and after."""
    who = member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        repo, space, relation = content_relation(uow, master, who, request)
        goals = space_goals(repo, space)
        goal = _goal_of(goals, request, space.earlier_hidden_from(relation))
        rows, nxt = goals.history(goal.id, request.effective_page_size(), request.page_token)
    return c.GoalHistory(changes=[c.GoalChange(**r) for r in rows], next_page_token=nxt)


def all_goals_with_history(repo: Spaces, space: Space) -> list[dict[str, Any]]:
    goals = space_goals(repo, space)
    found: list[dict[str, Any]] = []
    token = ""
    while True:
        page, token = goals.of_space(space.id, 500, token)
        for goal in page:
            entry = goal_view(goal).model_dump(mode="json")
            entry["history"] = []
            more = ""
            while True:
                changes, more = goals.history(goal.id, 500, more)
                entry["history"] += [c.GoalChange(**ch).model_dump(mode="json") for ch in changes]
                if not more:
                    break
            found.append(entry)
        if not token:
            return found
