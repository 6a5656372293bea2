"""Assignments and their attempts. An attempt's answers are sealed with its assignment's data
key (the kernel's key ring: wrapped by the tenant key, itself wrapped by the master key); its
scores are kept in clear once submitted (numbers and band indexes only)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Text, cast, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.contracts.assessment import InstrumentDocument
from services.kernel.crypto import MasterKey, SecretKey
from services.kernel.runtime.keyring import KeyRing, WrappedKeys
from services.kernel.runtime.pagination import keyset_page
from services.kernel.runtime.republish import id_page

from ..adapters.documents import document_of, instrument_of
from ..domain.assignments import SUBMITTED, Assignment, Attempt
from ..domain.instruments import Instrument
from .tables import assignments, attempts


def _answers_context(assignment_id: str, number: int) -> str:
    return f"assessment.answers.{assignment_id}.{number}"


# An assignment's columns, its instrument document as text: `_instrument` reads each text once.
_ASSIGNMENT = (
    *(column for column in assignments.c if column.name != "instrument"),
    cast(assignments.c.instrument, Text).label("instrument_text"),
)
# An attempt's columns but its sealed answers, read only to be opened.
_ATTEMPT = tuple(column for column in attempts.c if column.name != "answers_sealed")


@functools.lru_cache(maxsize=256)
def _instrument(document: str) -> Instrument:
    """The instrument an assignment keeps, read and checked once per process: the document
    of an assignment never changes (a new version is a new document), so the same text is
    the same (frozen) instrument, and a read of 200 attempts does not check it again each
    time. Keyed by the text itself, so a different document is never taken for another."""
    return instrument_of(InstrumentDocument.model_validate_json(document))


class Assignments:
    def __init__(self, connection: Connection, master: MasterKey | None = None) -> None:
        self.connection = connection
        self._keys = KeyRing(connection, master) if master is not None else None

    def unlocked(self, master: MasterKey) -> Assignments:
        """This repository, opening answers and keys with `master` from now on."""
        self._keys = KeyRing(self.connection, master)
        return self

    @property
    def keys(self) -> KeyRing:
        assert self._keys is not None, "Assignments.unlocked(master) first"
        return self._keys

    def add(self, a: Assignment) -> None:
        _, wrapped = self.keys.new_data_key(a.tenant_id, a.created_at)
        a.data_key = wrapped
        self.connection.execute(
            assignments.insert().values(
                id=a.id,
                tenant_id=a.tenant_id,
                space_id=a.space_id,
                coachee_person_id=a.coachee_person_id,
                instrument_id=a.instrument_id,
                instrument=document_of(a.instrument).model_dump(mode="json", by_alias=True),
                attempts_allowed=a.attempts_allowed,
                assigned_by_person_id=a.assigned_by_person_id,
                data_key=wrapped,
                created_at=a.created_at,
                updated_at=a.updated_at,
            )
        )

    def get(
        self,
        assignment_id: str,
        *,
        for_update: bool = False,
        answers: bool = False,
        attempts: bool = True,
    ) -> Assignment | None:
        """The assignment and its attempts, their answers opened only when `answers` (their
        scores are in clear: a list or a trend needs nothing else; `attempt_of` opens one).
        Without `attempts`, the assignment alone (its `attempts` left empty: for reading one
        attempt with `attempt_of`, never for a change)."""
        query = select(*_ASSIGNMENT).where(assignments.c.id == assignment_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        if row is None:
            return None
        if not attempts:
            return self._assignment(row)
        return self._with_attempts([row], answers=answers)[0]

    def page_of_space(
        self, space_id: str, page_size: int, page_token: str
    ) -> tuple[list[Assignment], str]:
        rows, token = keyset_page(
            self.connection,
            assignments,
            select(*_ASSIGNMENT).where(assignments.c.space_id == space_id),
            page_size,
            page_token,
            lambda r: r,
        )
        return self._with_attempts(rows, answers=False), token

    def ids_after(self, tenant_id: str | None, after: str, limit: int) -> list[str]:
        """Republishing's keyset page (services/kernel/runtime/republish.py)."""
        return id_page(self.connection, assignments, tenant_id, after, limit)

    def get_many(self, assignment_ids: list[str]) -> list[Assignment]:
        """With their attempts, answers neither read nor opened."""
        rows = self.connection.execute(
            select(*_ASSIGNMENT)
            .where(assignments.c.id.in_(assignment_ids))
            .order_by(assignments.c.id)
        ).all()
        return self._with_attempts(rows, answers=False)

    def of_coachee(self, person_id: str) -> list[Assignment]:
        rows = self.connection.execute(
            select(*_ASSIGNMENT)
            .where(assignments.c.coachee_person_id == person_id)
            .order_by(assignments.c.created_at, assignments.c.id)
        ).all()
        return self._with_attempts(rows, answers=True)

    def instrument_ids(self) -> set[str]:
        return set(self.connection.execute(select(assignments.c.instrument_id)).scalars())

    def submitted_scores(
        self, assignment_id: str
    ) -> list[tuple[int, datetime, list[tuple[str, float]]]]:
        """Each submitted attempt's number, time and (dimension, 0-100 score) pairs, by
        number: what a trend follows, and nothing else of the kept scores (PostgreSQL picks
        the two values out of each attempt's scores, so 200 attempts read in a few ms)."""
        rows = self.connection.execute(
            select(
                attempts.c.number,
                attempts.c.submitted_at,
                func.jsonb_path_query_array(attempts.c.scores, "$[*].dimension", type_=JSONB),
                func.jsonb_path_query_array(attempts.c.scores, "$[*].score", type_=JSONB),
            )
            .where(attempts.c.assignment_id == assignment_id, attempts.c.status == SUBMITTED)
            .order_by(attempts.c.number)
        )
        return [(n, at, list(zip(names, values, strict=True))) for n, at, names, values in rows]

    def attempt_of(self, a: Assignment, number: int) -> Attempt | None:
        """One attempt with its answers opened (the only one opened); None when it has no such
        attempt."""
        r = self.connection.execute(
            select(*_ATTEMPT, attempts.c.answers_sealed).where(
                attempts.c.assignment_id == a.id, attempts.c.number == number
            )
        ).first()
        return self._attempt(a, r, answers=True) if r is not None else None

    def _with_attempts(self, rows: Sequence[Any], *, answers: bool) -> list[Assignment]:
        """Each assignment's attempts in one query for them all (the primary key's order). The
        sealed answers are neither read nor opened unless `answers` (an export)."""
        found = [self._assignment(r) for r in rows]
        if not found:
            return found
        by_id = {a.id: a for a in found}
        columns = [*_ATTEMPT, attempts.c.answers_sealed] if answers else _ATTEMPT
        for r in self.connection.execute(
            select(*columns)
            .where(attempts.c.assignment_id.in_(list(by_id)))
            .order_by(attempts.c.assignment_id, attempts.c.number)
        ):
            a = by_id[r.assignment_id]
            a.attempts.append(self._attempt(a, r, answers=answers))
        return found

    def _key(self, a: Assignment) -> SecretKey:
        return self.keys.data_key(a.tenant_id, a.data_key)

    def key_of(self, a: Assignment) -> SecretKey:
        """The assignment's data key: it seals its raters' addresses and answers, and derives
        their links' tokens (storage/raters.py)."""
        return self._key(a)

    def _attempt(self, a: Assignment, r: Any, *, answers: bool) -> Attempt:
        opened: dict[str, Any] = {}
        if answers:
            opened = json.loads(
                self._key(a).open_text(r.answers_sealed, _answers_context(a.id, r.number))
            )
        return Attempt(
            number=r.number,
            status=r.status,
            answers=opened,
            started_at=r.started_at,
            updated_at=r.updated_at,
            scores=r.scores,
            submitted_at=r.submitted_at,
        )

    def _assignment(self, r: Any) -> Assignment:
        return Assignment(
            id=r.id,
            tenant_id=r.tenant_id,
            space_id=r.space_id,
            coachee_person_id=r.coachee_person_id,
            instrument_id=r.instrument_id,
            instrument=_instrument(r.instrument_text),
            attempts_allowed=r.attempts_allowed,
            assigned_by_person_id=r.assigned_by_person_id,
            created_at=r.created_at,
            updated_at=r.updated_at,
            data_key=r.data_key,
        )

    def save(self, a: Assignment, attempt: Attempt | None = None) -> None:
        """The assignment's state, and the attempt written (answers sealed anew)."""
        self.connection.execute(
            update(assignments)
            .where(assignments.c.id == a.id)
            .values(attempts_allowed=a.attempts_allowed, updated_at=a.updated_at)
        )
        if attempt is None:
            return
        sealed = self._key(a).seal_text(
            json.dumps(attempt.answers), _answers_context(a.id, attempt.number)
        )
        values = {
            "status": attempt.status,
            "answers_sealed": sealed,
            "scores": attempt.scores,
            "updated_at": attempt.updated_at,
            "submitted_at": attempt.submitted_at,
        }
        self.connection.execute(
            pg_insert(attempts)
            .values(
                assignment_id=a.id, number=attempt.number, started_at=attempt.started_at, **values
            )
            .on_conflict_do_update(
                index_elements=[attempts.c.assignment_id, attempts.c.number], set_=values
            )
        )

    def anonymise_assigner(self, person_id: str, placeholder: str) -> None:
        self.connection.execute(
            update(assignments)
            .where(assignments.c.assigned_by_person_id == person_id)
            .values(assigned_by_person_id=placeholder)
        )

    def delete(self, assignment_id: str) -> None:
        """Erasure: the row goes, its attempts and its data key with it."""
        self.connection.execute(assignments.delete().where(assignments.c.id == assignment_id))

    def wrapped_keys(self) -> WrappedKeys:
        """The data keys stored beside the assignments, for a tenant key rotation."""
        return WrappedKeys(self.keys, assignments)
