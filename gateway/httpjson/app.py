"""The HTTP/JSON facade: a WSGI app, a client of the gRPC gateway like the web pages (ADR 0020).

`POST /api/v1/{package.Service}/{Method}` with the request message as JSON calls that gRPC
method with the caller's `Authorization` (and `Accept-Language`, and their address as
`x-forwarded-for`) as metadata, so authentication, validation and errors are exactly the gRPC
gateway's; the reply comes back as JSON, a failure as RFC 9457 problem details (problems.py).
`GET /api/v1/openapi.json` is the OpenAPI document. It runs in the web gateway's process
(gateway/web/server.py sends it every path under /api/).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import grpc
from flask import Flask, Response, request
from google.protobuf import json_format
from google.protobuf.message import Message
from werkzeug.exceptions import HTTPException

from gateway.api.client_errors import call_error
from gateway.api.peers import Network, client_address
from services.kernel.i18n import N_, gettext

from .methods import PREFIX, UnaryMethod, unary_methods
from .openapi import served
from .problems import Problem, bad_body, from_call, parse_error, refused

log = logging.getLogger("gateway.httpjson")

CALL_TIMEOUT = 15.0
# The gRPC gateway's own limit on a message (grpcio's default); a larger body cannot be sent on.
MAX_BODY_BYTES = 4 * 1024 * 1024
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
API_PATHS = "/api/"


class Facade:
    """The gRPC side: one callable per method over one channel."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._channel = channel
        self._calls: dict[str, Callable[..., Any]] = {}

    def call(self, method: UnaryMethod, message: Message, metadata: list[tuple[str, str]]) -> Any:
        stub = self._calls.get(method.grpc_path)
        if stub is None:
            stub = self._channel.unary_unary(
                method.grpc_path,
                request_serializer=method.request.SerializeToString,
                response_deserializer=method.response.FromString,
            )
            self._calls[method.grpc_path] = stub
        return stub(message, metadata=metadata, timeout=CALL_TIMEOUT)


def create_api(channel: grpc.Channel, trusted_proxies: tuple[Network, ...] = ()) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    facade = Facade(channel)
    methods = unary_methods()

    @app.get(f"{PREFIX}/openapi.json")
    def openapi() -> Response:
        return Response(served(), 200, {"Content-Type": "application/json", **HEADERS})

    @app.post(f"{PREFIX}/<path:name>")
    def call(name: str) -> Response:
        method = methods.get(f"{PREFIX}/{name}")
        if method is None:
            detail = gettext(locale(), "This API has no such method.")
            return answer(refused(404, "METHOD_NOT_FOUND", detail))
        parsed = parse_body(method)
        if isinstance(parsed, Problem):
            return answer(parsed)
        try:
            reply = facade.call(method, parsed, metadata_of(trusted_proxies))
        except grpc.RpcError as exc:
            return answer(from_call(call_error(exc)))
        body = json_format.MessageToDict(reply, always_print_fields_with_no_presence=True)
        return Response(json.dumps(body), 200, {"Content-Type": "application/json", **HEADERS})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 405:
            detail = gettext(locale(), "Call the API's methods with POST.")
            return answer(refused(405, "METHOD_NOT_ALLOWED", detail), {"Allow": "POST"})
        if status == 413:
            too_large = N_("is larger than 4 MiB")
            return answer(bad_body(locale(), "request", too_large, "BODY_TOO_LARGE"))
        if status == 404:
            detail = gettext(locale(), "This API has no such path.")
            return answer(refused(404, "NOT_FOUND", detail))
        return answer(Problem(status, "UNKNOWN", exc.description or "", "HTTP_ERROR"))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        """A fault of the facade's own: logged, and a problem rather than an HTML page."""
        if isinstance(exc, HTTPException):
            return http_error(exc)
        log.exception("HTTP/JSON API: unexpected error on %s", request.path)
        detail = gettext(locale(), "Something went wrong on our side. Please try again later.")
        return answer(Problem(500, "INTERNAL", detail, "INTERNAL"))

    return app


def answer(problem: Problem, extra: dict[str, str] | None = None) -> Response:
    headers = {**problem.headers(), **HEADERS, **(extra or {})}
    return Response(json.dumps(problem.body(), ensure_ascii=False), problem.status, headers)


def parse_body(method: UnaryMethod) -> Message | Problem:
    """The request message from the JSON body (an empty body is the empty message)."""
    raw = request.get_data(cache=False)
    said = locale()
    if raw.strip() and not _is_json(request.mimetype):
        detail = gettext(said, "Send the body as application/json.")
        return refused(415, "UNSUPPORTED_MEDIA_TYPE", detail)
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError):  # not JSON, or not UTF-8
        return bad_body(said, "request", N_("is not valid JSON"))
    if not isinstance(data, dict):
        return bad_body(said, "request", N_("must be a JSON object"))
    message = method.request()
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=False)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        path, unknown = parse_error(str(exc))
        if unknown:
            return bad_body(said, path, N_("is not a field of this request"), "UNKNOWN_FIELD")
        return bad_body(said, path, N_("is not a valid value for this field"))
    return message


def locale() -> str | None:
    return _header("Accept-Language")


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def _header(name: str) -> str | None:
    """A header as gRPC metadata takes it (printable ASCII), else none."""
    value = request.headers.get(name)
    if value and value.isascii() and value.isprintable():
        return value
    return None


def metadata_of(trusted_proxies: tuple[Network, ...]) -> list[tuple[str, str]]:
    address = client_address(
        request.remote_addr or "?", request.headers.getlist("X-Forwarded-For"), trusted_proxies
    )
    pairs = [("x-forwarded-for", address)]
    for header, key in (("Authorization", "authorization"), ("Accept-Language", "accept-language")):
        value = _header(header)
        if value:
            pairs.append((key, value))
    return pairs


def mount(web: Any, api: Flask) -> Callable[[dict[str, Any], Any], Any]:
    """One WSGI app: every path under /api/ to the facade, the rest to the web pages."""

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(API_PATHS):
            return api(environ, start_response)
        return web(environ, start_response)

    return dispatch
