"""No input crashes a request: NUL and control characters, bytes that are not protobuf, dates
at the calendar's edges and out-of-range timestamps all get INVALID_ARGUMENT naming the field
(services/contracts/base.py, gateway/api/malformed.py), never INTERNAL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from ecoach_dev.deployment import Deployment
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import scheduling_pb2 as pb
from tests.e2e.conftest import TenantWorld, make_tenant
from tests.support import scheduling as sch
from tests.support.api import Api, Session, error_details, expect_error, unique_email

INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
def team(deployment: Deployment, api: Api, operator: Session) -> TenantWorld:
    return make_tenant(deployment, api, operator)


@pytest.fixture(scope="module")
def s(deployment: Deployment) -> Iterator[sch.Stubs]:
    channel = deployment.channel()
    yield sch.stubs(channel)
    channel.close()


@pytest.fixture(scope="module")
def space(s: sch.Stubs, team: TenantWorld) -> str:
    sch.set_availability(s, team.coach, sch.around_the_clock("Pacific/Kiritimati"))
    return str(
        sch.active_space(s, team.tenant_id, team.coach, team.coachee_member, team.coach_member).name
    )


def test_nul_in_a_member_s_name_or_email_names_the_field(api: Api, team: TenantWorld) -> None:
    parent = f"tenants/{team.tenant_id}"
    for request, field in (
        (
            ipb.AddMemberRequest(
                parent=parent, email=unique_email("n"), roles=[ipb.COACH], display_name="Ann\x00"
            ),
            "display_name",
        ),
        (
            ipb.AddMemberRequest(parent=parent, email="nul\x00@example.test", roles=[ipb.COACH]),
            "email",
        ),
    ):
        error = expect_error(api.members.AddMember, request, metadata=team.admin.metadata)
        assert (error.code, error.fields) == (INVALID_ARGUMENT, (field,))


def test_nul_or_a_line_break_in_a_tenant_names_the_field(api: Api, operator: Session) -> None:
    for request, field in (
        (ipb.CreateTenantRequest(display_name="Acme", slug="acme\x00x"), "slug"),
        (ipb.CreateTenantRequest(display_name="Acme\nBcc: x", slug="acme-nl"), "name"),
    ):
        error = expect_error(api.tenants.CreateTenant, request, metadata=operator.metadata)
        assert (error.code, error.fields) == (INVALID_ARGUMENT, (field,))


def test_nul_in_a_sign_in_email_is_invalid_not_internal(api: Api) -> None:
    error = expect_error(
        api.auth.SignIn, ipb.SignInRequest(email="a\x00@example.test", password="x")
    )
    assert (error.code, error.fields) == (INVALID_ARGUMENT, ("email",))


def test_a_csv_cell_with_nul_rejects_its_row_only(api: Api, team: TenantWorld) -> None:
    good = unique_email("csv")
    data = f"email,role,name\nbad\x00@example.test,coach,A\n{good},coach,B\n".encode()
    answer = api.members.ImportMembers(
        ipb.ImportMembersRequest(parent=f"tenants/{team.tenant_id}", csv=data),
        metadata=team.admin.metadata,
    )
    assert (answer.added, answer.rejected) == (1, 1)
    assert answer.rows[0].line == 2 and "NUL" in answer.rows[0].reason


def test_a_csv_too_large_is_refused_on_csv(api: Api, team: TenantWorld) -> None:
    error = expect_error(
        api.members.ImportMembers,
        ipb.ImportMembersRequest(parent=f"tenants/{team.tenant_id}", csv=b"x" * 1_200_000),
        metadata=team.admin.metadata,
    )
    assert (error.code, error.fields) == (INVALID_ARGUMENT, ("csv",))


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("9999-12-30", "9999-12-31", "start_date"),
        ("0001-01-01", "0001-01-02", "start_date"),
        ("2027-01-01", "9999-12-31", "end_date"),
    ],
)
@pytest.mark.parametrize("time_zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_bookable_slots_at_the_calendar_s_edges_name_the_field(
    s: sch.Stubs, team: TenantWorld, space: str, start: str, end: str, field: str, time_zone: str
) -> None:
    error = expect_error(
        s.availability.ListBookableSlots,
        pb.ListBookableSlotsRequest(
            parent=space, start_date=start, end_date=end, time_zone=time_zone
        ),
        metadata=team.coachee.metadata,
    )
    assert (error.code, error.fields) == (INVALID_ARGUMENT, (field,))


def test_my_sessions_at_the_timestamp_s_edges_name_the_field(
    s: sch.Stubs, team: TenantWorld
) -> None:
    start = sch.ts(datetime(2027, 1, 1, tzinfo=UTC))
    for end in (
        Timestamp(seconds=253402300799),  # 9999-12-31T23:59:59Z: the contract refuses it
        Timestamp(seconds=10**15),  # beyond any Timestamp: the gateway refuses it
    ):
        error = expect_error(
            s.sessions.ListMySessions,
            pb.ListMySessionsRequest(start_time=start, end_time=end),
            metadata=team.coach.metadata,
        )
        assert error.code == INVALID_ARGUMENT and len(error.fields) == 1, error


GARBAGE = (
    b"\xff\xff\xff\xff",  # a field number with an impossible wire type
    b"\x0a\x05ab",  # a string field cut short
    b"\x0a\x02\xff\xfe",  # a string field that is not UTF-8
)


@pytest.mark.parametrize("data", GARBAGE)
def test_bytes_that_are_not_protobuf_are_invalid_argument(
    deployment: Deployment, team: TenantWorld, data: bytes
) -> None:
    channel = deployment.channel()
    try:
        for method, metadata in (
            ("/ecoach.v1.AuthService/SignIn", ()),  # public
            ("/ecoach.v1.MemberService/ListMembers", team.admin.metadata),
        ):
            with pytest.raises(grpc.RpcError) as caught:
                channel.unary_unary(method)(data, metadata=metadata, timeout=10)
            assert caught.value.code() == INVALID_ARGUMENT, (method, caught.value.details())
            assert error_details(caught.value).fields == ("request",)
        # A streamed answer (its request has no field: only bytes that are no message at all).
        if data == GARBAGE[0]:
            export = channel.unary_stream("/ecoach.v1.AuthService/ExportMyData")
            with pytest.raises(grpc.RpcError) as caught:
                list(export(data, metadata=team.admin.metadata, timeout=10))
            assert caught.value.code() == INVALID_ARGUMENT
    finally:
        channel.close()
