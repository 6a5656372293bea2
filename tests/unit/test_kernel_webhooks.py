"""Webhooks without a network or a database (ADR 0023): the signature and its verification, the
retry schedule, a delivery's states, what a payload may carry, and the poster's HTTP rules on a
mock transport (the deliverer on PostgreSQL with a real receiver:
tests/integration/test_kernel_webhooks.py)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.kernel.runtime.safe_http import IPAddress
from services.kernel.runtime.webhooks import Undeliverable, WebhookPoster
from services.kernel.webhooks import (
    Delivery,
    DeliveryState,
    InvalidSignature,
    NotAnAggregate,
    RetrySchedule,
    check_aggregates,
    delivery_body,
    new_delivery,
    new_secret,
    signature_header,
    verify,
)

NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
SECRET = "whsec_test-secret"

secrets_ = st.text(min_size=1, max_size=60)
bodies = st.binary(max_size=300)
instants = st.integers(min_value=1_000_000_000, max_value=4_000_000_000).map(
    lambda s: datetime.fromtimestamp(s, UTC)
)


# ---------------------------------------------------------------------------------- signatures


def test_the_header_is_t_then_v1_the_hmac_of_timestamp_dot_body() -> None:
    body = b'{"a":1}'
    header = signature_header(SECRET, body, NOW)
    t = int(NOW.timestamp())
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert header == f"t={t},v1={expected}"


@given(secrets_, bodies, instants)
def test_a_signature_verifies_with_the_same_secret_body_and_time(
    secret: str, body: bytes, at: datetime
) -> None:
    assert verify(secret, body, signature_header(secret, body, at), at) == int(at.timestamp())


@given(secrets_, secrets_, bodies, instants)
def test_another_secret_does_not_verify(secret: str, other: str, body: bytes, at: datetime) -> None:
    if other == secret:
        return
    with pytest.raises(InvalidSignature):
        verify(other, body, signature_header(secret, body, at), at)


@given(secrets_, bodies, bodies, instants)
def test_another_body_does_not_verify(secret: str, body: bytes, other: bytes, at: datetime) -> None:
    if other == body:
        return
    with pytest.raises(InvalidSignature):
        verify(secret, other, signature_header(secret, body, at), at)


@given(secrets_, bodies, instants, st.integers(min_value=1, max_value=10_000))
def test_a_changed_timestamp_does_not_verify(
    secret: str, body: bytes, at: datetime, shift: int
) -> None:
    header = signature_header(secret, body, at)
    t = int(at.timestamp())
    forged = header.replace(f"t={t},", f"t={t + shift},")
    with pytest.raises(InvalidSignature):
        verify(secret, body, forged, at + timedelta(seconds=shift))


@given(secrets_, bodies, instants, st.integers(min_value=301, max_value=10**7))
def test_stale_or_future_timestamps_are_refused(
    secret: str, body: bytes, at: datetime, late: int
) -> None:
    header = signature_header(secret, body, at)
    for now in (at + timedelta(seconds=late), at - timedelta(seconds=late)):
        with pytest.raises(InvalidSignature, match="tolerance"):
            verify(secret, body, header, now)


def test_the_tolerance_window_is_300_seconds_by_default_and_can_be_set() -> None:
    header = signature_header(SECRET, b"x", NOW)
    assert verify(SECRET, b"x", header, NOW + timedelta(seconds=300))
    with pytest.raises(InvalidSignature):
        verify(SECRET, b"x", header, NOW + timedelta(seconds=301))
    assert verify(SECRET, b"x", header, NOW + timedelta(seconds=600), timedelta(seconds=600))


def test_one_matching_v1_among_several_is_enough() -> None:
    header = signature_header(SECRET, b"x", NOW)
    t, v1 = header.split(",")
    assert verify(SECRET, b"x", f"{t},v1={'0' * 64},{v1}", NOW)


@pytest.mark.parametrize(
    "header",
    ["", "v1=abc", "t=1765013400", "t=abc,v1=00", "nonsense", "t=-5,v1=00", "t=1,t=2,v1=00"],
)
def test_malformed_headers_are_refused(header: str) -> None:
    with pytest.raises(InvalidSignature):
        verify(SECRET, b"x", header, NOW)


def test_secrets_are_32_random_bytes_with_a_prefix() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and len(first) == len("whsec_") + 43
    assert first != second


# ------------------------------------------------------------------------------ retry schedule


def test_the_schedule_backs_off_then_gives_up() -> None:
    schedule = RetrySchedule()
    middle = [schedule.next_attempt(n, NOW, lambda: 0.5) for n in range(1, 7)]
    assert middle == [
        NOW + timedelta(seconds=30),
        NOW + timedelta(minutes=2),
        NOW + timedelta(minutes=10),
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=6),
        None,
    ]
    assert schedule.max_attempts == 6


@given(st.integers(min_value=1, max_value=5), st.floats(min_value=0, max_value=0.999999))
def test_jitter_stays_within_ten_percent_of_the_delay(failed: int, random: float) -> None:
    schedule = RetrySchedule()
    delay = schedule.delays[failed - 1]
    at = schedule.next_attempt(failed, NOW, lambda: random)
    assert at is not None
    assert NOW + delay * 0.9 <= at <= NOW + delay * 1.1


# ---------------------------------------------------------------------------------- deliveries


def fresh() -> Delivery:
    return new_delivery("whd_1", "whs_1", "ten_1", "sessions_held.monthly", NOW)


def test_a_new_delivery_is_pending_and_due_now() -> None:
    delivery = fresh()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryState.PENDING,
        0,
        NOW,
    )


def test_a_2xx_marks_it_delivered() -> None:
    done = fresh().succeeded(204, NOW)
    assert (done.state, done.attempts, done.last_status, done.next_attempt_at) == (
        DeliveryState.DELIVERED,
        1,
        204,
        None,
    )
    assert done.delivered_at == NOW


def test_a_failure_schedules_a_retry_and_keeps_the_error_class_only() -> None:
    later = fresh().attempt_failed(500, "http_500", NOW, RetrySchedule(), lambda: 0.5)
    assert (later.state, later.attempts, later.last_status, later.last_error) == (
        DeliveryState.PENDING,
        1,
        500,
        "http_500",
    )
    assert later.next_attempt_at == NOW + timedelta(seconds=30)
    retried = later.succeeded(200, NOW + timedelta(seconds=30))
    assert (retried.state, retried.attempts, retried.last_error) == (
        DeliveryState.DELIVERED,
        2,
        None,
    )


def test_six_failures_fail_it_for_good() -> None:
    delivery, schedule = fresh(), RetrySchedule()
    for _ in range(schedule.max_attempts):
        assert delivery.state is DeliveryState.PENDING
        delivery = delivery.attempt_failed(None, "timeout", NOW, schedule, lambda: 0.5)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryState.FAILED,
        6,
        None,
    )


# ------------------------------------------------------------------------------------ payloads


@pytest.mark.parametrize(
    "payload",
    [
        {"period": "2026-11", "sessions_held": 42, "coachees": 12, "rate": 0.83},
        {"by_programme": [{"programme": "prg_1", "count": 7}], "suppressed": True, "x": None},
    ],
)
def test_aggregates_pass(payload: dict[str, object]) -> None:
    check_aggregates(payload)


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"note": "I felt tired today"}, "payload.note"),
        ({"goals": ["Speak up in meetings"]}, "payload.goals[0]"),
        ({"free text key": 1}, "payload"),
        ({"x": b"bytes"}, "payload.x"),
        ({"big": ["a" * 60] * 2000}, "larger than"),
    ],
)
def test_free_text_and_other_values_are_refused(payload: dict[str, object], where: str) -> None:
    with pytest.raises(NotAnAggregate, match=where.replace("[", r"\[").replace(".", r"\.")):
        check_aggregates(payload)


def test_the_body_is_canonical_json_with_the_delivery_id_kind_and_tenant() -> None:
    body = delivery_body("whd_1", "sessions_held.monthly", "ten_1", NOW, {"b": 1, "a": 2})
    assert body == (
        b'{"created_at":"2026-12-06T09:30:00+00:00","data":{"a":2,"b":1},'
        b'"id":"whd_1","kind":"sessions_held.monthly","tenant_id":"ten_1"}'
    )


# ------------------------------------------------------------------------------------- posting

PUBLIC = "93.184.216.34"


def resolver(host: str, port: int) -> list[IPAddress]:
    return [ip_address({"hooks.example.org": PUBLIC, "inside.example.org": "10.0.0.7"}[host])]


def poster(answer: httpx.Response, seen: list[httpx.Request], **options: object) -> WebhookPoster:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    return WebhookPoster(
        resolver=resolver,
        transport=httpx.MockTransport(handle),
        **options,  # type: ignore[arg-type]
    )


def test_the_poster_sends_to_the_checked_address_with_the_headers() -> None:
    seen: list[httpx.Request] = []
    status = poster(httpx.Response(202), seen).post(
        "https://hooks.example.org/in", b"{}", {"ecoach-delivery-id": "whd_1"}
    )
    assert status == 202
    (request,) = seen
    assert (request.method, request.url.host, request.headers["Host"]) == (
        "POST",
        PUBLIC,
        "hooks.example.org",
    )
    assert request.headers["ecoach-delivery-id"] == "whd_1" and request.content == b"{}"


def test_a_redirect_is_an_answer_not_followed() -> None:
    seen: list[httpx.Request] = []
    redirect = httpx.Response(302, headers={"Location": "http://169.254.169.254/"})
    assert poster(redirect, seen).post("https://hooks.example.org/in", b"{}", {}) == 302
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("url", "options", "error"),
    [
        ("http://hooks.example.org/in", {}, "refused_unsafe"),  # https only by default
        ("https://inside.example.org/in", {}, "refused_unsafe"),
        ("https://hooks.example.org:8443/in", {}, "refused_unsafe"),
        ("https://user:pw@hooks.example.org/in", {}, "refused_unsafe"),
        ("http://inside.example.org/in", {"https_only": False}, "refused_unsafe"),
    ],
)
def test_unsafe_receivers_are_refused_before_any_request(
    url: str, options: dict[str, object], error: str
) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(Undeliverable) as refused:
        poster(httpx.Response(200), seen, **options).post(url, b"{}", {})
    assert refused.value.error == error and seen == []


@pytest.mark.parametrize(
    ("failure", "error"),
    [(httpx.ConnectTimeout("slow"), "timeout"), (httpx.ConnectError("refused"), "unreachable")],
)
def test_transport_failures_have_an_error_class(failure: Exception, error: str) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    sender = WebhookPoster(resolver=resolver, transport=httpx.MockTransport(fail))
    with pytest.raises(Undeliverable) as failed:
        sender.post("https://hooks.example.org/in", b"{}", {})
    assert failed.value.error == error


# ------------------------------------------------------------------ the receivers' documentation


def documented_verifier() -> Any:
    """The first Python snippet of docs/api/webhooks.md, which receivers copy."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "api" / "webhooks.md").read_text()
    snippet = page.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict[str, Any] = {}
    exec(compile(snippet, "docs/api/webhooks.md", "exec"), scope)  # noqa: S102 (our own docs)
    return scope["verify_ecoach_webhook"]


@given(secrets_, bodies, instants)
def test_the_documented_receiver_snippet_agrees_with_the_kernel(
    secret: str, body: bytes, at: datetime
) -> None:
    check = documented_verifier()
    header = signature_header(secret, body, at)
    now = at.timestamp()
    assert check(secret, body, header, now)
    assert not check(secret + "x", body, header, now)
    assert not check(secret, body + b" ", header, now)
    assert not check(secret, body, header, now + 301)
    assert not check(secret, body, header.replace("t=", "t=1"), now)
