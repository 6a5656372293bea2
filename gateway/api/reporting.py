"""gRPC servicer for the reporting service: ReportingService (HR's aggregates)."""

from __future__ import annotations

import re
from typing import Any

from services.contracts import reporting as c
from services.contracts.reporting import ReportingApi
from services.kernel.errors import invalid

from . import convert as cv
from .calls import Backend, CallContext, handler
from .pb import reporting_pb2 as pb
from .pb import reporting_pb2_grpc as pb_grpc
from .pb import spaces_pb2 as spb

_KIND = {
    "seats": pb.REPORT_SEATS,
    "spaces": pb.REPORT_SPACES,
    "sessions": pb.REPORT_SESSIONS,
    "engagement": pb.REPORT_ENGAGEMENT,
    "goals": pb.REPORT_GOALS,
    "assessments": pb.REPORT_ASSESSMENTS,
    "modules": pb.REPORT_MODULES,
}
_KIND_IN = {v: k for k, v in _KIND.items()}
_ATTRIBUTE = {
    "department": pb.COHORT_DEPARTMENT,
    "site": pb.COHORT_SITE,
    "programme": pb.COHORT_PROGRAMME,
}
_ATTRIBUTE_IN = {v: k for k, v in _ATTRIBUTE.items()}
_STATE = {
    "pending": pb.DELIVERY_PENDING,
    "delivered": pb.DELIVERY_DELIVERED,
    "failed": pb.DELIVERY_FAILED,
}
_WEBHOOK = re.compile(r"^tenants/([a-z]{3}_[0-9a-f]+)/webhooks/([a-z]{3}_[0-9a-f]+)$")
_GROUP = {
    "total": pb.GROUP_TOTAL,
    "value": pb.GROUP_VALUE,
    "not_set": pb.GROUP_NOT_SET,
    "others": pb.GROUP_OTHERS,
}


def _request(request: Any) -> dict[str, Any]:
    kind = _KIND_IN.get(request.kind)
    if kind is None:
        raise invalid(kind="is not one of the accepted values" if request.kind else "is required")
    if request.group_by and request.group_by not in _ATTRIBUTE_IN:
        raise invalid(group_by="is not one of the accepted values")
    return {
        "tenant_id": cv.parse_tenant(request.parent, "parent"),
        "kind": kind,
        "from_month": request.from_month,
        "to_month": request.to_month,
        "filters": {
            "department": list(request.filters.department),
            "site": list(request.filters.site),
            "programme": list(request.filters.programme),
        },
        "group_by": _ATTRIBUTE_IN.get(request.group_by),
    }


def report_out(r: c.Report) -> pb.Report:
    return pb.Report(
        parent=cv.tenant_name(r.tenant_id),
        kind=_KIND[r.kind],
        from_month=r.from_month,
        to_month=r.to_month,
        group_by=_ATTRIBUTE[r.group_by] if r.group_by else 0,
        disclosed=r.disclosed,
        min_group=r.min_group,
        groups=[
            pb.ReportGroup(kind=_GROUP[g.kind], label=g.label, population=g.population)
            for g in r.groups
        ],
        rows=[
            pb.ReportRow(
                group_kind=_GROUP[row.group_kind],
                group_label=row.group_label,
                month=row.month,
                metric=row.metric,
                value=row.value,
            )
            for row in r.rows
        ],
    )


def webhook_name(tenant_id: str, webhook_id: str) -> str:
    return f"tenants/{tenant_id}/webhooks/{webhook_id}"


def parse_webhook(value: str, field: str = "name") -> dict[str, str]:
    match = _WEBHOOK.match(value or "")
    if not match:
        raise invalid(
            **{field: "must be a webhook name: tenants/{tenant_id}/webhooks/{webhook_id}"}
        )
    return {"tenant_id": match.group(1), "webhook_id": match.group(2)}


def webhook_out(tenant_id: str, w: c.Webhook) -> pb.Webhook:
    return pb.Webhook(
        name=webhook_name(tenant_id, w.id),
        url=w.url,
        active=w.active,
        create_time=cv.timestamp(w.created_at),
    )


