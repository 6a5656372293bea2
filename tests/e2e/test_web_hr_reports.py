"""HR's reports in a real browser (issue 25): a tenant with 12 coachees in two departments
(Sales 7, Support 5), their spaces opened and activated, one session booked and marked held,
all through gRPC; once reporting has applied the events, HR's sessions report grouped by
department shows both departments; filtered by a site that leaves 4 of Support, Support is
hidden (merged, with Sales, into "Others"), and with 4 people left nothing at all is shown;
bad input is said beside its field; the CSV download is the same report as a file; French
labels with ?lang=fr; a coach finds nothing (404). Screenshots, axe-core audit and no request
off the origin, as in tests/e2e/test_web_hr.py. Signed out: the sign-in page; a coachee finds
nothing either; another organisation's HR gets its own (empty) report, never this one's."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import grpc
from playwright.sync_api import Browser

from ecoach_dev.demo_space import COHORT_GOAL, seed_demo_cohort
from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import reporting_pb2 as rpb
from gateway.api.pb import reporting_pb2_grpc, spaces_pb2_grpc
from gateway.api.pb import scheduling_pb2 as schpb
from gateway.api.pb import spaces_pb2 as spb
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.spaces import add_person
from tests.support.waiting import wait_for
from tests.support.web import email_of, journey_checks, open_space, sign_in, status_of

# (department, site) of the 12 coachees: Sales 7 in Lyon; Support 4 in Lyon and 1 in Paris.
COHORTS = [("Sales", "Lyon")] * 7 + [("Support", "Lyon")] * 4 + [("Support", "Paris")]


def month_of(at: datetime) -> str:
    return at.strftime("%Y-%m")


def test_hr_reads_the_sessions_report_by_department_and_downloads_it(
    deployment: Deployment,
    api: Api,
    operator: Session,
    browser: Browser,
    origin: str,
    s: sch.Stubs,
) -> None:
    team = make_tenant(deployment, api, operator)
    sch.set_availability(s, team.coach, sch.around_the_clock())
    coachees = [team.coachee_member] + [
        add_person(deployment, api, team, ipb.COACHEE, f"coachee-{n}")[0] for n in range(11)
    ]
    spaces = []
    for n, (member, (department, site)) in enumerate(zip(coachees, COHORTS, strict=True)):
        api.members.SetMemberAttributes(
            ipb.SetMemberAttributesRequest(
                name=member_name(team.tenant_id, member), department=department, site=site
            ),
            metadata=team.admin.metadata,
        )
        spaces.append(open_space(s, team, member, bookable=n == 0))

    # One session: booked by the first coachee, held, marked by the coach once started.
    soon = sch.book(s, spaces[0].name, team.coachee, sch.hour_from_now(0), minutes=15)
    coach_email = email_of(api, team.coach)
    offset = (sch.dt(soon.end_time) - datetime.now(UTC)).total_seconds() + 60
    with sch.later(deployment, offset):
        coach = api.sign_in(coach_email, PASSWORD, team.tenant_id)
        s.sessions.MarkAttendance(
            schpb.MarkAttendanceRequest(name=soon.name, attendance=schpb.ATTENDANCE_HELD),
            metadata=coach.metadata,
        )
    first, last = month_of(datetime.now(UTC)), month_of(sch.dt(soon.start_time))
    reports = reporting_pb2_grpc.ReportingServiceStub(api.channel)

    def applied() -> bool:
        report = reports.GetReport(
            rpb.GetReportRequest(
                parent=tenant_name(team.tenant_id),
                kind=rpb.REPORT_SESSIONS,
                from_month=first,
                to_month=last,
                group_by=rpb.COHORT_DEPARTMENT,
            ),
            metadata=team.admin.metadata,
        )
        populations = {(g.label, g.population) for g in report.groups}
        held = sum(r.value for r in report.rows if r.metric == "held" and not r.month)
        return {("Sales", 7), ("Support", 5)} <= populations and held == 2  # total and Sales

    wait_for(applied, 30, "reporting to apply the members, spaces and the session held")

    base = f"{origin}/hr/reports"
    with browsing(browser, origin) as (_, page, elsewhere):
        sign_in(page, origin, email_of(api, team.admin))
        page.wait_for_url(f"{origin}/hr/members")
        page.click("#nav-hr-reports")
        page.wait_for_url(base)
        assert "at least 5 people" in page.inner_text("#rule")
        page.select_option("#kind", "sessions")
        page.fill("#from_month", first)
        page.fill("#to_month", last)
        page.select_option("#group_by", "department")
        page.click("#show-report")
        page.wait_for_url(lambda url: "group_by=department" in url)
        assert page.inner_text("#total-population") == "12 people"
        headings = page.locator(".report-group h3").all_inner_texts()
        assert headings == ["Everyone in the report", "Sales", "Support"]
        sales = page.locator(".report-group", has_text="Sales")
        assert sales.locator("p").first.inner_text() == "7 people"
        held = sales.locator("tr[data-metric=held] td").all_inner_texts()
        assert held[-1] == "1"  # the whole range
        assert page.locator("tr[data-metric=held] th").first.inner_text() == "Sessions held"
        journey_checks(page, "hr-reports", elsewhere)

        # The CSV: the same report, as a file to download.
        link = page.get_attribute("#download-csv", "href") or ""
        answer = page.request.get(f"{origin}{link}")
        assert answer.status == 200
        assert answer.headers["content-type"] == "text/csv; charset=utf-8"
        assert answer.headers["content-disposition"] == (
            f'attachment; filename="sessions-{first}-{last}.csv"'
        )
        lines = answer.text().splitlines()
        assert lines[0] == "group_kind,group_label,month,metric,value"
        assert "value,Sales,,held,1" in lines and "value,Support,,held,0" in lines

        # Lyon leaves 4 of Support: Support is hidden, and Sales joins it in "Others".
        query = {"kind": "sessions", "from_month": first, "to_month": last}
        page.goto(f"{base}?{urlencode({**query, 'site': 'Lyon', 'group_by': 'department'})}")
        assert page.locator(".report-group h3").all_inner_texts() == [
            "Everyone in the report",
            "Others (smaller groups together)",
        ]
        assert page.inner_text("#total-population") == "11 people"
        assert page.locator(".report-group", has_text="Support").count() == 0
        # Support in Lyon only: 4 people, nothing at all.
        page.goto(f"{base}?{urlencode({**query, 'site': 'Lyon', 'department': 'Support'})}")
        assert page.inner_text("#not-disclosed") == (
            "Fewer than 5 people match: nothing can be shown, so that no one can be singled out."
        )
        assert page.locator("table").count() == 0
        journey_checks(page, "hr-reports-hidden", elsewhere)

        # Refused input, beside its field.
        bad = {**query, "from_month": last, "to_month": "2001-01", "department": "x" * 81}
        assert status_of(page, f"{base}?{urlencode(bad)}") == 400
        assert "not before the first month" in page.inner_text("#to_month-error")
        assert "At most 80 characters" in page.inner_text("#department-error")
        assert page.get_attribute("#department", "aria-invalid") == "true"
        assert page.locator("table").count() == 0

        # In French.
        page.goto(f"{base}?{urlencode({**query, 'group_by': 'department', 'lang': 'fr'})}")
        assert page.locator("tr[data-metric=held] th").first.inner_text() == "Séances tenues"
        assert page.inner_text("#total-population") == "12 personnes"
        page.goto(f"{base}?{urlencode({**query, 'site': 'Paris', 'lang': 'fr'})}")
        assert page.inner_text("#not-disclosed") == (
            "Moins de 5 personnes correspondent : rien ne peut être montré, afin que personne"
            " ne puisse être identifié."
        )

    # Signed out: sent to sign in. A coach and a coachee find nothing, page nor download.
    with browsing(browser, origin) as (_, page, _elsewhere):
        page.goto(f"{base}?{urlencode(query)}")
        assert page.url == f"{origin}/sign-in"
    for who in (coach_email, email_of(api, team.coachee)):
        with browsing(browser, origin) as (_, page, _elsewhere):
            sign_in(page, origin, who)
            page.wait_for_url(lambda url: not url.endswith("/sign-in"))
            assert page.locator("#nav-hr-reports").count() == 0
            assert status_of(page, f"{base}?{urlencode(query)}") == 404
            assert status_of(page, f"{base}/export?{urlencode(query)}") == 404

    # Another organisation's HR reads its own organisation's report, whatever the query says.
    other = make_tenant(deployment, api, operator)

    def known() -> bool:
        try:
            reports.GetReport(
                rpb.GetReportRequest(
                    parent=tenant_name(other.tenant_id),
                    kind=rpb.REPORT_SESSIONS,
                    from_month=first,
                    to_month=last,
                ),
                metadata=other.admin.metadata,
            )
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.PERMISSION_DENIED:
                raise
            return False
        return True

    wait_for(known, 30, "reporting to know the other organisation's admin")
    with browsing(browser, origin) as (_, page, _elsewhere):
        sign_in(page, origin, email_of(api, other.admin))
        page.wait_for_url(f"{origin}/hr/members")
        mixed = {**query, "group_by": "department", "parent": f"tenants/{team.tenant_id}"}
        page.goto(f"{base}?{urlencode(mixed)}")
        assert page.locator("#not-disclosed").count() == 1
        assert "Sales" not in page.inner_text("main")
        answer = page.request.get(f"{base}/export?{urlencode(mixed)}")
        assert answer.text().splitlines() == ["group_kind,group_label,month,metric,value"]


def test_the_demo_cohort_gets_one_active_space_each_once_and_hr_counts_them(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs
) -> None:
    """`make run`'s demo cohort (ecoach_dev/demo_space.py): HR finds the listed coachees, the
    coach opens and activates a space for each who has none, with a goal achieved in every
    other one; a second run changes nothing; an email that is not a coachee of the tenant (HR
    itself, a stranger) gets nothing; and HR's reports count them."""
    team = make_tenant(deployment, api, operator)
    cohort = {
        member: email_of(api, who)
        for member, who in (
            add_person(deployment, api, team, ipb.COACHEE, f"cohort-{n}") for n in range(5)
        )
    }
    hr, coach = (email_of(api, team.admin), PASSWORD), (email_of(api, team.coach), PASSWORD)
    emails = (*cohort.values(), hr[0], "nobody@example.test")
    channel = deployment.channel()
    try:
        assert seed_demo_cohort(channel, team.tenant_id, hr, coach, emails, timeout=60) == 5
        assert seed_demo_cohort(channel, team.tenant_id, hr, coach, emails, timeout=60) == 0
    finally:
        channel.close()
    spaces = s.spaces.ListSpaces(
        spb.ListSpacesRequest(parent=tenant_name(team.tenant_id)), metadata=team.coach.metadata
    ).spaces
    assert sorted(x.set_up.coachee_member_id for x in spaces) == sorted(cohort)
    assert {(x.status, x.set_up.coach_member_id) for x in spaces} == {
        (spb.SPACE_ACTIVE, team.coach_member)
    }
    goals = spaces_pb2_grpc.GoalServiceStub(api.channel)
    achieved = [
        g
        for x in spaces
        for g in goals.ListGoals(
            spb.ListGoalsRequest(parent=x.name), metadata=team.coach.metadata
        ).goals
    ]
    assert [(g.title, g.status) for g in achieved] == [(COHORT_GOAL, spb.GOAL_ACHIEVED)] * 3

    reports = reporting_pb2_grpc.ReportingServiceStub(api.channel)
    month = month_of(datetime.now(UTC))

    def counted() -> dict[str, int]:
        found: dict[str, int] = {}
        for kind in (rpb.REPORT_SPACES, rpb.REPORT_GOALS):
            report = reports.GetReport(
                rpb.GetReportRequest(
                    parent=tenant_name(team.tenant_id), kind=kind, from_month=month, to_month=month
                ),
                metadata=team.admin.metadata,
            )
            found |= {r.metric: r.value for r in report.rows if not r.month and r.value}
        return found

    wait_for(
        lambda: counted() == {"spaces_active": 5, "goals_achieved": 3},
        30,
        "HR's reports to count the cohort's five active spaces and three goals achieved",
    )
