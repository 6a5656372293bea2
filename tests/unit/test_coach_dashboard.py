"""GetCoachDashboard's mapping (gateway/api/spaces.py): each roster entry's toolbox counts,
as spaces' `get_coach_roster` counted them, reach the coach's dashboard; an empty toolbox reads
0 of 0. The backend calls are canned: no broker, no database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gateway.api.pb import spaces_pb2 as pb
from gateway.api.spaces import DashboardService
from services.contracts import scheduling as sc
from services.contracts import spaces as c
from services.contracts.identity import IdentityApi, ListMembersResponse
from services.contracts.scheduling import SchedulingApi
from services.contracts.spaces import SpacesApi
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.spaces.handlers import spaces
from tests.unit.fakes.spaces import spaces_db

NOW = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
TENANT = "ten_1"


def a_space() -> c.Space:
    admin = PersonClaims(
        "per_admin", TENANT, ("tenant_admin",), False, "tok", NOW, NOW + timedelta(1)
    )
    set_up = c.SetUpInput(
        coachee_member_id="mem_c0ac4ee",
        coach_member_id="mem_c0ac4",
        cadence="weekly",
        sessions_planned=6,
        starts_on=date(2026, 10, 6),
    )
    members = {
        "mem_c0ac4ee": ("per_coachee", ("coachee",), "active"),
        "mem_c0ac4": ("per_coach", ("coach",), "active"),
    }
    request = c.CreateSpaceRequest(tenant_id=TENANT, set_up=set_up)
    return spaces.create_space(
        spaces_db(FixedClock(NOW)),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        lambda _t, ids: {m: members[m] for m in ids},  # type: ignore[misc]
        admin,
        request,
    )


class Canned:
    """The gateway's CallContext as the dashboard uses it: each backend method answers what
    the test gave, and the calls made are kept."""

    def __init__(self, answers: dict[Any, Any]) -> None:
        self.answers = answers
        self.calls: list[Any] = []

    def later(self, method: Any, request: Any = None, /, **fields: Any) -> Callable[[], Any]:
        self.calls.append(method)
        return lambda: self.answers[method]


def test_the_toolbox_counts_reach_the_coach_dashboard() -> None:
    full, empty = a_space(), a_space()
    roster = c.CoachRoster(
        entries=[
            c.RosterEntry(space=full, last_activity_at=NOW, tools_open=2, tools_total=5),
            c.RosterEntry(space=empty, last_activity_at=NOW),  # an empty toolbox: no counts
        ]
    )
    call = Canned(
        {
            SpacesApi.get_coach_roster: roster,
            IdentityApi.list_my_coachees: ListMembersResponse(members=[]),
            SchedulingApi.get_dashboard: sc.SchedulingDashboard(spaces=[], to_mark=[], requests=[]),
        }
    )
    request = pb.GetCoachDashboardRequest(parent=f"tenants/{TENANT}")
    board = DashboardService.GetCoachDashboard.__wrapped__(None, request, call)
    assert [(e.space.space_id, e.tools_open, e.tools_total) for e in board.coachees] == [
        (full.space_id, 2, 5),
        (empty.space_id, 0, 0),
    ]
    # Three calls for any number of coachees: one roster from spaces, no ListTools per space.
    assert len(call.calls) == 3 and call.calls.count(SpacesApi.get_coach_roster) == 1
