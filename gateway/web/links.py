"""The pages behind the links in emails: accept an invitation, reset a password, confirm an
email change. Plain HTML forms (no script). And each person's calendar feed,
`GET /calendar/<secret>.ics`, rate-limited per feed and per client address
(`gateway/api/feed_limits.py`); the client address is passed on to the gRPC gateway, which
limits again.

A GET only shows the page: mail scanners that open every link in corporate mailboxes must not
use up single-use links. The POST carries the link's secret (in the path) to the gRPC gateway,
which decides; its localized message and field errors are shown.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
from flask import Blueprint, Response, current_app, g, request

from gateway.api.client_errors import call_error
from gateway.api.feed_limits import FeedLimiter
from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import scheduling_pb2 as spb

from .clients import call
from .i18n import _
from .pages import Page, clients, failed, not_found, render, well_formed

links = Blueprint("links", __name__)

Act = Callable[[str, dict[str, str]], str]


def form_page(
    token: str,
    title: str,
    intro: str,
    fields: list[tuple[str, str]],
    submit: str,
    act: Act,
) -> Page:
    if not well_formed(token):
        return not_found()
    form = {"fields": fields, "submit": submit}
    if request.method == "GET":
        return render("link.html", title=title, intro=intro, form=form)
    values = {name: request.form.get(name, "") for name, _label in fields}
    if "password_again" in values and values["password_again"] != values.get("password"):
        return render(
            "link.html",
            400,
            title=title,
            intro=intro,
            form=form,
            error=_("The two passwords differ."),
        )
    try:
        done = act(token, values)
    except grpc.RpcError as exc:
        message, problems, status = failed(exc)
        status = 503 if status == 503 else 400
        return render(
            "link.html", status, title=title, intro=intro, form=form, error=message, fields=problems
        )
    return render("link.html", title=title, done=done, signed_in_link=True)


@links.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str) -> Page:
    def act(token: str, values: dict[str, str]) -> str:
        answer = call(
            clients().auth.AcceptInvitation,
            pb.AcceptInvitationRequest(token=token, password=values["password"]),
        )
        if answer.new_account:
            return _(
                "Welcome! Your account is ready: sign in with %(email)s and the password you "
                "chose.",
                email=answer.email,
            )
        return _(
            "Done: your account %(email)s now belongs to this organisation.", email=answer.email
        )

    return form_page(
        token,
        _("Join your organisation on ecoach"),
        _(
            "You have been invited to ecoach. If you are new here, choose your password: at "
            "least 12 characters, not a common one, without your name or email. If you already "
            "have an ecoach account, type its password to accept."
        ),
        [("password", _("Password")), ("password_again", _("The same password again"))],
        _("Accept the invitation"),
        act,
    )


@links.route("/reset-password/<token>", methods=["GET", "POST"])
def reset(token: str) -> Page:
    def act(token: str, values: dict[str, str]) -> str:
        call(
            clients().auth.ResetPassword,
            pb.ResetPasswordRequest(token=token, new_password=values["password"]),
        )
        return _("Your password has been changed. You can sign in with it now.")

    return form_page(
        token,
        _("Choose a new password"),
        _("At least 12 characters, not a common one, without your name or email."),
        [("password", _("New password")), ("password_again", _("The same password again"))],
        _("Save the password"),
        act,
    )


def confirm_address(token: str, title: str, intro: str) -> Page:
    """Both address links (the account's new email, the calendar address) open the same call;
    the page's words follow the link's path, the result what the link was for."""

    def act(token: str, values: dict[str, str]) -> str:
        answer = call(clients().auth.ConfirmEmailChange, pb.ConfirmEmailChangeRequest(token=token))
        if answer.confirmed == pb.CONFIRMED_ADDRESS_CALENDAR:
            return _("Done: your calendar invitations and reminders now go to this address.")
        return _("Your email address has been changed. Sign in with the new one.")

    return form_page(token, title, intro, [], _("Confirm this address"), act)


@links.route("/confirm-email/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Page:
    return confirm_address(
        token,
        _("Confirm your new email address"),
        _(
            "Confirm that this address is yours: your ecoach account will use it to sign in and "
            "to receive its emails."
        ),
    )


@links.route("/confirm-calendar-email/<token>", methods=["GET", "POST"])
def confirm_calendar(token: str) -> Page:
    return confirm_address(
        token,
        _("Confirm the address for your calendar"),
        _(
            "Confirm that this address is yours: ecoach will send your session invitations and "
            "reminders there. You keep signing in with your account's address."
        ),
    )


@links.get("/calendar/<token>.ics")
def calendar_feed(token: str) -> Response:
    """A person's calendar (its secret in the path): 404 for an unknown or revoked one, 429
    past the rate limits (with Retry-After)."""
    if not well_formed(token, 100):
        return Response("not found\n", 404, mimetype="text/plain")
    limiter: FeedLimiter = current_app.extensions["ecoach_feed_limiter"]
    wait = limiter.retry_after(token, g.client_address)
    if wait is not None:
        return too_many(wait)
    try:
        answer = call(clients().feeds.GetCalendarFeed, spb.GetCalendarFeedRequest(token=token))
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
            return Response("not found\n", 404, mimetype="text/plain")
        if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:  # type: ignore[attr-defined]
            return too_many(retry_delay(exc))
        return Response("unavailable\n", 503, mimetype="text/plain")
    return Response(answer.ics, 200, mimetype="text/calendar")


def too_many(wait: int) -> Response:
    return Response("too many requests\n", 429, {"Retry-After": str(wait)}, mimetype="text/plain")


def retry_delay(exc: grpc.RpcError) -> int:
    """The gRPC gateway's `RetryInfo` delay, in whole seconds (60 if it sent none)."""
    delay = call_error(exc).retry_delay_seconds
    return max(1, delay) if delay else 60
