"""Recommendations. The coach's note is sealed with the row's data key (the kernel's key ring:
wrapped by the tenant key, itself wrapped by the master key); the resource's copy is in clear
(it is the library's text, not anyone's)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, select, update

from services.kernel.crypto import MasterKey
from services.kernel.runtime.keyring import KeyRing, WrappedKeys
from services.kernel.runtime.pagination import keyset_page

from ..domain.recommendations import Recommendation, RecommendedResource
from .tables import recommendations


def _note_context(recommendation_id: str) -> str:
    return f"content.recommendation_note.{recommendation_id}"


class Recommendations:
    def __init__(self, connection: Connection, master: MasterKey | None = None) -> None:
        self.connection = connection
        self._keys = KeyRing(connection, master) if master is not None else None

    def unlocked(self, master: MasterKey) -> Recommendations:
        """This repository, opening notes and keys with `master` from now on."""
        self._keys = KeyRing(self.connection, master)
        return self

    @property
    def keys(self) -> KeyRing:
        assert self._keys is not None, "Recommendations.unlocked(master) first"
        return self._keys

    def add(self, r: Recommendation) -> None:
        key, wrapped = self.keys.new_data_key(r.tenant_id, r.created_at)
        r.data_key = wrapped
        self.connection.execute(
            recommendations.insert().values(
                id=r.id,
                tenant_id=r.tenant_id,
                space_id=r.space_id,
                resource_id=r.resource_id,
                resource=asdict(r.resource),
                note=key.seal_text(r.note, _note_context(r.id)),
                recommended_by_person_id=r.recommended_by_person_id,
                status=r.status,
                useful=r.useful,
                data_key=wrapped,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
        )

    def get(self, recommendation_id: str, *, for_update: bool = False) -> Recommendation | None:
        query = select(recommendations).where(recommendations.c.id == recommendation_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return self._recommendation(row) if row else None

    def save_marks(self, r: Recommendation) -> None:
        self.connection.execute(
            update(recommendations)
            .where(recommendations.c.id == r.id)
            .values(status=r.status, useful=r.useful, updated_at=r.updated_at)
        )

    def page_of_space(
        self, space_id: str, size: int, token: str
    ) -> tuple[list[Recommendation], str]:
        """Newest first."""
        return keyset_page(
            self.connection,
            recommendations,
            select(recommendations).where(recommendations.c.space_id == space_id),
            size,
            token,
            self._recommendation,
            newest_first=True,
        )

    def of_spaces(self, space_ids: list[str]) -> list[Recommendation]:
        rows = self.connection.execute(
            select(recommendations)
            .where(recommendations.c.space_id.in_(space_ids))
            .order_by(recommendations.c.created_at, recommendations.c.id)
        )
        return [self._recommendation(r) for r in rows]

    def delete_of_space(self, space_id: str) -> None:
        """Erasure of a coachee: their space's recommendations go, data keys with them."""
        self.connection.execute(
            recommendations.delete().where(recommendations.c.space_id == space_id)
        )

    def anonymise_recommender(self, person_id: str, placeholder: str) -> None:
        self.connection.execute(
            update(recommendations)
            .where(recommendations.c.recommended_by_person_id == person_id)
            .values(recommended_by_person_id=placeholder)
        )

    def wrapped_keys(self) -> WrappedKeys:
        """The data keys stored beside the recommendations, for a tenant key rotation."""
        return WrappedKeys(self.keys, recommendations)

    def _recommendation(self, r: Any) -> Recommendation:
        key = self.keys.data_key(r.tenant_id, r.data_key)
        copy = dict(r.resource)
        copy["tags"] = tuple(copy.get("tags", ()))
        return Recommendation(
            id=r.id,
            tenant_id=r.tenant_id,
            space_id=r.space_id,
            resource_id=r.resource_id,
            resource=RecommendedResource(**copy),
            note=key.open_text(r.note, _note_context(r.id)),
            recommended_by_person_id=r.recommended_by_person_id,
            created_at=r.created_at,
            updated_at=r.updated_at,
            status=r.status,
            useful=r.useful,
            data_key=r.data_key,
        )
