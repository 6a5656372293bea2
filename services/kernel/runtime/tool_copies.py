"""The tool-copy pattern, once: a service that serves the targets of a space's toolbox
(assessment's assignments, content's recommendations and module assignments) keeps a copy of
each tool from spaces' `spaces.tool_*` events, subclasses `ToolCopies` and writes `record_tool`
(usually `uow.tools.apply(tool_copy_of(event, envelope))` for the kinds it serves). Each event of
`TOOL_EVENTS` has one declared handler here, so its queue is `<service>.on_spaces_<event>` in
every such service, and tests/unit/test_tool_copies.py fails when the contract gains one without
a handler.

The copy is keyed by tool id and ordered by the envelope's sequence (spaces numbers each tool's
events): an older event never overwrites a newer one. It is independent of whether the target
exists yet: a tool added before its target is created gates it from its first read.

Import the module, not the class, into a service module: `nameko run` takes every class with
entrypoints in the module it runs for a service.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.contracts import spaces as sc
from services.kernel.events import Envelope
from services.kernel.tool_copy import ToolCopy, supersedes

from .eventing import on_event


def tool_copies_table(metadata: MetaData) -> Table:
    """The `tools` table of a service that serves toolbox targets: each tool's newest state."""
    return Table(
        "tools",
        metadata,
        Column("tool_id", String(40), primary_key=True),
        Column("space_id", String(40), nullable=False),
        Column("tenant_id", String(40), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("target_id", String(128)),
        Column("state", String(16), nullable=False),
        Column("done", Boolean, nullable=False),
        Column("sequence", BigInteger, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Index("ix_tools_target", "kind", "target_id"),
    )


def tool_copy_of(event: sc.ToolEvent, envelope: Envelope) -> ToolCopy:
    return ToolCopy(
        tool_id=event.tool_id,
        space_id=event.space_id,
        tenant_id=event.tenant_id,
        kind=str(event.kind),
        target_id=event.target_id,
        state=str(event.state),
        done=event.done,
        sequence=envelope.sequence,
        updated_at=event.updated_at,
    )


class ToolCopyStore:
    """The repository of a `tool_copies_table`."""

    def __init__(self, connection: Connection, table: Table) -> None:
        self.connection = connection
        self.table = table

    def get(self, tool_id: str) -> ToolCopy | None:
        t = self.table
        row = self.connection.execute(select(t).where(t.c.tool_id == tool_id)).first()
        return _tool(row) if row else None

    def apply(self, copy: ToolCopy) -> bool:
        """Keep the newest state by sequence; whether it was kept. Two events of one new tool
        may arrive at once: the insert skips a row another transaction inserted (waiting for it
        to commit), then the row is locked and compared."""
        t = self.table
        values = {
            "space_id": copy.space_id,
            "tenant_id": copy.tenant_id,
            "kind": copy.kind,
            "target_id": copy.target_id,
            "state": copy.state,
            "done": copy.done,
            "sequence": copy.sequence,
            "updated_at": copy.updated_at,
        }
        inserted = self.connection.execute(
            pg_insert(t)
            .values(tool_id=copy.tool_id, **values)
            .on_conflict_do_nothing(index_elements=[t.c.tool_id])
            .returning(t.c.tool_id)
        ).first()
        if inserted is not None:
            return True
        row = self.connection.execute(
            select(t).where(t.c.tool_id == copy.tool_id).with_for_update()
        ).one()
        if not supersedes(copy, _tool(row)):
            return False
        self.connection.execute(update(t).where(t.c.tool_id == copy.tool_id).values(**values))
        return True

    def of_target(self, kind: str, target_id: str) -> list[ToolCopy]:
        """The tools, of any space, that name this target."""
        t = self.table
        rows = self.connection.execute(
            select(t).where(t.c.kind == kind, t.c.target_id == target_id)
        )
        return [_tool(r) for r in rows]

    def of_targets(self, kind: str, target_ids: Iterable[str]) -> dict[str, list[ToolCopy]]:
        """The tools naming each of these targets (a target named by none is absent)."""
        ids = sorted(set(target_ids))
        if not ids:
            return {}
        t = self.table
        found: dict[str, list[ToolCopy]] = {}
        rows = self.connection.execute(select(t).where(t.c.kind == kind, t.c.target_id.in_(ids)))
        for r in rows:
            found.setdefault(r.target_id, []).append(_tool(r))
        return found


def _tool(r: Any) -> ToolCopy:
    return ToolCopy(
        tool_id=r.tool_id,
        space_id=r.space_id,
        tenant_id=r.tenant_id,
        kind=r.kind,
        target_id=r.target_id,
        state=r.state,
        done=r.done,
        sequence=r.sequence,
        updated_at=r.updated_at,
    )


class ToolCopies:
    """One handler per `ToolEvent`, each applying the event in the service's unit of work."""

    def record_tool(self, uow: Any, event: sc.ToolEvent, envelope: Envelope) -> None:
        raise NotImplementedError

    @on_event(sc.ToolAdded)
    def on_spaces_tool_added(self, uow: Any, event: sc.ToolAdded, envelope: Envelope) -> None:
        self.record_tool(uow, event, envelope)

    @on_event(sc.ToolUnlocked)
    def on_spaces_tool_unlocked(self, uow: Any, event: sc.ToolUnlocked, envelope: Envelope) -> None:
        self.record_tool(uow, event, envelope)

    @on_event(sc.ToolLocked)
    def on_spaces_tool_locked(self, uow: Any, event: sc.ToolLocked, envelope: Envelope) -> None:
        self.record_tool(uow, event, envelope)

    @on_event(sc.ToolRemoved)
    def on_spaces_tool_removed(self, uow: Any, event: sc.ToolRemoved, envelope: Envelope) -> None:
        self.record_tool(uow, event, envelope)

    @on_event(sc.ToolDone)
    def on_spaces_tool_done(self, uow: Any, event: sc.ToolDone, envelope: Envelope) -> None:
        self.record_tool(uow, event, envelope)
