"""One deployment (services and gateway as subprocesses) shared by the end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from ecoach_dev.deployment import ROOT, Deployment
from gateway.api.pb import identity_pb2 as pb
from tests.support.api import Api, Session, lasting, unique_email, unique_slug
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.clock import move_test_clock
from tests.support.deployments import HEAVY_SECONDS, SharedDeployments, setting_of, unit_of
from tests.support.people import set_password, sign_in_operator
from tests.support.scheduling import Stubs, stubs
from tests.support.smtp import SmtpServer


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
    `tests.support.smtp.mailing_deployment`, the shared ones of `mailing: True`); tests tell their mails apart by their own unique
    addresses."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_deployments(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer, pytestconfig: pytest.Config
) -> Iterator[SharedDeployments]:
    """The worker's deployments of the settings several modules share
    (`tests.support.deployments.SHARED`), each stopped once the worker's next test is not of its
    setting (`pytest_runtest_teardown` below)."""
    pool = SharedDeployments(tmp_path_factory, smtp)
    pytestconfig.stash[SHARED_KEY] = pool
    try:
        yield pool
    finally:
        del pytestconfig.stash[SHARED_KEY]
        pool.keep_only(None)


@pytest.fixture(scope="module")
def shared_world(
    request: pytest.FixtureRequest, shared_deployments: SharedDeployments
) -> Iterator[Deployment]:
    """The deployment of the module's setting (`SHARED` lists the module), its test clock put
    back once the module is done (`world = world_fixtures.shared`)."""
    module = module_path(request.path)
    name = setting_of(module)
    assert name, f"{module} uses a shared deployment: list it in tests/support/deployments.SHARED"
    world = shared_deployments.get(name)
    yield world
    move_test_clock(world.config.test_clock_path, 0)


SHARED_KEY = pytest.StashKey[SharedDeployments]()


def module_path(path: Path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the test's own fixtures are torn down (its module's too when the next test is in
    another module): the shared deployments the next test has no use for are stopped."""
    yield
    pool = item.config.stash.get(SHARED_KEY, None)
    if pool is not None:
        pool.keep_only(setting_of(module_path(nextitem.path)) if nextitem else None)


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


# ---------------------------------------------------------------- the order the modules run in


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heavy units first (`HEAVY_SECONDS`), each unit's modules together."""
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        first.setdefault(unit_of(item.nodeid.split("::", 1)[0]), index)

    def rank(pair: tuple[int, pytest.Item]) -> tuple[float, int, int]:
        index, item = pair
        unit = unit_of(item.nodeid.split("::", 1)[0])
        return (-HEAVY_SECONDS.get(unit, 0), first[unit], index)

    items[:] = [item for _, item in sorted(enumerate(items), key=rank)]


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: unknown when it is not installed
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` by units rather than files (the modules of one shared setting go to one
    worker, one after the other), in the order collected (`pytest_collection_modifyitems`), not
    by number of tests per file (xdist's default put the few long browser journeys last)."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class UnitScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid.split("::", 1)[0])

    config.option.loadscopereorder = False
    return UnitScheduling(config, log)
