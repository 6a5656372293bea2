"""HR's reports through the gateway (issue 25, ADR 0025), from the real services' events: a
tenant of 12 coachees in two departments (7 and 5) shows the totals and both departments; a site
filter that leaves 4 in the department of 5 hides it (with the other, so that no subtraction
gives it back); a coachee's late cancellation corrected to held by the coach counts once, as
held; HR reads, the coach, a coachee, the operator and another tenant's admin are refused; HR
may not empty the facts; and `ecoach-ops rebuild-reporting` (facts emptied, then republished by
every service reporting listens to, ADR 0022) gives the same numbers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest

from ecoach_dev.cli import ROOT
from ecoach_dev.deployment import Deployment
from gateway.api.convert import member_name, tenant_name
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import reporting_pb2 as rpb
from gateway.api.pb import reporting_pb2_grpc
from gateway.api.pb import scheduling_pb2 as pb
from gateway.api.rpc_client import RpcClient
from services.contracts.reporting import ReportingApi, ResetFactsRequest
from services.kernel import context
from services.kernel.errors import PermissionDenied
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session, expect_error, unique_email, unique_slug
from tests.support.people import set_password
from tests.support.waiting import wait_for
from tests.support.web import open_space

# Seven coachees in sales, five in ops; the last of ops works in Lyon, everyone else in Paris.
DEPARTMENTS = ["sales"] * 7 + ["ops"] * 5
SITES = ["paris"] * 11 + ["lyon"]

Groups = dict[tuple[str, str], int]
Cells = dict[tuple[str, str, str], int]


@pytest.fixture(scope="module")
def reporting(deployment: Deployment) -> Iterator[Any]:
    channel = deployment.channel()
    yield reporting_pb2_grpc.ReportingServiceStub(channel)
    channel.close()


def ask(
    reporting: Any,
    who: Session,
    tenant_id: str,
    kind: int,
    *,
    group_by: int = rpb.COHORT_ATTRIBUTE_UNSPECIFIED,
    **filters: list[str],
) -> rpb.Report:
    now = datetime.now(UTC)
    return reporting.GetReport(
        rpb.GetReportRequest(
            parent=tenant_name(tenant_id),
            kind=kind,
            from_month=now.strftime("%Y-%m"),
            to_month=(now + timedelta(days=7)).strftime("%Y-%m"),
            group_by=group_by,
            filters=rpb.CohortFilters(**filters),
        ),
        metadata=who.metadata,
    )


def groups_of(report: rpb.Report) -> Groups:
    return {(rpb.ReportGroupKind.Name(g.kind), g.label): g.population for g in report.groups}


def whole_range(report: rpb.Report) -> Cells:
    """The rows over the whole range: (group kind, label, metric) -> value."""
    return {
        (rpb.ReportGroupKind.Name(r.group_kind), r.group_label, r.metric): r.value
        for r in report.rows
        if r.month == ""
    }


def hr_view(reporting: Any, hr: Session, tenant_id: str) -> tuple[Groups, Cells, Groups]:
    """What the test compares before and after the rebuild: the seats by department, the
    sessions in total, and the seats of Paris by department."""
    seats = ask(reporting, hr, tenant_id, rpb.REPORT_SEATS, group_by=rpb.COHORT_DEPARTMENT)
    sessions = ask(reporting, hr, tenant_id, rpb.REPORT_SESSIONS)
    paris = ask(
        reporting, hr, tenant_id, rpb.REPORT_SEATS, group_by=rpb.COHORT_DEPARTMENT, site=["paris"]
    )
    return groups_of(seats), whole_range(sessions), groups_of(paris)


def hr_view_once_known(reporting: Any, hr: Session, tenant_id: str) -> Any:
    """The view, or None while reporting does not know HR as an admin (yet, or again: a rebuild
    empties the memberships too until identity's snapshots are applied)."""
    try:
        return hr_view(reporting, hr, tenant_id)
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.PERMISSION_DENIED:
            raise
        return None


def add_coachee(deployment: Deployment, api: Api, team: TenantWorld) -> str:
    """A coachee who accepted their invitation (no one signs in as them)."""
    email = unique_email("coachee")
    added = api.members.AddMember(
        ipb.AddMemberRequest(parent=tenant_name(team.tenant_id), email=email, roles=[ipb.COACHEE]),
        metadata=team.admin.metadata,
    )
    set_password(deployment.config, email, PASSWORD)
    return str(added.member_id)


def another_tenant_s_admin(deployment: Deployment, api: Api, operator: Session) -> Session:
    slug = unique_slug()
    tenant = api.tenants.CreateTenant(
        ipb.CreateTenantRequest(display_name=f"Tenant {slug}", slug=slug),
        metadata=operator.metadata,
    )
    email = unique_email("admin")
    api.members.AddMember(
        ipb.AddMemberRequest(
            parent=tenant_name(tenant.tenant_id), email=email, roles=[ipb.TENANT_ADMIN]
        ),
        metadata=operator.metadata,
    )
    set_password(deployment.config, email, PASSWORD)
    return api.sign_in(email, PASSWORD, tenant.tenant_id)


def rebuild_reporting(deployment: Deployment, tenant_id: str) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "ecoach_ops", "rebuild-reporting", "--tenant", tenant_id],
        cwd=ROOT,
        env=deployment.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_hr_reports_count_each_session_once_hide_small_groups_and_survive_a_rebuild(
    deployment: Deployment, api: Api, operator: Session, s: sch.Stubs, reporting: Any
) -> None:
    team = make_tenant(deployment, api, operator)  # its own coach: no other test's bookings
    coach_email = str(api.auth.GetMe(ipb.GetMeRequest(), metadata=team.coach.metadata).person.email)
    sch.set_availability(s, team.coach, sch.around_the_clock())

    def enrol(n: int) -> str:
        """The n-th coachee: invited (but the first), given their cohort, and an active space."""
        member = team.coachee_member if n == 0 else add_coachee(deployment, api, team)
        api.members.SetMemberAttributes(
            ipb.SetMemberAttributesRequest(
                name=member_name(team.tenant_id, member), department=DEPARTMENTS[n], site=SITES[n]
            ),
            metadata=team.admin.metadata,
        )
        return str(open_space(s, team, member).name)

    with ThreadPoolExecutor(4) as pool:  # 12 coachees: a few seconds less than one by one
        spaces = list(pool.map(enrol, range(len(DEPARTMENTS))))

    # The first coachee cancels late (under 24 h before), and in time (days before).
    sch.wait_known(s, spaces[0], team.coachee)
    took_place = sch.book(s, spaces[0], team.coachee, sch.hour_from_now(5))
    in_time = sch.book(s, spaces[0], team.coachee, sch.hour_from_now(24 * 5))
    for booked in (took_place, in_time):
        s.sessions.CancelSession(
            pb.CancelSessionRequest(name=booked.name), metadata=team.coachee.metadata
        )
    hr = team.admin
    wait_for(
        lambda: (
            whole_range(ask(reporting, hr, team.tenant_id, rpb.REPORT_SESSIONS)).get(
                ("GROUP_TOTAL", "", "cancelled_late")
            )
            == 1
        ),
        30,
        "reporting to apply the late cancellation",
    )
    # The session took place after all: the coach corrects it to held.
    with sch.later(deployment, 11 * 3600):
        coach = api.sign_in(coach_email, PASSWORD, team.tenant_id)
        corrected = s.sessions.MarkAttendance(
            pb.MarkAttendanceRequest(name=took_place.name, attendance=pb.ATTENDANCE_HELD),
            metadata=coach.metadata,
        )
        assert corrected.status == pb.SESSION_HELD

    expected_sessions = {
        ("GROUP_TOTAL", "", "held"): 1,
        ("GROUP_TOTAL", "", "cancelled_late"): 0,  # the correction replaced it: counted once
        ("GROUP_TOTAL", "", "cancelled_in_time"): 1,
        ("GROUP_TOTAL", "", "no_show_coachee"): 0,
        ("GROUP_TOTAL", "", "no_show_coach"): 0,
    }
    expected = (
        {("GROUP_TOTAL", ""): 12, ("GROUP_VALUE", "sales"): 7, ("GROUP_VALUE", "ops"): 5},
        expected_sessions,
        # Paris leaves 4 of ops: hidden, and sales with it (11 - 7 would give ops back).
        {("GROUP_TOTAL", ""): 11, ("GROUP_OTHERS", ""): 11},
    )
    before = wait_for(
        lambda: (view := hr_view_once_known(reporting, hr, team.tenant_id)) == expected and view,
        30,
        "reporting to apply the 12 coachees' memberships and spaces and the correction",
    )
    seats = ask(reporting, hr, team.tenant_id, rpb.REPORT_SEATS, group_by=rpb.COHORT_DEPARTMENT)
    assert {r.group_label for r in seats.rows} == {"", "sales", "ops"}
    # ops in Paris alone: four coachees, nothing at all.
    alone = ask(reporting, hr, team.tenant_id, rpb.REPORT_SEATS, site=["paris"], department=["ops"])
    assert (alone.disclosed, list(alone.groups), list(alone.rows)) == (False, [], [])

    # Only HR: the coach, a coachee, the operator; another tenant's admin as if none existed.
    for who, code, reason in (
        (team.coach, grpc.StatusCode.PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
        (team.coachee, grpc.StatusCode.PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
        (operator, grpc.StatusCode.PERMISSION_DENIED, "TENANT_ADMIN_ONLY"),
        (
            another_tenant_s_admin(deployment, api, operator),
            grpc.StatusCode.NOT_FOUND,
            "TENANT_NOT_FOUND",
        ),
    ):
        refused = expect_error(ask, reporting, who, team.tenant_id, rpb.REPORT_SEATS)
        assert (refused.code, refused.reason) == (code, reason)

    # Emptying the facts is the operator's tool's alone: HR's own token is refused.
    with RpcClient(deployment.amqp_uri, name="reset-refusal") as rpc:
        with pytest.raises(PermissionDenied):
            rpc.call_method(
                ReportingApi.reset_facts,
                ResetFactsRequest(tenant_id=team.tenant_id),
                timeout=10,
                context={context.AUTHORIZATION: hr.token},
            )
    assert hr_view(reporting, hr, team.tenant_id) == before

    # Rebuilt from scratch: the tenant's facts emptied, then every service republishes.
    done = rebuild_reporting(deployment, team.tenant_id)
    assert done.returncode == 0, done.stdout + done.stderr
    for line in (
        "identity.membership_changed: 14",  # the admin, the coach and 12 coachees
        "spaces.space_snapshot: 12",
        "scheduling.session_snapshot: 2",
        "Recorded 0 snapshot event(s) in assessment's outbox",
    ):
        assert line in done.stdout, done.stdout
    deleted = next(x for x in done.stdout.splitlines() if x.startswith("Deleted "))
    assert deleted != "Deleted 0 fact(s).", done.stdout
    after = wait_for(
        lambda: (view := hr_view_once_known(reporting, hr, team.tenant_id)) == before and view,
        60,
        "reporting to rebuild the same numbers from the snapshots",
    )
    assert after == expected
