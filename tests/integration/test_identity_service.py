"""The identity service in a real nameko container, with real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import eventlet
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import func, select

from services.identity.service import IdentityService
from services.identity.storage.tables import memberships, persons
from services.kernel.clock import SystemClock
from services.kernel.config import settings
from services.kernel.errors import (
    AlreadyExists,
    DeadlineExceeded,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from services.kernel.runtime.errors_wire import register_domain_errors
from services.kernel.runtime.outbox import outbox
from services.kernel.runtime.sql import make_engine
from services.kernel.tokens import SigningKey, issue_access_token
from tests.support.api import unique_email, unique_slug
from tests.support.people import OPERATOR_PASSWORD, create_operator, set_password, totp_code

register_domain_errors()  # so the standalone proxy raises our typed errors
PASSWORD = "integration-password-1"

Call = Callable[..., Any]


@pytest.fixture
def identity(container_factory: Any, service_config: dict[str, Any]) -> Any:
    container = container_factory(IdentityService, service_config)
    container.start()
    return container


@pytest.fixture
def call(identity: Any, service_config: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """call(method, payload, token=None, **context)"""
    proxies: list[ServiceRpcProxy] = []

    def _call(
        method: str, payload: dict[str, Any] | None = None, token: str | None = None, **ctx: Any
    ) -> Any:
        context = dict(ctx)
        if token:
            context["authorization"] = token
        proxy = ServiceRpcProxy("identity", service_config, context_data=context, timeout=20)
        proxies.append(proxy)
        service = proxy.start()
        return getattr(service, method)(payload or {})

    yield _call
    for proxy in proxies:
        proxy.stop()


def read(query: Any) -> list[Any]:
    """The rows of one query on identity's database, over a connection of its own."""
    engine = make_engine(settings().database_url_for("identity"), pool_size=1, green=True)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query))
    finally:
        engine.dispose()


def count(table: Any, **where: str) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    return int(read(query)[0][0])


@pytest.fixture
def operator_token(call: Call) -> str:
    email = create_operator(settings())
    first = call("sign_in", {"email": email, "password": OPERATOR_PASSWORD})
    assert first["next_step"] == "verify_mfa" and not first["access_token"]  # operators: MFA
    code = totp_code(settings())
    return str(call("verify_mfa", {"challenge": first["challenge"], "code": code})["access_token"])


@pytest.fixture
def tenant(call: Call, operator_token: str) -> dict[str, Any]:
    return dict(call("create_tenant", {"name": "Acme", "slug": unique_slug()}, operator_token))


def admin_of(call: Call, operator_token: str, tenant_id: str) -> str:
    email = unique_email("admin")
    call(
        "add_member",
        {"tenant_id": tenant_id, "email": email, "roles": ["tenant_admin"]},
        operator_token,
    )
    set_password(settings(), email, PASSWORD)
    return str(
        call("sign_in", {"email": email, "password": PASSWORD, "tenant": tenant_id})["access_token"]
    )


def test_an_operator_creates_a_tenant_and_adds_its_first_admin(
    call: Call, operator_token: str
) -> None:
    slug = unique_slug()
    tenant = call("create_tenant", {"name": "Acme", "slug": slug}, operator_token)
    assert tenant["slug"] == slug
    admin = admin_of(call, operator_token, tenant["tenant_id"])
    listed = call("list_members", {"tenant_id": tenant["tenant_id"]}, admin)
    assert [m["roles"] for m in listed["members"]] == [["tenant_admin"]]


