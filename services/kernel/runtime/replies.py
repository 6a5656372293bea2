"""RPC replies without publisher confirms, non-persistent, straight on one kept AMQP channel (nameko
defaults we replace).

nameko publishes every RPC reply to a durable exchange with publisher confirms and persistent
delivery, so each reply waits for the broker's confirm before the worker ends. A reply matters
only to a caller that is waiting for it on an auto-delete queue: if the broker loses it, that
caller times out exactly as if the service had been slow, and a confirm would not bring it back.

nameko also encodes each reply twice (a "can it be serialised" check, then the publish) and goes
through kombu's connection pool and `Producer.publish` (options, retry policy, declarations) on
every reply: py-spy put that at a fifth of identity's CPU on `GetMember` (docs/benchmarks.md,
"The per-call cost"). `FastResponder` encodes once and publishes on one channel the process keeps
(under a lock: green threads share it), as the gateway's RPC client publishes its requests. On a
broker error it drops that channel and hands the reply to nameko's own path, whose retry policy
applies; a connection the broker closed (its socket readable: nothing else is read on it) is
replaced before it is written to.

A reply the broker cannot take because it went away (restarted, the connection dropped) is
dropped with a warning (`ReplyTolerantRpc`): nameko raises it into the worker's result handler,
which kills the container, and the whole service process exited on a broker restart (found by
the fault tests, tests/faults). The request stays unacknowledged on the dead connection: the
broker delivers it again once the service has reconnected, and the entrypoint refuses it if
its deadline has passed (services/kernel/runtime/entrypoints.py), as it has when the broker's
restart outlasts the caller's patience.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from typing import Any

import amqp
import amqp.exceptions
import eventlet.patcher
import kombu
import kombu.exceptions
from nameko import rpc
from nameko.amqp.publish import Publisher
from nameko.exceptions import UnserializableValueError, serialize

from .. import context

log = logging.getLogger(__name__)

NON_PERSISTENT = 1
# The real select: a zero-timeout look needs no trip through eventlet's hub.
_select = eventlet.patcher.original("select").select
JSON = "application/json"
# What publishing a reply raises when the broker is gone.
LOST_BROKER = (
    kombu.exceptions.OperationalError,
    amqp.exceptions.RecoverableConnectionError,
    amqp.exceptions.ConnectionError,
    OSError,
)
# ... and what the kept reply channel may also raise: the broker refused the publish.
PUBLISH_ERRORS = (*LOST_BROKER, amqp.exceptions.ChannelError)


class ReplyPublisher(Publisher):  # type: ignore[misc]
    use_confirms = False
    delivery_mode = NON_PERSISTENT


class _ReplyChannel:
    """One publishing channel per broker URI for the process's replies, opened on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, Any] = {}
        self._channels: dict[str, Any] = {}

    def publish(self, amqp_uri: str, message: amqp.Message, exchange: str, key: str) -> bool:
        """False when the broker refused or the connection broke (the channel is dropped)."""
        with self._lock:
            try:
                channel = self._channels.get(amqp_uri)
                if channel is not None and _peer_spoke(self._connections[amqp_uri]):
                    # Nothing is read on this connection: readable means the broker closed it
                    # (or says it will). A write to it could succeed and still be lost.
                    self._drop(amqp_uri)
                    channel = None
                if channel is None:
                    connection = kombu.Connection(amqp_uri)
                    channel = connection.channel()
                    self._connections[amqp_uri] = connection
                    self._channels[amqp_uri] = channel
                channel.basic_publish(message, exchange, key)
                return True
            except PUBLISH_ERRORS as exc:
                log.warning("reply publish failed: %s", type(exc).__name__)
                self._drop(amqp_uri)
                return False

    def _drop(self, amqp_uri: str) -> None:
        self._channels.pop(amqp_uri, None)
        connection = self._connections.pop(amqp_uri, None)
        if connection is not None:
            try:
                connection.release()
            except Exception:  # noqa: S110 - already broken; we only want it gone
                pass


def _peer_spoke(connection: Any) -> bool:
    try:
        sock = connection.connection.transport.sock
        readable, _, _ = _select([sock], [], [], 0)
    except Exception:
        return True
    return bool(readable)


_REPLIES = _ReplyChannel()


class FastResponder(rpc.Responder):  # type: ignore[misc]
    publisher_cls = ReplyPublisher

    def send_response(self, result: Any, exc_info: Any) -> tuple[Any, Any]:
        properties = self.message.properties
        if properties.get("content_type") != JSON or self.ssl or self.login_method:
            return super().send_response(result, exc_info)  # type: ignore[no-any-return]
        error = serialize(exc_info[1]) if exc_info is not None else None
        try:
            body = json.dumps({"result": result, "error": error})
        except Exception:
            # As nameko does: the caller gets an error, never a reply that cannot be read.
            exc_info = sys.exc_info()
            error = serialize(UnserializableValueError(result))
            result = None
            body = json.dumps({"result": result, "error": error})
        message = amqp.Message(
            body,
            content_type=JSON,
            content_encoding="utf-8",
            delivery_mode=NON_PERSISTENT,
            correlation_id=properties.get("correlation_id"),
        )
        if not _REPLIES.publish(self.amqp_uri, message, self.exchange.name, properties["reply_to"]):
            super().send_response(result, exc_info)  # nameko's path and its retry policy
        return result, exc_info


def use_fast_replies() -> None:
    rpc.Responder.publisher_cls = ReplyPublisher
    rpc.Responder = FastResponder


class ReplyTolerantRpc(rpc.Rpc):  # type: ignore[misc]
    """nameko's RPC entrypoint, but a reply lost with the broker does not kill the service; and
    its workers know their call (receipts.py: a write once per call)."""

    def unpack_message_headers(self, message: Any) -> dict[str, Any]:
        """The context data, plus the call's correlation id and whether the broker delivers it
        again, from the message itself: set last, so no header can stand in for them."""
        data: dict[str, Any] = super().unpack_message_headers(message)
        data[context.DELIVERY] = message.properties.get("correlation_id")
        data[context.REDELIVERED] = bool(message.delivery_info.get("redelivered"))
        return data

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
