"""Adding people from a CSV file, through the gateway as a tenant admin would."""

from __future__ import annotations

import time

import grpc

from ecoach_dev.deployment import Deployment
from gateway.api.convert import settings_name, tenant_name
from gateway.api.pb import identity_pb2 as pb
from tests.e2e.conftest import make_tenant
from tests.support.api import Api, Session, expect_error, unique_email
from tests.support.isolation import all_members


def import_csv(api: Api, who: Session, tenant_id: str, data: bytes) -> pb.ImportMembersResponse:
    return api.members.ImportMembers(
        pb.ImportMembersRequest(parent=tenant_name(tenant_id), csv=data),
        metadata=who.metadata,
        timeout=60,
    )


def test_bad_rows_are_reported_by_line_the_rest_imported_and_a_rerun_adds_nothing(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    world = make_tenant(deployment, api, operator)
    existing = api.auth.GetMe(pb.GetMeRequest(), metadata=world.coach.metadata).person.email
    good = [unique_email("csv") for _ in range(3)]
    lines = [
        "Name;Email;Role;Locale;Time_zone",  # the header is line 1
        f"Ada Lovelace;{good[0]};coach;fr;Europe/Paris",
        "Not An Email;nope;coachee;;",
        f"Bo;{good[1]};coachee|tenant_admin;;",
        f"Dup;{good[0].upper()};coachee;;",
        f"Boss;{unique_email('csv')};boss;;",
        f"Tz;{unique_email('csv')};coach;;Mars/Olympus",
        "",
        f"Cé Accentuée;{good[2]};coachee;en;",
        f"Already;{existing};coach;;",
    ]
    data = "\ufeff".encode() + "\r\n".join(lines).encode() + b"\r\n"  # BOM, `;`, CRLF
    first = import_csv(api, world.admin, world.tenant_id, data)
    assert (first.added, first.already_members, first.already_invited) == (3, 1, 0)
    assert first.rejected == 4
    rows = {r.line: (r.email, r.reason) for r in first.rows}
    assert set(rows) == {3, 5, 6, 7, 10}
    assert rows[3][1].startswith("email must be an email address")
    assert "first on line 2" in rows[5][1]
    assert rows[6][1].startswith("role")
    assert rows[7][1].startswith("time_zone")
    assert rows[10] == (existing, "already a member")
    members = {m["email"]: m for m in all_members(api, world.admin, world.tenant_id)}
    assert set(good) <= set(members)
    # Invited: pending, and the tenant sees only the email it typed until they accept.
    assert {members[e]["status"] for e in good} == {"PENDING"}
    assert "display_name" not in members[good[0]]
    second = import_csv(api, world.admin, world.tenant_id, data)
    # The three invited are reported as such; nothing is added twice or sent again.
    assert (second.added, second.already_members, second.already_invited) == (0, 1, 3)
    assert {r.reason for r in second.rows if r.email in good} == {"already invited"}
    assert len(all_members(api, world.admin, world.tenant_id)) == len(members)


def test_a_thousand_rows_import_in_one_call(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    world = make_tenant(deployment, api, operator)
    lines = ["email,role,name"] + [
        f"{unique_email('bulk')},coachee,Person {i}" for i in range(1000)
    ]
    started = time.monotonic()
    answer = import_csv(api, world.admin, world.tenant_id, "\n".join(lines).encode())
    elapsed = time.monotonic() - started
    assert answer.added == 1000 and answer.rejected == 0, answer
    assert len(all_members(api, world.admin, world.tenant_id)) == 1003
    print(f"1,000 rows imported in {elapsed:.2f} s")


def test_a_file_that_cannot_be_read_adds_nobody(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    world = make_tenant(deployment, api, operator)
    before = all_members(api, world.admin, world.tenant_id)
    latin1 = f"email,role,name\n{unique_email('x')},coach,Zoé\n".encode("latin-1")
    no_role = f"email,name\n{unique_email('x')},Someone\n".encode()
    for bad in (latin1, no_role, b"", b"   \n"):
        error = expect_error(import_csv, api, world.admin, world.tenant_id, bad)
        assert error.code == grpc.StatusCode.INVALID_ARGUMENT, bad
        assert error.fields == ("csv",), bad
    assert all_members(api, world.admin, world.tenant_id) == before


def test_rows_beyond_the_seats_are_refused_the_others_added(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    world = make_tenant(deployment, api, operator)  # 3 seats used
    from google.protobuf.field_mask_pb2 import FieldMask

    api.tenants.UpdateTenantSettings(
        pb.UpdateTenantSettingsRequest(
            settings=pb.TenantSettings(name=settings_name(world.tenant_id), seats=5),
            update_mask=FieldMask(paths=["seats"]),
        ),
        metadata=operator.metadata,
    )
    lines = ["email,role"] + [f"{unique_email('seat')},coachee" for _ in range(4)]
    answer = import_csv(api, world.admin, world.tenant_id, "\n".join(lines).encode())
    assert (answer.added, answer.rejected) == (2, 2)
    assert [r.line for r in answer.rows] == [4, 5]
    assert all("seats" in r.reason for r in answer.rows)
