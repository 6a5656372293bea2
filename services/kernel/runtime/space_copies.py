"""The space-copy pattern, once: a service that keeps its own copy of who coaches whom in each
space (scheduling's space copies, identity's coach links) subclasses `SpaceCopies` and writes
`record_space`. Each event of the spaces contract that carries a space's set-up has one declared
handler here, so its queue is `<service>.on_spaces_<event>` in every such service, and
tests/unit/test_space_copies.py fails when the contract gains one without a handler.

    class SchedulingService(space_copies.SpaceCopies):  # the module, not the class: see below
        def record_space(self, uow, event, envelope):
            spaces.record_space(uow, event)

Import the module, not the class, into a service module: `nameko run` takes every class with
entrypoints in the module it runs for a service.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, DateTime, MetaData, String, Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.contracts import spaces as sc
from services.kernel.events import Envelope
from services.kernel.space_copy import ERASED_PERSON, SpaceCopy

from .eventing import on_event


def space_copies_table(metadata: MetaData) -> Table:
    """The `spaces` table of a service that keeps who is in each space and its status."""
    return Table(
        "spaces",
        metadata,
        Column("space_id", String(40), primary_key=True),
        Column("tenant_id", String(40), nullable=False),
        Column("status", String(16), nullable=False),
        Column("coachee_person_id", String(40), nullable=False),
        Column("coach_person_id", String(40), nullable=False),
        Column("co_coach_person_id", String(40)),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )


def copy_of(event: sc.SpaceEvent) -> SpaceCopy:
    return SpaceCopy(
        space_id=event.space_id,
        tenant_id=event.tenant_id,
        status=str(event.status),
        coachee_person_id=event.coachee_person_id,
        coach_person_id=event.coach_person_id,
        co_coach_person_id=event.co_coach_person_id,
        updated_at=event.updated_at,
    )


class SpaceCopyStore:
    """The repository of a `space_copies_table`."""

    def __init__(self, connection: Connection, table: Table) -> None:
        self.connection = connection
        self.table = table

    def get(self, space_id: str) -> SpaceCopy | None:
        t = self.table
        row = self.connection.execute(select(t).where(t.c.space_id == space_id)).first()
        return _space(row) if row else None

    def apply(self, copy: SpaceCopy) -> None:
        """Keep the newest state (an older event arriving late changes nothing). Two events of
        one new space may arrive at once: the insert skips a row another transaction inserted
        (waiting for it to commit), then the row is locked and compared."""
        t = self.table
        values = {
            "tenant_id": copy.tenant_id,
            "status": copy.status,
            "coachee_person_id": copy.coachee_person_id,
            "coach_person_id": copy.coach_person_id,
            "co_coach_person_id": copy.co_coach_person_id,
            "updated_at": copy.updated_at,
        }
        inserted = self.connection.execute(
            pg_insert(t)
            .values(space_id=copy.space_id, **values)
            .on_conflict_do_nothing(index_elements=[t.c.space_id])
            .returning(t.c.space_id)
        ).first()
        if inserted is not None:
            return
        row = self.connection.execute(
            select(t).where(t.c.space_id == copy.space_id).with_for_update()
        ).one()
        if row.updated_at > copy.updated_at:
            return
        self.connection.execute(update(t).where(t.c.space_id == copy.space_id).values(**values))

    def of_coachee(self, person_id: str) -> list[SpaceCopy]:
        t = self.table
        rows = self.connection.execute(select(t).where(t.c.coachee_person_id == person_id))
        return [_space(r) for r in rows]

    def anonymise(self, person_id: str) -> None:
        """Erasure: the person's id, wherever it stands, becomes ERASED_PERSON."""
        t = self.table
        for column in ("coachee_person_id", "coach_person_id", "co_coach_person_id"):
            self.connection.execute(
                update(t).where(t.c[column] == person_id).values({column: ERASED_PERSON})
            )


def _space(r: Any) -> SpaceCopy:
    return SpaceCopy(
        space_id=r.space_id,
        tenant_id=r.tenant_id,
        status=r.status,
        coachee_person_id=r.coachee_person_id,
        coach_person_id=r.coach_person_id,
        co_coach_person_id=r.co_coach_person_id,
        updated_at=r.updated_at,
    )


class SpaceCopies:
    """One handler per `SpaceEvent`, each applying the event in the service's unit of work."""

    def record_space(self, uow: Any, event: sc.SpaceEvent, envelope: Envelope) -> None:
        raise NotImplementedError

    @on_event(sc.SpaceCreated)
    def on_spaces_space_created(self, uow: Any, event: sc.SpaceCreated, envelope: Envelope) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpaceActivated)
    def on_spaces_space_activated(
        self, uow: Any, event: sc.SpaceActivated, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpacePaused)
    def on_spaces_space_paused(self, uow: Any, event: sc.SpacePaused, envelope: Envelope) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpaceResumed)
    def on_spaces_space_resumed(self, uow: Any, event: sc.SpaceResumed, envelope: Envelope) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpaceCompleted)
    def on_spaces_space_completed(
        self, uow: Any, event: sc.SpaceCompleted, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpaceArchived)
    def on_spaces_space_archived(
        self, uow: Any, event: sc.SpaceArchived, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.SpaceSetUpChanged)
    def on_spaces_space_set_up_changed(
        self, uow: Any, event: sc.SpaceSetUpChanged, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.CoachChanged)
    def on_spaces_coach_changed(self, uow: Any, event: sc.CoachChanged, envelope: Envelope) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.CoCoachChanged)
    def on_spaces_co_coach_changed(
        self, uow: Any, event: sc.CoCoachChanged, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)

    @on_event(sc.CoachChangeProposed)
    def on_spaces_coach_change_proposed(
        self, uow: Any, event: sc.CoachChangeProposed, envelope: Envelope
    ) -> None:
        self.record_space(uow, event, envelope)
