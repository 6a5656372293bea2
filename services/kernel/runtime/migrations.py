"""Alembic per service: each service's `migrations/` folder, its own database.

`upgrade(service)` creates the service's database if missing, then runs its migrations to head,
as ECOACH_DATABASE_URL's user (the databases' owner). `grant_service_user` then gives the service's
own database user what it needs at run time, and nothing more (ECOACH_DATABASE_USERS).
Each service's `migrations/env.py` is two lines that call `run_env(metadata)`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from alembic import command, context
from alembic.config import Config
from psycopg2 import sql
from sqlalchemy import MetaData, create_engine, pool

from ..config import Settings, with_database

SERVICES_DIR = Path(__file__).resolve().parents[2]


def alembic_config(service: str, url: str, migrations_dir: Path | None = None) -> Config:
    cfg = Config()
    location = migrations_dir or SERVICES_DIR / service / "migrations"
    cfg.set_main_option("script_location", str(location))
    cfg.attributes["url"] = url  # not in the ini options: a '%' in a URL would break them
    return cfg


def _admin_connection(server_url: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(with_database(server_url, "postgres"), connect_timeout=10)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    return conn


def create_database(server_url: str, name: str) -> bool:
    """Create database `name` on the server unless it exists; True if it was created."""
    with contextlib.closing(_admin_connection(server_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is not None:
            return False
        try:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
            return False  # created concurrently by another process
        return True


def drop_database(server_url: str, name: str) -> None:
    """Drop database `name` if it exists, disconnecting its clients (PostgreSQL 13+)."""
    with contextlib.closing(_admin_connection(server_url)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def upgrade(service: str, config: Settings, migrations_dir: Path | None = None) -> None:
    server = config.server_url()
    create_database(server, config.database_name(service))
    url = config.database_owner_url_for(service)
    command.upgrade(alembic_config(service, url, migrations_dir), "head")


# What a service does with its tables at run time; the schema stays the owner's.
TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"


def grant_service_user(config: Settings, service: str, user: str, password: str) -> None:
    """Create (or give its password again to) the service's login role `user`, and grant it,
    as the databases' owner: CONNECT on the service's database only (PUBLIC loses CONNECT on
    it, so no other service's user gets in), and on its tables reading and writing rows
    only, now and for tables later migrations create. It owns nothing, so it can neither
    create, alter nor drop a table; Alembic's own table stays out of its reach."""
    database = config.database_name(service)
    role, db = sql.Identifier(user), sql.Identifier(database)
    with contextlib.closing(_admin_connection(config.server_url())) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
        verb = "ALTER" if cur.fetchone() else "CREATE"
        # CREATE ROLE's defaults: no superuser, CREATEDB or CREATEROLE, member of nothing.
        cur.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD %s").format(role), (password,))
        cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
        cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, role))
    statements = [
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",  # PostgreSQL 14 and older allow it
        "GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT {TABLE_RIGHTS} ON ALL TABLES IN SCHEMA public TO {{role}}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {TABLE_RIGHTS} ON TABLES TO {{role}}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        "REVOKE ALL ON TABLE alembic_version FROM {role}",
    ]
    owner_url = config.database_owner_url_for(service)
    with contextlib.closing(psycopg2.connect(owner_url, connect_timeout=10)) as conn:
        with conn, conn.cursor() as cur:  # one transaction
            for statement in statements:
                cur.execute(sql.SQL(statement).format(role=role))


def drop_role(server_url: str, user: str) -> None:
    """Drop the login role `user` if it exists (after its database: a test deployment's)."""
    with contextlib.closing(_admin_connection(server_url)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(user)))


def declare_events(service_cls: type, config: Settings, *, publishes: bool = True) -> list[str]:
    """The broker half of the migration step: the service's event queues, retry and
    dead-letter queues, and the queue length policy (see topology). Returns deleted queues."""
    from .topology import declare, subscriptions_of

    return declare(
        config.amqp_uri,
        service_cls.name,  # type: ignore[attr-defined]
        subscriptions_of(service_cls),
        retries=config.handler_retries,
        retry_base_seconds=config.retry_base_seconds,
        queue_max_length=config.queue_max_length,
        publishes=publishes,
    )


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py (online mode only)."""
    url: Any = context.config.attributes.get("url")
    engine = create_engine(url, poolclass=pool.NullPool, hide_parameters=True)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
