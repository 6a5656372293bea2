"""Identity's main rules through its handlers, on in-memory fakes (tests/unit/fakes/identity.py):
the second factor (enrolment, a sign-in that needs it, a wrong code, a recovery code used once),
the sign-in throttle, who changes whose roles and cohort attributes, and the cap on mailed links. No database: the whole module runs in well
under 2 s. Also: the service declares a handler for every spaces event that carries a space's
set-up and for every other service of the personal-data registry."""

from __future__ import annotations

import inspect
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.contracts import identity as c
from services.contracts import spaces as sc
from services.identity.adapters.passwords import Passwords, hasher
from services.identity.domain import mfa
from services.identity.domain.model import Membership, Person, Tenant
from services.identity.domain.throttle import ThrottlePolicy
from services.identity.handlers import members, passwords, second_factor, sign_in
from services.identity.handlers.common import LinkSettings, TokenSettings
from services.identity.handlers.links import LINKS_PER_HOUR
from services.identity.handlers.signing_keys import SigningKeyCache
from services.kernel.caller import PersonClaims
from services.kernel.clock import FixedClock
from services.kernel.crypto import MasterKey
from services.kernel.errors import DomainError
from services.kernel.events import is_snapshot
from services.kernel.personal_data import PERSONAL_DATA_SERVICES, completion_event
from services.kernel.validation import validation_error
from tests.unit.fakes import FakeDatabase
from tests.unit.fakes.identity import IdentityState, identity_db

NOW = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
PASSWORD = "a long enough password 1"
EMAIL = "noah@acme.test"
MASTER = MasterKey(secrets.token_bytes(32))
# The cheapest argon2 the library allows: the rules, not the cost, are under test here.
PASSWORDS = Passwords(hasher=hasher(memory_kib=8, time_cost=1))
TOKENS = TokenSettings("ecoach-test", "ecoach-test", timedelta(minutes=10))
POLICY = ThrottlePolicy()


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.db: FakeDatabase[IdentityState] = identity_db(self.clock)
        self.keys = SigningKeyCache(master=MASTER)
        self.tenant = Tenant.create("Acme", "acme", NOW)
        self.db.state.tenants[self.tenant.id] = self.tenant

    def person(self, email: str, *roles: str) -> tuple[Person, Membership]:
        person = Person.create(
            email=email, display_name="Noah", locale="en", time_zone="UTC", now=NOW
        )
        person.password_hash = PASSWORDS.hash(PASSWORD)
        membership = Membership.for_new_person(
            self.tenant.id, person, email, roles or ("coachee",), NOW
        )
        self.db.state.persons[person.id] = person
        self.db.state.memberships[membership.id] = membership
        return person, membership

    def sign_in(self, password: str = PASSWORD, source: str = "10.0.0.1") -> c.SignInResponse:
        request = c.SignInRequest(email=EMAIL, password=password, tenant="acme")
        return sign_in.sign_in(
            self.db,  # type: ignore[arg-type]
            PASSWORDS,
            self.keys,
            TOKENS,
            request,
            source=source,
            policy=POLICY,
        )

    def verify(self, challenge: str, code: str) -> c.SignInResponse:
        request = c.MfaCodeRequest(challenge=challenge, code=code)
        return second_factor.verify_mfa(
            self.db,  # type: ignore[arg-type]
            self.keys,
            TOKENS,
            MASTER,
            request,
            source="10.0.0.1",
            policy=POLICY,
        )

    def enrol(self, person: Person, membership: Membership) -> tuple[str, list[str]]:
        """A signed-in person enrols an authenticator: (its secret, the recovery codes)."""
        who = PersonClaims(
            person.id,
            membership.tenant_id,
            membership.roles,
            False,
            "tok",
            NOW,
            NOW + timedelta(minutes=10),
            session_id="fam_1",
        )
        db: object = self.db
        started = second_factor.start_mfa_enrolment(
            db,  # type: ignore[arg-type]
            PASSWORDS,
            MASTER,
            who,
            c.StartMfaEnrolmentRequest(current_password=PASSWORD),
            source="10.0.0.1",
            policy=POLICY,
        )
        challenge = c.MfaChallengeRef(challenge=started.challenge)
        begun = second_factor.begin_mfa_enrolment(db, MASTER, challenge)  # type: ignore[arg-type]
        code = mfa.current_code(begun.secret, self.clock.now())
        done = second_factor.complete_mfa_enrolment(
            db,  # type: ignore[arg-type]
            self.keys,
            TOKENS,
            MASTER,
            c.MfaCodeRequest(challenge=started.challenge, code=code),
        )
        return begun.secret, done.recovery_codes