def delivery_out(tenant_id: str, d: c.WebhookDelivery) -> pb.WebhookDelivery:
    out = pb.WebhookDelivery(
        id=d.id,
        webhook=webhook_name(tenant_id, d.webhook_id),
        kind=d.kind,
        state=_STATE[d.state],
        attempts=d.attempts,
        create_time=cv.timestamp(d.created_at),
        last_status=d.last_status or 0,
        last_error=d.last_error or "",
    )
    if d.next_attempt_at is not None:
        out.next_attempt_time.CopyFrom(cv.timestamp(d.next_attempt_at))
    if d.delivered_at is not None:
        out.deliver_time.CopyFrom(cv.timestamp(d.delivered_at))
    return out


class ReportingService(pb_grpc.ReportingServiceServicer):  # type: ignore[misc]
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @handler
    def GetReport(self, request: Any, call: CallContext) -> pb.Report:
        return report_out(call.call(ReportingApi.get_report, **_request(request)))

    @handler
    def ExportReport(self, request: Any, call: CallContext) -> pb.ReportCsv:
        answer = call.call(ReportingApi.export_report, **_request(request))
        return pb.ReportCsv(filename=answer.filename, csv=answer.csv)

    @handler
    def CreateWebhook(self, request: Any, call: CallContext) -> pb.CreateWebhookResponse:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        answer = call.call(ReportingApi.create_webhook, tenant_id=tenant_id, url=request.url)
        return pb.CreateWebhookResponse(
            webhook=webhook_out(tenant_id, answer.webhook), secret=answer.secret
        )

    @handler
    def ListWebhooks(self, request: Any, call: CallContext) -> pb.ListWebhooksResponse:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        answer = call.call(ReportingApi.list_webhooks, tenant_id=tenant_id)
        return pb.ListWebhooksResponse(
            webhooks=[webhook_out(tenant_id, w) for w in answer.webhooks]
        )

    @handler
    def DeleteWebhook(self, request: Any, call: CallContext) -> pb.DeleteWebhookResponse:
        call.call(ReportingApi.delete_webhook, **parse_webhook(request.name))
        return pb.DeleteWebhookResponse()

    @handler
    def ListWebhookDeliveries(
        self, request: Any, call: CallContext
    ) -> pb.ListWebhookDeliveriesResponse:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        webhook_id = None
        if request.webhook:
            webhook = parse_webhook(request.webhook, "webhook")
            if webhook["tenant_id"] != tenant_id:
                raise invalid(webhook="must be a webhook of the parent tenant")
            webhook_id = webhook["webhook_id"]
        answer = call.call(
            ReportingApi.list_webhook_deliveries,
            tenant_id=tenant_id,
            webhook_id=webhook_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListWebhookDeliveriesResponse(
            deliveries=[delivery_out(tenant_id, d) for d in answer.deliveries],
            next_page_token=answer.next_page_token,
        )

    @handler
    def SendTestDelivery(self, request: Any, call: CallContext) -> pb.WebhookDelivery:
        webhook = parse_webhook(request.name)
        answer = call.call(ReportingApi.send_test_delivery, **webhook)
        return delivery_out(webhook["tenant_id"], answer)

    @handler
    def RotateTenantKey(self, request: Any, call: CallContext) -> spb.TenantKeyRotation:
        tenant_id = cv.parse_tenant(request.parent, "parent")
        answer = call.call(ReportingApi.rotate_tenant_key, tenant_id=tenant_id)
        return spb.TenantKeyRotation(
            key_id=answer.key_id, rewrapped=answer.rewrapped, retired=answer.retired
        )


def add_to_server(server: Any, backend: Backend) -> list[str]:
    pb_grpc.add_ReportingServiceServicer_to_server(ReportingService(backend), server)
    return [pb.DESCRIPTOR.services_by_name["ReportingService"].full_name]
