"""A space's toolbox (ADR 0018): its tools, their label and note template sealed with the
space's data key, and the mails their unlocks owe the coachee (claimed once across instances).

Without a key (`uow.tools`: the events and the sweep), tools are read with empty texts and
saved without touching them; `Spaces.tools_of(space)` reads and writes the texts too."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from services.kernel.crypto import SecretKey
from services.kernel.ids import new_id
from services.kernel.runtime.republish import id_page

from ..domain.toolbox import LOCKED, REMOVED, UNLOCKED, Rule, Tool, Toolbox
from .tables import tool_mails, tools


def tool_context(tool_id: str, space_id: str) -> str:
    """A tool's texts open only for that tool of that space."""
    return f"spaces.tool.{tool_id}.{space_id}"


class Tools:
    def __init__(self, connection: Connection, key: SecretKey | None = None) -> None:
        self.connection = connection
        self.key = key

    def _tool(self, r: Any) -> Tool:
        label, template = "", ""
        if self.key is not None:
            texts = json.loads(self.key.open_text(r.sealed, tool_context(r.id, r.space_id)))
            label, template = texts["label"], texts["template"]
        return Tool(
            id=r.id,
            space_id=r.space_id,
            tenant_id=r.tenant_id,
            kind=r.kind,
            target_id=r.target_id,
            label=label,
            template=template,
            position=r.position,
            state=r.state,
            done=r.done,
            rule=Rule(
                on_date=r.rule_on_date,
                after_sessions_held=r.rule_after_sessions_held,
                after_tool_id=r.rule_after_tool_id,
                by_hand=r.rule_by_hand,
            ),
            unlocks_at=r.unlocks_at,
            locked_by_coach=r.locked_by_coach,
            created_at=r.created_at,
            updated_at=r.updated_at,
            unlocked_at=r.unlocked_at,
        )

    def _state(self, tool: Tool) -> dict[str, Any]:
        return {
            "position": tool.position,
            "state": tool.state,
            "done": tool.done,
            "locked_by_coach": tool.locked_by_coach,
            "rule_on_date": tool.rule.on_date,
            "rule_after_sessions_held": tool.rule.after_sessions_held,
            "rule_after_tool_id": tool.rule.after_tool_id,
            "rule_by_hand": tool.rule.by_hand,
            "unlocks_at": tool.unlocks_at,
            "updated_at": tool.updated_at,
            "unlocked_at": tool.unlocked_at,
        }

    def _sealed(self, tool: Tool) -> str:
        assert self.key is not None, "Spaces.tools_of(space) to write a tool's texts"
        texts = json.dumps({"label": tool.label, "template": tool.template})
        return self.key.seal_text(texts, tool_context(tool.id, tool.space_id))

    def add(self, tool: Tool) -> None:
        self.connection.execute(
            tools.insert().values(
                id=tool.id,
                space_id=tool.space_id,
                tenant_id=tool.tenant_id,
                kind=tool.kind,
                target_id=tool.target_id,
                sealed=self._sealed(tool),
                created_at=tool.created_at,
                **self._state(tool),
            )
        )

    def save(self, tool: Tool, *, texts: bool = False) -> None:
        """Its state and rule; its texts too if `texts` (with a key)."""
        values = self._state(tool)
        if texts:
            values["sealed"] = self._sealed(tool)
        self.connection.execute(update(tools).where(tools.c.id == tool.id).values(**values))

    def ids_after(self, tenant_id: str | None, after: str, limit: int) -> list[str]:
        """Republishing's keyset page (services/kernel/runtime/republish.py)."""
        return id_page(self.connection, tools, tenant_id, after, limit)

    def get_many(self, tool_ids: list[str]) -> list[Tool]:
        """States and rules (labels too when this repository has a key)."""
        rows = self.connection.execute(
            select(tools).where(tools.c.id.in_(tool_ids)).order_by(tools.c.id)
        )
        return [self._tool(r) for r in rows]

    def toolbox(self, space_id: str, *, for_update: bool = False) -> Toolbox:
        """Every tool of the space, removed ones included (rows locked if `for_update`)."""
        query = select(tools).where(tools.c.space_id == space_id).order_by(tools.c.position)
        rows = self.connection.execute(query.with_for_update() if for_update else query)
        return Toolbox(space_id, [self._tool(r) for r in rows])

    def counts(self, space_ids: list[str]) -> dict[str, tuple[int, int]]:
        """Per space, (unlocked, all) of its tools not removed, for a coach's roster: one
        grouped query for all the spaces; a space without such tools is left out."""
        if not space_ids:
            return {}
        rows = self.connection.execute(
            select(
                tools.c.space_id,
                func.count().filter(tools.c.state == UNLOCKED).label("open"),
                func.count().label("total"),
            )
            .where(tools.c.space_id.in_(space_ids), tools.c.state != REMOVED)
            .group_by(tools.c.space_id)
        )
        return {r.space_id: (r.open, r.total) for r in rows}

    def spaces_of_target(self, tenant_id: str, kind: str, target_id: str) -> list[str]:
        rows = self.connection.execute(
            select(tools.c.space_id)
            .where(
                tools.c.tenant_id == tenant_id,
                tools.c.kind == kind,
                tools.c.target_id == target_id,
            )
            .distinct()
        )
        return [r.space_id for r in rows]

    def claim_due_spaces(self, now: datetime, limit: int = 50) -> list[tuple[str, str]]:
        """(tenant, space) of the tools whose date came, their rows locked and skipped by
        other instances' sweeps until this transaction ends (SKIP LOCKED)."""
        rows = self.connection.execute(
            select(tools.c.tenant_id, tools.c.space_id)
            .where(
                tools.c.state == LOCKED,
                tools.c.locked_by_coach.is_(False),
                tools.c.unlocks_at <= now,
            )
            .order_by(tools.c.unlocks_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        return sorted({(r.tenant_id, r.space_id) for r in rows})


class ToolMails:
    """The neutral mails owed to coachees for their tools unlocked."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def owe(self, tool: Tool, person_id: str, now: datetime) -> None:
        self.connection.execute(
            tool_mails.insert().values(
                id=new_id("tml"),
                tool_id=tool.id,
                space_id=tool.space_id,
                person_id=person_id,
                created_at=now,
            )
        )

    def claim(self, now: datetime, limit: int = 100) -> list[tuple[str, str, list[str]]]:
        """Claims the mails owed (each by one sweep only): (person, a space, claimed ids) per
        person, one mail each."""
        pending = (
            select(tool_mails.c.id)
            .where(tool_mails.c.claimed_at.is_(None))
            .order_by(tool_mails.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        rows = self.connection.execute(
            update(tool_mails)
            .where(and_(tool_mails.c.id.in_(pending), tool_mails.c.claimed_at.is_(None)))
            .values(claimed_at=now)
            .returning(tool_mails.c.id, tool_mails.c.person_id, tool_mails.c.space_id)
        ).all()
        out: dict[str, tuple[str, list[str]]] = {}
        for r in rows:
            out.setdefault(r.person_id, (r.space_id, []))[1].append(r.id)
        return [(person, space, ids) for person, (space, ids) in sorted(out.items())]

    def release(self, ids: list[str]) -> None:
        """The mail could not be sent: the next sweep tries again."""
        self.connection.execute(
            update(tool_mails).where(tool_mails.c.id.in_(ids)).values(claimed_at=None)
        )

    def erase(self, person_id: str) -> None:
        self.connection.execute(tool_mails.delete().where(tool_mails.c.person_id == person_id))
