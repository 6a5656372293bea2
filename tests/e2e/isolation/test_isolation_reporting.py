"""Isolation rows of reporting's methods (ecoach/v1/reporting.proto): acme's reports and webhooks
are its active admins' only. Its coach, other coach and coachee, and the platform's operator, are
PERMISSION_DENIED (TENANT_ADMIN_ONLY); globex's people, and globex's admin signed in without a
tenant, are NOT_FOUND (TENANT_NOT_FOUND), exactly as for a tenant that does not exist; globex's
admin naming acme's webhook under globex is NOT_FOUND (WEBHOOK_NOT_FOUND). Reports change
nothing: the read-back is acme's admin's own report, the same before and after; the webhooks'
read-back is acme's list of webhooks (its deliveries change on their own: the digest timer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from gateway.api.pb import reporting_pb2 as rpb
from gateway.api.pb import reporting_pb2_grpc
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.isolation.conftest import (
    NOT_FOUND,
    PERMISSION_DENIED,
    Case,
    World,
    acme_admin,
    acme_coach,
    acme_coachee,
    acme_name,
    acme_other_coach,
    assert_cannot_reach,
    assert_hidden_like_missing,
    case_params,
    globex_admin,
    globex_admin_personal,
    globex_coach,
    globex_coachee,
    hidden_cases,
)
from tests.support.api import Session
from tests.support.isolation import as_dict
from tests.support.waiting import wait_for

REPORTING = "ecoach.v1.ReportingService"


def stub(w: World) -> Any:
    return reporting_pb2_grpc.ReportingServiceStub(w.api.channel)


def a_report(w: World) -> Message:
    return rpb.GetReportRequest(
        parent=acme_name(w),
        kind=rpb.REPORT_SESSIONS,
        from_month="2026-01",
        to_month="2026-12",
        group_by=rpb.COHORT_DEPARTMENT,
    )


def acme_report(w: World) -> Any:
    """acme's report as its admin reads it (once reporting has heard of the admin)."""

    def read() -> Any:
        try:
            return as_dict(stub(w).GetReport(a_report(w), metadata=w.acme.admin.metadata))
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.PERMISSION_DENIED:
                raise
            return None

    return wait_for(read, 15, "reporting to know acme's admin")


_WEBHOOKS: dict[int, str] = {}


def acme_webhook(w: World) -> str:
    """The name of a webhook acme's admin subscribed (once per world)."""
    if id(w) not in _WEBHOOKS:
        acme_report(w)  # reporting knows acme's admin
        answer = stub(w).CreateWebhook(
            rpb.CreateWebhookRequest(parent=acme_name(w), url="https://hooks.example.com/acme"),
            metadata=w.acme.admin.metadata,
        )
        _WEBHOOKS[id(w)] = answer.webhook.name
    return _WEBHOOKS[id(w)]


def acme_webhooks(w: World) -> Any:
    acme_webhook(w)
    return as_dict(
        stub(w).ListWebhooks(
            rpb.ListWebhooksRequest(parent=acme_name(w)), metadata=w.acme.admin.metadata
        )
    )


WEBHOOK_REQUESTS: dict[str, Callable[[World], Message]] = {
    "CreateWebhook": lambda w: rpb.CreateWebhookRequest(
        parent=acme_name(w), url="https://hooks.example.com/intruder"
    ),
    "ListWebhooks": lambda w: rpb.ListWebhooksRequest(parent=acme_name(w)),
    "DeleteWebhook": lambda w: rpb.DeleteWebhookRequest(name=acme_webhook(w)),
    "ListWebhookDeliveries": lambda w: rpb.ListWebhookDeliveriesRequest(
        parent=acme_name(w), webhook=acme_webhook(w)
    ),
    "SendTestDelivery": lambda w: rpb.SendTestDeliveryRequest(name=acme_webhook(w)),
}


def under_globex(w: World) -> str:
    """acme's webhook named under globex's tenant."""
    return acme_webhook(w).replace(acme_name(w), f"tenants/{w.globex.admin.tenant_id}")


def operator(w: World) -> Session:
    return w.operator


INSIDERS: tuple[tuple[str, Callable[[World], Session]], ...] = (
    ("victims-coach", acme_coach),
    ("same-tenant-other-coach", acme_other_coach),
    ("victims-coachee", acme_coachee),
    ("operator", operator),
)
OUTSIDERS: tuple[tuple[str, Callable[[World], Session]], ...] = (
    ("other-tenant-admin", globex_admin),
    ("other-tenant-admin-without-tenant", globex_admin_personal),
    ("other-tenant-coach", globex_coach),
    ("other-tenant-coachee", globex_coachee),
)

