"""The fault stage's platform: a PostgreSQL and a RabbitMQ of its own (it pauses the one and
restarts the other: the machine's are shared with every other test), one deployment on them, and
the load benchmark's people (`bench/load.py`: coaches, coachees, active spaces, notes).

`make test` runs this stage alone, after the end-to-end stage (`ecoach_dev/testrun.py`): it
kills processes and loads the machine on purpose.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import kombu
import psycopg2
import pytest

from bench import load
from ecoach_dev import pg, rabbitnode
from ecoach_dev.deployment import Deployment
from services.kernel.runtime.broker_admin import MANAGEMENT_PORT_ENV
from tests.support.api import Api

# Events the checks follow, from the services the load writes through.
TAPPED = ("spaces", "scheduling")
TAP_QUEUE = "faults-tap"

# Short relay leases: a killed relay's claimed rows are published by its successor within
# seconds (the default 30 s lease would hold them that long). A relay's cycle is bounded at 80%
# of its lease, the broker's confirms at ECOACH_RELAY_CONFIRM_TIMEOUT_SECONDS within it.
ENV = {
    "ECOACH_RELAY_LEASE_SECONDS": "4",
    "ECOACH_RELAY_CONFIRM_TIMEOUT_SECONDS": "2",
    "ECOACH_RELAY_POLL_SECONDS": "0.3",
}


STARTED = time.monotonic()


def mark(what: str) -> None:
    """A line in the stage's output with the seconds since it began (its budget is watched)."""
    print(f"[faults +{time.monotonic() - STARTED:5.1f}s] {what}", flush=True)


@dataclass
class Platform:
    deployment: Deployment
    broker: rabbitnode.RabbitNode
    pg_dir: Path
    api: Api
    people: load.People
    setup_notes: frozenset[str]  # the notes the set-up wrote (the load adds to them)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    why = rabbitnode.available()
    if why:
        pytest.skip(f"the fault stage runs a RabbitMQ node of its own: {why}")
    root = Path(tmp_path_factory.mktemp("faults"))
    node = rabbitnode.RabbitNode(root / "rabbitmq")
    # The broker boots (~15 s) while PostgreSQL starts.
    failed: list[BaseException] = []

    def boot() -> None:
        try:
            node.start()
        except BaseException as exc:  # raised below, in the fixture's thread
            failed.append(exc)

    booting = threading.Thread(target=boot)
    booting.start()
    pg_dir = root / "pgvar"
    saved = os.environ.get(MANAGEMENT_PORT_ENV)
    try:
        url = pg.start_embedded(pg_dir)
        throwaway(url)
        mark("PostgreSQL up")
        booting.join()
        mark("RabbitMQ up")
        if failed:
            raise failed[0]
        # This process's calls to the management API (the deployment's vhost, users) and the
        # deployment's processes (they inherit the environment) reach the node's.
        os.environ[MANAGEMENT_PORT_ENV] = str(node.management_port)
        d = Deployment(root / "deployment", url, node.amqp_uri, env=ENV, hold=("web",))
        try:
            d.start()
            mark("deployment serving")
            declare_tap(d.amqp_uri)
            with d.channel() as channel:
                api = Api(channel)
                args = SimpleNamespace(tenants=1, coaches=2, coachees=2)
                people = load.set_up(d, api, args)
                mark("people set up")
                yield Platform(d, node, pg_dir, api, people, frozenset(note_ids(d)))
        finally:
            # The processes only: their databases, vhost and users go with the stage's own
            # PostgreSQL and broker, which nothing else uses.
            d.stop_all()
    finally:
        booting.join()
        node.stop(graceful=False)
        pg.stop_embedded(pg_dir, wait_for_clients=0)
        mark("torn down")
        if saved is None:
            os.environ.pop(MANAGEMENT_PORT_ENV, None)
        else:
            os.environ[MANAGEMENT_PORT_ENV] = saved


def throwaway(url: str) -> None:
    """No flushing to disk on the stage's own cluster: it is paused, never crashed, and thrown
    away after (creating six services' databases and migrating them waits on fsync most)."""
    with contextlib.closing(psycopg2.connect(url, connect_timeout=5)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in ("fsync", "synchronous_commit", "full_page_writes"):
                cur.execute(f"ALTER SYSTEM SET {name} = off")
            cur.execute("SELECT pg_reload_conf()")


def declare_tap(amqp_uri: str) -> None:
    """A queue that gets a copy of every event of `TAPPED`: what the broker delivered, counted
    by event id (the services' own consumers count once per handler, through their inbox)."""
    with kombu.Connection(amqp_uri) as conn:
        channel = conn.channel()
        channel.queue_declare(TAP_QUEUE, durable=True, auto_delete=False)
        for service in TAPPED:
            channel.exchange_declare(f"{service}.events", "topic", durable=True, auto_delete=False)
            channel.queue_bind(TAP_QUEUE, f"{service}.events", "#")
        channel.close()


def note_ids(d: Deployment) -> list[str]:
    from tests.faults.checks import rows

    return [r[0] for r in rows(d, "spaces", "SELECT id FROM notes")]
