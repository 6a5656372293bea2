"""The web app: server-rendered pages (Flask, Jinja2), htmx for partial updates, a client of the
gRPC gateway only (ADR 0010).

One blueprint per area: `links` (the pages behind mailed links, and the calendar feed),
`account` (sign-in and out, tenant choice), `home` (where `/` leads), `coachee`, `coach`,
`questionnaires` (a space's questionnaires, for its coach and coachee, with their 360
feedback), `recommendations` (the resources a coach recommends into a space, for its coach and
coachee), `modules` (e-learning modules: assigned by the coach, taken by the coachee, imported
by an operator), `toolbox` (a space's tools unlocked as the work advances: the coach's page,
the coachee's note from a template), `library` (the resource library of a coach, a tenant admin
and an operator), `feedback` (the page behind a 360 rater's mailed link), HR's console (`hr`,
`hr_setup`, `hr_spaces`, `hr_reports`), the operator's tenants (`operator`). Each request
gets the browser's session from its encrypted cookie (`session.py`), its language (`i18n.py`)
and the browser's address (the peer's, or from a proxy listed in ECOACH_TRUSTED_PROXIES the one
its `X-Forwarded-For` names). Every POST carries the session's CSRF token (a form field, or the
`X-CSRF-Token` header htmx sends). Pages are never cached, never framed, and send no Referer
(the mailed links' paths hold secrets; an unexpected error is logged with the route's pattern,
never the path).
"""

from __future__ import annotations

import hmac
from typing import Any

import grpc
from flask import Flask, Response, g, request

from gateway.api.feed_limits import FeedLimiter
from gateway.api.peers import Network, client_address
from services.kernel.clock import Clock, SystemClock

from .account import account
from .clients import Clients, SignedOut
from .coach import coach
from .coachee import coachee
from .feedback import feedback
from .home import home
from .hr import hr
from .hr_reports import hr_reports
from .hr_setup import hr_setup
from .hr_spaces import hr_spaces
from .hr_webhooks import hr_webhooks
from .http_metrics import traced_channel
from .i18n import _, choose_language, gettext
from .library import library
from .links import links
from .me import me_pages
from .modules import modules
from .notes import notes
from .operator import operator
from .pages import Page, failed, not_found, render, to_sign_in
from .questionnaires import questionnaires
from .recommendations import recommendations
from .session import COOKIE, MAX_AGE_SECONDS, SessionCodec, WebSession
from .sessions import sessions
from .toolbox import toolbox

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
# Paths that neither read nor write the session: a calendar client or a probe has none.
SESSIONLESS = ("/calendar/", "/static/", "/healthz")


class WebApp(Flask):
    def log_exception(self, exc_info: Any) -> None:
        """As Flask's, naming the route's pattern instead of the path: the paths of mailed links
        (`/feedback/<token>`, `/invite/<token>`...) hold their secrets, which no log keeps."""
        rule = request.url_rule.rule if request.url_rule else "(no route)"
        self.logger.error("Exception on %s [%s]", rule, request.method, exc_info=exc_info)


def create_app(
    grpc_address: str,
    session_key: bytes,
    *,
    secure_cookie: bool = True,
    feed_per_hour: int = 60,
    feed_per_address_hour: int = 600,
    trusted_proxies: tuple[Network, ...] = (),
    clock: Clock | None = None,
) -> Flask:
    app = WebApp(__name__)
    # The deployment's clock (a test deployment's moved clock, ADR 0007): what a page counts as
    # now agrees with the services (a session over, a tool new this week).
    app.extensions["ecoach_clock"] = clock or SystemClock()
    app.extensions["ecoach_clients"] = Clients.over(
        traced_channel(grpc.insecure_channel(grpc_address))
    )
    app.extensions["ecoach_feed_limiter"] = FeedLimiter(feed_per_hour, feed_per_address_hour)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, lambda one, many, n: gettext(one if n == 1 else many), newstyle=True
    )
    codec = SessionCodec(session_key)
    app.register_blueprint(hr_webhooks)  # HR's webhooks (reporting's digest)
    for blueprint in (
        links,
        feedback,
        account,
        home,
        coachee,
        notes,
        sessions,
        me_pages,
        coach,
        questionnaires,
        recommendations,
        modules,
        library,
        toolbox,
    ):
        app.register_blueprint(blueprint)
    for blueprint in (
        hr,
        hr_setup,
        hr_spaces,
        hr_reports,
        operator,
    ):  # HR's and operators' consoles
        app.register_blueprint(blueprint)

    @app.before_request
    def open_session() -> Page | None:
        g.client_address = client_address(
            request.remote_addr or "?", request.headers.getlist("X-Forwarded-For"), trusted_proxies
        )
        g.session_changed = False
        g.session = codec.open(request.cookies.get(COOKIE)) or WebSession()
        g.language = choose_language(request.args.get("lang"), g.session.locale)
        if request.method == "POST" and not request.path.startswith(SESSIONLESS):
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
            if not hmac.compare_digest(sent.encode(), g.session.csrf.encode()):
                return render(
                    "message.html",
                    400,
                    title=_("This form has expired"),
                    error=_("Reload the page and try again."),
                )
        return None

    @app.after_request
    def close_session(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if g.get("session_changed") and not request.path.startswith(SESSIONLESS):
            response.set_cookie(
                COOKIE,
                codec.seal(g.session),
                max_age=MAX_AGE_SECONDS,
                httponly=True,
                secure=secure_cookie,
                samesite="Lax",
                path="/",
            )
        return response

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.errorhandler(SignedOut)
    def signed_out(_exc: SignedOut) -> Response:
        g.session = g.session.signed_out()
        g.session_changed = True
        return to_sign_in()  # type: ignore[return-value]

    @app.errorhandler(grpc.RpcError)
    def unavailable(exc: grpc.RpcError) -> Page:
        message, _problems, status = failed(exc)
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            return not_found()
        return render("message.html", status, title=_("Something went wrong"), error=message)

    @app.errorhandler(404)
    def missing(_exc: Exception) -> Page:
        return not_found()

    return app
