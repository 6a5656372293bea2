"""Every process serves Prometheus metrics (docs/operations/metrics.md): each nameko service
(with its relay), the gRPC gateway and the web gateway, scraped after a few calls."""

from __future__ import annotations

import urllib.request
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as pb
from services.kernel.registry import SERVICE_NAMES
from tests.support.api import Api, Session, unique_slug
from tests.support.waiting import wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(deployment: Deployment, process: str) -> tuple[set[str], Samples]:
    """The metric families `process` exposes, and every sample by (name, labels)."""
    with urllib.request.urlopen(deployment.metrics_url(process), timeout=5) as response:  # noqa: S310
        text = response.read().decode()
    families, samples = set(), {}
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return families, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_every_process_serves_its_metrics_and_a_call_moves_its_counters(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    create = "/ecoach.v1.TenantService/CreateTenant"
    _, gateway_before = scrape(deployment, "gateway")
    _, identity_before = scrape(deployment, "identity")

    tenant = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name="Metered", slug=unique_slug("metrics")),
        metadata=operator.metadata,
    )
    assert tenant.tenant_id
    with urllib.request.urlopen(f"http://{deployment.web_address}/healthz", timeout=5) as r:
        assert r.status == 200

    # The gRPC gateway: per method and status code, with its latency.
    families, gateway = scrape(deployment, "gateway")
    assert {"ecoach_grpc_requests", "ecoach_grpc_duration_seconds"} <= families
    ok = {"method": create, "code": "OK"}
    assert value(gateway, "ecoach_grpc_requests_total", **ok) == (
        value(gateway_before, "ecoach_grpc_requests_total", **ok) + 1
    )
    assert value(gateway, "ecoach_grpc_duration_seconds_count", method=create) >= 1

    # Identity served the call behind it; the route of the web page, never its path.
    _, identity = scrape(deployment, "identity")
    created = {"service": "identity", "method": "create_tenant", "outcome": "OK"}
    assert value(identity, "ecoach_rpc_requests_total", **created) == (
        value(identity_before, "ecoach_rpc_requests_total", **created) + 1
    )
    families, web = scrape(deployment, "web")
    assert {"ecoach_http_requests", "ecoach_http_duration_seconds"} <= families
    assert value(web, "ecoach_http_requests_total", route="/healthz", method="GET", status="200")

    # Scheduling applies identity.tenant_created (relayed from identity's outbox).
    handler = "scheduling.create_default_policy"
    wait_for(
        lambda: value(
            scrape(deployment, "scheduling")[1],
            "ecoach_events_handled_total",
            handler=handler,
            outcome="applied",
        ),
        what="scheduling's handler counted",
    )

    # Every service: its RPC counters (the gateway's health pings reach each one), its pool,
    # its outbox and relay lag, its dead-letter queue; read at scrape time.
    for service in SERVICE_NAMES:
        families, samples = scrape(deployment, service)
        assert {
            "ecoach_rpc_requests",
            "ecoach_rpc_duration_seconds",
            "ecoach_db_pool_size",
            "ecoach_db_pool_checked_out",
            "ecoach_outbox_backlog",
            "ecoach_outbox_oldest_unsent_age_seconds",
            "ecoach_dead_letter_messages",
        } <= families, service
        assert value(samples, "ecoach_db_pool_size", service=service) > 0, service
        assert value(samples, "ecoach_dead_letter_messages", service=service) == 0, service
        ping = {"service": service, "method": "ping", "outcome": "OK"}
        assert value(samples, "ecoach_rpc_requests_total", **ping) > 0, service


def test_a_service_answers_a_scrape_while_it_serves_calls(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    """The metrics server is a green thread beside the service's workers (eventlet)."""

    def call(_: int) -> None:
        api.auth.GetMe(pb.GetMeRequest(), metadata=operator.metadata)

    with ThreadPoolExecutor(8) as pool:
        calls = [pool.submit(call, i) for i in range(48)]
        scrapes = [pool.submit(scrape, deployment, "identity") for _ in range(4)]
        for future in calls:
            future.result()
        assert all("ecoach_rpc_requests" in f.result()[0] for f in scrapes)
