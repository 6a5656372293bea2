"""Who coaches whom, per space, kept from the spaces service's events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..domain.model import LINKING_STATUSES, Membership, Person
from .rows import membership_of, person_of
from .tables import coach_links, memberships, persons


class CoachLinks:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def apply(self, row: dict[str, Any]) -> None:
        """The space's newest set-up: older events (retries reorder them) are ignored."""
        upsert = pg_insert(coach_links).values(**row)
        self.session.execute(
            upsert.on_conflict_do_update(
                index_elements=[coach_links.c.space_id],
                set_={k: upsert.excluded[k] for k in row if k != "space_id"},
                where=coach_links.c.sequence < upsert.excluded.sequence,
            )
        )

    def coaches(self, tenant_id: str, coach_id: str, coachee_id: str) -> bool:
        found = self.session.execute(
            select(coach_links.c.space_id)
            .where(
                coach_links.c.tenant_id == tenant_id,
                coach_links.c.coachee_person_id == coachee_id,
                coach_links.c.status.in_(LINKING_STATUSES),
                (coach_links.c.coach_person_id == coach_id)
                | (coach_links.c.co_coach_person_id == coach_id),
            )
            .limit(1)
        ).first()
        return found is not None

    def of_space(self, tenant_id: str, space_id: str) -> Any | None:
        """The space's newest coachee, coach and co-coach, once opened (a draft: None)."""
        return self.session.execute(
            select(coach_links).where(
                coach_links.c.tenant_id == tenant_id,
                coach_links.c.space_id == space_id,
                coach_links.c.status.in_(LINKING_STATUSES),
            )
        ).first()

    def delete_person(self, person_id: str) -> None:
        self.session.execute(
            coach_links.delete().where(coach_links.c.coachee_person_id == person_id)
        )

    def coachees_of(self, tenant_id: str, coach_id: str) -> list[tuple[Membership, Person]]:
        """The memberships and persons of everyone the coach coaches here, in one query."""
        coached = (
            select(coach_links.c.coachee_person_id)
            .where(
                coach_links.c.tenant_id == tenant_id,
                coach_links.c.status.in_(LINKING_STATUSES),
                (coach_links.c.coach_person_id == coach_id)
                | (coach_links.c.co_coach_person_id == coach_id),
            )
            .scalar_subquery()
        )
        rows = self.session.execute(
            select(memberships, *[c.label(f"p__{c.name}") for c in persons.c])
            .join(persons, persons.c.id == memberships.c.person_id)
            .where(memberships.c.tenant_id == tenant_id, memberships.c.person_id.in_(coached))
            .order_by(memberships.c.created_at, memberships.c.id)
        )
        return [(membership_of(r), person_of(r, "p__")) for r in rows]
