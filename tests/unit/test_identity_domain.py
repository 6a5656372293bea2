"""Identity's domain rules, without broker or database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.identity.domain import access
from services.identity.domain.model import (
    ACTIVE,
    DEACTIVATED,
    ERASED,
    PENDING,
    MemberSearch,
    Membership,
    Person,
    Tenant,
    check_cohort_label,
    check_email,
    check_roles,
    check_slug,
    check_time_zone,
    normalize_email,
    search_key,
)
from services.kernel.caller import ANONYMOUS, PersonClaims
from services.kernel.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def claims(
    tenant_id: str | None, roles: tuple[str, ...] = (), operator: bool = False
) -> PersonClaims:
    return PersonClaims(
        person_id="per_aa",
        tenant_id=tenant_id,
        roles=roles,
        platform_admin=operator,
        token_id="t",
        issued_at=NOW,
        expires_at=NOW + timedelta(minutes=10),
    )


def person(email: str = "Ada@Example.com") -> Person:
    return Person.create(
        email=email, display_name="Ada", locale="en", time_zone="Europe/Paris", now=NOW
    )


def test_emails_are_unique_whatever_their_case() -> None:
    assert normalize_email(" Ada@EXAMPLE.com ") == normalize_email("ada@example.com")
    assert person("ADA@example.com").email_key == person("ada@EXAMPLE.COM").email_key


@pytest.mark.parametrize(
    "bad",
    ["", "ada", "ada@", "@example.com", "a b@example.com", "a@b@c.com", "x@erased.INVALID"],
)
def test_malformed_emails_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        check_email(bad)
    assert [f.field for f in raised.value.fields] == ["email"]


@pytest.mark.parametrize("slug", ["acme", "acme-2", "a1"])
def test_good_slugs(slug: str) -> None:
    assert check_slug(slug) == slug


@pytest.mark.parametrize("slug", ["-acme", "acme-", "Acme", "a", "ac me", "x" * 41])
def test_bad_slugs(slug: str) -> None:
    with pytest.raises(InvalidArgument):
        check_slug(slug)


def test_time_zones_are_iana_names() -> None:
    assert check_time_zone("America/New_York") == "America/New_York"
    with pytest.raises(InvalidArgument):
        check_time_zone("Mars/Olympus_Mons")


def test_roles_are_deduplicated_and_checked() -> None:
    assert check_roles(["coach", "coach", "coachee"]) == ("coach", "coachee")
    with pytest.raises(InvalidArgument):
        check_roles([])
    with pytest.raises(InvalidArgument):
        check_roles(["platform_admin"])  # a flag on the person, never a membership role


def test_tenant_needs_a_name() -> None:
    with pytest.raises(InvalidArgument):
        Tenant.create("  ", "acme", NOW)


def test_a_new_person_is_active_at_once_an_existing_one_is_pending() -> None:
    p = person()
    assert Membership.for_new_person("tnt_1", p, p.email, ("coachee",), NOW).status == ACTIVE
    assert Membership.pending_for("tnt_1", p, p.email, ("coachee",), NOW).status == PENDING


def test_accepting_activates_a_pending_membership() -> None:
    m = Membership.pending_for("tnt_1", person(), "ada@example.com", ("coach",), NOW)
    m.accept(NOW)
    assert m.status == ACTIVE and m.accepted_at == NOW


def test_reactivating_never_skips_the_persons_acceptance() -> None:
    m = Membership.pending_for("tnt_1", person(), "ada@example.com", ("coach",), NOW)
    m.deactivate(NOW)
    assert m.status == DEACTIVATED
    with pytest.raises(FailedPrecondition):
        m.accept(NOW)
    m.reactivate(NOW)
    assert m.status == PENDING


def test_deactivation_is_idempotent_and_blocks_role_changes() -> None:
    m = Membership.for_new_person("tnt_1", person(), "ada@example.com", ("coach",), NOW)
    m.deactivate(NOW)
    m.deactivate(NOW)
    with pytest.raises(FailedPrecondition):
        m.change_roles(("coachee",), NOW)
    m.reactivate(NOW)
    m.change_roles(("coachee",), NOW + timedelta(seconds=1))
    assert m.roles == ("coachee",) and m.status == ACTIVE


def test_erasing_a_person_leaves_no_address_name_or_password() -> None:
    p = person("Ada.Lovelace@Example.com")
    p.password_hash = "$argon2id$..."
    p.calendar_email = "ada.calendar@example.com"
    later = NOW + timedelta(days=1)
    p.erase(later)
    assert (p.display_name, p.password_hash, p.erased_at) == ("", None, later)
    assert p.calendar_email is None
    assert p.email == f"erased-{p.id}@erased.invalid"
    # Neither part of the address survives (a hex id never holds "." nor "example").
    assert "ada.lovelace" not in p.email_key and "example" not in p.email_key
    with pytest.raises(InvalidArgument):  # nobody can invite or reset the placeholder
        check_email(p.email)
    with pytest.raises(FailedPrecondition) as twice:
        p.erase(later)
    assert twice.value.reason == "ALREADY_ERASED"


def test_an_operator_account_is_not_erased() -> None:
    p = Person.create(
        email="op@example.com",
        display_name="Op",
        locale="en",
        time_zone="UTC",
        now=NOW,
        platform_admin=True,
    )
    with pytest.raises(FailedPrecondition) as refused:
        p.erase(NOW)
    assert refused.value.reason == "OPERATOR_ACCOUNT" and p.email == "op@example.com"


def test_an_erased_membership_is_final() -> None:
    m = Membership.for_new_person("tnt_1", person(), "ada@example.com", ("coach",), NOW)
    before = m.snapshot()
    m.erase("erased-x@erased.invalid", NOW)
    assert m.status == ERASED and m.change_since(before) == "erased"
    for attempt in (
        lambda: m.reactivate(NOW),
        lambda: m.deactivate(NOW),
        lambda: m.accept(NOW),
        lambda: m.change_roles(("coachee",), NOW),
        lambda: m.set_cohort("Sales", None, None, NOW),
    ):
        with pytest.raises(FailedPrecondition) as refused:
            attempt()
        assert refused.value.reason == "MEMBERSHIP_ERASED"
    assert m.status == ERASED and m.invited_email == "erased-x@erased.invalid"


def test_only_an_operator_token_reaches_platform_methods() -> None:
    access.require_operator(claims(None, operator=True))
    with pytest.raises(PermissionDenied):
        access.require_operator(claims("tnt_1", ("tenant_admin",)))
    with pytest.raises(PermissionDenied):
        # an operator who entered a tenant holds a tenant token, not an operator one
        access.require_operator(claims("tnt_1", ("tenant_admin",), operator=True))
    with pytest.raises(Unauthenticated):
        access.require_operator(ANONYMOUS)


def test_another_tenant_is_not_found_not_forbidden() -> None:
    with pytest.raises(NotFound):
        access.require_tenant_visible(claims("tnt_other", ("tenant_admin",)), "tnt_1")
    access.require_tenant_visible(claims(None, operator=True), "tnt_1")


def membership(roles: tuple[str, ...], status: str = ACTIVE) -> Membership:
    m = Membership.for_new_person("tnt_1", person(), "ada@example.com", roles, NOW)
    m.status = status
    return m


def test_powers_come_from_the_stored_membership_not_the_tokens_claims() -> None:
    token_says_admin = claims("tnt_1", ("tenant_admin",))
    access.Standing(token_says_admin, membership(("tenant_admin",))).require_admin()
    with pytest.raises(PermissionDenied) as demoted:
        access.Standing(token_says_admin, membership(("coach",))).require_admin()
    assert demoted.value.reason == "TENANT_ADMIN_ONLY"
    with pytest.raises(PermissionDenied) as deactivated:
        access.Standing(
            token_says_admin, membership(("tenant_admin",), DEACTIVATED)
        ).require_admin()
    assert deactivated.value.reason == "MEMBERSHIP_INACTIVE"
    with pytest.raises(PermissionDenied):
        access.Standing(token_says_admin, None).require_admin()
    access.Standing(claims(None, operator=True), None).require_admin()


def test_a_member_reads_their_own_membership_and_admins_read_everyone() -> None:
    coach = access.Standing(claims("tnt_1", ("coach",)), membership(("coach",)))
    assert coach.may_read_member("per_aa")
    assert not coach.may_read_member("per_bb")
    admin = access.Standing(claims("tnt_1", ("tenant_admin",)), membership(("tenant_admin",)))
    assert admin.may_read_member("per_bb")
    gone = access.Standing(
        claims("tnt_1", ("tenant_admin",)), membership(("tenant_admin",), PENDING)
    )
    assert not gone.may_read_member("per_bb")


def test_each_membership_change_is_named_once_and_no_op_changes_are_not() -> None:
    m = Membership.pending_for("tnt_1", person(), "ada@example.com", ("coach",), NOW)
    before = m.snapshot()
    m.accept(NOW)
    assert m.change_since(before) == "accepted"
    before = m.snapshot()
    m.accept(NOW)  # accepting again changes nothing
    assert m.change_since(before) is None
    before = m.snapshot()
    m.change_roles(("coach", "coachee"), NOW)
    assert m.change_since(before) == "roles_changed"
    before = m.snapshot()
    m.change_roles(("coachee", "coach"), NOW)  # the same set, checked and ordered
    assert m.change_since(before) is None
    before = m.snapshot()
    m.deactivate(NOW)
    assert m.change_since(before) == "deactivated"
    before = m.snapshot()
    m.deactivate(NOW)
    assert m.change_since(before) is None
    before = m.snapshot()
    m.reactivate(NOW)
    assert m.change_since(before) == "reactivated"
    before = m.snapshot()
    m.set_cohort("Sales", "Lyon", None, NOW)
    assert m.change_since(before) == "attributes_changed"
    before = m.snapshot()
    m.set_cohort("Sales", "Lyon", None, NOW)  # the same labels again
    assert m.change_since(before) is None


def test_cohort_labels_are_trimmed_empty_is_unset_and_81_characters_are_refused() -> None:
    assert check_cohort_label("  Sales  ", "department") == "Sales"
    assert check_cohort_label("   ", "site") is None
    assert check_cohort_label("p" * 80, "programme") == "p" * 80
    with pytest.raises(InvalidArgument) as refused:
        check_cohort_label("p" * 81, "programme")
    assert [f.field for f in refused.value.fields] == ["programme"]


def test_a_deactivated_membership_keeps_its_cohort_and_erasure_clears_it() -> None:
    m = Membership.for_new_person("tnt_1", person(), "ada@example.com", ("coachee",), NOW)
    m.set_cohort("Sales", "Lyon", "Leaders", NOW)
    m.deactivate(NOW)
    m.set_cohort("Sales", "Paris", "Leaders", NOW)  # HR may still correct it
    assert m.cohort == ("Sales", "Paris", "Leaders")
    m.erase("erased-x@erased.invalid", NOW)
    assert m.cohort == (None, None, None)


def test_a_person_edits_only_their_name_language_and_time_zone() -> None:
    p = person()
    p.update_profile({"display_name": "  Ada L.  ", "time_zone": "Asia/Tokyo"}, NOW)
    assert (p.display_name, p.time_zone, p.locale) == ("Ada L.", "Asia/Tokyo", "en")
    for bad in ({"locale": "de"}, {"time_zone": "Mars/Olympus"}, {"display_name": "x" * 201}):
        with pytest.raises(InvalidArgument) as caught:
            p.update_profile(bad, NOW)
        assert [f.field for f in caught.value.fields] == list(bad)
    assert (p.display_name, p.time_zone, p.locale) == ("Ada L.", "Asia/Tokyo", "en")


def test_tenant_settings_are_checked_and_seats_are_counted() -> None:
    t = Tenant.create("Acme", "acme", NOW)
    t.update_settings({"default_locale": "fr", "default_time_zone": "Europe/Paris"})
    assert (t.default_locale, t.default_time_zone) == ("fr", "Europe/Paris")
    t.update_settings({"mfa_required_roles": ["coach", "tenant_admin", "coach"]})
    assert sorted(t.mfa_required_roles) == ["coach", "tenant_admin"]
    for bad in ({"default_locale": "de"}, {"default_time_zone": "x/y"}, {"seats": -1}):
        with pytest.raises(InvalidArgument):
            t.update_settings(bad)
    t.check_seat_for_one_more(10_000)  # no limit by default
    t.update_settings({"seats": 2})
    t.check_seat_for_one_more(1)
    with pytest.raises(FailedPrecondition) as full:
        t.check_seat_for_one_more(2)
    assert full.value.reason == "SEATS_EXHAUSTED"


def test_suspending_a_tenant_is_idempotent_and_reversible() -> None:
    t = Tenant.create("Acme", "acme", NOW)
    t.suspend(NOW)
    t.suspend(NOW + timedelta(hours=1))
    assert t.is_suspended and t.suspended_at == NOW
    t.reinstate()
    assert not t.is_suspended and t.suspended_at is None


def test_a_search_key_drops_case_accents_and_word_breaks() -> None:
    assert search_key("Éloïse  D'Arc-Martin") == "eloise d arc martin"
    assert search_key("Straße\u2019s") == "strasse s"
    assert search_key(" - ") == ""
    found = MemberSearch.of("  Élo ", role="coach")
    assert (found.email_prefix, found.name_prefix, found.role) == ("élo", "elo", "coach")
    assert MemberSearch.of("") == MemberSearch()
