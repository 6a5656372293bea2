"""One exclusive, auto-delete queue consumed by a thread of its own, reconnecting with back-off
whenever the broker goes away: the gateway's RPC replies and every process's revocation feed.

`consume_forever` binds the queue, calls `on_bound` (a step that must follow the binding, such as
fetching what was missed; if it raises, the connection is dropped and tried again), sets `ready`,
and drains messages until `stopping` is set. On any failure it clears `ready`, calls `on_lost`
and reconnects after 0.5 s, then 1, 2, 4, 5 s. Messages are not acknowledged (`no_ack`): they
live in the process's own queue only. Plain threads, or green threads under eventlet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import kombu as _kombu

# kombu has no type hints (mypy checks this module: the gateway imports it).
kombu = cast(Any, _kombu)

log = logging.getLogger(__name__)


def consume_forever(
    uri: str,
    queue: Any,
    on_message: Callable[[Any, Any], None],
    *,
    ready: threading.Event,
    stopping: threading.Event,
    what: str,
    on_bound: Callable[[], None] = lambda: None,
    on_lost: Callable[[], None] = lambda: None,
    connect_timeout: float = 5.0,
    heartbeat: float = 30.0,
) -> None:
    backoff = 0.5
    while not stopping.is_set():
        try:
            with kombu.Connection(
                uri, heartbeat=heartbeat, connect_timeout=connect_timeout
            ) as conn:
                with conn.Consumer(queue, callbacks=[on_message], accept=["json"], no_ack=True):
                    on_bound()
                    ready.set()
                    backoff = 0.5
                    while not stopping.is_set():
                        # Heartbeats are checked after every drain, busy or idle: checked only
                        # when idle, a queue that never stays empty for a second (the gateway's
                        # replies under steady traffic) sent none, and the broker closed the
                        # connection after two missed intervals. heartbeat_check sends one
                        # only when due, so calling it often costs nothing.
                        try:
                            conn.drain_events(timeout=1)
                        except TimeoutError:  # socket.timeout too: idle
                            pass
                        conn.heartbeat_check()
        except Exception as exc:
            if stopping.is_set():
                break
            ready.clear()
            log.warning("%s lost the broker (%s); reconnecting", what, type(exc).__name__)
            on_lost()
            time.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
    ready.clear()
