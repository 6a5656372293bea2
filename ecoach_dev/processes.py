"""Every long-lived process of a deployment: each service of the kernel's registry
(`services/kernel/registry.py`), then the doors (the gRPC gateway, the web pages).

`make run` starts them from the `Procfile` (honcho's file, kept static so that it can be read and
run by hand; `tests/unit/test_registry.py` checks it against `procfile_entries()`), the test
deployments (`deployment.py`) from `command()`, the image's entrypoint (`deploy/entrypoint.sh`)
with `python -m ecoach_dev.processes <name>`.
"""

from __future__ import annotations

import os
import sys

from services.kernel.registry import SERVICES

# The module that runs one nameko service (`python -m services.kernel.runtime.run <module>`).
SERVICE_RUNNER = "services.kernel.runtime.run"

# The processes every client goes through, started after the services, and their modules.
DOORS: dict[str, str] = {"gateway": "gateway.api.server", "web": "gateway.web.server"}

# The Procfile's process that owns the embedded PostgreSQL (left out with ECOACH_DATABASE_URL).
DATABASE = "db"


def arguments(name: str) -> list[str]:
    """What `python` runs for the process `name` (a registered service or a door)."""
    if name in DOORS:
        return ["-m", DOORS[name]]
    for service in SERVICES:
        if service.name == name:
            return ["-m", SERVICE_RUNNER, service.module]
    raise LookupError(f"no process {name!r}: neither a registered service nor a door")


def command(name: str, python: str = sys.executable) -> list[str]:
    return [python, *arguments(name)]


def names() -> list[str]:
    """Every service, then the doors (the database process aside)."""
    return [*(s.name for s in SERVICES), *DOORS]


def procfile_entries() -> dict[str, str]:
    """What the Procfile must say for each process but `db`, as honcho runs it from the root."""
    return {name: " ".join(command(name, ".venv/bin/python")) for name in names()}


def main(argv: list[str]) -> int:
    """`python -m ecoach_dev.processes <name>`: become the process `name` (exec, so that it is
    the one signals reach); `--list`: the names."""
    if argv == ["--list"]:
        print(" ".join(names()))
        return 0
    if len(argv) != 1 or argv[0] not in names():
        print(f"usage: python -m ecoach_dev.processes <{'|'.join(names())}>", file=sys.stderr)
        return 2
    os.execv(sys.executable, command(argv[0]))  # noqa: S606 - a fixed module, a known name


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
