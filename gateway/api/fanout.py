"""Independent calls in parallel: the answer takes as long as the slowest call, not their sum."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# Its own pool, apart from gRPC's: a handler waiting on its fan-out can never starve it.
_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="fanout")


def fan_out(calls: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run every call at once; return their results by name, or raise the first error
    (in the order given) once all have finished."""
    # Each call in a copy of the caller's context: its trace span goes on in the pool's thread.
    futures = {
        name: _pool.submit(contextvars.copy_context().run, call) for name, call in calls.items()
    }
    results: dict[str, Any] = {}
    first_error: BaseException | None = None
    for name, future in futures.items():
        try:
            results[name] = future.result()
        except BaseException as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return results
