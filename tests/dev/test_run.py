"""`make run`'s own behaviour: what it prints and when it refuses to start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ecoach_dev import run
from ecoach_dev.cli import banner
from ecoach_dev.deployment import free_port
from services.kernel.config import Settings


def test_the_banner_commands_name_a_gateway_address_that_is_not_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    banner(Settings(var_dir=tmp_path, gateway_address="127.0.0.1:50099"))
    commands = [line for line in capsys.readouterr().out.splitlines() if ".venv/bin/" in line]
    calls = [line for line in commands if "ecoach_dev.call" in line]
    assert len(calls) >= 4 and all("ecoach_dev.call --address 127.0.0.1:50099 " in c for c in calls)
    assert any("ecoach_cli --address 127.0.0.1:50099 login " in c for c in commands)

    banner(Settings(var_dir=tmp_path))  # the default: the commands stay short
    assert "--address" not in capsys.readouterr().out


def test_make_run_refuses_to_start_on_a_taken_port_and_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    web = f"127.0.0.1:{free_port()}"
    with socket.socket() as other:  # another deployment's gateway
        other.bind(("127.0.0.1", 0))
        other.listen()
        gateway = f"127.0.0.1:{other.getsockname()[1]}"
        config = Settings(var_dir=tmp_path, gateway_address=gateway, web_address=web)
        monkeypatch.setattr(run, "settings", lambda: config)
        monkeypatch.setattr(run, "setup", lambda _: pytest.fail("set up despite the taken port"))
        assert run.main() == 1
    said = capsys.readouterr().err
    assert f"{gateway} (the gRPC gateway, ECOACH_GATEWAY_ADDRESS) is already in use" in said
    assert web not in said  # free: not blamed
    assert run.busy_ports(config) == []  # the other one stopped: free again


def test_a_gateway_will_not_share_its_address_with_another_one(tmp_path: Path) -> None:
    with socket.socket() as other:  # another gateway: grpcio listens with SO_REUSEPORT
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        address = f"127.0.0.1:{other.getsockname()[1]}"
        started = subprocess.run(
            [sys.executable, "-m", "gateway.api.server"],
            cwd=Path(__file__).resolve().parents[2],
            env={
                **os.environ,
                "ECOACH_ENV": "test",
                "ECOACH_VAR_DIR": str(tmp_path),
                "ECOACH_GATEWAY_ADDRESS": address,
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert started.returncode == 1
    assert f"gateway: cannot listen on {address} (ECOACH_GATEWAY_ADDRESS)" in started.stderr


def entries(procfile: Path) -> dict[str, str]:
    lines = procfile.read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def test_with_metrics_on_each_process_of_make_run_gets_a_port_of_its_own(tmp_path: Path) -> None:
    names = [run.all_processes.DATABASE, "identity", "spaces", "gateway", "web"]
    assert run.metrics_ports(Settings(var_dir=tmp_path), names) == {}  # off by default
    assert run.procfile(Settings(var_dir=tmp_path), {}) == run.ROOT / "Procfile"

    config = Settings(var_dir=tmp_path, metrics_port=9300)
    ports = run.metrics_ports(config, names)
    assert ports == {"identity": 9300, "spaces": 9301, "gateway": 9302, "web": 9303}
    lines = entries(run.procfile(config, ports))
    checked_in = entries(run.ROOT / "Procfile")
    for name, command in checked_in.items():
        if name in ports:
            assert lines[name] == f"ECOACH_METRICS_PORT={ports[name]} {command}", name
        else:  # the database's process, and those this run does not start: as they were
            assert lines[name] == command, name


def test_make_run_refuses_to_start_when_a_metrics_port_is_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken_port = other.getsockname()[1]
        config = Settings(
            var_dir=tmp_path,
            gateway_address=f"127.0.0.1:{free_port()}",
            web_address=f"127.0.0.1:{free_port()}",
            metrics_port=taken_port,
        )
        monkeypatch.setattr(run, "settings", lambda: config)
        monkeypatch.setattr(run, "setup", lambda _: pytest.fail("set up despite the taken port"))
        assert run.main() == 1
    first = next(name for name in run.processes() if name != run.all_processes.DATABASE)
    said = capsys.readouterr().err
    assert f"127.0.0.1:{taken_port} ({first}'s metrics, ECOACH_METRICS_PORT)" in said
