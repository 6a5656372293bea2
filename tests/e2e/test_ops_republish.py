"""`ecoach-ops republish` against running services (ADR 0022): each service records a snapshot
of its aggregates after their live events, the existing consumers do nothing with it (the
coachee's calendar gets no second invitation), and only the operator's key is accepted."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from ecoach_dev.cli import ROOT
from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.rpc_client import RpcClient
from services.contracts.base import RepublishRequest
from services.contracts.scheduling import SchedulingApi
from services.kernel import context
from services.kernel.clock import clock_for
from services.kernel.errors import PermissionDenied, Unauthenticated
from services.kernel.tokens import issue_service_token, load_or_create_service_key
from tests.e2e.conftest import make_tenant
from tests.support import scheduling as sch
from tests.support import world_fixtures
from tests.support.api import Api, Session
from tests.support.smtp import SmtpServer
from tests.support.waiting import wait_for

api = world_fixtures.api
operator = world_fixtures.operator
s = world_fixtures.s
world = world_fixtures.shared


def ops(world: Deployment, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "ecoach_ops", "republish", *args],
        cwd=ROOT,
        env={**world.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def scheduling_db(world: Deployment) -> Iterator[sa.Engine]:
    engine = sa.create_engine(world.config.database_url_for("scheduling"), poolclass=sa.NullPool)
    yield engine
    engine.dispose()


def outbox_of(engine: sa.Engine, aggregate_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT event_type, sequence, envelope, sent_at FROM outbox "
                    "WHERE aggregate_id = :a ORDER BY sequence"
                ),
                {"a": aggregate_id},
            )
        )


def calendar_uids(smtp: SmtpServer, address: str) -> list[str]:
    """The UID of each invitation mailed to `address`, in order."""
    return [
        str(event["UID"])
        for mail in smtp.inbox.to(address)
        for part in mail.walk()
        if part.get_content_type() == "text/calendar"
        for event in Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    ]


def email_of(api: Api, who: Session) -> str:
    return str(api.auth.GetMe(ipb.GetMeRequest(), metadata=who.metadata).person.email)


def test_republishing_records_snapshots_after_the_live_events_and_mails_nothing_again(
    world: Deployment,
    api: Api,
    operator: Session,
    s: sch.Stubs,
    smtp: SmtpServer,
    scheduling_db: sa.Engine,
) -> None:
    team = make_tenant(world, api, operator)
    coachee = email_of(api, team.coachee)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    space = sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member)
    first = sch.book(s, space.name, team.coachee, sch.hour_from_now(24 * 5), minutes=60)
    wait_for(lambda: calendar_uids(smtp, coachee), 30, "the first invitation")

    done = ops(world, "scheduling", "--tenant", team.tenant_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scheduling.session_snapshot: 1" in done.stdout
    rows = outbox_of(scheduling_db, first.session_id)
    assert [(r.event_type, r.sequence) for r in rows] == [
        ("scheduling.session_booked", 1),
        ("scheduling.session_snapshot", 2),
    ]
    assert rows[-1].envelope["payload"]["status"] == "booked"
    wait_for(lambda: outbox_of(scheduling_db, first.session_id)[-1].sent_at, 20, "it published")

    for service, line in (
        ("spaces", "spaces.space_snapshot: 1"),
        ("identity", "identity.membership_changed: 3"),  # admin, coach, coachee
        ("assessment", "Recorded 0 snapshot event(s)"),
        ("content", "Recorded 0 snapshot event(s)"),
    ):
        done = ops(world, service, "--tenant", team.tenant_id)
        assert done.returncode == 0, done.stdout + done.stderr
        assert line in done.stdout, done.stdout
    identity_db = sa.create_engine(world.config.database_url_for("identity"))
    try:
        *live, republished = outbox_of(identity_db, team.coachee_member)
    finally:
        identity_db.dispose()
    assert live and republished.sequence == live[-1].sequence + 1
    assert republished.envelope["payload"]["change"] == "republished"
    assert republished.envelope["payload"]["status"] == "active"

    # The invitation handler never saw the snapshot: the next booking's invitation arrives, and
    # the coachee's calendar has one mail per session.
    second = sch.book(s, space.name, team.coachee, sch.hour_from_now(24 * 6), minutes=60)
    wait_for(lambda: len(calendar_uids(smtp, coachee)) >= 2, 30, "the second invitation")
    uids = calendar_uids(smtp, coachee)
    assert len(uids) == 2
    assert uids[0].startswith(first.session_id) and uids[1].startswith(second.session_id)


def test_only_the_operator_s_key_may_ask_for_a_republish(
    world: Deployment, api: Api, operator: Session, tmp_path: Path
) -> None:
    # Another key under the operator's name: its signature is not the deployment's ops.pub.
    forged = tmp_path / "keys"
    load_or_create_service_key(forged, "ops")
    done = ops(world, "scheduling", env={"ECOACH_KEYS_DIR": str(forged)})
    assert done.returncode == 1
    assert "TOKEN_INVALID" in done.stderr or "Unauthenticated" in done.stderr, done.stderr

    request = RepublishRequest()
    method = SchedulingApi.republish_state
    with RpcClient(world.amqp_uri, name="republish-refusals") as rpc:
        # A person's token, even the platform operator's: this method serves the tool only.
        with pytest.raises(PermissionDenied):
            rpc.call_method(
                method,
                request,
                timeout=10,
                context={context.AUTHORIZATION: operator.token},
            )
        # The gateway's own service token: not named by the method.
        gateway_key = load_or_create_service_key(world.config.keys_path, "gateway")
        token = issue_service_token(
            gateway_key,
            service="gateway",
            audience="scheduling",
            clock=clock_for(world.config.env, world.config.test_clock_path),
            ttl=timedelta(minutes=1),
        )
        with pytest.raises(Unauthenticated):
            rpc.call_method(method, request, timeout=10, context={context.AUTHORIZATION: token})
