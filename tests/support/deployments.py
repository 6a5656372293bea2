"""A deployment of a test module's own, and a gateway client for it (module fixtures use these)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ecoach_dev.deployment import Deployment
from tests.support.api import Api


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
