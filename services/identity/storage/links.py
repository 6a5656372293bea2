"""Mailed links (invitations, resets, address confirmations): their nonces and hashes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from ..domain.credentials import PersonLink
from .tables import memberships, person_links

_INSERT_LINK = insert(person_links)


class PersonLinks:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, link: PersonLink) -> None:
        self.add_many([link])

    def add_many(self, links: Sequence[PersonLink]) -> None:
        if links:
            self.session.execute(_INSERT_LINK, [vars(link) for link in links])

    def get(self, link_id: str) -> PersonLink | None:
        row = self.session.execute(select(person_links).where(person_links.c.id == link_id)).first()
        return PersonLink(**row._mapping) if row else None

    def by_token_hash(self, token_hash: str) -> PersonLink | None:
        row = self.session.execute(
            select(person_links).where(person_links.c.token_hash == token_hash).with_for_update()
        ).first()
        return PersonLink(**row._mapping) if row else None

    def delete_person(self, person_id: str) -> None:
        """Erasure: the person's links (an email change's holds the new address) go."""
        self.session.execute(person_links.delete().where(person_links.c.person_id == person_id))

    def supersede_live(self, person_id: str, purpose: str, now: datetime) -> None:
        """Re-sending kills the old link (rule 8)."""
        self.session.execute(
            update(person_links)
            .where(
                person_links.c.person_id == person_id,
                person_links.c.purpose == purpose,
                person_links.c.used_at.is_(None),
                person_links.c.superseded_at.is_(None),
            )
            .values(superseded_at=now)
        )

    def issued_since(
        self, person_id: str, purpose: str, since: datetime, tenant_id: str | None = None
    ) -> list[datetime]:
        """When the person's links of `purpose` issued after `since` were, oldest first."""
        return self.issued_since_to_many([person_id], purpose, since, tenant_id).get(person_id, [])

    def issued_since_to_many(
        self,
        person_ids: Sequence[str],
        purpose: str,
        since: datetime,
        tenant_id: str | None = None,
    ) -> dict[str, list[datetime]]:
        """`issued_since` for many people in one statement, by person (absent: none); with
        `tenant_id`, only the links about that tenant's memberships (invitations)."""
        found: dict[str, list[datetime]] = {}
        if not person_ids:
            return found
        query = select(person_links.c.person_id, person_links.c.created_at).where(
            person_links.c.person_id.in_(list(person_ids)),
            person_links.c.purpose == purpose,
            person_links.c.created_at > since,
        )
        if tenant_id is not None:
            query = query.join(memberships, memberships.c.id == person_links.c.detail).where(
                memberships.c.tenant_id == tenant_id
            )
        rows = self.session.execute(query.order_by(person_links.c.created_at)).all()
        for person_id, created_at in rows:
            found.setdefault(person_id, []).append(created_at)
        return found

    def supersede_for(self, purpose: str, detail: str, now: datetime) -> None:
        """Kills the live links of one purpose about one object (an invitation's membership)."""
        self.session.execute(
            update(person_links)
            .where(
                person_links.c.purpose == purpose,
                person_links.c.detail == detail,
                person_links.c.used_at.is_(None),
                person_links.c.superseded_at.is_(None),
            )
            .values(superseded_at=now)
        )

    def mark_used(self, link: PersonLink) -> None:
        self.session.execute(
            update(person_links).where(person_links.c.id == link.id).values(used_at=link.used_at)
        )
