"""Counts and times every call the gRPC gateway answers (services/kernel/metrics.py), and
opens its server span (services/kernel/tracing.py), continuing the caller's `traceparent`.

The outermost interceptor, so that refusals (no token, a malformed request) are counted too.
Only methods the server knows are counted: an unknown method name comes from the client and
would make the label set unbounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc

from services.kernel import metrics, tracing
from services.kernel.tracing import SpanKind


def _code(context: grpc.ServicerContext, default: str) -> str:
    code = context.code()  # set by abort() or set_code(); None when the call just returned
    return code.name if isinstance(code, grpc.StatusCode) else default


@contextmanager
def _observed(method: str, context: grpc.ServicerContext) -> Iterator[None]:
    started = time.perf_counter()
    code = "UNKNOWN"  # an exception that set no code: grpcio answers UNKNOWN
    try:
        with _traced(method, context) as current:
            yield
            code = _code(context, "OK")
            if current is not None:
                current.set_attribute("rpc.grpc.status_code", code)
    except GeneratorExit:
        code = "CANCELLED"  # a streamed answer the client stopped reading
        raise
    except BaseException:
        code = _code(context, "UNKNOWN")
        raise
    finally:
        metrics.GRPC_REQUESTS.labels(method, code).inc()
        metrics.GRPC_DURATION.labels(method).observe(time.perf_counter() - started)


@contextmanager
def _traced(method: str, context: grpc.ServicerContext) -> Iterator[Any]:
    if not tracing.enabled():
        yield None
        return
    sent = next((v for k, v in context.invocation_metadata() or () if k == "traceparent"), None)
    service, _, name = method.lstrip("/").partition("/")
    with tracing.span(
        method.lstrip("/"),
        SpanKind.SERVER,
        {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name},
        parent=tracing.parent_from(sent),
    ) as current:
        yield current


def _unary(method: str, behaviour: Callable[..., Any]) -> Callable[..., Any]:
    def serve(request: Any, context: grpc.ServicerContext) -> Any:
        with _observed(method, context):
            return behaviour(request, context)

    return serve


def _streaming(method: str, behaviour: Callable[..., Any]) -> Callable[..., Any]:
    def serve(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        with _observed(method, context):
            yield from behaviour(request, context)

    return serve


class MetricsInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.request_streaming:
            return handler  # an unknown method, or a request stream (none in ecoach.v1)
        method = details.method
        if handler.response_streaming:
            return handler._replace(unary_stream=_streaming(method, handler.unary_stream))
        return handler._replace(unary_unary=_unary(method, handler.unary_unary))
