"""Make sure a RabbitMQ answers before services start, starting (or installing) a local one.

A laptop should need nothing but `make run`: when the broker URI points at this machine and
RabbitMQ is not running, we start it, and on Debian/Ubuntu as root we install it first. A remote
broker is never touched; we only explain what is wrong.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from kombu import Connection

from services.kernel.runtime import broker_admin
from services.kernel.runtime.broker_admin import management_request, management_url, redacted
from services.kernel.runtime.topology import Grants

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
START_TIMEOUT = 60.0
# Where RabbitMQ's scripts live when sbin is not on PATH (Debian, Homebrew on Intel/Apple).
_SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin", "/opt/homebrew/sbin")

Log = Callable[[str], object]


def broker_answers(amqp_uri: str, timeout: float = 3.0) -> bool:
    """True when an AMQP handshake (login included) succeeds within `timeout` seconds."""
    conn = Connection(amqp_uri, connect_timeout=timeout)
    try:
        # One attempt, no sleeping between retries: callers poll on their own schedule.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        return True
    except Exception:
        return False
    finally:
        try:
            conn.release()
        except Exception:  # noqa: S110 - a half-open connection may fail to close; irrelevant
            pass


def ensure_broker(amqp_uri: str, *, management: bool = False, log: Log = print) -> None:
    """Return once RabbitMQ answers at `amqp_uri` (and its management API, if asked).

    Quick and side-effect free when everything already runs. Raises SystemExit with the steps
    to take when it cannot fix the situation itself.
    """
    if not broker_answers(amqp_uri):
        _bring_up_broker(amqp_uri, log)
    if management:
        _ensure_management(amqp_uri, log)


def _is_local(amqp_uri: str) -> bool:
    return (urlsplit(amqp_uri).hostname or "localhost") in LOCAL_HOSTS


def _find_tool(name: str) -> str | None:
    """`name` on PATH or in an sbin folder (sbin is often missing from a user's PATH)."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SBIN_DIRS))


def _install_hint() -> str:
    return (
        "Install and start RabbitMQ, then try again:\n"
        "  Debian/Ubuntu: sudo apt-get install -y rabbitmq-server && "
        "sudo systemctl start rabbitmq-server\n"
        "                 (without systemd: sudo rabbitmq-server -detached)\n"
        "  macOS:         brew install rabbitmq && brew services start rabbitmq\n"
        "or point ECOACH_AMQP_URI at a running RabbitMQ."
    )


def _bring_up_broker(amqp_uri: str, log: Log) -> None:
    where = redacted(amqp_uri)
    if not _is_local(amqp_uri):
        raise SystemExit(
            f"RabbitMQ does not answer at {where}. It is not on this machine, so nothing is "
            "started: check that the broker runs and that ECOACH_AMQP_URI (host, port, user, "
            "password, vhost) is right."
        )
    server = _find_tool("rabbitmq-server")
    if server is None:
        if not (Path("/etc/debian_version").exists() and os.geteuid() == 0):
            raise SystemExit(
                f"RabbitMQ does not answer at {where} and is not installed.\n" + _install_hint()
            )
        _apt_install_rabbitmq(log)
        if _wait_for(lambda: broker_answers(amqp_uri, timeout=2.0), 10.0):
            return  # the package's maintainer script started it
        server = _find_tool("rabbitmq-server")
        if server is None:
            raise SystemExit(
                "apt-get installed rabbitmq-server but its `rabbitmq-server` "
                "command is not found.\n" + _install_hint()
            )
    log(f"RabbitMQ does not answer at {where}; starting it with `{server} -detached`...")
    # -detached returns at once; the node boots in the background. Output goes to the terminal.
    subprocess.run([server, "-detached"], check=False, timeout=60)
    if not _wait_for(lambda: broker_answers(amqp_uri, timeout=2.0), START_TIMEOUT):
        raise SystemExit(
            f"Started RabbitMQ, but it still does not answer at {where} after "
            f"{START_TIMEOUT:.0f} s. Look at its logs (Debian: /var/log/rabbitmq/), and check "
            "the user and password in ECOACH_AMQP_URI (RabbitMQ's `guest` may only log in "
            "from localhost)."
        )
    log("RabbitMQ is up.")


def _apt_install_rabbitmq(log: Log) -> None:
    banner = "=" * 78
    log(banner)
    log("RabbitMQ is not installed; installing it with apt-get (Debian package rabbitmq-server)...")
    log(banner)
    apt = shutil.which("apt-get") or "/usr/bin/apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run([apt, "update"], check=True, env=env)
        subprocess.run([apt, "install", "-y", "rabbitmq-server"], check=True, env=env)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(
            f"Installing rabbitmq-server with apt-get failed: {exc}\n" + _install_hint()
        ) from exc


def _management_answers(amqp_uri: str, timeout: float = 3.0) -> bool:
    """True when GET /api/overview succeeds with the URI's credentials."""
    base, user, password = management_url(amqp_uri)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    # The URL is built by management_url with a fixed http scheme.
    url = f"{base}/api/overview"
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _ensure_management(amqp_uri: str, log: Log) -> None:
    # Checked first: rabbitmq-plugins boots an Erlang VM and takes seconds even when idle.
    if _management_answers(amqp_uri):
        return
    base = management_url(amqp_uri)[0]
    plugins = _find_tool("rabbitmq-plugins") if _is_local(amqp_uri) else None
    if plugins is None:
        raise SystemExit(
            f"RabbitMQ's management API does not answer at {base}/api/overview. Enable it on "
            "the broker with `rabbitmq-plugins enable rabbitmq_management` (as root or the "
            "rabbitmq user) and check the credentials in ECOACH_AMQP_URI."
        )
    log("Enabling RabbitMQ's management plugin (rabbitmq-plugins enable rabbitmq_management)...")
    result = subprocess.run(
        [plugins, "enable", "rabbitmq_management"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise SystemExit(
            "`rabbitmq-plugins enable rabbitmq_management` failed "
            f"(exit {result.returncode}):\n{result.stdout}{result.stderr}"
        )
    if not _wait_for(lambda: _management_answers(amqp_uri, timeout=2.0), START_TIMEOUT):
        raise SystemExit(
            f"The management plugin is enabled but {base}/api/overview still does not answer "
            f"after {START_TIMEOUT:.0f} s; check the credentials in ECOACH_AMQP_URI and "
            "RabbitMQ's logs."
        )
    log(f"RabbitMQ's management API answers at {base}.")


def _wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def create_vhost(amqp_uri: str, vhost: str) -> str:
    """A fresh virtual host on the broker of `amqp_uri`, with full rights for its user; returns
    the AMQP URI that names it. Test deployments each get one, so that two runs sharing a
    broker never consume each other's RPC requests."""
    parts = urlsplit(amqp_uri)
    _, user, _ = management_url(amqp_uri)
    management_request(amqp_uri, "PUT", f"vhosts/{quote(vhost, safe='')}", {})
    management_request(
        amqp_uri,
        "PUT",
        f"permissions/{quote(vhost, safe='')}/{quote(user, safe='')}",
        {"configure": ".*", "write": ".*", "read": ".*"},
    )
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), "", ""))


