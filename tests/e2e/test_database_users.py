"""The whole platform with each service on its own database user (ECOACH_DATABASE_USERS, as
Compose and Kubernetes run it): every service connects as `<prefix>_<service>` to its own
database, and a tenant's set-up through the gateway (writes, outbox, events between services)
works with only the rights the migration step grants."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from ecoach_dev.cli import SERVICES
from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from tests.support.api import Api, unique_email, unique_slug
from tests.support.people import sign_in_operator
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def own_users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    d = Deployment(
        Path(tmp_path_factory.mktemp("database-users")),
        os.environ.get("ECOACH_DATABASE_URL"),
        env={"ECOACH_DATABASE_USERS": "true"},
    )
    try:
        d.start()
        yield d
    finally:
        d.stop()


def users_by_database(d: Deployment) -> dict[str, set[str]]:
    """Who is connected to each service's database now (as the server's administrator)."""
    names = [d.config.database_name(service) for service in SERVICES]
    with contextlib.closing(psycopg2.connect(d.config.server_url(), connect_timeout=10)) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT datname, usename FROM pg_stat_activity WHERE datname = ANY(%s)", (names,)
            )
            found: dict[str, set[str]] = {name: set() for name in names}
            for database, user in cur.fetchall():
                found[database].add(user)
    return found


def test_every_service_connects_to_its_database_as_its_own_user(own_users: Deployment) -> None:
    # each service's relay polls its outbox, so each holds a connection once started
    connected = wait_for(
        lambda: (found := users_by_database(own_users)) and all(found.values()) and found,
        30,
        "every service to connect to its database",
    )
    assert connected == {name: {name} for name in connected}


def test_a_tenant_is_set_up_with_only_the_granted_rights(own_users: Deployment) -> None:
    with own_users.channel() as channel:
        api = Api(channel)
        operator = sign_in_operator(api, own_users.config)
        tenant = api.tenants.CreateTenant(
            pb.CreateTenantRequest(display_name="Own users", slug=unique_slug("users")),
            metadata=operator.metadata,
            timeout=10,
        ).tenant_id
        added = api.members.AddMember(
            pb.AddMemberRequest(
                parent=f"tenants/{tenant}", email=unique_email("users"), roles=[pb.COACH]
            ),
            metadata=operator.metadata,
            timeout=10,
        )
        listed = api.members.ListMembers(
            pb.ListMembersRequest(parent=f"tenants/{tenant}"),
            metadata=operator.metadata,
            timeout=10,
        )
    assert added.member_id in {m.member_id for m in listed.members}
    for process, log in own_users.logs.items():
        text = log.read_text(errors="replace")
        assert "permission denied" not in text, f"{process}:\n{own_users.tail(process)}"
