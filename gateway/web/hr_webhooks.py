"""HR's console, the webhooks of the organisation's digest (ReportingService; ADR 0023 and its
addendum): the list, a new one (its signing secret shown on the answer to the form, that once,
never put in a URL or shown again), delete, a test delivery, and the deliveries with their
states. Guard, form errors: `hr.py`."""

from __future__ import annotations

import re

import grpc
from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.pb import reporting_pb2 as rpb

from .clients import authed
from .coachee import when
from .hr import FormErrors, admin_only, done_note, page_token, register_refusals, tenant
from .i18n import _
from .pages import Page, clients, not_found, render

hr_webhooks = Blueprint("hr_webhooks", __name__, url_prefix="/hr")
register_refusals(hr_webhooks)

Answer = Page | BaseResponse
DELIVERIES_PAGE_SIZE = 50
_ID = re.compile(r"^[a-z]{3}_[0-9a-f]{1,60}$")


def webhook_name(webhook_id: str) -> str | None:
    """The webhook's resource name, or None for what cannot be an id (the page is then 404)."""
    return f"{tenant()}/webhooks/{webhook_id}" if _ID.match(webhook_id) else None


def webhook_id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def state_label(state: int) -> str:
    return {
        rpb.DELIVERY_PENDING: _("Pending"),
        rpb.DELIVERY_DELIVERED: _("Delivered"),
        rpb.DELIVERY_FAILED: _("Failed"),
    }.get(state, "")


def answer_label(status: int, error: str) -> str:
    """The receiver's last answer, or why there was none (never its body: ecoach never reads it)."""
    if status:
        return f"HTTP {status}"
    return {
        "timeout": _("No answer in time"),
        "unreachable": _("Unreachable"),
        "refused_unsafe": _("Address refused: not a public address"),
        "subscription_inactive": _("Webhook deleted"),
    }.get(error, error)


def kind_label(kind: str) -> str:
    return {"reporting.digest": _("Digest"), "reporting.ping": _("Test")}.get(kind, kind)


def listed() -> list[rpb.Webhook]:
    answer = authed(
        clients(), clients().reports.ListWebhooks, rpb.ListWebhooksRequest(parent=tenant())
    )
    return list(answer.webhooks)


def webhooks_page(
    url: str = "",
    errors: FormErrors | None = None,
    created: rpb.CreateWebhookResponse | None = None,
) -> Page:
    errors = errors or FormErrors()
    return render(
        "hr/webhooks.html",
        errors.status if errors else 200,
        title=_("Webhooks"),
        webhooks=listed(),
        url=url,
        errors=errors,
        created=created,
        done=""
        if errors or created
        else done_note({"deleted": _("Webhook deleted."), "sent": _("Test delivery sent.")}),
        webhook_id=webhook_id,
        when=when,
    )


@hr_webhooks.route("/webhooks", methods=["GET", "POST"])
@admin_only
def webhooks() -> Answer:
    if request.method == "GET":
        return webhooks_page()
    url = request.form.get("url", "").strip()
    try:
        created = authed(
            clients(),
            clients().reports.CreateWebhook,
            rpb.CreateWebhookRequest(parent=tenant(), url=url),
        )
    except grpc.RpcError as exc:
        return webhooks_page(url, FormErrors.of(exc, ("url",)))
    # Answered, not redirected: the secret is on this page only (no-store, as every page).
    return webhooks_page(created=created)


@hr_webhooks.post("/webhooks/<webhook>/delete")
@admin_only
def delete(webhook: str) -> Answer:
    name = webhook_name(webhook)
    if name is None:
        return not_found()
    authed(clients(), clients().reports.DeleteWebhook, rpb.DeleteWebhookRequest(name=name))
    return redirect(url_for("hr_webhooks.webhooks", done="deleted"))


@hr_webhooks.post("/webhooks/<webhook>/test")
@admin_only
def send_test(webhook: str) -> Answer:
    name = webhook_name(webhook)
    if name is None:
        return not_found()
    authed(clients(), clients().reports.SendTestDelivery, rpb.SendTestDeliveryRequest(name=name))
    return redirect(url_for("hr_webhooks.deliveries", webhook=webhook, done="sent"))


@hr_webhooks.get("/webhooks/<webhook>/deliveries")
@admin_only
def deliveries(webhook: str) -> Answer:
    name = webhook_name(webhook)
    if name is None:
        return not_found()
    answer = authed(
        clients(),
        clients().reports.ListWebhookDeliveries,
        rpb.ListWebhookDeliveriesRequest(
            parent=tenant(),
            webhook=name,
            page_size=DELIVERIES_PAGE_SIZE,
            page_token=page_token(),
        ),
    )
    (shown,) = [w for w in listed() if w.name == name] or [None]
    return render(
        "hr/webhook_deliveries.html",
        title=_("Webhook deliveries"),
        webhook=shown,
        webhook_param=webhook,
        deliveries=list(answer.deliveries),
        next_page=answer.next_page_token,
        first_page=bool(page_token()),
        done=done_note({"sent": _("Test delivery sent.")}),
        state_label=state_label,
        kind_label=kind_label,
        answer_label=answer_label,
        when=when,
    )
