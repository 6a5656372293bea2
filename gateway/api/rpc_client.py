"""The gateway's one client to the nameko services: thread-safe, over kombu, nameko's protocol.

One connection publishes (under a lock), one consumer thread owns another connection and the
exclusive reply queue; callers wait on futures keyed by correlation id. Requests go to exchange
`nameko-rpc` with routing key `service.method`, non-persistent, with an expiration equal to the
caller's remaining deadline, so a request nobody took in time is dropped by the broker and never
executed later. Replies (auto-acknowledged) that arrive after their caller gave up are dropped.

nameko's own standalone proxies are single-threaded, fix their timeout when built, keep late
replies forever and publish persistent requests without expiry: fine for scripts, not here.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import amqp
import amqp.exceptions
import kombu
import kombu.exceptions
from amqp.exceptions import NotFound as AmqpNotFound
from pydantic import BaseModel

from services.contracts.base import Method
from services.kernel import tracing
from services.kernel.consumer import consume_forever
from services.kernel.errors import DeadlineExceeded, Internal, Unavailable, from_remote

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"
HEADER_PREFIX = "nameko."
NON_PERSISTENT = 1
PUBLISH_ERRORS = (
    OSError,
    kombu.exceptions.OperationalError,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.ChannelError,
)
Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)


class RpcClient:
    def __init__(
        self, amqp_uri: str, *, name: str = "gateway", connect_timeout: float = 5.0
    ) -> None:
        self._uri = amqp_uri
        self._connect_timeout = connect_timeout
        self._exchange = kombu.Exchange(RPC_EXCHANGE, type="topic", durable=True)
        self.reply_to = f"rpc.reply-{name}-{uuid.uuid4().hex}"
        self._pending: dict[str, Future[dict[str, Any]]] = {}
        self._pending_lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._publish_conn: kombu.Connection | None = None
        self._producer: Any = None  # the publishing AMQP channel
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._consume_forever, name="rpc-replies", daemon=True
        )
        self.late_replies = 0

    # ------------------------------------------------------------ lifecycle

    def start(self, wait: float = 10.0) -> RpcClient:
        self._thread.start()
        if not self._ready.wait(wait):
            raise Unavailable("The message broker is not reachable.", reason="BROKER_UNAVAILABLE")
        return self

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        with self._publish_lock:
            if self._publish_conn is not None:
                self._publish_conn.release()
                self._publish_conn = None

    def __enter__(self) -> RpcClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ calls

    def call(
        self,
        service: str,
        method: str,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Call `service.method(payload)` and wait at most `timeout` seconds.

        `context` becomes nameko context data (`nameko.<key>` headers): the token, request id,
        deadline and locale travel that way to the service and on to any nested call.
        """
        if timeout <= 0:
            raise DeadlineExceeded(
                "No time was left to call the service.", reason="DEADLINE_PASSED"
            )
        with tracing.span(
            f"{service}.{method}",
            tracing.SpanKind.CLIENT,
            {"rpc.system": "nameko", "rpc.service": service, "rpc.method": method},
            within=True,  # the health probes' pings are no trace
        ):
            future = self.call_async(service, method, payload, timeout=timeout, context=context)
            try:
                body = future.result(timeout)
            except FutureTimeout:
                future.cancel()
                raise self._timeout_error(service) from None
            finally:
                with self._pending_lock:
                    self._pending.pop(getattr(future, "correlation_id", ""), None)
            error = body.get("error")
            if error:
                raise from_remote(error)
            return body.get("result")

    def call_method(
        self,
        method: Method[Req, Resp],
        request: Req,
        *,
        timeout: float,
        context: Mapping[str, Any] | None = None,
    ) -> Resp:
        """`call` by the service's method table: the request contract's JSON goes, the reply is
        read back into the response contract (one outside it is Internal)."""
        payload = method.payload(request)
        answer = self.call(method.service, method.name, payload, timeout=timeout, context=context)
        return method.reply(answer)

    def call_async(
        self,
        service: str,
        method: str,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float,
        context: Mapping[str, Any] | None = None,
    ) -> Future[dict[str, Any]]:
        if not self._ready.is_set():
            raise Unavailable("The message broker is not reachable.", reason="BROKER_UNAVAILABLE")
        correlation_id = uuid.uuid4().hex
        future: Future[dict[str, Any]] = Future()
        future.correlation_id = correlation_id  # type: ignore[attr-defined]
        with self._pending_lock:
            self._pending[correlation_id] = future
        headers = {HEADER_PREFIX + k: v for k, v in (context or {}).items() if v is not None}
        traceparent = tracing.current_traceparent()
        if traceparent is not None:  # the client span's: the service continues it
            headers[HEADER_PREFIX + tracing.TRACEPARENT] = traceparent
        try:
            self._publish(
                {"args": [dict(payload or {})], "kwargs": {}},
                routing_key=f"{service}.{method}",
                correlation_id=correlation_id,
                headers=headers,
                expiration=timeout,
            )
        except Exception:
            with self._pending_lock:
                self._pending.pop(correlation_id, None)
            raise
        return future

    def _publish(
        self,
        body: dict[str, Any],
        *,
        routing_key: str,
        correlation_id: str,
        headers: dict[str, Any],
        expiration: float,
    ) -> None:
        # Straight to the AMQP channel: kombu's Producer costs ~0.2 ms a call in options,
        # serializer lookups and declarations we do not need once the exchange is declared.
        message = amqp.Message(
            json.dumps(body, separators=(",", ":")),
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=NON_PERSISTENT,
            reply_to=self.reply_to,
            correlation_id=correlation_id,
            expiration=str(max(1, int(expiration * 1000))),
            application_headers=headers,
        )
        with self._publish_lock:
            for attempt in (1, 2):
                try:
                    if self._producer is None:
                        self._publish_conn = kombu.Connection(
                            self._uri, connect_timeout=self._connect_timeout
                        )
                        channel = self._publish_conn.channel()
                        self._exchange(channel).declare()  # the same as nameko declares it
                        self._producer = channel
                    self._producer.basic_publish(message, RPC_EXCHANGE, routing_key)
                    return
                except PUBLISH_ERRORS as exc:
                    log.warning("publish failed (attempt %d): %s", attempt, type(exc).__name__)
                    self._reset_publisher()
            raise Unavailable("The message broker is not reachable.", reason="BROKER_UNAVAILABLE")

    def _reset_publisher(self) -> None:
        if self._publish_conn is not None:
            try:
                self._publish_conn.release()
            except Exception:  # noqa: S110 - already broken; we only want it gone
                pass
        self._publish_conn = None
        self._producer = None

    def consumer_count(self, service: str) -> int:
        """How many instances of `service` are consuming its RPC queue (0 if it has none)."""
        with self._publish_lock:
            try:
                if self._publish_conn is None:
                    self._publish_conn = kombu.Connection(
                        self._uri, connect_timeout=self._connect_timeout
                    )
                channel = self._publish_conn.channel()
                try:
                    _, _, consumers = channel.queue_declare(queue=f"rpc-{service}", passive=True)
                    return int(consumers)
                finally:
                    try:
                        channel.close()
                    except Exception:  # noqa: S110
                        pass
            except AmqpNotFound:
                return 0
            except Exception:
                self._reset_publisher()
                return 0

    def _timeout_error(self, service: str) -> Exception:
        if self.consumer_count(service) == 0:
            return Unavailable(
                f"{service} is not running.",
                reason="SERVICE_UNAVAILABLE",
                metadata={"service": service},
            )
        return DeadlineExceeded(
            f"{service} did not answer in time.",
            reason="DEADLINE_EXCEEDED",
            metadata={"service": service},
        )

    # ------------------------------------------------------------ replies

    def _on_reply(self, body: dict[str, Any], message: kombu.Message) -> None:
        correlation_id = message.properties.get("correlation_id")
        with self._pending_lock:
            future = self._pending.pop(correlation_id, None)
        # set_running_or_notify_cancel() settles the race with a caller timing out right now:
        # once it returns True, cancel() can no longer succeed and set_result cannot fail.
        if future is None or not future.set_running_or_notify_cancel():
            self.late_replies += 1  # its caller gave up: dropped, never kept
            return
        if not isinstance(body, dict):
            future.set_exception(Internal("A service sent a malformed reply.", reason="BAD_REPLY"))
            return
        future.set_result(body)

    def _consume_forever(self) -> None:
        queue = kombu.Queue(
            self.reply_to,
            exchange=self._exchange,
            routing_key=self.reply_to,
            exclusive=True,
            auto_delete=True,
        )
        # Replies live in our exclusive queue, unacknowledged: acking each is a wasted write.
        consume_forever(
            self._uri,
            queue,
            self._on_reply,
            ready=self._ready,
            stopping=self._stopping,
            what="reply consumer",
            on_lost=self._fail_pending,
            connect_timeout=self._connect_timeout,
        )

    def _fail_pending(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(
                    Unavailable(
                        "The connection to the broker was lost.", reason="BROKER_UNAVAILABLE"
                    )
                )
