"""`make test`: set up what the tests need, then run every suite against real RabbitMQ and
PostgreSQL, and tear down what we started.

Stages: unit (plain pytest, no I/O); integration (`nameko test`: services in-process under
eventlet, with real broker and database); end-to-end (plain pytest: services and the gateway as
subprocesses, called with a real gRPC client, and the web pages in Debian's chromium driven by
Playwright, installed with apt-get when missing); the smoke scenario again on the machine's own
PostgreSQL when one answers on 127.0.0.1:5432; the faults under load last (tests/faults: a
PostgreSQL and a RabbitMQ of the stage's own, paused and restarted mid-load; it runs alone, after
every other stage, as it kills processes and loads the machine on purpose). Each run uses fresh
databases, dropped after.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from services.kernel.config import settings

from . import broker, pg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMPAT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def run_stage(name: str, command: list[str], env: dict[str, str]) -> bool:
    print(f"\n===== {name}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(command, cwd=ROOT, env=env)
    print(f"===== {name}: exit {code} in {time.monotonic() - started:.1f}s", flush=True)
    # Exit 5 (no tests collected) is a failure too: a stage that runs nothing proves nothing.
    return code == 0


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """The browser tests drive Debian's chromium (Playwright's own download cannot work on
    these machines): install it with apt-get when it is missing and we may."""
    if CHROMIUM.exists():
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise SystemExit(
            "The browser tests need Debian's chromium at /usr/bin/chromium: "
            "sudo apt-get install -y chromium"
        )
    print("ecoach: installing chromium with apt-get (the browser tests drive it)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "-q", "chromium"]
    if subprocess.call(install, env=env) != 0:
        subprocess.call([apt, "update", "-q"], env=env)
        if subprocess.call(install, env=env) != 0:
            raise SystemExit("apt-get could not install chromium (needed by the browser tests)")


def main() -> int:
    config = settings()
    broker.ensure_broker(config.amqp_uri, management=True)
    ensure_chromium()
    started_embedded = False
    if config.database_url:
        server = config.database_url
    else:
        started_embedded = not pg.is_running(config.var_dir)
        server = pg.start_embedded(config.var_dir)
    env = dict(
        os.environ,
        ECOACH_ENV="test",
        ECOACH_DATABASE_URL=server,
        PYTHONWARNINGS="ignore::DeprecationWarning",
        PYTHONUNBUFFERED="1",
    )
    pytest = [
        str(BIN / "python"),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:nameko",
    ]

    # Each stage's temporary folders under var/ rather than /tmp/pytest-of-<user>: pytest sets
    # that shared folder back to 0700 whenever any pytest starts on the machine, which takes
    # away the traverse permission the embedded PostgreSQL's system user was given there
    # (tests/dev/test_pg.py failed so while other pytest runs were going on).
    temps = ROOT / config.var_dir / "pytest"
    temps.mkdir(parents=True, exist_ok=True)  # pytest makes the stage's folder, not its parent

    def temp(stage: str) -> list[str]:
        return ["--basetemp", str(temps / stage)]

    def workers(dist: str = "loadfile") -> list[str]:
        """The tests on ECOACH_TEST_WORKERS processes (2; 1 runs them in this one). End to end,
        each has a test deployment of its own (a vhost, databases, ports) and whole files each
        (their module fixtures are built once; the modules sharing a deployment setting as one
        unit, the heaviest units first: tests/e2e/conftest.py)."""
        count = int(os.environ.get("ECOACH_TEST_WORKERS", "2"))
        return ["-n", str(count), "--dist", dist] if count > 1 else []

    archcheck = ROOT.parent / "shared" / "tools" / "archcheck.py"
    static = [
        ("lint", [str(BIN / "ruff"), "check", "--no-cache", "."]),
        ("types", [str(BIN / "mypy")]),
    ]
    if archcheck.exists():  # the team's shared checker, beside the clone
        static.append(("import rules", [str(BIN / "python"), str(archcheck), str(ROOT)]))
    stages = [
        *static,
        # On the test workers too (no I/O, any order): 54 s on one process, 33 on two.
        ("unit", [*pytest, *temp("unit"), *workers(dist="load"), "tests/unit"]),
        (
            "integration",
            [
                str(BIN / "nameko"),
                "test",
                "-q",
                "-p",
                "no:cacheprovider",
                *temp("integration"),
                "tests/integration",
            ],
        ),
        # The slowest steps printed at the end: the stage's budget is watched from CI's log.
        (
            "end-to-end",
            [*pytest, *temp("e2e"), *workers(), "--durations=25", "tests/e2e", "tests/dev"],
        ),
    ]
    results = {name: run_stage(name, cmd, env) for name, cmd in stages}
    if answers("127.0.0.1", 5432):
        compat_env = dict(env, ECOACH_DATABASE_URL=COMPAT_URL)
        results["smoke on the machine's PostgreSQL"] = run_stage(
            "smoke on the machine's PostgreSQL",
            [*pytest, *temp("smoke"), "tests/e2e", "-m", "smoke"],
            compat_env,
        )
    else:
        print("\n===== no PostgreSQL on 127.0.0.1:5432: compatibility smoke skipped", flush=True)
    # Alone, last: nothing else runs on the machine's cores while processes are killed, the
    # stage's own broker restarted and its own PostgreSQL paused (the shared ones are untouched).
    results["faults under load"] = run_stage(
        "faults under load", [*pytest, *temp("faults"), "-s", "tests/faults"], env
    )
    if started_embedded:
        pg.stop_embedded(config.var_dir)
    print("\n===== summary")
    for name, ok in results.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
