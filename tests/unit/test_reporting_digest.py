"""The digest (domain/digest.py) and the webhook contracts: the headline of a month under the
disclosure rule (no number at all under five coachees), a payload of aggregates only, one slot
per period, and the receiver's address checked at the contracts layer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.contracts import reporting as c
from services.kernel.validation import validation_error
from services.kernel.webhooks import check_aggregates
from services.reporting.domain.digest import digest_payload, headline, slot_of
from services.reporting.domain.facts import Member, Session, Space, TenantFacts

T = "ten_1"
NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)


def facts(coachees: int, held_each: int = 1) -> TenantFacts:
    members = [Member(f"mem_{n}", T, f"per_{n}", ("coachee",), "active") for n in range(coachees)]
    spaces = [
        Space(f"spa_{n}", T, f"per_{n}", "active", 10, date(2026, 1, 5), None)
        for n in range(coachees)
    ]
    sessions = [
        Session(
            f"ses_{n}_{k}",
            T,
            f"spa_{n}",
            f"per_{n}",
            "held",
            NOW - timedelta(days=k + 1),
            False,
            True,
        )
        for n in range(coachees)
        for k in range(held_each)
    ]
    return TenantFacts(members=tuple(members), spaces=tuple(spaces), sessions=tuple(sessions))


def test_the_headline_of_six_coachees() -> None:
    summary = headline(facts(6, held_each=2), NOW)
    assert summary.month == "2026-02" and summary.disclosed
    assert summary.figures() == {
        "coachees": 6,
        "seats": 6,
        "active_coachees": 6,
        "sessions_held": 12,
    }


@pytest.mark.parametrize("coachees", [0, 1, 4])
def test_under_five_coachees_the_digest_has_no_number(coachees: int) -> None:
    summary = headline(facts(coachees), NOW)
    assert not summary.disclosed and summary.figures() == {}
    payload = digest_payload("dig_1", summary)
    assert payload == {"digest_id": "dig_1", "month": "2026-02", "disclosed": False, "min_group": 5}


def test_the_payload_is_aggregates_only() -> None:
    check_aggregates(digest_payload("dig_1", headline(facts(7), NOW)))


def test_one_slot_per_period() -> None:
    day = 86_400.0
    assert slot_of(NOW, day) == slot_of(NOW + timedelta(hours=11), day)
    assert slot_of(NOW, day) != slot_of(NOW + timedelta(hours=13), day)


def bad_url(url: str) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        c.CreateWebhookRequest(tenant_id="ten_1a", url=url)
    return {f.field for f in validation_error(caught.value).fields}


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://hooks.example.com/in",
        "hooks.example.com/in",
        "https:///in",
        "https://user:secret@hooks.example.com/in",
        "https://token@hooks.example.com/in",
        "https://hooks.example.com/in#frag",
        "https://hooks.example.com/a b",
        "https://hooks.example.com:99999/in",
        "https://hooks.example.com/" + "a" * 2000,
    ],
)
def test_a_bad_receiver_address_is_refused_on_url(url: str) -> None:
    assert bad_url(url) == {"url"}


def test_a_good_receiver_address_passes() -> None:
    request = c.CreateWebhookRequest(tenant_id="ten_1a", url="https://hooks.example.com/ecoach?x=1")
    assert request.url.startswith("https://")
