"""One deployment (services and gateway as subprocesses) shared by the end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from tests.support.api import Api, Session, lasting, unique_email, unique_slug
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.people import set_password, sign_in_operator
from tests.support.scheduling import Stubs, stubs
from tests.support.smtp import SmtpServer, mailing_deployment


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    var = tmp_path_factory.mktemp("deployment")
    d = Deployment(Path(var), os.environ.get("ECOACH_DATABASE_URL"))
    try:
        d.start()
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server of the worker's (for the deployments that mail to it:
    `tests.support.smtp.mailing_deployment`); tests tell their mails apart by their own unique
    addresses."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mailing(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Deployment]:
    """A deployment of the worker's whose services mail `smtp`, made when a module first needs
    it and shared by the modules that need nothing else of their own (`world_fixtures.mailing`:
    each puts its test clock back). Six modules used to start one each, ~20 s apiece."""
    with mailing_deployment(Path(tmp_path_factory.mktemp("mailing")), smtp) as d:
        yield d


@pytest.fixture(scope="session")
def api(deployment: Deployment) -> Iterator[Api]:
    channel = deployment.channel()
    yield Api(channel)
    channel.close()


@pytest.fixture(scope="session")
def operator(deployment: Deployment, api: Api) -> Session:
    """One operator for the whole run, its token refreshed as it ages (a run outlasts it)."""
    return lasting(api, sign_in_operator(api, deployment.config), deployment.config.test_clock_path)


PASSWORD = "not-a-real-password-42"


@dataclass
class TenantWorld:
    """A tenant with an admin, a coach and a coachee, each signed in."""

    tenant_id: str
    slug: str
    admin: Session
    coach: Session
    coachee: Session
    admin_member: str
    coach_member: str
    coachee_member: str


def make_tenant(deployment: Deployment, api: Api, operator: Session) -> TenantWorld:
    slug = unique_slug()
    tenant = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name=f"Tenant {slug}", slug=slug), metadata=operator.metadata
    )
    parent = f"tenants/{tenant.tenant_id}"
    sessions = {}
    members = {}
    for label, role in (("admin", pb.TENANT_ADMIN), ("coach", pb.COACH), ("coachee", pb.COACHEE)):
        email = unique_email(label)
        added = api.members.AddMember(
            pb.AddMemberRequest(
                parent=parent, email=email, roles=[role], display_name=label.title()
            ),
            metadata=operator.metadata,
        )
        set_password(deployment.config, email, PASSWORD)
        sessions[label] = api.sign_in(email, PASSWORD, tenant.tenant_id)
        members[label] = added.member_id
    return TenantWorld(
        tenant.tenant_id,
        slug,
        sessions["admin"],
        sessions["coach"],
        sessions["coachee"],
        members["admin"],
        members["coach"],
        members["coachee"],
    )


def lasting_tenant(deployment: Deployment, api: Api, operator: Session) -> TenantWorld:
    """A tenant for the whole run: its people's tokens are refreshed as they age."""
    t = make_tenant(deployment, api, operator)
    return replace(
        t,
        admin=lasting(api, t.admin, deployment.config.test_clock_path),
        coach=lasting(api, t.coach, deployment.config.test_clock_path),
        coachee=lasting(api, t.coachee, deployment.config.test_clock_path),
    )


@pytest.fixture(scope="session")
def acme(deployment: Deployment, api: Api, operator: Session) -> TenantWorld:
    return lasting_tenant(deployment, api, operator)


@pytest.fixture(scope="session")
def globex(deployment: Deployment, api: Api, operator: Session) -> TenantWorld:
    return lasting_tenant(deployment, api, operator)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, one per module (the web app's browser tests)."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def origin(deployment: Deployment) -> str:
    """The web app's origin: no page may send a request anywhere else."""
    return f"http://{deployment.web_address}"


@pytest.fixture(scope="module")
def s(deployment: Deployment) -> Iterator[Stubs]:
    """The scheduling and spaces stubs over a channel of the module's own."""
    channel = deployment.channel()
    yield stubs(channel)
    channel.close()
