"""Service integration tests, run under `nameko test` (eventlet patched before pytest starts).

Each run gets fresh databases (a random prefix), migrated once and dropped at the end, and its
own key folder. nameko's `rabbit_config` gives each test a fresh RabbitMQ vhost.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.support.databases import fresh_prefix

# Before anything reads the settings: this run's databases and files.
os.environ["ECOACH_ENV"] = "test"
os.environ["ECOACH_DATABASE_PREFIX"] = fresh_prefix()
os.environ["ECOACH_VAR_DIR"] = tempfile.mkdtemp(prefix="ecoach-integration-")
if not os.environ.get("ECOACH_DATABASE_URL"):
    url_file = Path(__file__).resolve().parents[2] / "var" / "pg.url"
    if url_file.exists():
        os.environ["ECOACH_DATABASE_URL"] = url_file.read_text().strip()

import pytest

from ecoach_dev.cli import ensure_keys
from services.kernel.config import settings
from tests.support.databases import drop_all, migrate_all


@pytest.fixture(scope="session", autouse=True)
def databases() -> Iterator[None]:
    config = settings()
    ensure_keys(config)
    migrate_all(config)
    yield
    drop_all(config)


@pytest.fixture
def service_config(rabbit_config: dict[str, object]) -> dict[str, object]:
    return dict(rabbit_config, max_workers=16, serializer="json")
