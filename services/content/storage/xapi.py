"""xAPI: learners' pseudonyms, the statements built (pending until the LRS has them) and the
operator's LRS settings, the secret sealed with the deployment's master key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from services.kernel.crypto import MasterKey
from services.kernel.runtime import keyring

from ..domain.xapi import LrsConfig
from .tables import learners, lrs_settings, statements

SCOPE = "deployment"
SECRET_CONTEXT = f"content.lrs_secret.{SCOPE}"


class Xapi:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # ------------------------------------------------------------ learners and statements

    def pseudonym_of(
        self, tenant_id: str, person_id: str, new: Callable[[], str], now: datetime
    ) -> str:
        """The learner's pseudonym in this tenant, made (`new`) the first time."""
        self.connection.execute(
            insert(learners)
            .values(tenant_id=tenant_id, person_id=person_id, pseudonym=new(), created_at=now)
            .on_conflict_do_nothing(index_elements=["tenant_id", "person_id"])
        )
        return str(
            self.connection.execute(
                select(learners.c.pseudonym).where(
                    learners.c.tenant_id == tenant_id, learners.c.person_id == person_id
                )
            ).scalar_one()
        )

    def record(
        self,
        statement: dict[str, Any],
        tenant_id: str,
        person_id: str,
        assignment_id: str,
        now: datetime,
    ) -> bool:
        """Keeps a statement once (the same fact again is the same id): whether it is new."""
        done = self.connection.execute(
            insert(statements)
            .values(
                id=statement["id"],
                tenant_id=tenant_id,
                person_id=person_id,
                assignment_id=assignment_id,
                statement=statement,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        return bool(done.rowcount)

    def of_person(self, person_id: str) -> list[dict[str, Any]]:
        rows = self.connection.execute(
            select(statements.c.statement)
            .where(statements.c.person_id == person_id)
            .order_by(statements.c.created_at, statements.c.id)
        )
        return [dict(r.statement) for r in rows]

    def pending(self, limit: int) -> list[dict[str, Any]]:
        """The oldest statements the LRS does not have yet."""
        rows = self.connection.execute(
            select(statements.c.statement)
            .where(statements.c.pushed_at.is_(None))
            .order_by(statements.c.created_at, statements.c.id)
            .limit(limit)
        )
        return [dict(r.statement) for r in rows]

    def pending_count(self) -> int:
        return int(
            self.connection.execute(
                select(func.count()).where(statements.c.pushed_at.is_(None))
            ).scalar_one()
        )

    def mark_pushed(self, ids: list[str], now: datetime) -> None:
        if ids:
            self.connection.execute(
                update(statements)
                .where(statements.c.id.in_(ids), statements.c.pushed_at.is_(None))
                .values(pushed_at=now)
            )

    def delete_of_person(self, person_id: str) -> None:
        """Erasure: the person's statements and pseudonyms, in every tenant."""
        self.connection.execute(delete(statements).where(statements.c.person_id == person_id))
        self.connection.execute(delete(learners).where(learners.c.person_id == person_id))

    # ------------------------------------------------------------ the operator's LRS

    def settings(self, master: MasterKey) -> LrsConfig | None:
        row = self.connection.execute(
            select(lrs_settings).where(lrs_settings.c.scope == SCOPE)
        ).first()
        if row is None:
            return None
        return LrsConfig(
            endpoint=row.endpoint,
            key=row.key,
            secret=master.open_text(row.secret_sealed, SECRET_CONTEXT),
            enabled=row.enabled,
            updated_at=row.updated_at,
            updated_by_person_id=row.updated_by_person_id,
            last_push_at=row.last_push_at,
            last_error=row.last_error,
        )

    def save_settings(self, config: LrsConfig, master: MasterKey) -> None:
        values = {
            "endpoint": config.endpoint,
            "key": config.key,
            "secret_sealed": master.seal_text(config.secret, SECRET_CONTEXT),
            "enabled": config.enabled,
            "updated_at": config.updated_at,
            "updated_by_person_id": config.updated_by_person_id,
        }
        self.connection.execute(
            insert(lrs_settings)
            .values(scope=SCOPE, **values)
            .on_conflict_do_update(index_elements=["scope"], set_=values)
        )

    def record_push(self, now: datetime, error: str | None) -> None:
        self.connection.execute(
            update(lrs_settings)
            .where(lrs_settings.c.scope == SCOPE)
            .values(last_push_at=now, last_error=error)
        )

    def anonymise_updater(self, person_id: str, placeholder: str) -> None:
        self.connection.execute(
            update(lrs_settings)
            .where(lrs_settings.c.updated_by_person_id == person_id)
            .values(updated_by_person_id=placeholder)
        )


def rewrap_lrs_secret(connection: Connection, master: MasterKey) -> int:
    """After a master-key rotation: the LRS secret sealed again with the new key."""
    row = connection.execute(
        select(lrs_settings.c.secret_sealed).where(lrs_settings.c.scope == SCOPE)
    ).first()
    new = master.rewrapped(row.secret_sealed, SECRET_CONTEXT) if row else None
    if new is None:
        return 0
    connection.execute(
        update(lrs_settings).where(lrs_settings.c.scope == SCOPE).values(secret_sealed=new)
    )
    return 1


def rewrap_master_key(connection: Connection, master: MasterKey) -> int:
    """Content's re-wrap step (services/kernel/registry.py): the tenant keys of its key ring,
    then the LRS secret."""
    return keyring.rewrap_master_key(connection, master) + rewrap_lrs_secret(connection, master)
