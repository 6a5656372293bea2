"""deploy/prometheus/alerts.yaml and deploy/grafana/ecoach.json against the metrics the
processes expose (services/kernel/metrics.py): they parse, have the shape Prometheus and Grafana
read, and name no metric that does not exist. `promtool check rules` runs where it is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.kernel import metrics

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "ecoach.json"
METRIC = re.compile(r"\becoach_[a-z_]+\b")
DURATION = re.compile(r"^\d+[smhdw]$")


def exposed() -> dict[str, str]:
    """Every sample name the processes expose -> the family it belongs to."""
    names = {}
    for family in (
        metrics.RPC_REQUESTS,
        metrics.RPC_DURATION,
        metrics.GRPC_REQUESTS,
        metrics.GRPC_DURATION,
        metrics.HTTP_REQUESTS,
        metrics.HTTP_DURATION,
        metrics.EVENTS_HANDLED,
        metrics.EVENTS_ROUTED,
        metrics.EVENT_LAG,
    ):
        [described] = family.describe()
        suffixes = ("_total",) if described.type == "counter" else ("_bucket", "_count", "_sum")
        names.update({described.name + s: described.name for s in suffixes})
    names.update({name: name for name in metrics.SCRAPE_GAUGES})
    return names


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_alert_rules_have_the_shape_prometheus_reads_and_name_real_metrics() -> None:
    document = yaml.safe_load(ALERTS.read_text())
    assert set(document) == {"groups"}
    names = [group["name"] for group in document["groups"]]
    assert len(names) == len(set(names))
    known = exposed()
    for rule in rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["alert"])
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert "for" not in rule or DURATION.match(rule["for"]), rule["alert"]
        used = set(METRIC.findall(rule["expr"]))
        assert used and used <= set(known), (rule["alert"], used - set(known))
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]


def test_alerts_cover_relay_lag_dead_letters_error_rates_and_handler_failures() -> None:
    by_metric: dict[str, set[str]] = {}
    for rule in rules():
        for name in METRIC.findall(rule["expr"]):
            by_metric.setdefault(exposed()[name], set()).add(rule["alert"])
    for family in (
        "ecoach_outbox_oldest_unsent_age_seconds",
        "ecoach_dead_letter_messages",
        "ecoach_rpc_requests",
        "ecoach_grpc_requests",
        "ecoach_http_requests",
        "ecoach_events_handled",
    ):
        assert family in by_metric, family


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_alert_rules() -> None:
    out = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_dashboard_has_a_panel_for_every_metric_and_only_real_ones() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    panels = dashboard["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    known = exposed()
    shown = set()
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = set(METRIC.findall(target["expr"]))
            assert used and used <= set(known), (panel["title"], used - set(known))
            shown |= {known[name] for name in used}
            for variable in re.findall(r"\$(\w+)", target["expr"]):
                assert variable in variables | {"__rate_interval"}, variable
    assert shown == set(known.values())
