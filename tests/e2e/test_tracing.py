"""Traces (docs/operations/tracing.md): with ECOACH_OTLP_ENDPOINT set, one trace per web page or
gRPC call shows every hop — the web request, the gRPC gateway's method and its nameko calls, the
services' entrypoints and their SQL — and an event's handling continues the trace of the call
that recorded it. Received by a test OTLP/HTTP receiver (tests/support/otlp.py).

A deployment of the module's own: tracing is off everywhere else (the default)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from ecoach_dev.deployment import Deployment
from gateway.web.session import COOKIE
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support import world_fixtures
from tests.support.api import Api, Session
from tests.support.deployments import own_deployment
from tests.support.otlp import OtlpReceiver, Span
from tests.support.scheduling import Stubs
from tests.support.waiting import wait_for
from tests.support.web import email_of, open_space

api = world_fixtures.api
operator = world_fixtures.operator
s = world_fixtures.s


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    r = OtlpReceiver().start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver) -> Iterator[Deployment]:
    env = {"ECOACH_OTLP_ENDPOINT": receiver.endpoint, "ECOACH_RELAY_POLL_SECONDS": "0.2"}
    with own_deployment(tmp_path_factory, "tracing", env=env) as d:
        yield d


@pytest.fixture(scope="module")
def team(world: Deployment, api: Api, operator: Session) -> TenantWorld:
    return make_tenant(world, api, operator)


def web_session(origin: str, email: str) -> str:
    """The session cookie of `email` signed in through the web gateway's form, past the choice
    of their one organisation (the cookie is secure: sent by hand over the test's plain HTTP)."""
    with httpx.Client(base_url=origin, timeout=15) as http:
        page = http.get("/sign-in")
        cookie = page.cookies[COOKIE]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, "the sign-in form has its CSRF token"
        answer = http.post(
            "/sign-in",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf.group(1)},
            headers={"Cookie": f"{COOKIE}={cookie}"},
        )
        for _ in range(5):  # sign-in, home, the organisation, home, the coachee's space
            cookie = answer.cookies.get(COOKIE) or cookie
            if answer.status_code not in (302, 303):
                break
            answer = http.get(answer.headers["Location"], headers={"Cookie": f"{COOKIE}={cookie}"})
        assert answer.status_code == 200 and answer.url.path == "/my-space", answer.url
        return cookie


def one(spans: list[Span], **wanted: str) -> Span | None:
    return next((x for x in spans if all(getattr(x, k) == v for k, v in wanted.items())), None)


def test_the_coachee_dashboard_page_is_one_trace_through_every_hop(
    world: Deployment, api: Api, s: Stubs, team: TenantWorld, receiver: OtlpReceiver
) -> None:
    space = open_space(s, team, team.coachee_member)
    email = email_of(api, team.coachee)
    origin = f"http://{world.web_address}"
    cookie = web_session(origin, email)
    page = httpx.get(f"{origin}/my-space", headers={"Cookie": f"{COOKIE}={cookie}"}, timeout=15)
    assert page.status_code == 200

    root = wait_for(
        lambda: one(receiver.received(), process="web", name="GET /my-space"),
        what="the web request's span",
    )
    assert root.kind == "server" and root.parent_id == ""
    assert root.attributes["http.route"] == "/my-space"

    def every_hop() -> list[Span] | None:
        spans = receiver.trace(root.trace_id)
        hops = [
            one(spans, process="gateway", kind="server"),
            one(spans, process="gateway", kind="client", name="spaces.list_spaces"),
            one(spans, process="spaces", kind="server", name="spaces.list_spaces"),
            next(
                (x for x in spans if x.process == "spaces" and "db.statement" in x.attributes), None
            ),
            one(spans, process="gateway", kind="client", name="spaces.list_goals"),  # fanned out
            one(spans, process="identity", kind="server", name="identity.get_space_coaches"),
        ]
        return hops if all(hops) else None

    try:
        gateway, call, served, sql, fanned, coaches = wait_for(every_hop, what="every hop")
    except AssertionError:
        got = sorted({(x.process, x.kind, x.name) for x in receiver.trace(root.trace_id)})
        raise AssertionError(f"the page's trace lacks a hop; it has {got}") from None
    assert gateway.name == "ecoach.v1.DashboardService/GetCoacheeDashboard"
    assert gateway.parent_id == root.span_id  # the web gateway's gRPC call carried it
    assert call.parent_id == gateway.span_id
    assert served.parent_id == call.span_id  # over nameko's headers
    assert sql.kind == "client" and sql.attributes["db.system"] == "postgresql"
    assert fanned.parent_id == gateway.span_id  # a fan-out's thread goes on in the trace
    assert coaches.kind == "server"

    # Bounded and impersonal: no person's id or address, no space id, no SQL values.
    secrets_ = (email, team.coachee_member, space.space_id, team.coachee.token)
    for x in receiver.trace(root.trace_id):
        text = repr((x.name, x.attributes))
        assert not any(secret in text for secret in secrets_), x


def test_an_event_handler_continues_the_trace_of_the_call_that_recorded_it(
    team: TenantWorld, receiver: OtlpReceiver
) -> None:
    # make_tenant's CreateTenant recorded identity.tenant_created; scheduling applies it.
    created = wait_for(
        lambda: one(
            receiver.received(), process="gateway", name="ecoach.v1.TenantService/CreateTenant"
        ),
        what="CreateTenant's span",
    )

    def handled() -> tuple[Span, Span] | None:
        spans = receiver.trace(created.trace_id)
        published = one(spans, process="identity", name="identity.tenant_created publish")
        applied = next(
            (
                x
                for x in spans
                if x.process == "scheduling"
                and x.attributes.get("ecoach.handler") == "scheduling.create_default_policy"
            ),
            None,
        )
        return (published, applied) if published and applied else None

    published, applied = wait_for(handled, what="the event's handling in CreateTenant's trace")
    assert published.kind == "producer" and applied.kind == "consumer"
    assert applied.parent_id == published.span_id  # the relay's headers carried it
    recorded = one(receiver.trace(created.trace_id), process="identity", kind="server")
    assert recorded is not None and recorded.name == "identity.create_tenant"
