"""The witness: a test-only nameko service that handles identity's events and remembers them.

End-to-end tests of the event machinery run it beside identity: each handled event leaves one
row in `effects` (so a second effect would show), membership events keep a copy of the
membership (applied only when newer), and `set_failing` makes a handler raise until told
otherwise (retries, dead letters, replay). Its RPCs are plain nameko ones (tests only), but for
`whoami`, which takes a person's token through the kernel like any service's method (the
revocation tests run two instances of it), and `export_personal_data`. `linger` is a request
that takes its time (graceful shutdown, tests/e2e/test_shutdown.py).

It also implements the personal-data contract as a second service would (tests add it to the
registry with ECOACH_EXTRA_PERSONAL_DATA_SERVICES): the memberships it copied are the person's
data; `identity.person_erased` leaves only tombstones of them and records
`witness.person_erased`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from nameko.rpc import rpc
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.contracts import identity as c
from services.contracts import personal_data as pd
from services.contracts import spaces as sc
from services.contracts.base import Contract, Empty
from services.kernel.caller import Caller, PersonClaims
from services.kernel.events import Envelope
from services.kernel.personal_data import completion_event
from services.kernel.runtime.database import Database, WorkerDatabase
from services.kernel.runtime.entrypoints import Authentication
from services.kernel.runtime.entrypoints import rpc as kernel_rpc
from services.kernel.runtime.eventing import EventRelay, on_event
from services.kernel.runtime.sql import UnitOfWork

metadata = MetaData()

effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("handler", String(80), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("aggregate_id", String(128), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

members = Table(
    "members",
    metadata,
    Column("member_id", String(64), primary_key=True),
    Column("sequence", BigInteger, nullable=False),
    Column("state", JSONB, nullable=False),
)

faults = Table("faults", metadata, Column("event_type", String(128), primary_key=True))


ERASED_STATE = {"status": "erased"}


def _of_person(person_id: str) -> Any:
    return members.c.state["person_id"].astext == person_id


class WitnessFailure(RuntimeError):
    pass


def _effect(uow: UnitOfWork, handler: str, envelope: Envelope) -> None:
    failing = uow.connection.execute(
        select(faults.c.event_type).where(faults.c.event_type == envelope.type)
    ).first()
    if failing is not None:
        raise WitnessFailure(f"the witness was told to fail on {envelope.type}")
    uow.connection.execute(
        insert(effects).values(
            handler=handler,
            event_id=envelope.id,
            event_type=envelope.type,
            aggregate_id=envelope.aggregate_id,
            sequence=envelope.sequence,
            applied_at=uow.clock.now(),
        )
    )


class WhoAmI(Contract):
    person_id: str
    tenant_id: str | None
    instance: int  # the process id: tests tell instances apart


class WitnessService:
    name = "witness"

    db: WorkerDatabase = Database("witness")
    auth = Authentication()  # the kernel's verification, revocation list included
    relay = EventRelay()  # publishes witness.person_erased

    @kernel_rpc
    def whoami(self, caller: Caller, request: Empty) -> WhoAmI:
        """A person-token method like any service's: refused once the token is revoked."""
        assert isinstance(caller, PersonClaims)
        return WhoAmI(person_id=caller.person_id, tenant_id=caller.tenant_id, instance=os.getpid())

    @kernel_rpc
    def export_personal_data(self, caller: Caller, request: Empty) -> pd.PersonalDataExport:
        """The personal-data contract: the copies of the caller's memberships."""
        assert isinstance(caller, PersonClaims)
        with self.db.read_only() as uow:
            rows = uow.connection.execute(
                select(members.c.state).where(_of_person(caller.person_id))
            ).all()
            now = uow.clock.now()
        data = {"memberships": [r.state for r in rows]}
        return pd.PersonalDataExport(service=self.name, exported_at=now, data=data)

    @on_event(c.PersonErased)
    def on_person_erased(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _effect(uow, "on_person_erased", envelope)
        # Tombstones, not deletions: a late, older event of the membership must not bring the
        # copy back (its sequence is not newer than the tombstone's).
        uow.connection.execute(
            update(members).where(_of_person(event.person_id)).values(state=ERASED_STATE)
        )
        uow.record(
            completion_event(self.name)(erasure_id=event.erasure_id, person_id=event.person_id)
        )

    @on_event(sc.SpaceCreated)
    def on_space_created(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        """Who coaches whom, as other services would copy it: the target of forged events."""
        _effect(uow, "on_space_created", envelope)

    @on_event(c.TenantCreated)
    def on_tenant_created(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _effect(uow, "on_tenant_created", envelope)

    @on_event(c.MembershipChanged)
    def on_membership_changed(self, uow: UnitOfWork, event: Any, envelope: Envelope) -> None:
        _effect(uow, "on_membership_changed", envelope)
        # Keep the newest state only: retries reorder events (rule 4). An erased membership
        # keeps nothing but that fact.
        erased = event.status == c.MembershipStatus.ERASED
        upsert = pg_insert(members).values(
            member_id=event.member_id,
            sequence=envelope.sequence,
            state=ERASED_STATE if erased else event.model_dump(mode="json"),
        )
        uow.connection.execute(
            upsert.on_conflict_do_update(
                index_elements=[members.c.member_id],
                set_={"sequence": upsert.excluded.sequence, "state": upsert.excluded.state},
                where=members.c.sequence < upsert.excluded.sequence,
            )
        )

    @rpc
    def effects(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        query = select(effects).order_by(effects.c.id)
        if request.get("aggregate_id"):
            query = query.where(effects.c.aggregate_id == request["aggregate_id"])
        with self.db.unit_of_work() as uow:
            rows = uow.connection.execute(query).mappings().all()
        return [{k: (str(v) if k == "applied_at" else v) for k, v in r.items()} for r in rows]

    @rpc
    def member(self, request: dict[str, Any]) -> dict[str, Any] | None:
        with self.db.unit_of_work() as uow:
            row = uow.connection.execute(
                select(members).where(members.c.member_id == request["member_id"])
            ).first()
        return {"sequence": row.sequence, "state": row.state} if row else None

    @rpc
    def set_failing(self, request: dict[str, Any]) -> None:
        with self.db.unit_of_work() as uow:
            uow.connection.execute(delete(faults).where(faults.c.event_type == request["type"]))
            if request.get("failing"):
                uow.connection.execute(insert(faults).values(event_type=request["type"]))

    @rpc
    def ping(self, request: dict[str, Any]) -> bool:
        return True

    @rpc
    def linger(self, request: dict[str, Any]) -> dict[str, Any]:
        """A request that takes `seconds`, having written its pid to the file `started` once
        it runs: the graceful-shutdown test stops the witness while one is in flight."""
        Path(request["started"]).write_text(str(os.getpid()))
        time.sleep(request["seconds"])  # green under eventlet: other workers go on
        return {"lingered": request["seconds"], "pid": os.getpid()}
