"""HR's console, the reports (ReportingService): counts of how coaching is used in the
organisation, by month and by cohort (department, site, programme), never a person, never
content. A GET form, so a report is a link HR can bookmark and share; the report as tables
(report_tables.py); the same report as a CSV download (ExportReport).

The tenant is always the session's: nothing of the query names one. Reporting applies the
disclosure rule (groups of at least five coachees; fewer after the filters: nothing at all),
and the page shows only what it answers. Guard, form errors and refusals: `hr.py`."""

from __future__ import annotations

from typing import Any

import grpc
from flask import Blueprint, Response, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.client_errors import call_error
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import reporting_pb2 as rpb

from .clients import authed
from .hr import COHORT, FormErrors, admin_only, register_refusals, tenant
from .i18n import _
from .pages import Page, clients, failed, now, render
from .report_tables import (
    GROUP_BY,
    KINDS,
    default_range,
    group_by_label,
    kind_label,
    month_label,
    tables,
)

hr_reports = Blueprint("hr_reports", __name__, url_prefix="/hr")
register_refusals(hr_reports)

FIELDS = ("kind", "from_month", "to_month", *COHORT, "group_by")
# The filters' suggestions come from one page of members (never the whole list): typing any
# other value is accepted.
SUGGESTION_MEMBERS = 200
# What a query may carry per field (longer: cut; the gateway refuses a label over 80).
TYPED_LIMIT = 200


def report_query() -> dict[str, str]:
    """The form's values from the query; unknown kinds and groupings fall back to the
    defaults (a link may be old), months default to the last six on the app's clock."""
    first, last = default_range(now())
    typed = {name: request.args.get(name, "").strip()[:TYPED_LIMIT] for name in FIELDS}
    return {
        **typed,
        "kind": typed["kind"] if typed["kind"] in KINDS else "sessions",
        "from_month": typed["from_month"] or first,
        "to_month": typed["to_month"] or last,
        "group_by": typed["group_by"] if typed["group_by"] in GROUP_BY else "",
    }


def report_request(q: dict[str, str]) -> rpb.GetReportRequest:
    return rpb.GetReportRequest(
        parent=tenant(),
        kind=KINDS[q["kind"]],
        from_month=q["from_month"],
        to_month=q["to_month"],
        filters=rpb.CohortFilters(**{name: [q[name]] if q[name] else [] for name in COHORT}),
        group_by=GROUP_BY[q["group_by"]],
    )


def field_problem(name: str) -> str:
    return {
        "from_month": _("A month such as 2027-01."),
        "to_month": _(
            "A month such as 2027-06, not before the first month and at most 36 months after it."
        ),
        "department": _("At most 80 characters, on one line; leave it empty to include everyone."),
        "site": _("At most 80 characters, on one line; leave it empty to include everyone."),
        "programme": _("At most 80 characters, on one line; leave it empty to include everyone."),
    }.get(name, "")


def report_errors(exc: grpc.RpcError) -> FormErrors:
    """A refused report: each field violation beside its input (`filters.site.0`: `site`)."""
    message, _problems, status = failed(exc)
    errors = FormErrors(message, status=status)
    for path, problem in call_error(exc).fields:
        parts = path.split(".")
        name = parts[1] if parts[0] == "filters" and len(parts) > 1 else parts[0]
        if name in FIELDS and name not in errors.fields:
            errors.fields[name] = field_problem(name) or problem
        else:
            errors.others.append(problem)
    return errors


def suggestions() -> dict[str, list[str]]:
    """The values the members of one page carry, per attribute, for the filters' datalists."""
    found: dict[str, set[str]] = {name: set() for name in COHORT}
    try:
        answer = authed(
            clients(),
            clients().members.ListMembers,
            ipb.ListMembersRequest(parent=tenant(), role=ipb.COACHEE, page_size=SUGGESTION_MEMBERS),
        )
    except grpc.RpcError:
        return {name: [] for name in COHORT}
    for m in answer.members:
        for name in COHORT:
            if getattr(m, name):
                found[name].add(getattr(m, name))
    return {name: sorted(values, key=str.casefold) for name, values in found.items()}


def bad_input(exc: grpc.RpcError) -> FormErrors:
    if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
        raise exc
    return report_errors(exc)


@hr_reports.get("/reports")
@admin_only
def reports() -> Page:
    q = report_query()
    try:
        report = authed(clients(), clients().reports.GetReport, report_request(q))
    except grpc.RpcError as exc:
        return reports_page(q, None, bad_input(exc))
    return reports_page(q, report, FormErrors())


def reports_page(q: dict[str, str], report: rpb.Report | None, errors: FormErrors) -> Page:
    return render(
        "hr/reports.html",
        errors.status if errors else 200,
        title=_("Reports"),
        q=q,
        errors=errors,
        report=report,
        tables=tables(report, q["kind"]) if report else [],
        kind_title=kind_label(q["kind"]),
        kinds=[(k, kind_label(k)) for k in KINDS],
        groupings=[(a, group_by_label(a)) for a in GROUP_BY],
        cohort_labels={name: group_by_label(name) for name in COHORT},
        suggestions=suggestions(),
        month_label=month_label,
        csv_link=url_for("hr_reports.export", **q),
    )


@hr_reports.get("/reports/export")
@admin_only
def export() -> Page | BaseResponse:
    """The same report as CSV, answered as a file to download; refused: the report's page
    with why beside the fields."""
    q = report_query()
    try:
        answer = authed(clients(), clients().reports.ExportReport, report_request(q))
    except grpc.RpcError as exc:
        return reports_page(q, None, bad_input(exc))
    return csv_download(answer)


def csv_download(answer: Any) -> BaseResponse:
    filename = answer.filename.replace('"', "") or "report.csv"
    return Response(
        answer.csv.encode("utf-8"),
        mimetype="text/csv",
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
