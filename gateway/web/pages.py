"""What every page shares: rendering in the request's language, the signed-in guard, the
answers for a failed call and for what does not exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

import grpc
from flask import current_app, g, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.client_errors import call_error
from services.kernel.clock import Clock

from .clients import Clients
from .i18n import _, language
from .session import WebSession

View = TypeVar("View", bound=Callable[..., Any])
Page = tuple[str, int]

# Characters of ids and secrets in paths; anything else is not found before any call.
ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def well_formed(value: str, longest: int = 128) -> bool:
    return bool(value) and len(value) <= longest and set(value) <= ID_CHARS


def clients() -> Clients:
    found: Clients = current_app.extensions["ecoach_clients"]
    return found


def now() -> datetime:
    """Now, on the deployment's clock (create_app's `clock`)."""
    found: Clock = current_app.extensions["ecoach_clock"]
    return found.now()


def session() -> WebSession:
    current: WebSession = g.session
    return current


def render(template: str, status: int = 200, **values: Any) -> Page:
    """A page; an anonymous session is stored with it (its forms need the CSRF token)."""
    g.session_changed = True
    return render_template(template, lang=language(), me=session(), **values), status


def not_found() -> Page:
    return render("message.html", 404, title=_("This page does not exist."))


def failed(exc: grpc.RpcError) -> tuple[str, list[str], int]:
    """The gateway's message in the page's language, each field's problem, the page's status."""
    if exc.code() == grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
        return _("ecoach cannot be reached right now. Try again in a moment."), [], 503
    error = call_error(exc)
    status = 429 if error.code == grpc.StatusCode.RESOURCE_EXHAUSTED else 400
    return error.message, [problem for _, problem in error.fields], status


def signed_in(view: View) -> View:
    """Pages for a signed-in person; the others are sent to sign in."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not session().signed_in:
            return to_sign_in()
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def to_sign_in() -> BaseResponse:
    return redirect(url_for("account.sign_in"))


def field_errors(exc: grpc.RpcError) -> tuple[str, dict[str, str], int]:
    """As `failed`, with each wrong field's problem under the form field it belongs to (the
    last part of the gateway's field path, without an index: `settings.reminder_minutes[2]`
    is `reminder_minutes`), to be shown beside that field."""
    message, _problems, status = failed(exc)
    errors: dict[str, str] = {}
    if exc.code() != grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
        for path, problem in call_error(exc).fields:
            errors.setdefault(path.split(".")[-1].split("[")[0], problem)
    return message, errors, status
