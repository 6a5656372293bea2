"""RPC replies without publisher confirms, non-persistent (a nameko default we replace).

nameko publishes every RPC reply to a durable exchange with publisher confirms and persistent
delivery, so each reply waits for the broker's confirm before the worker ends. A reply matters
only to a caller that is waiting for it on an auto-delete queue: if the broker loses it, that
caller times out exactly as if the service had been slow, and a confirm would not bring it back.
Measured on GetMember, see `make bench`.

A reply the broker cannot take because it went away (restarted, the connection dropped) is
dropped with a warning (`ReplyTolerantRpc`): nameko raises it into the worker's result handler,
which kills the container, and the whole service process exited on a broker restart (found by
the fault tests, tests/faults). The request stays unacknowledged on the dead connection: the
broker delivers it again once the service has reconnected, and the entrypoint refuses it if
its deadline has passed (services/kernel/runtime/entrypoints.py), as it has when the broker's
restart outlasts the caller's patience.
"""

from __future__ import annotations

import logging
from typing import Any

import amqp.exceptions
import kombu.exceptions
from nameko import rpc
from nameko.amqp.publish import Publisher

log = logging.getLogger(__name__)

NON_PERSISTENT = 1


class ReplyPublisher(Publisher):  # type: ignore[misc]
    use_confirms = False
    delivery_mode = NON_PERSISTENT


def use_fast_replies() -> None:
    rpc.Responder.publisher_cls = ReplyPublisher


# What publishing a reply raises when the broker is gone.
LOST_BROKER = (
    kombu.exceptions.OperationalError,
    amqp.exceptions.RecoverableConnectionError,
    amqp.exceptions.ConnectionError,
    OSError,
)


class ReplyTolerantRpc(rpc.Rpc):  # type: ignore[misc]
    """nameko's RPC entrypoint, but a reply lost with the broker does not kill the service."""

    def handle_result(self, message: Any, worker_ctx: Any, result: Any, exc_info: Any) -> Any:
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except LOST_BROKER as exc:
            log.warning(
                "reply of %s lost: the broker went away (%s); the caller times out",
                getattr(self, "method_name", "?"),
                type(exc).__name__,
            )
            return result, exc_info
