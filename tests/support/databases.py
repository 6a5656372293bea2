"""Fresh databases for one test run: a random prefix, every service migrated, dropped after."""

from __future__ import annotations

from ecoach_dev.cli import SERVICES
from ecoach_dev.deployment import fresh_prefix
from services.kernel.config import Settings
from services.kernel.runtime.migrations import drop_database, upgrade

__all__ = ["drop_all", "fresh_prefix", "migrate_all"]


def migrate_all(config: Settings) -> None:
    for service in SERVICES:
        upgrade(service, config)


def drop_all(config: Settings) -> None:
    for service in SERVICES:
        drop_database(config.server_url(), config.database_name(service))