def test_adding_an_existing_person_answers_the_same_and_shows_only_the_typed_email(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenant_id"]
    admin = admin_of(call, operator_token, tid)
    other = call("create_tenant", {"name": "Other", "slug": unique_slug()}, operator_token)
    existing = unique_email("existing")
    call(
        "add_member",
        {
            "tenant_id": other["tenant_id"],
            "email": existing,
            "roles": ["coach"],
            "display_name": "Real Name",
        },
        operator_token,
    )

    new = call(
        "add_member",
        {
            "tenant_id": tid,
            "email": unique_email("new"),
            "roles": ["coach"],
            "display_name": "Typed",
        },
        admin,
    )
    typed = existing.upper()
    pending = call(
        "add_member",
        {"tenant_id": tid, "email": typed, "roles": ["coach"], "display_name": "Typed"},
        admin,
    )
    assert set(new) == set(pending)  # the same shape: nothing tells the two cases apart
    assert pending["email"] == typed

    seen = call("get_member", {"tenant_id": tid, "member_id": pending["member_id"]}, admin)
    assert seen["status"] == "pending"
    assert seen["email"] == typed
    assert seen["display_name"] == "" and seen["person_id"] == ""
    # adding again while pending answers the same membership
    again = call("add_member", {"tenant_id": tid, "email": existing, "roles": ["coach"]}, admin)
    assert again["member_id"] == pending["member_id"]

    # the person accepts; the tenant then sees their own profile, not what it typed
    set_password(settings(), existing, PASSWORD)
    personal = call("sign_in", {"email": existing, "password": PASSWORD})["access_token"]
    mine = call("list_my_memberships", {}, personal)
    assert {m["tenant_id"]: m["status"] for m in mine["memberships"]}[tid] == "pending"
    call("accept_membership", {"tenant_id": tid}, personal)
    seen = call("get_member", {"tenant_id": tid, "member_id": pending["member_id"]}, admin)
    assert seen["status"] == "active" and seen["display_name"] == "Real Name"


def test_already_exists_only_when_the_person_is_already_a_member(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    email = unique_email()
    first = call(
        "add_member",
        {"tenant_id": tenant["tenant_id"], "email": email, "roles": ["coachee"]},
        operator_token,
    )
    # While invited, adding again answers the same (and sends nothing new).
    again = call(
        "add_member",
        {"tenant_id": tenant["tenant_id"], "email": email, "roles": ["coachee"]},
        operator_token,
    )
    assert again["member_id"] == first["member_id"]
    set_password(settings(), email, PASSWORD)  # accepts the invitation
    with pytest.raises(AlreadyExists) as raised:
        call(
            "add_member",
            {"tenant_id": tenant["tenant_id"], "email": email.upper(), "roles": ["coach"]},
            operator_token,
        )
    assert raised.value.reason == "ALREADY_MEMBER"


def test_bad_input_names_every_field_and_writes_nothing(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    before = count(memberships, tenant_id=tenant["tenant_id"])
    with pytest.raises(InvalidArgument) as raised:
        call(
            "add_member",
            {
                "tenant_id": tenant["tenant_id"],
                "email": "not-an-email",
                "roles": ["wizard"],
                "locale": "de",
            },
            operator_token,
        )
    assert {f.field for f in raised.value.fields} == {"email", "roles.0", "locale"}
    with pytest.raises(InvalidArgument) as raised:
        call(
            "add_member",
            {
                "tenant_id": tenant["tenant_id"],
                "email": unique_email(),
                "roles": ["coach"],
                "time_zone": "Mars/Base",
            },
            operator_token,
        )
    assert [f.field for f in raised.value.fields] == ["time_zone"]
    with pytest.raises(InvalidArgument):
        call(
            "add_member",
            {
                "tenant_id": tenant["tenant_id"],
                "email": unique_email(),
                "roles": ["coach"],
                "surprise": 1,
            },
            operator_token,
        )
    assert count(memberships, tenant_id=tenant["tenant_id"]) == before


def test_calls_without_a_valid_token_are_refused(call: Call, tenant: dict[str, Any]) -> None:
    ref = {"tenant_id": tenant["tenant_id"]}
    with pytest.raises(Unauthenticated):
        call("list_members", ref)
    with pytest.raises(Unauthenticated):
        call("list_members", ref, "not-a-token")
    forged, _ = issue_access_token(
        SigningKey.generate(),
        issuer=settings().token_issuer,
        audience=settings().token_audience,
        clock=SystemClock(),
        ttl=timedelta(minutes=5),
        person_id="per_1",
        tenant_id=tenant["tenant_id"],
        roles=("tenant_admin",),
        platform_admin=True,
        locale="en",
    )
    with pytest.raises(Unauthenticated):
        call("list_members", ref, forged)
    # a header claiming to be the system is just a header
    with pytest.raises(Unauthenticated):
        call("list_members", ref, caller="system", system=True)


def test_another_tenants_admin_sees_nothing_and_changes_nothing(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenant_id"]
    member = call(
        "add_member",
        {"tenant_id": tid, "email": unique_email(), "roles": ["coachee"]},
        operator_token,
    )
    other = call("create_tenant", {"name": "Other", "slug": unique_slug()}, operator_token)
    intruder = admin_of(call, operator_token, other["tenant_id"])
    ref = {"tenant_id": tid, "member_id": member["member_id"]}
    with pytest.raises(NotFound):
        call("get_member", ref, intruder)
    with pytest.raises(NotFound):
        call("deactivate_member", ref, intruder)
    # their own tenant id with our member id: still not found
    with pytest.raises(NotFound):
        call(
            "get_member",
            {"tenant_id": other["tenant_id"], "member_id": member["member_id"]},
            intruder,
        )
    assert call("get_member", ref, operator_token)["status"] == "pending"


def test_a_coach_may_not_administer_members(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenant_id"]
    email = unique_email("coach")
    coach_member = call(
        "add_member", {"tenant_id": tid, "email": email, "roles": ["coach"]}, operator_token
    )
    set_password(settings(), email, PASSWORD)
    coach = call("sign_in", {"email": email, "password": PASSWORD, "tenant": tid})["access_token"]
    with pytest.raises(PermissionDenied):
        call("list_members", {"tenant_id": tid}, coach)
    with pytest.raises(PermissionDenied):
        call(
            "update_member",
            {
                "tenant_id": tid,
                "member_id": coach_member["member_id"],
                "roles": ["tenant_admin"],
                "update_mask": ["roles"],
            },
            coach,
        )
    assert call("get_member", {"tenant_id": tid, "member_id": coach_member["member_id"]}, coach)[
        "roles"
    ] == ["coach"]


def test_roles_change_with_a_field_mask_and_members_deactivate_and_reactivate(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenant_id"]
    admin = admin_of(call, operator_token, tid)
    m = call("add_member", {"tenant_id": tid, "email": unique_email(), "roles": ["coachee"]}, admin)
    ref = {"tenant_id": tid, "member_id": m["member_id"]}
    with pytest.raises(InvalidArgument):
        call("update_member", {**ref, "roles": ["coach"], "update_mask": ["email"]}, admin)
    assert call(
        "update_member", {**ref, "roles": ["coach", "coachee"], "update_mask": ["roles"]}, admin
    )["roles"] == ["coach", "coachee"]
    assert call("deactivate_member", ref, admin)["status"] == "deactivated"
    assert call("deactivate_member", ref, admin)["status"] == "deactivated"
    # Never accepted: back to a pending invitation, not active.
    assert call("reactivate_member", ref, admin)["status"] == "pending"


def test_a_request_past_its_deadline_is_refused_and_not_executed(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    email = unique_email("late")
    with pytest.raises(DeadlineExceeded):
        call(
            "add_member",
            {"tenant_id": tenant["tenant_id"], "email": email, "roles": ["coach"]},
            operator_token,
            deadline=time.time() - 1,
        )
    assert count(persons, email_key=email) == 0


def test_one_email_added_concurrently_creates_one_person(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    email = unique_email("race")

    def add(_: int) -> str:
        try:
            return str(
                call(
                    "add_member",
                    {"tenant_id": tenant["tenant_id"], "email": email, "roles": ["coach"]},
                    operator_token,
                )["member_id"]
            )
        except AlreadyExists:
            return "exists"

    pool = eventlet.GreenPool(10)
    outcomes = list(pool.imap(add, range(10)))
    assert count(persons, email_key=email) == 1
    assert len({o for o in outcomes if o != "exists"}) == 1


def test_concurrent_wrong_guesses_never_get_more_checks_than_the_throttle_allows(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    """Issue 19, item 6: each attempt is counted before its password is hashed. When the check
    and the count were separate, a burst passed the check together and every guess was hashed."""
    email = unique_email("burst")
    call(
        "add_member",
        {"tenant_id": tenant["tenant_id"], "email": email, "roles": ["coachee"]},
        operator_token,
    )
    set_password(settings(), email, PASSWORD)
    free = settings().sign_in_free_failures
    guesses = free + 7

    def guess(n: int) -> str:
        try:
            call("sign_in", {"email": email, "password": f"wrong-guess-{n}"}, client_address="a")
        except Unauthenticated as exc:
            return exc.reason
        except ResourceExhausted as exc:
            return exc.reason
        return "signed in"

    outcomes = list(eventlet.GreenPool(guesses).imap(guess, range(guesses)))
    checked = outcomes.count("INVALID_CREDENTIALS")
    # the guess that goes past the free ones is still checked; it sets the wait for the next
    assert checked == free + 1, outcomes
    assert outcomes.count("SIGN_IN_THROTTLED") == guesses - checked, outcomes
    with pytest.raises(ResourceExhausted):  # and the wait holds even for the right password
        call("sign_in", {"email": email, "password": PASSWORD}, client_address="a")


def test_a_right_password_gives_back_the_attempt_counted_ahead_of_its_check(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    email = unique_email("refund")
    call(
        "add_member",
        {"tenant_id": tenant["tenant_id"], "email": email, "roles": ["coachee"]},
        operator_token,
    )
    set_password(settings(), email, PASSWORD)
    # More right passwords than the account's free failures, from as many sources: none of the
    # attempts counted ahead of their check is left as a failure.
    for n in range(settings().sign_in_account_free_failures + 2):
        call("sign_in", {"email": email, "password": PASSWORD}, client_address=f"10.0.0.{n}")
    for n in range(settings().sign_in_free_failures):  # so the free failures are all still there
        with pytest.raises(Unauthenticated):
            call("sign_in", {"email": email, "password": f"wrong-{n}"}, client_address="10.9.9.9")
    call("sign_in", {"email": email, "password": PASSWORD}, client_address="10.9.9.9")


def test_sign_in_refuses_wrong_passwords_and_non_members_alike(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    email = unique_email()
    call(
        "add_member",
        {"tenant_id": tenant["tenant_id"], "email": email, "roles": ["coachee"]},
        operator_token,
    )
    set_password(settings(), email, PASSWORD)
    with pytest.raises(Unauthenticated) as wrong:
        call("sign_in", {"email": email, "password": "wrong-password-123"})
    with pytest.raises(Unauthenticated) as unknown:
        call("sign_in", {"email": unique_email(), "password": "wrong-password-123"})
    assert wrong.value.reason == unknown.value.reason == "INVALID_CREDENTIALS"
    with pytest.raises(PermissionDenied):
        call("sign_in", {"email": email, "password": PASSWORD, "tenant": "no-such-tenant"})
    token = call("sign_in", {"email": email, "password": PASSWORD, "tenant": tenant["slug"]})
    assert token["tenant_id"] == tenant["tenant_id"]


def outbox_events(aggregate_id: str) -> list[dict[str, Any]]:
    query = select(outbox.c.envelope).where(outbox.c.aggregate_id == aggregate_id)
    return [row.envelope for row in read(query.order_by(outbox.c.id))]


def test_changes_record_their_events_in_the_same_transaction(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    [created] = outbox_events(tenant["tenant_id"])
    assert created["type"] == "identity.tenant_created"
    assert created["sequence"] == 1 and created["tenant_id"] == tenant["tenant_id"]
    assert created["payload"]["slug"] == tenant["slug"]
    added = call(
        "add_member",
        {"tenant_id": tenant["tenant_id"], "email": unique_email("evt"), "roles": ["coach"]},
        operator_token,
    )
    ref = {"tenant_id": tenant["tenant_id"], "member_id": added["member_id"]}
    call(
        "update_member",
        {**ref, "roles": ["coach", "tenant_admin"], "update_mask": ["roles"]},
        operator_token,
    )
    call("deactivate_member", ref, operator_token)
    call("deactivate_member", ref, operator_token)  # idempotent: no second event
    call("reactivate_member", ref, operator_token)
    events = outbox_events(added["member_id"])
    assert [e["payload"]["change"] for e in events] == [
        "pending",
        "roles_changed",
        "deactivated",
        "reactivated",
    ]
    assert [e["sequence"] for e in events] == [1, 2, 3, 4]
    assert events[-1]["payload"]["status"] == "pending"  # never accepted
    assert events[-1]["payload"]["roles"] == ["coach", "tenant_admin"]


def test_a_refused_change_records_no_event(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    with pytest.raises(AlreadyExists):
        call("create_tenant", {"name": "Again", "slug": tenant["slug"]}, operator_token)
    assert len(outbox_events(tenant["tenant_id"])) == 1


# ---------------------------------------------------------------- searching members (issue 20)


def member_emails(call: Call, token: str, tenant_id: str, **search: Any) -> list[str]:
    """Every member the search finds, following the pages (two at a time, so pages matter)."""
    found: list[str] = []
    page_token = ""
    while True:
        page = call(
            "list_members",
            {"tenant_id": tenant_id, "page_size": 2, "page_token": page_token, **search},
            token,
        )
        found += [m["email"] for m in page["members"]]
        page_token = page["next_page_token"]
        if not page_token:
            return found


def test_admins_search_members_by_email_or_name_start_role_and_status(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenant_id"]
    admin = admin_of(call, operator_token, tid)

    def add(prefix: str, name: str, roles: list[str], accept: bool = True) -> str:
        email = unique_email(prefix)
        payload = {"tenant_id": tid, "email": email, "roles": roles, "display_name": name}
        call("add_member", payload, admin)
        if accept:
            set_password(settings(), email, PASSWORD)
        return email

    eloise = add("eloise", "Éloïse D'Arc-Martin", ["coachee"])
    marc = add("marc", "Marc Martin", ["coach"])
    martine = add("martine", "Martine Roux", ["coachee", "coach"])
    hugo = add("hugo", "Hugo Lenoir", ["coachee"])
    invited = add("invited", "Hidden Name", ["coachee"], accept=False)

    # a word of the name, case and accents aside; all pages, oldest first
    assert member_emails(call, admin, tid, query="martin") == [eloise, marc, martine]
    assert member_emails(call, admin, tid, query="ELOISE") == [eloise]
    assert member_emails(call, admin, tid, query="arc") == [eloise]  # D'Arc: a word
    assert member_emails(call, admin, tid, query="eloise d arc") == [eloise]
    assert member_emails(call, admin, tid, query="artin") == []  # the start of a word only
    # the start of the email, and the whole address
    assert member_emails(call, admin, tid, query="hugo-") == [hugo]
    assert member_emails(call, admin, tid, query=hugo.upper()) == [hugo]
    # not accepted yet: only the email the tenant typed, never the account's name
    assert member_emails(call, admin, tid, query="hidden") == []
    assert member_emails(call, admin, tid, query=invited[:12]) == [invited]
    # LIKE's wildcards are plain characters
    assert member_emails(call, admin, tid, query="%") == []
    assert member_emails(call, admin, tid, query="_") == []

    # role and status, alone or with the text
    assert member_emails(call, admin, tid, role="coach") == [marc, martine]
    assert member_emails(call, admin, tid, query="mar", role="coachee") == [eloise, martine]
    assert member_emails(call, admin, tid, status="pending") == [invited]
    hugo_id = next(
        m["member_id"]
        for m in call("list_members", {"tenant_id": tid, "query": "hugo"}, admin)["members"]
    )
    call("deactivate_member", {"tenant_id": tid, "member_id": hugo_id}, admin)
    assert member_emails(call, admin, tid, status="deactivated") == [hugo]
    assert member_emails(call, admin, tid, role="coachee", status="active") == [eloise, martine]
    # the operator searches as the tenant's admins do
    assert member_emails(call, operator_token, tid, query="martin") == [eloise, marc, martine]


def test_a_search_finds_only_the_callers_tenant_and_only_for_its_admins(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenant_id"]
    ours = unique_email("shared-name")
    call(
        "add_member",
        {"tenant_id": tid, "email": ours, "roles": ["coachee"], "display_name": "Zoé Secret"},
        operator_token,
    )
    set_password(settings(), ours, PASSWORD)
    other = call("create_tenant", {"name": "Other", "slug": unique_slug()}, operator_token)
    intruder = admin_of(call, operator_token, other["tenant_id"])
    # their own tenant: our member is not there, by name or by email
    assert member_emails(call, intruder, other["tenant_id"], query="zoe") == []
    assert member_emails(call, intruder, other["tenant_id"], query=ours) == []
    # our tenant: not found, whatever the search
    with pytest.raises(NotFound):
        call("list_members", {"tenant_id": tid, "query": "zoe"}, intruder)
    # a member who is not an admin may not search
    coachee = call("sign_in", {"email": ours, "password": PASSWORD, "tenant": tid})["access_token"]
    with pytest.raises(PermissionDenied):
        call("list_members", {"tenant_id": tid, "query": "zoe"}, coachee)


def test_a_bad_search_is_refused_naming_its_field(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenant_id"]
    admin = admin_of(call, operator_token, tid)
    for bad, field in (
        ({"query": "a\x00b"}, "query"),
        ({"query": "a\nb"}, "query"),
        ({"query": "x" * 101}, "query"),
        ({"role": "owner"}, "role"),
        ({"status": "gone"}, "status"),
    ):
        with pytest.raises(InvalidArgument) as raised:
            call("list_members", {"tenant_id": tid, **bad}, admin)
        assert [f.field for f in raised.value.fields] == [field], bad
    assert member_emails(call, admin, tid, query="x" * 100) == []


# ---------------------------------------------------------------- cohort attributes (issue 25)


def stored_cohort(member_id: str) -> tuple[Any, ...]:
    cohort = (memberships.c.department, memberships.c.site, memberships.c.programme)
    return tuple(read(select(*cohort).where(memberships.c.id == member_id))[0])


def test_an_admin_sets_cohort_attributes_published_in_membership_changed_v2(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenant_id"]
    admin = admin_of(call, operator_token, tid)
    email = unique_email("cohort")
    m = call("add_member", {"tenant_id": tid, "email": email, "roles": ["coachee"]}, admin)
    ref = {"tenant_id": tid, "member_id": m["member_id"]}
    shown = call(
        "set_member_attributes",
        {**ref, "department": " Sales ", "site": "Lyon", "programme": ""},
        admin,
    )
    assert (shown["department"], shown["site"], shown["programme"]) == ("Sales", "Lyon", "")
    assert stored_cohort(m["member_id"]) == ("Sales", "Lyon", None)
    assert call("get_member", ref, admin)["department"] == "Sales"
    [listed] = [
        x for x in call("list_members", {"tenant_id": tid}, admin)["members"] if x["email"] == email
    ]
    assert listed["site"] == "Lyon"
    # Every membership change carries the whole state, cohort included, in version 2.
    call("update_member", {**ref, "roles": ["coach"], "update_mask": ["roles"]}, admin)
    events = outbox_events(m["member_id"])
    assert [e["payload"]["change"] for e in events] == [
        "pending",
        "attributes_changed",
        "roles_changed",
    ]
    assert {e["version"] for e in events} == {2}
    assert [e["payload"]["department"] for e in events] == [None, "Sales", "Sales"]
    assert events[-1]["payload"]["programme"] is None
    with pytest.raises(InvalidArgument) as raised:
        call("set_member_attributes", {**ref, "programme": "p" * 81}, admin)
    assert [f.field for f in raised.value.fields] == ["programme"]
    assert len(outbox_events(m["member_id"])) == 3  # refused: nothing recorded
    # Erasing the person clears the cohort with the rest of the membership.
    call("erase_person", {"email": email}, operator_token)
    assert stored_cohort(m["member_id"]) == (None, None, None)
    assert outbox_events(m["member_id"])[-1]["payload"]["department"] is None


def test_an_import_sets_the_cohort_columns_and_the_admin_exports_their_own(
    call: Call, operator_token: str, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenant_id"]
    admin = admin_of(call, operator_token, tid)
    email = unique_email("csv")
    csv = f"email,role,department,site,programme\n{email},coachee,Sales,Lyon,Leaders\n"
    report = call(
        "import_members",
        {"tenant_id": tid, "csv_base64": base64.b64encode(csv.encode()).decode()},
        admin,
    )
    assert report["added"] == 1
    [imported] = [
        x for x in call("list_members", {"tenant_id": tid}, admin)["members"] if x["email"] == email
    ]
    assert (imported["department"], imported["site"], imported["programme"]) == (
        "Sales",
        "Lyon",
        "Leaders",
    )
    [own] = call("list_my_memberships", {}, admin)["memberships"]
    call(
        "set_member_attributes",
        {"tenant_id": tid, "member_id": own["member_id"], "site": "HQ"},
        admin,
    )
    assert call("list_my_memberships", {}, admin)["memberships"][0]["site"] == "HQ"
    exported = call("export_personal_data", {}, admin)["data"]["memberships"]
    assert [(x["department"], x["site"]) for x in exported] == [("", "HQ")]
