"""HR sets a member's department, site and programme from the member's page in a real browser
(issue 25): saved and shown; a label too long refused beside its field, as typed, in English and
in French; the CSV import page names the optional columns. Screenshots at desktop and phone
widths, axe-core audit and no request off the origin, as in tests/e2e/test_web_hr.py."""

from __future__ import annotations

from playwright.sync_api import Browser

from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name
from gateway.api.pb import identity_pb2 as ipb
from tests.e2e.conftest import make_tenant
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.web import email_of, in_french, journey_checks, sign_in

TOO_LONG = "x" * 81


def test_hr_sets_a_member_s_cohort_and_reads_a_refused_label_beside_its_field(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.admin))
        page.wait_for_url(f"{origin}/hr/members")
        page.goto(f"{origin}/hr/members/{team.coachee_member}")
        page.fill("#department", " Sales ")
        page.fill("#site", "Lyon")
        page.fill("#programme", "Leaders 2027")
        page.click("#save-cohort")
        page.wait_for_url(f"{origin}/hr/members/{team.coachee_member}?done=cohort")
        assert page.inner_text("#done") == "The department, site and programme are saved."
        assert page.inner_text("#member-department") == "Sales"
        assert page.inner_text("#member-site") == "Lyon"
        assert page.inner_text("#member-programme") == "Leaders 2027"
        assert page.input_value("#department") == "Sales"
        journey_checks(page, "hr-member-cohort", elsewhere)

        # Too long: refused beside the field, as typed; nothing saved.
        page.fill("#site", TOO_LONG)
        page.click("#save-cohort")
        assert page.inner_text("#site-error") == (
            "At most 80 characters, on one line; leave it empty to unset it."
        )
        assert page.get_attribute("#site", "aria-invalid") == "true"
        assert page.input_value("#site") == TOO_LONG
        assert page.inner_text("#member-site") == "Lyon"
        journey_checks(page, "hr-member-cohort-refused", elsewhere)
        # Emptied: unset, and no longer shown.
        page.fill("#site", "")
        page.click("#save-cohort")
        page.wait_for_url(f"{origin}/hr/members/{team.coachee_member}?done=cohort")
        assert page.locator("#member-site").count() == 0
        stored = api.members.GetMember(
            ipb.GetMemberRequest(name=member_name(team.tenant_id, team.coachee_member)),
            metadata=team.admin.metadata,
        )
        assert (stored.department, stored.site, stored.programme) == ("Sales", "", "Leaders 2027")

        page.goto(f"{origin}/hr/members/import")
        hint = page.inner_text("#csv-hint")
        assert "department, site and programme" in hint

    # The coachee reads their own labels on their profile, read-only.
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.coachee))
        page.goto(f"{origin}/me/profile")
        labels = page.inner_text(f"#cohort-{team.coachee_member}")
        assert "Sales" in labels and "Leaders 2027" in labels and "Lyon" not in labels
        assert page.locator("#cohorts input").count() == 0
        assert elsewhere == []


def test_a_refused_label_is_said_in_french(
    deployment: Deployment, api: Api, operator: Session, browser: Browser, origin: str
) -> None:
    team = make_tenant(deployment, api, operator)
    in_french(api, team.admin)
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.admin))
        page.wait_for_url(f"{origin}/hr/members")
        page.goto(f"{origin}/hr/members/{team.coachee_member}")
        assert page.inner_text("#cohort-heading") == "Service, site et programme"
        page.fill("#department", TOO_LONG)
        page.click("#save-cohort")
        assert page.inner_text("#department-error") == (
            "Au plus 80 caractères, sur une ligne ; laissez vide pour effacer."
        )
        journey_checks(page, "hr-member-cohort-refused-fr", elsewhere)
        page.goto(f"{origin}/hr/members/import")
        assert "department, site et programme" in page.inner_text("#csv-hint")
