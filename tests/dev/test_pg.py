"""The embedded PostgreSQL helpers against a real embedded server in a temporary var folder."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from ecoach_dev.pg import is_running, start_embedded, stop_embedded
from services.kernel.config import with_database
from services.kernel.runtime.migrations import create_database, drop_database


@pytest.fixture
def var_dir(tmp_path: Path) -> Iterator[Path]:
    """A var folder whose server is stopped whatever the test did: none may outlive the run."""
    var = tmp_path / "var"
    yield var
    stop_embedded(var, wait_for_clients=0)


def _databases(url: str) -> set[str]:
    with contextlib.closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        cur.execute("select datname from pg_database")
        return {name for (name,) in cur.fetchall()}


def test_start_create_drop_stop(var_dir: Path) -> None:
    url = start_embedded(var_dir)

    assert (var_dir / "pg.url").read_text().strip() == url
    assert is_running(var_dir)
    assert start_embedded(var_dir) == url  # adopting the running server changes nothing
    assert create_database(url, "ecoach Test") is True
    assert create_database(url, "ecoach Test") is False
    with contextlib.closing(psycopg2.connect(with_database(url, "ecoach Test"))) as client:
        with client.cursor() as cur:
            cur.execute("select current_database()")
            assert cur.fetchone() == ("ecoach Test",)
        drop_database(url, "ecoach Test")  # WITH (FORCE): the open client does not block it
    drop_database(url, "ecoach Test")
    assert "ecoach Test" not in _databases(url)

    stop_embedded(var_dir)

    assert not is_running(var_dir)
    assert not (var_dir / "pg.url").exists()
    stop_embedded(var_dir)  # stopping a stopped server is a no-op


def test_restart_keeps_data(var_dir: Path) -> None:
    url = start_embedded(var_dir)
    create_database(url, "ecoach_kept")
    stop_embedded(var_dir)

    url = start_embedded(var_dir)

    assert "ecoach_kept" in _databases(url)


def test_stop_disconnects_a_lingering_client_after_the_grace_period(var_dir: Path) -> None:
    url = start_embedded(var_dir)
    with contextlib.closing(psycopg2.connect(url)) as client:
        started = time.monotonic()
        stop_embedded(var_dir, wait_for_clients=0.5)
        elapsed = time.monotonic() - started

        assert not is_running(var_dir)
        assert 0.4 < elapsed < 3.0
        with pytest.raises(psycopg2.OperationalError), client.cursor() as cur:
            cur.execute("select 1")
