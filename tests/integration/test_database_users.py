"""Each service's own database user (ECOACH_DATABASE_USERS): what the migration step grants it,
checked against the real server. Two services' databases of their own (a fresh prefix), dropped
with their users at the end."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from ecoach_dev.cli import database_credentials
from services.kernel.config import Settings, settings, with_user
from services.kernel.runtime.migrations import (
    drop_database,
    drop_role,
    grant_service_user,
    upgrade,
)
from tests.support.databases import fresh_prefix

SERVICES = ("spaces", "assessment")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    keys = tmp_path_factory.mktemp("keys")
    config = Settings(
        env="test",
        database_url=settings().server_url(),
        database_prefix=fresh_prefix(),
        database_users=True,
        keys_dir=keys,
    )
    try:
        for service in SERVICES:
            upgrade(service, config)
            creds = database_credentials(
                config.database_credentials_path(service), config.database_name(service)
            )
            grant_service_user(config, service, creds["user"], creds["password"])
        yield config
    finally:
        for service in SERVICES:
            drop_database(config.server_url(), config.database_name(service))
            drop_role(config.server_url(), config.database_name(service))


def connect(url: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(url, connect_timeout=10)
    conn.autocommit = True
    return conn


def credentials(config: Settings, service: str) -> dict[str, str]:
    return dict(json.loads(Path(config.database_credentials_path(service)).read_text()))


def test_the_service_connects_as_its_own_user_named_after_its_database(config: Settings) -> None:
    with contextlib.closing(connect(config.database_url_for("spaces"))) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user, current_database()")
            assert cur.fetchone() == (config.database_name("spaces"),) * 2


def test_the_service_user_reads_and_writes_every_table_but_alembics(config: Settings) -> None:
    user = config.database_name("spaces")
    with contextlib.closing(connect(config.database_owner_url_for("spaces"))) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT tablename, has_table_privilege(%s, 'public.' || tablename,"
                " 'SELECT, INSERT, UPDATE, DELETE') FROM pg_tables WHERE schemaname = 'public'",
                (user,),
            )
            rights = dict(cur.fetchall())
    assert rights.pop("alembic_version") is False
    assert "outbox" in rights
    assert all(rights.values()), [name for name, granted in rights.items() if not granted]
    with contextlib.closing(connect(config.database_url_for("spaces"))) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM outbox")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("SELECT version_num FROM alembic_version")


def test_a_table_a_later_migration_creates_is_the_service_users_to_use(config: Settings) -> None:
    with contextlib.closing(connect(config.database_owner_url_for("assessment"))) as conn:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE later_migration (id serial PRIMARY KEY, note text)")
    with contextlib.closing(connect(config.database_url_for("assessment"))) as conn:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO later_migration (note) VALUES ('a') RETURNING id")
            row = cur.fetchone()
            assert row is not None
            cur.execute("UPDATE later_migration SET note = 'b' WHERE id = %s", row)
            cur.execute("SELECT note FROM later_migration WHERE id = %s", row)
            assert cur.fetchone() == ("b",)
            cur.execute("DELETE FROM later_migration WHERE id = %s", row)
            assert cur.rowcount == 1


def test_the_service_user_cannot_connect_to_another_services_database(config: Settings) -> None:
    theirs = config.database_owner_url_for("assessment")
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        connect(with_user(theirs, credentials(config, "spaces")))


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE mine (id int)",
        "DROP TABLE outbox",
        "ALTER TABLE outbox ADD COLUMN extra int",
        "TRUNCATE outbox",
        "CREATE SCHEMA mine",
    ],
)
def test_the_service_user_cannot_change_the_schema(config: Settings, statement: str) -> None:
    with contextlib.closing(connect(config.database_url_for("spaces"))) as conn:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(statement)


def test_migrating_again_keeps_the_user_a_plain_login(config: Settings) -> None:
    creds = credentials(config, "spaces")
    grant_service_user(config, "spaces", creds["user"], creds["password"])
    with contextlib.closing(connect(config.database_url_for("spaces"))) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles"
                " WHERE rolname = current_user"
            )
            assert cur.fetchone() == (False, False, False)
