"""HR's reports: read one tenant's facts, let the domain count and disclose."""

from __future__ import annotations

from services.contracts import reporting as c
from services.kernel.caller import Caller, require_person
from services.kernel.csvtable import write_rows

from ..domain.access import require_report_reader
from ..domain.disclosure import MIN_GROUP
from ..domain.facts import TenantFacts
from ..domain.reports import KINDS, Query, build_report
from ..storage.unit import Db

CSV_COLUMNS = ("group_kind", "group_label", "month", "metric", "value")


def get_report(db: Db, caller: Caller, request: c.ReportRequest) -> c.Report:
    who = require_person(caller)
    with db.read_only() as uow:
        require_report_reader(
            who, request.tenant_id, uow.members.of_person(request.tenant_id, who.person_id)
        )
        tenant = request.tenant_id
        reads = {
            name: tuple(getattr(uow, name).of_tenant(tenant)) for name in KINDS[request.kind].reads
        }
        facts = TenantFacts(
            members=tuple(uow.members.of_tenant(tenant)),
            spaces=tuple(uow.spaces.of_tenant(tenant)),
            **reads,
        )
    filters = {
        name: frozenset(getattr(request.filters, name))
        for name in ("department", "site", "programme")
    }
    report = build_report(
        Query(request.kind, request.from_month, request.to_month, filters, request.group_by), facts
    )
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