def refused(reason: str, call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.reason == reason, caught.value
    return caught.value


# ---------------------------------------------------------------- the second factor


def test_without_an_authenticator_a_sign_in_grants_tokens_at_once() -> None:
    world = World()
    person, _ = world.person(EMAIL)
    signed_in = world.sign_in()
    assert signed_in.access_token and signed_in.refresh_token and signed_in.next_step == "done"
    assert [s["outcome"] for s in world.db.state.sign_ins] == ["succeeded"]
    assert person.id in {t.person_id for t in world.db.state.refresh_tokens.values()}


def test_an_enrolled_authenticator_is_confirmed_by_its_first_code_and_gives_recovery_codes() -> (
    None
):
    world = World()
    person, membership = world.person(EMAIL)
    secret, codes = world.enrol(person, membership)
    factor = world.db.state.factors[person.id]
    assert factor.confirmed_at == NOW and secret not in factor.sealed_secret  # sealed at rest
    assert len(codes) == mfa.RECOVERY_CODE_COUNT
    assert "mfa.enrolled" in [row["action"] for row in world.db.state.audit]
    # Enrolling again is refused while one is enrolled.
    refused("MFA_ALREADY_ENROLLED", world.enrol, person, membership)


def test_once_enrolled_a_sign_in_needs_the_second_factor_and_a_code_completes_it() -> None:
    world = World()
    person, membership = world.person(EMAIL)
    secret, _ = world.enrol(person, membership)
    world.clock.advance(timedelta(seconds=mfa.STEP_SECONDS * 3))
    step = world.sign_in()
    assert step.next_step == "verify_mfa" and not step.access_token and step.challenge
    signed_in = world.verify(step.challenge, mfa.current_code(secret, world.clock.now()))
    assert signed_in.access_token and signed_in.refresh_token
    session = world.db.state.refresh_tokens
    assert any(mfa.MFA in t.amr and mfa.OTP in t.amr for t in session.values())
    # The challenge is spent: the same step cannot be used twice.
    refused("CHALLENGE_EXPIRED", world.verify, step.challenge, "000000")


def test_a_wrong_code_is_refused_and_counted_and_the_code_already_used_too() -> None:
    world = World()
    person, membership = world.person(EMAIL)
    secret, _ = world.enrol(person, membership)
    step = world.sign_in()
    right = mfa.current_code(secret, world.clock.now())  # the enrolment's own code
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    refused("MFA_CODE_INVALID", world.verify, step.challenge, wrong)
    refused("MFA_CODE_REUSED", world.verify, step.challenge, right)  # no replay
    assert world.db.state.challenges[step.challenge.split(".")[1]].failures == 2
    assert [s["outcome"] for s in world.db.state.sign_ins][-2:] == ["failed", "failed"]
    assert not world.db.state.refresh_tokens or all(
        mfa.MFA not in t.amr for t in world.db.state.refresh_tokens.values()
    )


def test_a_recovery_code_signs_in_once_only() -> None:
    world = World()
    person, membership = world.person(EMAIL)
    _, codes = world.enrol(person, membership)
    first = world.verify(world.sign_in().challenge, codes[0].upper())  # typed as it likes
    assert first.access_token
    assert "mfa.recovery_code_used" in [row["action"] for row in world.db.state.audit]
    refused("MFA_CODE_INVALID", world.verify, world.sign_in().challenge, codes[0])
    assert world.verify(world.sign_in().challenge, codes[1]).access_token


# ---------------------------------------------------------------- the sign-in throttle


def test_wrong_passwords_are_refused_and_then_the_sign_in_waits_even_for_the_right_one() -> None:
    world = World()
    world.person(EMAIL)
    for _ in range(POLICY.pair.free + 1):  # the free ones, then one that sets a wait
        refused("INVALID_CREDENTIALS", world.sign_in, "not the password at all")
    error = refused("SIGN_IN_THROTTLED", world.sign_in)
    assert int(error.metadata["retry_after_seconds"]) >= 1
    # The wait is per address and source: another source still signs in (the account's own
    # counter allows more failures than the pair's).
    assert world.sign_in(source="10.0.0.2").access_token


# ---------------------------------------------------------------- roles


def claims_of(person: Person, m: Membership) -> PersonClaims:
    return PersonClaims(person.id, m.tenant_id, m.roles, False, "tok", NOW, NOW + timedelta(1))


def change_roles(world: World, by: PersonClaims, member: Membership, *roles: str) -> c.Member:
    request = c.UpdateMemberRequest(
        tenant_id=member.tenant_id,
        member_id=member.id,
        roles=[c.Role(r) for r in roles],
        update_mask=["roles"],
    )
    return members.update_member(world.db, by, request)  # type: ignore[arg-type]


def test_a_tenant_admin_changes_a_member_s_roles_and_their_tokens_are_revoked() -> None:
    world = World()
    admin = claims_of(*world.person("hr@acme.test", "tenant_admin"))
    _, coachee = world.person(EMAIL, "coachee")
    changed = change_roles(world, admin, coachee, "coach")
    assert [r.value for r in changed.roles] == ["coach"]
    assert world.db.state.memberships[coachee.id].roles == ("coach",)
    assert [type(e) for e in world.db.events] == [c.MembershipChanged, c.AccessRevoked]
    assert world.db.state.revocations[0]["reason"] == "roles_changed"


def test_nobody_changes_their_own_roles_and_a_member_who_is_not_an_admin_changes_none() -> None:
    world = World()
    admin_person, admin_membership = world.person("hr@acme.test", "tenant_admin")
    admin = claims_of(admin_person, admin_membership)
    coach_person, coach_membership = world.person("coach@acme.test", "coach")
    coach = claims_of(coach_person, coach_membership)
    _, coachee = world.person(EMAIL, "coachee")
    refused("SELF_ROLE_CHANGE", change_roles, world, admin, admin_membership, "coach")
    # A member who is not an admin sees no one else's membership, and may not change their own.
    refused("MEMBER_NOT_FOUND", change_roles, world, coach, coachee, "tenant_admin")
    refused("TENANT_ADMIN_ONLY", change_roles, world, coach, coach_membership, "tenant_admin")
    assert world.db.events == [] and world.db.state.memberships[coachee.id].roles == ("coachee",)


# ---------------------------------------------------------------- declared event handlers


def declared_handlers() -> dict[str, str]:
    """The event types IdentityService handles, by method name."""
    from services.identity.service import IdentityService

    found = {}
    for name, member in inspect.getmembers(IdentityService):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            event_type = getattr(entrypoint, "event_type", None)
            if event_type is not None:
                found[name] = event_type
    return found


def test_every_spaces_event_with_a_space_s_set_up_has_its_declared_handler() -> None:
    wanted = {
        m.TYPE
        for m in sc.EVENTS
        if isinstance(m, type)
        and issubclass(m, sc.SpaceEvent)
        and m is not sc.SpaceEvent
        and not is_snapshot(m.TYPE)  # no copy takes a snapshot (ADR 0022)
    }
    handled = declared_handlers()
    missing = {t for t in wanted if handled.get("on_" + t.replace(".", "_")) != t}
    assert not missing, f"declare an @on_event handler in IdentityService for {sorted(missing)}"


def test_every_other_personal_data_service_has_its_declared_erasure_handler() -> None:
    handled = declared_handlers()
    for service in PERSONAL_DATA_SERVICES:
        if service == c.SERVICE:
            continue
        wanted = completion_event(service).TYPE
        assert handled.get(f"on_{service}_person_erased") == wanted, (
            f"declare on_{service}_person_erased (@on_event(completion_event({service!r}))) "
            "in IdentityService"
        )


# ---------------------------------------------------------------- mailed links


def test_password_reset_links_stop_at_five_an_hour_and_an_unknown_address_gets_the_same_answer() -> (
    None
):
    world = World()
    world.person(EMAIL)
    links = LinkSettings(MASTER, "https://ecoach.test", timedelta(hours=1))

    def ask(email: str = EMAIL) -> object:
        request = c.RequestPasswordResetRequest(email=email)
        return passwords.request_password_reset(world.db, links, request)  # type: ignore[arg-type]

    answers = {repr(ask()) for _ in range(LINKS_PER_HOUR + 2)} | {repr(ask("nobody@acme.test"))}
    assert len(answers) == 1  # nothing tells an account, nor the limit, from the answer
    assert len(world.db.events_of(c.PasswordResetRequested)) == LINKS_PER_HOUR
    live = [k for k in world.db.state.links.values() if k.superseded_at is None]
    assert len(live) == 1  # each new link killed the one before
    world.clock.advance(timedelta(hours=1))
    ask()
    assert len(world.db.events_of(c.PasswordResetRequested)) == LINKS_PER_HOUR + 1


# ---------------------------------------------------------------- cohort attributes


def set_cohort(world: World, by: PersonClaims, member: Membership, *labels: str) -> c.Member:
    department, site, programme = labels
    request = c.SetMemberAttributesRequest.from_request(
        {
            "tenant_id": member.tenant_id,
            "member_id": member.id,
            "department": department,
            "site": site,
            "programme": programme,
        }
    )
    return members.set_member_attributes(world.db, by, request)  # type: ignore[arg-type]


def test_an_admin_sets_a_member_s_cohort_and_the_event_carries_the_whole_state() -> None:
    world = World()
    admin = claims_of(*world.person("hr@acme.test", "tenant_admin"))
    _, coachee = world.person(EMAIL, "coachee")
    shown = set_cohort(world, admin, coachee, "  Sales ", "Lyon", "")
    assert (shown.department, shown.site, shown.programme) == ("Sales", "Lyon", "")
    assert world.db.state.memberships[coachee.id].cohort == ("Sales", "Lyon", None)
    (event,) = world.db.events
    assert isinstance(event, c.MembershipChanged)
    assert event.change == c.MembershipChange.ATTRIBUTES_CHANGED
    assert (event.department, event.site, event.programme) == ("Sales", "Lyon", None)
    assert event.roles == [c.Role.COACHEE] and event.status == c.MembershipStatus.ACTIVE
    # The same labels again: nothing changed, nothing recorded.
    set_cohort(world, admin, coachee, "Sales", "Lyon", "")
    assert len(world.db.events) == 1
    # Another membership change carries the cohort too.
    change_roles(world, admin, coachee, "coachee", "coach")
    assert world.db.events[1].department == "Sales"


def test_only_an_admin_of_the_tenant_or_the_operator_sets_a_cohort() -> None:
    world = World()
    coach = claims_of(*world.person("coach@acme.test", "coach"))
    coachee_person, coachee = world.person(EMAIL, "coachee")
    refused("MEMBER_NOT_FOUND", set_cohort, world, coach, coachee, "Sales", "", "")
    own = claims_of(coachee_person, coachee)
    refused("TENANT_ADMIN_ONLY", set_cohort, world, own, coachee, "Sales", "", "")
    elsewhere = PersonClaims(
        "per_ff", "tnt_other", ("tenant_admin",), False, "tok", NOW, NOW + timedelta(1)
    )
    refused("TENANT_NOT_FOUND", set_cohort, world, elsewhere, coachee, "Sales", "", "")
    assert world.db.events == []
    operator = PersonClaims("per_op", None, (), True, "tok", NOW, NOW + timedelta(1))
    assert set_cohort(world, operator, coachee, "Sales", "", "").department == "Sales"


@pytest.mark.parametrize(
    ("field", "value"),
    [("department", "d" * 81), ("site", "Lyon\nParis"), ("programme", "tab\there")],
)
def test_a_bad_cohort_label_is_refused_naming_its_field(field: str, value: str) -> None:
    payload = {"tenant_id": "tnt_1", "member_id": "mem_1", field: value}
    with pytest.raises(ValidationError) as caught:
        c.SetMemberAttributesRequest.from_request(payload)
    assert [f.field for f in validation_error(caught.value).fields] == [field]