CASES: list[Case] = [
    *(
        Case(
            method=f"{REPORTING}/{method}",
            label=label,
            caller=caller,
            request=a_report,
            code=PERMISSION_DENIED,
            reason="TENANT_ADMIN_ONLY",
            read_back=acme_report,
        )
        for method in ("GetReport", "ExportReport")
        for label, caller in INSIDERS
    ),
    *(
        Case(
            method=f"{REPORTING}/{method}",
            label=label,
            caller=caller,
            request=a_report,
            code=NOT_FOUND,
            reason="TENANT_NOT_FOUND",
            read_back=acme_report,
        )
        for method in ("GetReport", "ExportReport")
        for label, caller in OUTSIDERS
    ),
    *(
        Case(
            method=f"{REPORTING}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=PERMISSION_DENIED,
            reason="TENANT_ADMIN_ONLY",
            read_back=acme_webhooks,
        )
        for method, request in WEBHOOK_REQUESTS.items()
        for label, caller in INSIDERS
    ),
    *(
        Case(
            method=f"{REPORTING}/{method}",
            label=label,
            caller=caller,
            request=request,
            code=NOT_FOUND,
            reason="TENANT_NOT_FOUND",
            read_back=acme_webhooks,
        )
        for method, request in WEBHOOK_REQUESTS.items()
        for label, caller in OUTSIDERS
    ),
    Case(
        method=f"{REPORTING}/DeleteWebhook",
        label="other-tenant-admin-names-it-under-own-tenant",
        caller=globex_admin,
        request=lambda w: rpb.DeleteWebhookRequest(name=under_globex(w)),
        code=NOT_FOUND,
        reason="WEBHOOK_NOT_FOUND",
        read_back=acme_webhooks,
    ),
    Case(
        method=f"{REPORTING}/SendTestDelivery",
        label="other-tenant-admin-names-it-under-own-tenant",
        caller=globex_admin,
        request=lambda w: rpb.SendTestDeliveryRequest(name=under_globex(w)),
        code=NOT_FOUND,
        reason="WEBHOOK_NOT_FOUND",
        read_back=acme_webhooks,
    ),
    # ------------------------------------------------------------ keys (operators only)
    *(
        Case(
            method=f"{REPORTING}/RotateTenantKey",
            label=label,
            caller=caller,
            request=lambda w: spb.RotateTenantKeyRequest(parent=acme_name(w)),
            code=PERMISSION_DENIED,
            reason="OPERATOR_ONLY",
            read_back=acme_webhooks,
        )
        for label, caller in (
            ("victims-own-admin", acme_admin),
            ("victims-coach", acme_coach),
            ("other-tenant-admin", globex_admin),
        )
    ),
]

EXEMPT: dict[str, str] = {}


@pytest.mark.parametrize("case", case_params(CASES))
def test_a_caller_cannot_reach_what_is_not_theirs(world: World, case: Case) -> None:
    assert_cannot_reach(world, case)


# acme's webhook named under globex: acme's webhook id is none of World.victim_ids (the ghost
# swap knows nothing of it); the test after this one compares it with a webhook id that names
# nothing instead.
@pytest.mark.parametrize(
    "case", case_params([c for c in hidden_cases(CASES) if c.reason != "WEBHOOK_NOT_FOUND"])
)
def test_a_hidden_object_is_refused_exactly_like_one_that_does_not_exist(
    world: World, case: Case
) -> None:
    assert_hidden_like_missing(world, case)


@pytest.mark.parametrize("method", ["DeleteWebhook", "SendTestDelivery"])
def test_another_tenant_s_webhook_is_refused_like_one_that_does_not_exist(
    world: World, method: str
) -> None:
    request = {
        "DeleteWebhook": rpb.DeleteWebhookRequest,
        "SendTestDelivery": rpb.SendTestDeliveryRequest,
    }[method]
    ghost = f"tenants/{world.globex.admin.tenant_id}/webhooks/whs_{'0' * 32}"
    answers = []
    for name in (under_globex(world), ghost):
        with pytest.raises(grpc.RpcError) as refused:
            getattr(stub(world), method)(request(name=name), metadata=world.globex.admin.metadata)
        answers.append((refused.value.code(), refused.value.details()))
    assert answers[0] == answers[1]
    assert answers[0][0] == grpc.StatusCode.NOT_FOUND


def test_acme_s_admin_reads_acme_s_report_and_it_shows_no_small_group(world: World) -> None:
    """acme has fewer than five coachees: its admin is answered, and shown nothing."""
    report = acme_report(world)
    assert report is not None
    assert not report.get("disclosed", False)
    assert report.get("groups", []) == [] and report.get("rows", []) == []
