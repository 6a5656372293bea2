"""Each service's migrations and its tables, as its storage declares them, say the same thing:
after `alembic upgrade head` on a fresh database, Alembic's `compare_metadata` finds no
difference (a column, index or constraint added to one and forgotten in the other fails here,
not in production)."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, pool

from ecoach_dev.cli import SERVICES
from services.kernel.config import settings
from services.kernel.runtime.keyring import KEYRING_METADATA
from services.kernel.runtime.outbox import EVENT_METADATA
from services.kernel.runtime.webhooks import WEBHOOK_METADATA

# The kernel's tables each service's migrations create beside its own (the outbox, sequences
# and inbox of reliable events; the tenant keys of services that seal free text).
KERNEL_TABLES: dict[str, tuple[MetaData, ...]] = {
    "identity": (EVENT_METADATA,),
    "spaces": (EVENT_METADATA, KEYRING_METADATA),
    "scheduling": (EVENT_METADATA, KEYRING_METADATA),
    "assessment": (EVENT_METADATA, KEYRING_METADATA),
    "content": (EVENT_METADATA, KEYRING_METADATA),
    "reporting": (EVENT_METADATA, KEYRING_METADATA, WEBHOOK_METADATA),
}


def tables_of(service: str) -> MetaData:
    """The service's own tables: `storage/tables.py` in the one service layout (issue 21), the
    `storage` module before a service moves to it."""
    storage = importlib.import_module(f"services.{service}.storage")
    if hasattr(storage, "metadata"):
        return storage.metadata  # type: ignore[no-any-return]
    return importlib.import_module(f"services.{service}.storage.tables").metadata  # type: ignore[no-any-return]


def declared(service: str) -> MetaData:
    """Every table the service's database should hold, as the code declares it."""
    every = MetaData()
    own = tables_of(service)
    for metadata in (own, *KERNEL_TABLES[service]):
        for table in metadata.tables.values():
            table.to_metadata(every)
    return every


def test_every_service_says_which_kernel_tables_it_has() -> None:
    assert set(KERNEL_TABLES) == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_the_migrations_make_the_tables_storage_declares(service: str) -> None:
    metadata = declared(service)
    engine = create_engine(
        settings().database_url_for(service), poolclass=pool.NullPool, hide_parameters=True
    )
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == [], "\n".join(map(str, differences))
