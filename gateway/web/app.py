"""The pages behind the links in emails: accept an invitation, reset a password, confirm an
email change. Plain HTML forms (no script), French or English by the browser's language. And
each person's calendar feed, `GET /calendar/<secret>.ics`, rate-limited per feed and per client
address (`gateway/api/feed_limits.py`). The client address is the peer's, or, from a proxy listed
in ECOACH_TRUSTED_PROXIES, the one its `X-Forwarded-For` names; it is passed on to the gRPC
gateway, which limits again (and believes it only if this process's address is trusted there).

A GET only shows the page: mail scanners that open every link in corporate mailboxes must not
use up single-use links. The POST carries the link's secret (in the path) to the gRPC gateway,
which decides; its localized message and field errors are shown. Pages are never cached, never
framed, and send no Referer (the path holds a secret).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from flask import Flask, Response, request
from flask import render_template as render

from gateway.api.client_errors import call_error
from gateway.api.feed_limits import FeedLimiter
from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import identity_pb2_grpc as pb_grpc
from gateway.api.pb import scheduling_pb2 as spb
from gateway.api.pb import scheduling_pb2_grpc as spb_grpc
from gateway.api.peers import Network, client_address

from .texts import TEXTS

CALL_TIMEOUT = 15.0
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def locale() -> str:
    asked = request.args.get("lang") or request.accept_languages.best_match(["fr", "en"])
    return "fr" if asked == "fr" else "en"


def create_app(
    grpc_address: str,
    feed_per_hour: int = 60,
    feed_per_address_hour: int = 600,
    trusted_proxies: tuple[Network, ...] = (),
) -> Flask:
    app = Flask(__name__)
    channel = grpc.insecure_channel(grpc_address)
    auth = pb_grpc.AuthServiceStub(channel)
    feeds = spb_grpc.CalendarFeedServiceStub(channel)
    limiter = FeedLimiter(feed_per_hour, feed_per_address_hour)

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    def page(title: str, **values: Any) -> str:
        return render("page.html", t=TEXTS[locale()], title=title, **values)

    def form_page(
        token: str,
        title_key: str,
        intro_key: str,
        fields: list[tuple[str, str]],
        submit_key: str,
        act: Callable[[str, dict[str, str]], str] | None,
    ) -> tuple[str, int]:
        t = TEXTS[locale()]
        if not token or not set(token) <= TOKEN_CHARS or len(token) > 128:
            return page(t["not_found"]), 404
        form = {"fields": [(n, t[k]) for n, k in fields], "submit": t[submit_key]}
        if request.method == "GET" or act is None:
            return page(t[title_key], intro=t[intro_key], form=form), 200
        values = {name: request.form.get(name, "") for name, _ in fields}
        if "password_again" in values and values["password_again"] != values.get("password"):
            return page(t[title_key], intro=t[intro_key], form=form, error=t["mismatch"]), 400
        try:
            done = act(token, values)
        except grpc.RpcError as exc:
            message, problems = explain(exc, t)
            status = 503 if exc.code() == grpc.StatusCode.UNAVAILABLE else 400
            return page(
                t[title_key], intro=t[intro_key], form=form, error=message, fields=problems
            ), status
        return page(t[title_key], done=done), 200

    def metadata() -> tuple[tuple[str, str], ...]:
        return (("accept-language", locale()),)

    @app.route("/invite/<token>", methods=["GET", "POST"])
    def invite(token: str) -> tuple[str, int]:
        def act(token: str, values: dict[str, str]) -> str:
            answer = auth.AcceptInvitation(
                pb.AcceptInvitationRequest(token=token, password=values["password"]),
                metadata=metadata(),
                timeout=CALL_TIMEOUT,
            )
            key = "invite_done_new" if answer.new_account else "invite_done_existing"
            return TEXTS[locale()][key].format(email=answer.email)

        return form_page(
            token,
            "invite_title",
            "invite_intro",
            [("password", "password"), ("password_again", "password_again")],
            "accept",
            act,
        )

    @app.route("/reset-password/<token>", methods=["GET", "POST"])
    def reset(token: str) -> tuple[str, int]:
        def act(token: str, values: dict[str, str]) -> str:
            auth.ResetPassword(
                pb.ResetPasswordRequest(token=token, new_password=values["password"]),
                metadata=metadata(),
                timeout=CALL_TIMEOUT,
            )
            return TEXTS[locale()]["reset_done"]

        return form_page(
            token,
            "reset_title",
            "reset_intro",
            [("password", "new_password"), ("password_again", "password_again")],
            "save_password",
            act,
        )

    def confirm_address(token: str, kind: str) -> tuple[str, int]:
        """Both address links (the account's new email, the calendar address) open the same
        call; the page's words follow the link's path, the result what the link was for."""

        def act(token: str, values: dict[str, str]) -> str:
            answer = auth.ConfirmEmailChange(
                pb.ConfirmEmailChangeRequest(token=token), metadata=metadata(), timeout=CALL_TIMEOUT
            )
            calendar = answer.confirmed == pb.CONFIRMED_ADDRESS_CALENDAR
            return TEXTS[locale()]["calendar_done" if calendar else "confirm_done"]

        return form_page(token, f"{kind}_title", f"{kind}_intro", [], "confirm", act)

    @app.route("/confirm-email/<token>", methods=["GET", "POST"])
    def confirm(token: str) -> tuple[str, int]:
        return confirm_address(token, "confirm")

    @app.route("/confirm-calendar-email/<token>", methods=["GET", "POST"])
    def confirm_calendar(token: str) -> tuple[str, int]:
        return confirm_address(token, "calendar")

    @app.get("/calendar/<token>.ics")
    def calendar_feed(token: str) -> Response:
        """A person's calendar (its secret in the path): 404 for an unknown or revoked one, 429
        past the rate limits (with Retry-After)."""
        if not token or len(token) > 100 or not set(token) <= TOKEN_CHARS:
            return Response("not found\n", 404, mimetype="text/plain")
        address = client_address(
            request.remote_addr or "?", request.headers.getlist("X-Forwarded-For"), trusted_proxies
        )
        wait = limiter.retry_after(token, address)
        if wait is not None:
            return too_many(wait)
        try:
            answer = feeds.GetCalendarFeed(
                spb.GetCalendarFeedRequest(token=token),
                timeout=CALL_TIMEOUT,
                metadata=(("x-forwarded-for", address),),
            )
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
                return Response("not found\n", 404, mimetype="text/plain")
            if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:  # type: ignore[attr-defined]
                return too_many(retry_delay(exc))
            return Response("unavailable\n", 503, mimetype="text/plain")
        return Response(answer.ics, 200, mimetype="text/calendar")

    @app.errorhandler(404)
    def missing(_: Exception) -> tuple[str, int]:
        return page(TEXTS[locale()]["not_found"]), 404

    return app


def too_many(wait: int) -> Response:
    return Response("too many requests\n", 429, {"Retry-After": str(wait)}, mimetype="text/plain")


def retry_delay(exc: grpc.RpcError) -> int:
    """The gRPC gateway's `RetryInfo` delay, in whole seconds (60 if it sent none)."""
    delay = call_error(exc).retry_delay_seconds
    return max(1, delay) if delay else 60


def explain(exc: grpc.RpcError, t: dict[str, str]) -> tuple[str, list[str]]:
    """The gateway's message in the page's language, and each field's problem."""
    if exc.code() == grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
        return t["unavailable"], []
    error = call_error(exc)
    return error.message, [problem for _, problem in error.fields]
