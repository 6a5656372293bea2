"""The repositories of reporting's facts: one upsert kept by sequence, and the reads of one
tenant's facts as the domain's values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.kernel.space_copy import ERASED_PERSON

from ..domain import facts as f
from . import tables as t


class FactStore:
    """One table of facts, keyed by the object's id."""

    table: Table
    # Columns that keep their first value once set (the month something first happened).
    keep_first: tuple[str, ...] = ()

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def apply(self, key: str, sequence: int, values: Mapping[str, Any]) -> bool:
        """Insert the fact, or replace it if `sequence` is newer than the stored one (an older
        event arriving late changes nothing; the same event again neither). True if applied."""
        table = self.table
        (key_column,) = table.primary_key.columns
        row = {key_column.name: key, "sequence": sequence, **values}
        statement = pg_insert(table).values(**row)
        changes = {
            name: (
                func.coalesce(table.c[name], statement.excluded[name])
                if name in self.keep_first
                else statement.excluded[name]
            )
            for name in (*values, "sequence")
        }
        applied = self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[key_column],
                set_=changes,
                where=table.c.sequence < statement.excluded.sequence,
            ).returning(key_column)
        ).first()
        return applied is not None

    def rows_of(self, tenant_id: str) -> Iterable[Any]:
        return self.connection.execute(
            select(self.table).where(self.table.c.tenant_id == tenant_id)
        )

    def clear(self, tenant_id: str | None) -> int:
        """Rebuilding from a republish: delete the facts of one tenant (or of every tenant);
        how many were deleted."""
        statement = delete(self.table)
        if tenant_id is not None:
            statement = statement.where(self.table.c.tenant_id == tenant_id)
        return int(self.connection.execute(statement).rowcount)

    def forget_person(self, person_id: str, column: str = "coachee_person_id") -> None:
        """Erasure: the person's id, where it stands, becomes ERASED_PERSON."""
        self.connection.execute(
            update(self.table)
            .where(self.table.c[column] == person_id)
            .values({column: ERASED_PERSON})
        )


class Members(FactStore):
    table = t.members

    def of_tenant(self, tenant_id: str) -> list[f.Member]:
        return [_member(r) for r in self.rows_of(tenant_id)]

    def of_person(self, tenant_id: str, person_id: str) -> f.Member | None:
        m = t.members
        row = self.connection.execute(
            select(m).where(m.c.tenant_id == tenant_id, m.c.person_id == person_id)
        ).first()
        return _member(row) if row else None

    def all_of_person(self, person_id: str) -> list[f.Member]:
        m = t.members
        return [
            _member(r) for r in self.connection.execute(select(m).where(m.c.person_id == person_id))
        ]

    def erase(self, person_id: str) -> None:
        """The memberships stay (their sequence keeps older events out) but tie to no one and
        carry no attribute any more."""
        self.connection.execute(
            update(t.members)
            .where(t.members.c.person_id == person_id)
            .values(
                person_id=ERASED_PERSON, status="erased", department=None, site=None, programme=None
            )
        )


class Spaces(FactStore):
    table = t.spaces

    def of_tenant(self, tenant_id: str) -> list[f.Space]:
        return [
            f.Space(
                space_id=r.space_id,
                tenant_id=r.tenant_id,
                coachee_person_id=r.coachee_person_id,
                status=r.status,
                sessions_planned=r.sessions_planned,
                starts_on=r.starts_on,
                ends_on=r.ends_on,
            )
            for r in self.rows_of(tenant_id)
        ]

    def count_of_coachee(self, person_id: str) -> int:
        s = t.spaces
        found = self.connection.execute(
            select(func.count()).where(s.c.coachee_person_id == person_id)
        ).scalar_one()
        return int(found)


class Sessions(FactStore):
    table = t.sessions

    def of_tenant(self, tenant_id: str) -> list[f.Session]:
        return [
            f.Session(
                session_id=r.session_id,
                tenant_id=r.tenant_id,
                space_id=r.space_id,
                coachee_person_id=r.coachee_person_id,
                status=r.status,
                starts_at=r.starts_at,
                late=r.late,
                uses_session=r.uses_session,
            )
            for r in self.rows_of(tenant_id)
        ]


class Goals(FactStore):
    table = t.goals

    def of_tenant(self, tenant_id: str) -> list[f.Goal]:
        return [
            f.Goal(r.goal_id, r.tenant_id, r.space_id, r.achieved_at)
            for r in self.rows_of(tenant_id)
        ]


class Tools(FactStore):
    table = t.tools

    def of_tenant(self, tenant_id: str) -> list[f.Tool]:
        return [
            f.Tool(r.tool_id, r.tenant_id, r.space_id, r.state, r.done)
            for r in self.rows_of(tenant_id)
        ]


class Assessments(FactStore):
    table = t.assessments
    keep_first = ("assigned_at", "submitted_at")

    def of_tenant(self, tenant_id: str) -> list[f.Assessment]:
        return [
            f.Assessment(
                r.assignment_id, r.tenant_id, r.space_id, r.status, r.assigned_at, r.submitted_at
            )
            for r in self.rows_of(tenant_id)
        ]


class Modules(FactStore):
    table = t.modules
    keep_first = ("started_at", "completed_at")

    def of_tenant(self, tenant_id: str) -> list[f.ModuleProgress]:
        return [
            f.ModuleProgress(
                r.assignment_id,
                r.tenant_id,
                r.space_id,
                r.coachee_person_id,
                r.status,
                r.started_at,
                r.completed_at,
            )
            for r in self.rows_of(tenant_id)
        ]


class Counts(FactStore):
    """A table of counts kept per space (migration 0004), never applied here: each fact
    table's trigger keeps it right. Only a rebuild clears it, after the facts (whose deletes
    have brought its counts to zero)."""


class SpaceMonths(Counts):
    table = t.space_months


class SpaceTools(Counts):
    table = t.space_tools


class SpaceYears(Counts):
    """Mirrored from space_months by its own trigger (migration 0005)."""

    table = t.space_years


def _member(r: Any) -> f.Member:
    return f.Member(
        member_id=r.member_id,
        tenant_id=r.tenant_id,
        person_id=r.person_id,
        roles=tuple(r.roles),
        status=r.status,
        department=r.department,
        site=r.site,
        programme=r.programme,
    )
