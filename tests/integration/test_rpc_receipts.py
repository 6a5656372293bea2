"""A write carried out once per RPC call (services/kernel/runtime/receipts.py), on the real broker
and database: a service killed after committing and before acknowledging its request gets the
request again from the broker, and the new delivery is refused with ALREADY_DONE instead of
writing a second time; two deliveries of one call running at once commit one write; a
transaction that wrote nothing leaves no receipt."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import eventlet
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import Engine, text

from services.contracts.base import Contract, Empty
from services.kernel.caller import Caller
from services.kernel.clock import SystemClock
from services.kernel.config import settings
from services.kernel.context import Delivery
from services.kernel.errors import FailedPrecondition
from services.kernel.runtime import receipts
from services.kernel.runtime.database import Database
from services.kernel.runtime.entrypoints import Authentication, rpc
from services.kernel.runtime.errors_wire import register_domain_errors
from services.kernel.runtime.sql import WorkerDatabase, make_engine
from tests.integration.test_kernel_runtime import PERSON_KEYS, person_token
from tests.support.waiting import wait_for

register_domain_errors()

COMMITTED: list[str] = []  # markers whose write the first worker committed before it hung


class Entry(Contract):
    marker: str
    hang: bool = False
    units: int = 1


class Ledger:
    """Writes a row per call, in one unit of work or several; with `hang`, waits after its
    commit, before the reply and the acknowledgement, until its container is killed."""

    name = "ledger"
    auth = Authentication(
        key_source=lambda container: PERSON_KEYS,
        revocation_source=lambda container: lambda since: [],
    )
    db: WorkerDatabase[Any] = Database("identity")

    @rpc
    def add(self, caller: Caller, request: Entry) -> Empty:
        for _ in range(request.units):
            with self.db.unit_of_work() as uow:
                uow.connection.execute(
                    text("INSERT INTO receipt_probe (marker) VALUES (:m)"), {"m": request.marker}
                )
        if request.hang:
            COMMITTED.append(request.marker)
            eventlet.sleep(60)
        return Empty()

    @rpc
    def look(self, caller: Caller, request: Entry) -> Empty:
        with self.db.unit_of_work() as uow:  # a transaction that only reads
            uow.connection.execute(text("SELECT count(*) FROM receipt_probe"))
        return Empty()


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = make_engine(settings().database_url_for("identity"), pool_size=3, green=True)
    forget = text("DELETE FROM rpc_receipts WHERE method LIKE 'ledger.%'")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS receipt_probe (marker text NOT NULL)"))
        conn.execute(forget)  # each test counts its own calls' receipts
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE receipt_probe"))
        conn.execute(forget)
    engine.dispose()


def rows(engine: Engine, marker: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM receipt_probe WHERE marker = :m"), {"m": marker}
        )
        return int(found.scalar_one())


def receipts_of(engine: Engine, method: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT call_id, worker FROM rpc_receipts WHERE method = :m"), {"m": method}
            )
        )


def call(config: dict[str, Any], method: str, payload: dict[str, Any]) -> Any:
    context = {"authorization": person_token("per_ledger")}
    with ServiceRpcProxy("ledger", config, context_data=context, timeout=30) as proxy:
        return getattr(proxy, method)(payload)


def test_a_write_committed_before_a_crash_is_not_made_again_when_the_call_comes_back(
    container_factory: Any, service_config: dict[str, Any], engine: Engine
) -> None:
    first = container_factory(Ledger, service_config)
    first.start()
    outcome: dict[str, Any] = {}

    def caller() -> None:
        try:
            outcome["answer"] = call(service_config, "add", {"marker": "m1", "hang": True})
        except Exception as exc:
            outcome["error"] = exc

    waiting = eventlet.spawn(caller)
    wait_for(lambda: "m1" in COMMITTED, 15, "the first worker to commit its write")
    # The process dies before its reply and its acknowledgement: the broker has the request
    # again for the next consumer of the queue, marked as delivered before.
    first.kill()
    second = container_factory(Ledger, service_config)
    second.start()
    waiting.wait()

    error = outcome.get("error")
    assert isinstance(error, FailedPrecondition), outcome
    assert error.reason == receipts.ALREADY_DONE
    assert rows(engine, "m1") == 1  # the write stands, once
    assert len(receipts_of(engine, "ledger.add")) == 1

    # The service goes on: a new call writes, with a receipt of its own.
    call(service_config, "add", {"marker": "m2"})
    assert rows(engine, "m2") == 1
    assert len(receipts_of(engine, "ledger.add")) == 2


def test_units_of_work_of_one_worker_share_its_receipt_and_reads_leave_none(
    container_factory: Any, service_config: dict[str, Any], engine: Engine
) -> None:
    container_factory(Ledger, service_config).start()
    call(service_config, "add", {"marker": "m3", "units": 3})
    assert rows(engine, "m3") == 3  # all three committed
    assert len(receipts_of(engine, "ledger.add")) == 1
    call(service_config, "look", {"marker": "m3"})
    assert receipts_of(engine, "ledger.look") == []


def test_two_deliveries_of_one_call_at_once_commit_one_write(engine: Engine) -> None:
    clock = SystemClock()
    first, second = (WorkerDatabase(engine, clock), WorkerDatabase(engine, clock))
    one = Delivery("call_at_once", "worker_1", "ledger.race")
    other = Delivery("call_at_once", "worker_2", "ledger.race")
    insert = text("INSERT INTO receipt_probe (marker) VALUES ('m4')")
    outcome: dict[str, Any] = {}
    try:
        with first.unit_of_work() as uow:
            uow.connection.execute(insert)
            receipts.record(uow.connection, one, clock.now())  # taken, not yet committed

            def later() -> None:
                try:
                    with second.unit_of_work() as uow2:
                        uow2.connection.execute(insert)
                        receipts.record(uow2.connection, other, clock.now())
                    outcome["committed"] = True
                except FailedPrecondition as exc:
                    outcome["refused"] = exc.reason

            racing = eventlet.spawn(later)
            # The second waits on the receipt's key until the first's transaction ends.
            wait_for(lambda: waiting_on_a_lock(engine), 10, "the second delivery to wait")
        racing.wait()
        assert outcome == {"refused": receipts.ALREADY_DONE}
        assert rows(engine, "m4") == 1

        # The same worker's next unit of work takes its own receipt again.
        with first.unit_of_work() as uow:
            uow.connection.execute(insert)
            receipts.record(uow.connection, one, clock.now())
        assert rows(engine, "m4") == 2
    finally:
        first.close()
        second.close()


def waiting_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND query LIKE '%rpc_receipts%'"
            )
        )
        return bool(found.scalar_one())
