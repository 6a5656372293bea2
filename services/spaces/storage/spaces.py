"""The spaces repository: each space, its content, its keys and its coach's roster.

Content (project, objectives, context) is stored sealed by the space's own data key, itself
wrapped by the tenant's key (services/kernel/runtime/keyring.py): the database never holds it in
clear."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    func,
    or_,
    select,
    update,
)

from services.kernel.crypto import MasterKey, SecretKey
from services.kernel.runtime.keyring import KeyRing, WrappedKeys
from services.kernel.runtime.pagination import keyset_page
from services.kernel.runtime.republish import id_page

from ..domain.model import Content, Participant, PendingCoach, SetUp, Space, space_not_found
from .goals import Goals
from .notes import Notes
from .tables import (
    goals,
    notes,
    space_visits,
    spaces,
)
from .tools import Tools


def _content_context(space_id: str) -> str:
    return f"spaces.content.{space_id}"


def _set_up_row(s: SetUp) -> dict[str, Any]:
    return {
        "coachee_member_id": s.coachee.member_id,
        "coachee_person_id": s.coachee.person_id,
        "coach_member_id": s.coach.member_id,
        "coach_person_id": s.coach.person_id,
        "co_coach_member_id": s.co_coach.member_id if s.co_coach else None,
        "co_coach_person_id": s.co_coach.person_id if s.co_coach else None,
        "cadence": s.cadence,
        "sessions_planned": s.sessions_planned,
        "starts_on": s.starts_on,
        "ends_on": s.ends_on,
    }


def _pending_row(p: PendingCoach | None) -> dict[str, Any]:
    return {
        "pending_seat": p.seat if p else None,
        "pending_member_id": p.participant.member_id if p else None,
        "pending_person_id": p.participant.person_id if p else None,
        "pending_by": p.proposed_by if p else None,
        "pending_at": p.proposed_at if p else None,
    }


def _pending(r: Any) -> PendingCoach | None:
    if not r.pending_seat:
        return None
    return PendingCoach(
        r.pending_seat,
        Participant(r.pending_member_id, r.pending_person_id),
        r.pending_by,
        r.pending_at,
    )


def _set_up(r: Any) -> SetUp:
    return SetUp(
        coachee=Participant(r.coachee_member_id, r.coachee_person_id),
        coach=Participant(r.coach_member_id, r.coach_person_id),
        co_coach=Participant(r.co_coach_member_id, r.co_coach_person_id)
        if r.co_coach_member_id
        else None,
        cadence=r.cadence,
        sessions_planned=r.sessions_planned,
        starts_on=r.starts_on,
        ends_on=r.ends_on,
    )


class Spaces:
    """Reads set-ups and statuses as they are; content and keys need the deployment's master
    key: `unlocked(master)` (the unit of work builds it without, `storage/unit.py`)."""

    def __init__(self, connection: Connection, master: MasterKey | None = None) -> None:
        self.connection = connection
        self._keys = KeyRing(connection, master) if master is not None else None
        # The sealed content of the spaces this unit read without it, by id: `with_content`
        # opens what that same row held (a second read could see a later membership).
        self._sealed: dict[str, str] = {}

    def unlocked(self, master: MasterKey) -> Spaces:
        """This repository, opening content and keys with `master` from now on."""
        self._keys = KeyRing(self.connection, master)
        return self

    @property
    def keys(self) -> KeyRing:
        assert self._keys is not None, "Spaces.unlocked(master) first"
        return self._keys

    def goals_of(self, space: Space) -> Goals:
        """The space's goals, sealed with its data key."""
        return Goals(self.connection, self.keys.data_key(space.tenant_id, space.data_key))

    def notes_of(self, space: Space) -> Notes:
        """The space's notes, sealed with its data key."""
        return Notes(self.connection, self.keys.data_key(space.tenant_id, space.data_key))

    def tools_of(self, space: Space) -> Tools:
        """The space's toolbox, its texts sealed with its data key."""
        return Tools(self.connection, self.keys.data_key(space.tenant_id, space.data_key))

    def roster(self, tenant_id: str, person_id: str) -> list[tuple[Any, datetime]]:
        return coach_roster(self.connection, tenant_id, person_id)

    def _seal(self, space: Space, key: SecretKey) -> str:
        content = {"project": space.content.project, "objectives": space.content.objectives}
        content["context"] = space.content.context
        return key.seal_text(json.dumps(content), _content_context(space.id))

    def add(self, space: Space) -> None:
        key, wrapped = self.keys.new_data_key(space.tenant_id, space.created_at)
        space.data_key = wrapped
        self.connection.execute(
            spaces.insert().values(
                id=space.id,
                tenant_id=space.tenant_id,
                status=space.status,
                **_set_up_row(space.set_up),
                data_key=wrapped,
                content_sealed=self._seal(space, key),
                created_by=space.created_by,
                created_at=space.created_at,
                updated_at=space.updated_at,
            )
        )

    def save(self, space: Space, *, with_content: bool) -> None:
        """Status and set-up as they are now; the content too (sealed again) if it was loaded."""
        values: dict[str, Any] = {
            "status": space.status,
            **_set_up_row(space.set_up),
            **_pending_row(space.pending),
            "coach_joined_at": space.coach_joined_at,
            "co_coach_joined_at": space.co_coach_joined_at,
            "earlier_content_shared_at": space.earlier_content_shared_at,
            "updated_at": space.updated_at,
        }
        if with_content:
            key = self.keys.data_key(space.tenant_id, space.data_key)
            values["content_sealed"] = self._seal(space, key)
            self._sealed.pop(space.id, None)  # `with_content` reads what is stored now
        self.connection.execute(update(spaces).where(spaces.c.id == space.id).values(**values))

    def from_row(self, r: Any) -> Space:
        return self._space(r, with_content=False)

    def _space(self, r: Any, *, with_content: bool) -> Space:
        content = Content()
        if with_content:
            content = self._open(r.id, r.tenant_id, r.data_key, r.content_sealed)
        else:
            self._sealed[r.id] = r.content_sealed
        return Space(
            id=r.id,
            tenant_id=r.tenant_id,
            status=r.status,
            set_up=_set_up(r),
            content=content,
            created_by=r.created_by,
            created_at=r.created_at,
            updated_at=r.updated_at,
            data_key=r.data_key,
            pending=_pending(r),
            coach_joined_at=r.coach_joined_at,
            co_coach_joined_at=r.co_coach_joined_at,
            earlier_content_shared_at=r.earlier_content_shared_at,
        )

    def get(self, tenant_id: str, space_id: str, *, for_update: bool = False) -> Space | None:
        """Without its content: call `with_content` once the caller may read it."""
        query = select(spaces).where(spaces.c.id == space_id, spaces.c.tenant_id == tenant_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return self._space(row, with_content=False) if row else None

    def ids_after(self, tenant_id: str | None, after: str, limit: int) -> list[str]:
        """Republishing's keyset page (services/kernel/runtime/republish.py)."""
        return id_page(self.connection, spaces, tenant_id, after, limit)

    def get_many(self, space_ids: list[str]) -> list[Space]:
        """Without their content."""
        rows = self.connection.execute(
            select(spaces).where(spaces.c.id.in_(space_ids)).order_by(spaces.c.id)
        )
        return [self.from_row(r) for r in rows]

    def goal_ids_after(self, tenant_id: str | None, after: str, limit: int) -> list[str]:
        return id_page(self.connection, goals, tenant_id, after, limit)

    def goal_states(self, goal_ids: list[str]) -> list[Any]:
        """Ids, status and times of these goals (nothing sealed): rows of `goals`."""
        names = ("id", "space_id", "tenant_id", "status", "updated_at", "achieved_at")
        columns = [goals.c[n] for n in names]
        return list(
            self.connection.execute(
                select(*columns).where(goals.c.id.in_(goal_ids)).order_by(goals.c.id)
            )
        )

    def _open(self, space_id: str, tenant_id: str, data_key: str, sealed: str) -> Content:
        key = self.keys.data_key(tenant_id, data_key)
        return Content(**json.loads(key.open_text(sealed, _content_context(space_id))))

    def with_content(self, space: Space) -> Space:
        """The space with its content, opened from the row it was read from. Reading the row
        again could pair the caller's relation, decided on the first read, with a later
        membership: a co-coach removed in between would lose the date that hides earlier
        content from them, and be shown it."""
        sealed = self._sealed.get(space.id)
        if sealed is None:  # read elsewhere: its sealed content as of now, under its own key
            row = self.connection.execute(
                select(spaces.c.data_key, spaces.c.content_sealed).where(spaces.c.id == space.id)
            ).first()
            if row is None:
                raise space_not_found()
            space = replace(space, data_key=row.data_key)
            sealed = row.content_sealed
        return replace(space, content=self._open(space.id, space.tenant_id, space.data_key, sealed))

    def page(
        self, tenant_id: str, person_id: str | None, size: int, token: str
    ) -> tuple[list[Space], str]:
        """A tenant's spaces, oldest first; only those the person takes part in, if given."""
        query = select(spaces).where(spaces.c.tenant_id == tenant_id)
        if person_id is not None:
            query = query.where(
                or_(
                    spaces.c.coachee_person_id == person_id,
                    spaces.c.coach_person_id == person_id,
                    spaces.c.co_coach_person_id == person_id,
                )
            )
        return keyset_page(
            self.connection,
            spaces,
            query,
            size,
            token,
            lambda r: self._space(r, with_content=False),
        )

    def of_coachee(self, person_id: str) -> list[Space]:
        """Every tenant's: the person's own spaces (their export, their erasure)."""
        rows = self.connection.execute(
            select(spaces)
            .where(spaces.c.coachee_person_id == person_id)
            .order_by(spaces.c.created_at)
        )
        return [self._space(r, with_content=True) for r in rows]

    def coached_by(self, person_id: str) -> list[Space]:
        rows = self.connection.execute(
            select(spaces)
            .where(
                or_(spaces.c.coach_person_id == person_id, spaces.c.co_coach_person_id == person_id)
            )
            .order_by(spaces.c.created_at)
        )
        return [self._space(r, with_content=False) for r in rows]

    def wrapped_keys(self) -> WrappedKeys:
        """The data keys stored beside the spaces, for a tenant key rotation."""
        return WrappedKeys(self.keys, spaces)

    def delete(self, space_id: str) -> None:
        """Erasure: the row goes, and its data key with it."""
        self.connection.execute(spaces.delete().where(spaces.c.id == space_id))


def coach_roster(
    connection: Connection, tenant_id: str, person_id: str
) -> list[tuple[Any, datetime]]:
    """The spaces the person coaches (or co-coaches) in the tenant, with each one's last
    activity (the latest change of the space, its shared notes or its goals) and the person's
    last visit (`visited_at`, None if never). One query."""
    last_note = (
        select(func.max(notes.c.updated_at))
        .where(notes.c.space_id == spaces.c.id, notes.c.kind == "shared")
        .scalar_subquery()
    )
    last_goal = (
        select(func.max(goals.c.updated_at))
        .where(goals.c.space_id == spaces.c.id)
        .scalar_subquery()
    )
    last = func.greatest(spaces.c.updated_at, last_note, last_goal).label("last_activity")
    visited = (
        select(space_visits.c.visited_at)
        .where(space_visits.c.space_id == spaces.c.id, space_visits.c.person_id == person_id)
        .scalar_subquery()
        .label("visited_at")
    )
    rows = connection.execute(
        select(spaces, last, visited)
        .where(
            spaces.c.tenant_id == tenant_id,
            or_(spaces.c.coach_person_id == person_id, spaces.c.co_coach_person_id == person_id),
        )
        .order_by(last.desc(), spaces.c.id)
    )
    return [(r, r.last_activity) for r in rows]