def delete_vhost(amqp_uri: str, vhost: str) -> None:
    try:
        management_request(amqp_uri, "DELETE", f"vhosts/{quote(vhost, safe='')}", None)
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise


def process_user(amqp_uri: str, process: str) -> str:
    """The broker user of `process`: `ecoach-<process>` in the default virtual host, else
    `<vhost>-<process>` (users are global to the broker; test deployments each have a vhost)."""
    vhost = broker_admin.vhost_of(amqp_uri)
    return f"{'ecoach' if vhost == '/' else vhost}-{process}"


def process_credentials(amqp_uri: str, keys_dir: Path, process: str) -> dict[str, str]:
    """`<keys>/<process>.amqp`: the process's broker user and password, generated once (mode
    0600) and read afterwards. Set-up writes it; a cluster's secrets are made the same way
    (`python -m ecoach_dev.cli deploy-secrets`)."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    path = keys_dir / f"{process}.amqp"
    if path.exists():
        return dict(json.loads(path.read_text()))
    creds = {"user": process_user(amqp_uri, process), "password": secrets.token_urlsafe(32)}
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(creds))
    tmp.replace(path)
    return creds


def ensure_process_users(amqp_uri: str, keys_dir: Path, grants: dict[str, Grants]) -> None:
    """Each process's own broker user with its permissions in the URI's virtual host, created
    or brought up to date through the management API with the URI's (administrator) user. The
    password is generated once and kept in `<keys>/<process>.amqp` (mode 0600), where the
    process finds it (`Settings.broker_uri`)."""
    for process, grant in grants.items():
        creds = process_credentials(amqp_uri, keys_dir, process)
        broker_admin.put_user(amqp_uri, creds["user"], creds["password"])
        broker_admin.set_permissions(
            amqp_uri,
            creds["user"],
            configure=grant.configure,
            write=grant.write,
            read=grant.read,
            topics=grant.topics,
        )


def delete_process_users(amqp_uri: str, keys_dir: Path, processes: list[str]) -> None:
    """Remove the users `ensure_process_users` made (a test deployment's, when it stops)."""
    for process in processes:
        path = keys_dir / f"{process}.amqp"
        if path.exists():
            broker_admin.delete_user(amqp_uri, json.loads(path.read_text())["user"])
