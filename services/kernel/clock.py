"""The only way domain code reads the time (rule 1).

Under ECOACH_ENV=test every process adds one shared offset, read from `var/test-clock` (seconds,
a float; re-read at most every 100 ms), so end-to-end tests move time for the whole deployment.
"""

from __future__ import annotations

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
        self._offset = 0.0
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def offset_seconds(self) -> float:
        with self._lock:
            mono = time.monotonic()
            if mono - self._read_at >= self.REFRESH_SECONDS:
                self._read_at = mono
                try:
                    self._offset = float(self._path.read_text().strip() or 0)
                except (FileNotFoundError, ValueError):
                    self._offset = 0.0
            return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset_seconds())


def set_test_offset(path: Path, seconds: float) -> None:
    """Move the whole test deployment's time (atomically: readers never see half a number)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(repr(float(seconds)))
    tmp.replace(path)


def clock_for(env: str, test_clock_path: Path) -> Clock:
    if env == "test":
        return OffsetFileClock(test_clock_path)
    return SystemClock()
