"""HR subscribes a webhook from the browser (issue 25, point 3): the receiver, served on
127.0.0.1 (reachable from test deployments only), verifies every delivery's signature with the
secret the page showed once; the organisation's digest arrives (fewer than five coachees: no
number in it); a test delivery the receiver answers 500 shows as pending, one attempt, HTTP 500;
deleting it; the pages in French; screenshots, axe-core audit and no request off the origin, as in
tests/e2e/test_web_hr.py."""

from __future__ import annotations

import re
from collections.abc import Iterator

import grpc
import pytest
from playwright.sync_api import Browser, Page

from ecoach_dev.deployment import Deployment
from gateway.api.pb import reporting_pb2 as rpb
from gateway.api.pb import reporting_pb2_grpc
from services.kernel.clock import clock_for
from tests.e2e.conftest import make_tenant
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.waiting import wait_for
from tests.support.web import email_of, in_french, journey_checks, sign_in
from tests.support.webhooks import Receiver


@pytest.fixture
def receiver(deployment: Deployment) -> Iterator[Receiver]:
    # The deployment's services sign with their clock (the tests' clock file): so does it check.
    with Receiver(clock_for("test", deployment.config.test_clock_path)) as serving:
        yield serving


def reporting_knows(api: Api, admin: Session, tenant_id: str) -> None:
    """Reporting has applied the admin's membership (its own copy decides who is an admin)."""
    stub = reporting_pb2_grpc.ReportingServiceStub(api.channel)

    def known() -> bool:
        try:
            stub.ListWebhooks(
                rpb.ListWebhooksRequest(parent=f"tenants/{tenant_id}"), metadata=admin.metadata
            )
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.PERMISSION_DENIED:
                raise
            return False
        return True

    wait_for(known, 30, "reporting to know the tenant's admin")


def row_shows(page: Page, url: str, pattern: str) -> bool:
    page.goto(url)
    return any(
        re.search(pattern, text) for text in page.locator("#deliveries tr").all_inner_texts()
    )


def test_hr_adds_a_webhook_whose_deliveries_are_signed_and_listed(
    deployment: Deployment,
    api: Api,
    operator: Session,
    browser: Browser,
    origin: str,
    receiver: Receiver,
) -> None:
    team = make_tenant(deployment, api, operator)
    reporting_knows(api, team.admin, team.tenant_id)
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.admin))
        page.wait_for_url(f"{origin}/hr/members")
        page.click("#nav-hr-webhooks")
        page.wait_for_url(f"{origin}/hr/webhooks")
        assert page.locator("#webhooks").count() == 0

        # A receiver with credentials in its address: refused beside the field.
        page.fill("#url", "https://user:pass@hr.example.com/in")
        page.click("#add-webhook")
        assert page.get_attribute("#url", "aria-invalid") == "true"
        assert "password" in page.inner_text("#url-error")

        page.fill("#url", receiver.url)
        page.click("#add-webhook")
        secret = page.input_value("#secret")
        receiver.secret = secret
        assert secret.startswith("whsec_")
        (row,) = page.locator("#webhooks tbody tr").all()
        webhook_id = (row.get_attribute("id") or "").removeprefix("webhook-")
        journey_checks(page, "hr-webhook-added", elsewhere)

        # The digest comes on its own (5 s in test deployments), signed; under five coachees it
        # says so, and carries no number.
        wait_for(
            lambda: any(b["kind"] == "reporting.digest" for b in receiver.received),
            30,
            "the digest to reach the receiver",
        )
        assert receiver.refused == []
        digest = next(b for b in receiver.received if b["kind"] == "reporting.digest")
        assert digest["tenant_id"] == team.tenant_id
        assert digest["data"]["disclosed"] is False
        assert set(digest["data"]) == {"digest_id", "month", "disclosed", "min_group"}

        # The secret is never shown again.
        page.goto(f"{origin}/hr/webhooks")
        assert page.locator("#secret").count() == 0
        assert secret not in page.content()

        # A test the receiver answers 500: pending, one attempt, HTTP 500.
        deliveries = f"{origin}/hr/webhooks/{webhook_id}/deliveries"
        receiver.answers = [500] * 3
        page.click(f"#test-{webhook_id}")
        page.wait_for_url(f"{deliveries}?done=sent")
        wait_for(
            lambda: row_shows(page, deliveries, r"Pending\s+1\s+HTTP 500"),
            30,
            "a delivery pending after a 500",
        )
        assert row_shows(page, deliveries, r"Digest\s+Delivered\s+1\s+HTTP 200")
        journey_checks(page, "hr-webhook-deliveries", elsewhere)

        page.goto(f"{origin}/hr/webhooks")
        page.click(f"#delete-{webhook_id}")
        page.wait_for_url(f"{origin}/hr/webhooks?done=deleted")
        assert page.inner_text("#done") == "Webhook deleted."
        assert page.locator(f"#test-{webhook_id}").count() == 0

    in_french(api, team.admin)
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.admin))
        page.goto(f"{origin}/hr/webhooks")
        assert "Supprimé" in page.inner_text(f"#webhook-{webhook_id}")
        page.goto(f"{origin}/hr/webhooks/{webhook_id}/deliveries")
        assert "Livré" in page.inner_text("#deliveries")
        journey_checks(page, "hr-webhook-deliveries-fr", elsewhere)


def test_the_webhook_pages_are_not_found_for_a_coach(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    with browsing(browser, origin) as (_, page, _elsewhere):
        sign_in(page, origin, email_of(api, team.coach))
        response = page.goto(f"{origin}/hr/webhooks")
        assert response is not None and response.status == 404
