"""Isolation rows of reporting's methods (ecoach/v1/reporting.proto): acme's reports are its
active admins' only. Its coach, other coach and coachee, and the platform's operator, are
PERMISSION_DENIED (TENANT_ADMIN_ONLY); globex's people, and globex's admin signed in without a
tenant, are NOT_FOUND (TENANT_NOT_FOUND), exactly as for a tenant that does not exist. Reports
change nothing: the read-back is acme's admin's own report, the same before and after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from gateway.api.pb import reporting_pb2 as rpb
from gateway.api.pb import reporting_pb2_grpc
from tests.e2e.isolation.conftest import (
    NOT_FOUND,
    PERMISSION_DENIED,
    Case,
    World,
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
]

EXEMPT: dict[str, str] = {}


@pytest.mark.parametrize("case", case_params(CASES))
def test_a_caller_cannot_reach_what_is_not_theirs(world: World, case: Case) -> None:
    assert_cannot_reach(world, case)


@pytest.mark.parametrize("case", case_params(hidden_cases(CASES)))
def test_a_hidden_object_is_refused_exactly_like_one_that_does_not_exist(
    world: World, case: Case
) -> None:
    assert_hidden_like_missing(world, case)


def test_acme_s_admin_reads_acme_s_report_and_it_shows_no_small_group(world: World) -> None:
    """acme has fewer than five coachees: its admin is answered, and shown nothing."""
    report = acme_report(world)
    assert report is not None
    assert not report.get("disclosed", False)
    assert report.get("groups", []) == [] and report.get("rows", []) == []
