"""A deployment of a test module's own, and a gateway client for it (module fixtures use these)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ecoach_dev.cli import ServiceSpec
from ecoach_dev.deployment import ROOT, Deployment
from gateway.api.rpc_client import RpcClient
from tests.support.api import Api
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
    world.start_process(name)
    with RpcClient(world.amqp_uri, name="witness-probe") as probe:
        wait_for(lambda: probe.consumer_count("witness") > 0, 30, "the witness to start")
