"""gRPC servicer for the reporting service: ReportingService (HR's aggregates)."""

from __future__ import annotations

from typing import Any

from services.contracts import reporting as c
from services.contracts.reporting import ReportingApi
from services.kernel.errors import invalid

from . import convert as cv
from .calls import Backend, CallContext, handler
from .pb import reporting_pb2 as pb
from .pb import reporting_pb2_grpc as pb_grpc

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


def add_to_server(server: Any, backend: Backend) -> list[str]:
    pb_grpc.add_ReportingServiceServicer_to_server(ReportingService(backend), server)
    return [pb.DESCRIPTOR.services_by_name["ReportingService"].full_name]
