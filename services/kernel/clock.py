"""The only way domain code reads the time (rule 1).

Under ECOACH_ENV=test every process adds one shared offset to the system time: the number in
`var/test-clock`, in **seconds** (a float, positive or negative: `3600` is one hour later), so
end-to-end tests move time for the whole deployment. Each process watches the file (every 100 ms,
from its first reading of the clock on) and acknowledges each offset it applies by writing it to
`var/test-clock.acks/<pid>`; `unacknowledged` names the live processes still on another offset,
so a test that moves the clock waits for a positive signal, never a guessed delay.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for unit tests: it moves only when told."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class OffsetFileClock:
    """System time plus the offset in a file shared by every process of a test deployment."""

    REFRESH_SECONDS = 0.1

    def __init__(self, path: Path) -> None:
        self._path = path

    def offset_seconds(self) -> float:
        return _watcher(self._path).offset()

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset_seconds())


class _OffsetWatcher:
    """One per process and clock file, shared by all of the process's clocks: it reads the file
    every REFRESH_SECONDS in a daemon thread and acknowledges each offset it applies."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._ack = acks_dir(path) / str(os.getpid())
        self._offset = 0.0
        self._lock = threading.Lock()
        self._started = False

    def offset(self) -> float:
        if not self._started:
            with self._lock:
                if not self._started:
                    self._start()
        return self._offset

    def _start(self) -> None:
        # Started on first use, not on construction: a nameko service builds its clocks at
        # import, before eventlet patches threading. Registered (an empty ack) before the first
        # read, so a test that moves the clock meanwhile waits for this process too.
        self._write_ack("")
        self._apply(force=True)
        atexit.register(self._ack.unlink, missing_ok=True)
        threading.Thread(target=self._watch, name="test-clock", daemon=True).start()
        self._started = True

    def _watch(self) -> None:
        while self._path.parent.exists():  # a test deployment's folder deleted: nothing to watch
            time.sleep(OffsetFileClock.REFRESH_SECONDS)
            self._apply()
        with _WATCHERS_LOCK:
            _WATCHERS.pop(self._path, None)

    def _apply(self, force: bool = False) -> None:
        try:
            offset = float(self._path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            offset = 0.0
        if force or offset != self._offset:
            self._offset = offset
            self._write_ack(repr(offset))

    def _write_ack(self, text: str) -> None:
        try:
            self._ack.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._ack.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(self._ack)
        except OSError:
            pass  # the folder went away with its deployment


_WATCHERS: dict[Path, _OffsetWatcher] = {}
_WATCHERS_LOCK = threading.Lock()


def _watcher(path: Path) -> _OffsetWatcher:
    with _WATCHERS_LOCK:
        watcher = _WATCHERS.get(path)
        if watcher is None:
            watcher = _WATCHERS[path] = _OffsetWatcher(path)
        return watcher


def set_test_offset(path: Path, seconds: float) -> None:
    """Move the whole test deployment's time by `seconds` from the real time (atomically:
    readers never see half a number). Then wait until `unacknowledged(path, seconds)` is empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(repr(float(seconds)))
    tmp.replace(path)


def acks_dir(path: Path) -> Path:
    return path.with_name(path.name + ".acks")


def unacknowledged(path: Path, seconds: float) -> list[int]:
    """The live processes using the test clock at `path` that have not applied `seconds` yet
    (a process that has not read its clock yet reads the file afresh at its first reading)."""
    pending = []
    for ack in acks_dir(path).glob("*"):
        if not ack.name.isdigit() or not _alive(int(ack.name)):
            continue
        try:
            applied = float(ack.read_text() or "nan")
        except FileNotFoundError:
            continue  # the process is exiting
        if applied != float(seconds):
            pending.append(int(ack.name))
    return pending


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet waited for) acknowledges nothing any more
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def clock_for(env: str, test_clock_path: Path) -> Clock:
    if env == "test":
        return OffsetFileClock(test_clock_path)
    return SystemClock()
