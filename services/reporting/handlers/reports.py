"""HR's reports: the database counts one tenant's facts per group (storage/reports.py), the
domain applies the disclosure rule to those counts and lays the report out."""

from __future__ import annotations

from services.contracts import reporting as c
from services.kernel.caller import Caller, require_person
from services.kernel.csvtable import write_rows

from ..domain.access import require_report_reader
from ..domain.disclosure import MIN_GROUP
from ..domain.reports import Query, assemble
from ..storage.unit import Db

CSV_COLUMNS = ("group_kind", "group_label", "month", "metric", "value")


def get_report(db: Db, caller: Caller, request: c.ReportRequest) -> c.Report:
    who = require_person(caller)
    filters = {
        name: frozenset(getattr(request.filters, name))
        for name in ("department", "site", "programme")
    }
    query = Query(request.kind, request.from_month, request.to_month, filters, request.group_by)
    tenant = request.tenant_id
    with db.read_only() as uow:
        require_report_reader(who, tenant, uow.members.of_person(tenant, who.person_id))
        populations, cells = uow.report_counts.of_tenant(tenant, query)
    report = assemble(query, populations, cells)
    return c.Report(
        tenant_id=tenant,
        kind=request.kind,
        from_month=request.from_month,
        to_month=request.to_month,
        group_by=request.group_by,
        disclosed=report.disclosed,
        min_group=MIN_GROUP,
        groups=[
            c.ReportGroup(kind=g.kind, label=g.label, population=g.population)
            for g in report.groups
        ],
        rows=[
            c.ReportRow(
                group_kind=r.group_kind,
                group_label=r.group_label,
                month=r.month,
                metric=r.metric,
                value=r.value,
            )
            for r in report.rows
        ],
    )


def export_report(db: Db, caller: Caller, request: c.ReportRequest) -> c.ReportCsv:
    """The same report as CSV: one line per row, nothing but the header when nothing may be
    shown (the kernel's writer keeps a label from running as a spreadsheet formula)."""
    report = get_report(db, caller, request)
    rows = ((r.group_kind, r.group_label, r.month, r.metric, r.value) for r in report.rows)
    name = f"{request.kind}-{request.from_month}-{request.to_month}.csv"
    return c.ReportCsv(filename=name, csv=write_rows(CSV_COLUMNS, rows))
