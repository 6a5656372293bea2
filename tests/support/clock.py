"""Moving the test deployment's clock: the one way tests do it (services/kernel/clock.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.kernel.clock import set_test_offset, unacknowledged
from tests.support.waiting import wait_for


def move_test_clock(path: Path, seconds: float, timeout: float = 15.0) -> None:
    """Every process of the deployment `seconds` after the real time (0: back to it), once each
    process that reads this clock has acknowledged the new offset."""
    set_test_offset(path, seconds)
    wait_for(
        lambda: not unacknowledged(path, seconds),
        timeout,
        f"every process to apply the test clock offset {seconds} s",
    )


@contextmanager
def clock_moved(path: Path, seconds: float) -> Iterator[None]:
    """The deployment `seconds` later inside the block, back to the real time after it."""
    move_test_clock(path, seconds)
    try:
        yield
    finally:
        move_test_clock(path, 0)
