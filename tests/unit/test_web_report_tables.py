"""HR's reports page, its pure parts (gateway/web/report_tables.py): the kinds and metrics are
reporting's, every metric has a French and an English label, the default range is the last six
months on the given clock, and the tables follow the report's groups (total first, then the
groups, then others) with the months then the whole range as columns; a report not disclosed
gives no table at all; a refused report's field violations are said beside their inputs
(`filters.site.0`: the site's)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from flask import g
from pydantic import ValidationError

from gateway.api.errors import to_status
from gateway.api.pb import reporting_pb2 as rpb
from gateway.web import report_tables as rt
from gateway.web.app import create_app
from gateway.web.hr_reports import report_errors
from services.contracts.reporting import ReportRequest
from services.kernel.validation import validation_error
from services.reporting.domain.reports import KINDS


@pytest.fixture
def language() -> Iterator[None]:
    app = create_app("127.0.0.1:1", b"k" * 32)  # a channel that is never used
    with app.test_request_context():
        g.language = "en"
        yield


def test_the_page_knows_reportings_kinds_and_metrics() -> None:
    assert set(rt.KINDS) == set(KINDS)
    for name, kind in KINDS.items():
        assert rt.METRICS[name] == kind.metrics, name
        assert rpb.ReportKind.Name(rt.KINDS[name]) == f"REPORT_{name.upper()}"


@pytest.mark.usefixtures("language")
def test_every_metric_and_kind_has_a_label_in_both_languages() -> None:
    metrics = {m for kind in KINDS.values() for m in kind.metrics}
    english = {m: rt.metric_label(m) for m in metrics}
    g.language = "fr"
    french = {m: rt.metric_label(m) for m in metrics}
    for metric in metrics:
        assert english[metric] != metric, metric
        assert french[metric] != english[metric], metric
    assert rt.metric_label("new_metric") == "new_metric"
    assert rt.kind_label("sessions") == "Séances"
    assert rt.group_heading(rpb.GROUP_OTHERS, "") == "Autres (petits groupes réunis)"
    g.language = "en"
    assert rt.group_heading(rpb.GROUP_VALUE, "Sales") == "Sales"
    assert rt.month_label("") == "Whole range"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2027, 6, 15, tzinfo=UTC), ("2027-01", "2027-06")),
        (datetime(2027, 3, 1, tzinfo=UTC), ("2026-10", "2027-03")),
        (datetime(2027, 12, 31, 23, 59, tzinfo=UTC), ("2027-07", "2027-12")),
    ],
)
def test_the_default_range_is_the_last_six_months(now: datetime, expected: tuple[str, str]) -> None:
    assert rt.default_range(now) == expected


def sessions_report(groups: list[tuple[int, str, int]]) -> rpb.Report:
    rows = []
    for kind, label, population in groups:
        for month in ("2027-01", "2027-02", ""):
            for n, metric in enumerate(rt.METRICS["sessions"]):
                value = population * 10 + n if month else population
                rows.append(rpb.ReportRow(group_kind=kind, group_label=label, month=month,
                                          metric=metric, value=value))  # fmt: skip
    return rpb.Report(
        kind=rpb.REPORT_SESSIONS,
        disclosed=True,
        min_group=5,
        groups=[rpb.ReportGroup(kind=k, label=lb, population=p) for k, lb, p in groups],
        rows=list(reversed(rows)),
    )


@pytest.mark.usefixtures("language")
def test_one_table_per_group_in_the_reports_order() -> None:
    report = sessions_report(
        [
            (rpb.GROUP_TOTAL, "", 17),
            (rpb.GROUP_VALUE, "Sales", 7),
            (rpb.GROUP_VALUE, "Support", 5),
            (rpb.GROUP_OTHERS, "", 5),
        ]
    )
    built = rt.tables(report, "sessions")
    assert [(t.key, t.heading, t.population) for t in built] == [
        ("total", "Everyone in the report", 17),
        ("group-2", "Sales", 7),
        ("group-3", "Support", 5),
        ("others", "Others (smaller groups together)", 5),
    ]
    sales = built[1]
    assert sales.months == ["2027-01", "2027-02", ""]
    assert [line.metric for line in sales.lines] == list(rt.METRICS["sessions"])
    assert sales.lines[0].label == "Sessions held"
    assert sales.lines[0].values == [70, 70, 7]
    assert sales.lines[2].values == [72, 72, 7]


@pytest.mark.usefixtures("language")
def test_a_whole_range_kind_has_one_column_and_missing_values_read_zero() -> None:
    report = rpb.Report(
        kind=rpb.REPORT_SPACES,
        disclosed=True,
        min_group=5,
        groups=[rpb.ReportGroup(kind=rpb.GROUP_TOTAL, population=6)],
        rows=[
            rpb.ReportRow(group_kind=rpb.GROUP_TOTAL, metric="spaces_active", value=6),
            rpb.ReportRow(group_kind=rpb.GROUP_TOTAL, metric="spaces_new", value=1),
        ],
    )
    (total,) = rt.tables(report, "spaces")
    assert total.months == [""]
    assert [(line.metric, line.values) for line in total.lines] == [
        ("spaces_active", [6]),
        ("spaces_paused", [0]),
        ("spaces_completed", [0]),
        ("spaces_archived", [0]),
        ("spaces_new", [1]),
    ]


def test_a_report_not_disclosed_gives_no_table() -> None:
    report = rpb.Report(kind=rpb.REPORT_SESSIONS, disclosed=False, min_group=5)
    assert rt.tables(report, "sessions") == []


class Refused(grpc.RpcError):
    """The call a refused report makes, as a gRPC client sees it: reporting's contract
    validating the request, mapped to a status by the gateway."""

    def __init__(self, **request: Any) -> None:
        try:
            ReportRequest.model_validate({"tenant_id": "ten_1a", "kind": "sessions", **request})
        except ValidationError as exc:
            self.status = to_status(validation_error(exc), "en")
        else:
            raise AssertionError("the request is valid")

    def code(self) -> grpc.StatusCode:
        return self.status.code  # type: ignore[no-any-return]

    def details(self) -> str:
        return self.status.details  # type: ignore[no-any-return]

    def trailing_metadata(self) -> Any:
        return self.status.trailing_metadata


@pytest.mark.usefixtures("language")
def test_a_refused_report_says_why_beside_each_field() -> None:
    refused = Refused(
        from_month="2027-06",
        to_month="2027-01",
        filters={"site": ["x" * 81], "programme": ["ok"]},
    )
    errors = report_errors(refused)
    assert set(errors.fields) == {"to_month", "site"}
    assert "not before the first month" in errors.fields["to_month"]
    assert errors.fields["site"].startswith("At most 80 characters")
    assert errors.others == []
    assert errors.status == 400
    g.language = "fr"
    errors = report_errors(Refused(from_month="2027-13", to_month="2027-01"))
    assert errors.fields["from_month"] == "Un mois comme 2027-01."
