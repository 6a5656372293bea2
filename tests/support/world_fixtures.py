"""Fixtures for a test module that runs a deployment of its own, named `world` in that module:
a gateway client, the operator signed in, and the scheduling stubs, all for the module. A module
binds the ones it needs to their names (`api = world_fixtures.api`: an assignment, so the
tests' parameters of the same name are no redefinition of an import); they replace the shared
deployment's fixtures of the same names there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ecoach_dev.deployment import Deployment
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.deployments import gateway_api
from tests.support.people import sign_in_operator


@pytest.fixture(scope="module")
def api(world: Deployment) -> Iterator[Api]:
    with gateway_api(world) as client:
        yield client


@pytest.fixture(scope="module")
def operator(world: Deployment, api: Api) -> Session:
    return sign_in_operator(api, world.config)


@pytest.fixture(scope="module")
def s(world: Deployment) -> Iterator[sch.Stubs]:
    channel = world.channel()
    yield sch.stubs(channel)
    channel.close()


@pytest.fixture(scope="module", name="world")
def shared(shared_world: Deployment) -> Deployment:
    """The worker's deployment of the module's shared setting (tests/e2e/conftest.py:
    `shared_world`, tests/support/deployments.py: `SHARED`) as the module's `world`
    (`world = world_fixtures.shared`)."""
    return shared_world
