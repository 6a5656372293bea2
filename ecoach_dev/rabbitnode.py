"""A RabbitMQ node of one's own, beside the machine's: the fault tests restart their broker
mid-load, which on the machine's shared broker would break every other test running at the time
(CI's other stages, other developers' runs).

The node runs the Debian package's `rabbitmq-server` with its own name, ports (AMQP, management,
Erlang distribution: free ones), data and logs under `folder`, as the package's `rabbitmq` user
when we are root (as the machine's node runs), and is stopped by SIGTERM (RabbitMQ's graceful
stop). Its management API answers on its own port: processes reach it through
`ECOACH_BROKER_MANAGEMENT_PORT` (`services/kernel/runtime/broker_admin.py`).

`rabbitmqctl stop_app` then `start_app` is not used for the restart: with RabbitMQ 3.10.8 on
Erlang 25 (this machine's packages) `start_app` failed to listen again (`eaddrinuse` on the AMQP
port) or asserted on mnesia, each time it was tried; a restart of the node is what an operator's
`systemctl restart rabbitmq-server` does anyway.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil

from . import broker

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
SYSTEM_USER = "rabbitmq"  # the package's user, which the machine's node runs as
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def _free_port() -> int:
    from .deployment import free_port

    return free_port()


def _session_of(process: psutil.Process) -> int | None:
    try:
        return os.getsid(process.pid)
    except OSError:
        return None


def available() -> str | None:
    """Why a node of one's own cannot run here (None when it can)."""
    if not Path(SERVER).exists():
        return f"no {SERVER} (Debian's rabbitmq-server package)"
    return None


class RabbitNode:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).resolve()
        self.name = f"ecoach-faults-{secrets.token_hex(3)}@localhost"
        self.amqp_port = _free_port()
        self.management_port = _free_port()
        self.dist_port = _free_port()
        self.amqp_uri = f"amqp://guest:guest@127.0.0.1:{self.amqp_port}//"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def _prepare(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.amqp_port}\n"
            f"management.tcp.ip = 127.0.0.1\n"
            f"management.tcp.port = {self.management_port}\n"
            # The machine's disk is shared with everything else; the default 50 MB floor is
            # what we want, but never a memory alarm from a busy 2-core machine's neighbours.
            "vm_memory_high_watermark.relative = 0.6\n"
        )
        (self.folder / "enabled_plugins").write_text("[rabbitmq_management].\n")
        if os.geteuid() == 0:
            shutil.chown(self.folder, SYSTEM_USER)
            for path in self.folder.rglob("*"):
                shutil.chown(path, SYSTEM_USER)
            # The package's user must reach the folder: open traverse on its parents.
            for parent in self.folder.resolve().parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)

    def start(self) -> RabbitNode:
        """Start the node (again, keeping its data) and return once AMQP and the management
        API answer."""
        if self.starts == 0:
            self._prepare()
        self.starts += 1
        env = {
            "HOME": str(self.folder),  # its own Erlang cookie
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.folder / "node.pid"),
        }
        # `runuser` rather than Popen's `user=`: that makes Popen fork() rather than vfork(),
        # and a fork while gRPC's threads run (the load, in this very process) crashed the
        # test process (SIGSEGV).
        as_user = ["runuser", "-u", SYSTEM_USER, "--"] if os.geteuid() == 0 else []
        command = [*as_user, "env", *(f"{k}={v}" for k, v in env.items()), SERVER]
        with open(self.folder / f"start-{self.starts}.log", "wb") as out:
            self.proc = subprocess.Popen(
                command,
                cwd=self.folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its Erlang helpers stop with it (killpg)
            )
        self.wait_answers(START_TIMEOUT)
        return self

    def answers(self) -> bool:
        if not broker.broker_answers(self.amqp_uri, timeout=2.0):
            return False
        request = urllib.request.Request(f"http://127.0.0.1:{self.management_port}/api/overview")
        request.add_header("Authorization", "Basic Z3Vlc3Q6Z3Vlc3Q=")  # guest:guest
        try:
            with urllib.request.urlopen(request, timeout=2.0) as reply:  # noqa: S310 - loopback
                return bool(reply.status == 200)
        except OSError:
            return False

    def wait_answers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"RabbitMQ node exited:\n{self.log_tail()}")
            if self.answers():
                return
            time.sleep(0.3)
        raise TimeoutError(f"RabbitMQ node did not answer in {timeout:g} s:\n{self.log_tail()}")

    def stop(self, graceful: bool = True) -> None:
        """SIGTERM (RabbitMQ's graceful stop: connections closed, queues synced), SIGKILL if it
        outlives STOP_TIMEOUT, or at once if not `graceful` (a node about to be thrown away);
        returns once the node is gone."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM if graceful else signal.SIGKILL)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and self._alive(proc):
            time.sleep(0.2)
        if self._alive(proc):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def _alive(self, proc: subprocess.Popen[bytes]) -> bool:
        """A process of the node's session (the script, the Erlang VM, its helpers) still
        runs: the VM outlives the script that started it by a moment, and holds the ports."""
        proc.poll()  # reap the script if it ended
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return any(
            p.status() != psutil.STATUS_ZOMBIE
            for p in psutil.process_iter()
            if _session_of(p) == proc.pid
        )

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 30) -> str:
        logs = sorted(self.folder.glob("start-*.log"))
        if not logs:
            return ""
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-lines:])
