"""A deployment of a test module's own, and a gateway client for it (module fixtures use these)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ecoach_dev.cli import ServiceSpec
from ecoach_dev.deployment import ROOT, Deployment
from gateway.api.rpc_client import RpcClient
from tests.support.api import Api
from tests.support.smtp import SmtpServer, mailing_deployment
from tests.support.waiting import wait_for

# The test-only witness service (tests/support/witness), deployed beside identity by the tests
# of events, revocation and personal data.
WITNESS = ServiceSpec(
    "witness",
    "tests.support.witness.service",
    ROOT / "tests" / "support" / "witness" / "migrations",
)


@contextmanager
def own_deployment(
    tmp_path_factory: pytest.TempPathFactory, name: str, **options: Any
) -> Iterator[Deployment]:
    """Started on fresh databases and a vhost of its own; always stopped."""
    d = Deployment(
        Path(tmp_path_factory.mktemp(name)), os.environ.get("ECOACH_DATABASE_URL"), **options
    )
    try:
        d.start()
        yield d
    finally:
        d.stop()


@contextmanager
def gateway_api(deployment: Deployment) -> Iterator[Api]:
    channel = deployment.channel()
    try:
        yield Api(channel)
    finally:
        channel.close()


def start_witness(world: Deployment, name: str = "witness") -> None:
    """Start the witness and wait until it consumes its RPC queue (a call before that is lost)."""
    start_service(world, name, "witness")


def start_service(world: Deployment, process: str, service: str) -> None:
    """Start `process` and wait until `service`'s RPC queue has a consumer."""
    world.start_process(process)
    with RpcClient(world.amqp_uri, name=f"{service}-probe") as probe:
        wait_for(lambda: probe.consumer_count(service) > 0, 30, f"{service} to start")


# ---------------------------------------------------------------- deployments shared by modules


@dataclass(frozen=True)
class Setting:
    """A deployment several test modules need alike (`SHARED`): `env` over the test defaults,
    `extra_services` started before the first of those modules runs, `mailing` to send the
    services' mail to the worker's SMTP server."""

    modules: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    extra_services: tuple[ServiceSpec, ...] = ()
    mailing: bool = False


E2E = "tests/e2e/"

# Each setting's modules (paths from the repository's root) run one after the other on one
# worker (tests/e2e/conftest.py schedules them as one unit), on one deployment started for the
# first of them and stopped after the last: one start instead of one per module, and no
# deployment idling on a worker that will not use it again (~9% of a core each). A module adds
# the processes it alone needs (`extra_instances`) and leaves the test clock at 0 (the `world`
# fixture does it); its tests tell their data apart by their own unique tenants and addresses.
SHARED: dict[str, Setting] = {
    "mailing": Setting(
        modules=tuple(
            f"{E2E}test_{name}.py"
            for name in (
                "web_feedback",
                "account_proof",
                "assessment_360",
                "calendar_invitations",
                "invitations",
                "passwords",
                "ops_republish",
            )
        ),
        mailing=True,
    ),
    # Reminders and the toolbox's unlocks swept every half second, each sweep logged (the tests
    # count sweeps in the logs). Faults (identity stopped and started again) need nothing more
    # than a deployment no other module uses at the time, whose processes do not ask identity
    # for its signing keys every second (the witness setting's do: a request then waits).
    "sweeping": Setting(
        modules=tuple(
            f"{E2E}test_{name}.py" for name in ("toolbox", "reminders", "mailed_links", "faults")
        ),
        env={
            "ECOACH_REMINDER_SWEEP_SECONDS": "0.5",
            "ECOACH_TOOLBOX_SWEEP_SECONDS": "0.5",
            "ECOACH_LOG_LEVEL": "DEBUG",
        },
        mailing=True,
    ),
    # The test-only witness beside identity: a personal-data service of its own (erasure), a
    # second kernel service checking tokens (revocation), a consumer of signed events (broker
    # boundary); events relayed within 0.2 s, signing keys re-read every second (keys). Sign-in
    # throttling (a second identity instance of its own) needs nothing more than a deployment no
    # other module uses at the time.
    "witness": Setting(
        modules=tuple(
            f"{E2E}test_{name}.py"
            for name in ("erasure", "revocation", "broker_boundary", "keys", "throttle")
        ),
        env={
            "ECOACH_EXTRA_PERSONAL_DATA_SERVICES": "witness",
            "ECOACH_RELAY_POLL_SECONDS": "0.2",
            "ECOACH_SIGNING_KEYS_REFRESH_SECONDS": "1",
        },
        extra_services=(WITNESS,),
    ),
}


def setting_of(module: str) -> str | None:
    """The name of the `SHARED` setting whose modules include `module` (a path from the root)."""
    return next((name for name, s in SHARED.items() if module in s.modules), None)


class SharedDeployments:
    """A worker's deployments of the `SHARED` settings: each started when a module first asks for
    it, stopped by `keep_only` once the worker's next test is of another setting."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> None:
        self._tmp = tmp_path_factory
        self._smtp = smtp
        self._live: dict[str, tuple[Deployment, ExitStack]] = {}

    def get(self, name: str) -> Deployment:
        if name not in self._live:
            setting = SHARED[name]
            stack = ExitStack()
            try:
                if setting.mailing:
                    folder = Path(self._tmp.mktemp(name))
                    d = stack.enter_context(mailing_deployment(folder, self._smtp, **setting.env))
                else:
                    d = stack.enter_context(
                        own_deployment(
                            self._tmp,
                            name,
                            extra_services=setting.extra_services,
                            env=setting.env,
                            hold=tuple(s.name for s in setting.extra_services),
                        )
                    )
                for service in setting.extra_services:
                    start_service(d, service.name, service.name)
            except BaseException:
                stack.close()
                raise
            self._live[name] = (d, stack)
        return self._live[name][0]

    def keep_only(self, name: str | None) -> None:
        """Stop every live deployment but `name`'s."""
        for other in [n for n in self._live if n != name]:
            self._live.pop(other)[1].close()


@contextmanager
def extra_instances(world: Deployment, **instances: str) -> Iterator[Deployment]:
    """`world` with more processes (`instance="service"`: another process of `service` known as
    `instance`) while the block runs, stopped after it (a module's own, on a shared deployment)."""
    for instance, service in instances.items():
        world.start_instance(service, instance)
    try:
        yield world
    finally:
        for instance in instances:
            world.stop_process(instance)


# Roughly how long the slowest units take on CI (seconds on one of two workers, deployments
# started included): a unit is a module, or the modules of one shared setting (`SHARED`), which
# one worker runs one after the other. They start first, the heaviest first, so that the two
# workers finish together rather than one running a long browser journey while the other idles;
# every other module follows in collection order. A stale figure costs balance, never a proof.
HEAVY_SECONDS = {
    "mailing": 150,  # test_web_feedback.py alone ~55
    "witness": 80,
    "sweeping": 70,
    f"{E2E}test_web_coach.py": 32,
    f"{E2E}test_web_hr.py": 26,
    f"{E2E}test_web_modules.py": 25,
    f"{E2E}test_web_assessment.py": 25,
    f"{E2E}test_web_coachee.py": 25,
}


def unit_of(module: str) -> str:
    """The module's scheduling unit: its shared setting's name, else the module itself."""
    return setting_of(module) or module
