"""People: accounts and their contact details."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select, text, update

from ..domain.model import Person
from .rows import person_of, person_row
from .tables import persons

_INSERT_PERSON = insert(persons)
_LOCK_EMAILS = text(
    "SELECT count(pg_advisory_xact_lock(hashtext(k))) "
    "FROM (SELECT k FROM unnest(CAST(:keys AS text[])) AS u(k) ORDER BY k) AS sorted_keys"
)


class Persons:
    def __init__(self, session: Connection) -> None:
        self.session = session

    def add(self, person: Person) -> None:
        self.add_many([person])

    def add_many(self, people: Sequence[Person]) -> None:
        """One statement for any number (psycopg2 batches the rows)."""
        if people:
            self.session.execute(_INSERT_PERSON, [person_row(p) for p in people])

    def get(self, person_id: str) -> Person | None:
        row = self.session.execute(select(persons).where(persons.c.id == person_id)).first()
        return person_of(row) if row else None

    def by_email_key(self, email_key: str) -> Person | None:
        row = self.session.execute(select(persons).where(persons.c.email_key == email_key)).first()
        return person_of(row) if row else None

    def by_email_keys(self, email_keys: Sequence[str]) -> dict[str, Person]:
        if not email_keys:
            return {}
        rows = self.session.execute(
            select(persons).where(persons.c.email_key.in_(list(email_keys)))
        )
        return {r.email_key: person_of(r) for r in rows}

    def many(self, ids: Sequence[str]) -> dict[str, Person]:
        if not ids:
            return {}
        rows = self.session.execute(select(persons).where(persons.c.id.in_(list(ids))))
        return {r.id: person_of(r) for r in rows}

    def save_profile(self, person: Person) -> None:
        self.session.execute(
            update(persons)
            .where(persons.c.id == person.id)
            .values(
                display_name=person.display_name,
                name_key=person.name_key,
                locale=person.locale,
                time_zone=person.time_zone,
                updated_at=person.updated_at,
            )
        )

    def change_email(self, person_id: str, email: str, email_key: str, now: datetime) -> None:
        self.session.execute(
            update(persons)
            .where(persons.c.id == person_id)
            .values(email=email, email_key=email_key, updated_at=now)
        )

    def set_calendar_email(self, person_id: str, email: str | None, now: datetime) -> None:
        self.session.execute(
            update(persons)
            .where(persons.c.id == person_id)
            .values(calendar_email=email, updated_at=now)
        )

    def save_erased(self, person: Person) -> None:
        row = person_row(person)
        kept = ("email", "email_key", "display_name", "name_key", "password_hash", "calendar_email")
        self.session.execute(
            update(persons)
            .where(persons.c.id == person.id)
            .values({k: row[k] for k in kept})
            .values(updated_at=person.updated_at, erased_at=person.erased_at)
        )

    def get_for_update(self, person_id: str) -> Person | None:
        row = self.session.execute(
            select(persons).where(persons.c.id == person_id).with_for_update()
        ).first()
        return person_of(row) if row else None

    def set_password(self, person_id: str, password_hash: str, now: datetime) -> None:
        self.session.execute(
            update(persons)
            .where(persons.c.id == person_id)
            .values(password_hash=password_hash, updated_at=now)
        )

    def lock_email(self, email_key: str) -> None:
        """Serialise concurrent creations of one email (the unique index would also refuse)."""
        self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": email_key})

    def lock_emails(self, email_keys: Sequence[str]) -> None:
        """`lock_email` for many, in one statement; always in sorted order, so that two imports
        sharing addresses cannot deadlock."""
        if email_keys:
            self.session.execute(_LOCK_EMAILS, {"keys": sorted(set(email_keys))})
