"""Sign-in throttling rules and who the caller is, network-wise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.api.peers import client_address, parse_proxies, peer_address
from services.identity.adapters.passwords import Passwords
from services.identity.domain.throttle import (
    Counter,
    Limit,
    ThrottlePolicy,
    account_key,
    pair_key,
    refund,
    reserve,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
POLICY = ThrottlePolicy()


def failed(times: int, limit: Limit, start: datetime = NOW) -> Counter:
    counter = Counter("k", 0, start)
    for _ in range(times):
        counter.fail(start, limit, POLICY.window)
    return counter


def test_a_source_gets_its_free_failures_then_waits_that_double_up_to_the_cap() -> None:
    assert failed(5, POLICY.pair).wait(NOW) == timedelta(0)
    assert failed(6, POLICY.pair).wait(NOW) == timedelta(seconds=2)
    assert failed(7, POLICY.pair).wait(NOW) == timedelta(seconds=4)
    assert failed(40, POLICY.pair).wait(NOW) == timedelta(minutes=15)


def test_the_account_ceiling_slows_and_never_locks() -> None:
    assert failed(20, POLICY.account).wait(NOW) == timedelta(0)
    assert failed(21, POLICY.account).wait(NOW) == timedelta(seconds=1)
    assert failed(1000, POLICY.account).wait(NOW) == timedelta(seconds=30)


def test_a_new_window_starts_counting_again_and_a_wait_runs_out() -> None:
    counter = failed(6, POLICY.pair)
    assert counter.wait(NOW + timedelta(seconds=2)) == timedelta(0)
    counter.fail(NOW + POLICY.window, POLICY.pair, POLICY.window)
    assert (counter.failures, counter.wait(NOW + POLICY.window)) == (1, timedelta(0))


def test_a_reserved_attempt_counts_at_once_and_a_refund_gives_it_back() -> None:
    counter = failed(5, POLICY.pair)
    reservation = reserve(counter, NOW, POLICY.pair, POLICY.window)
    assert counter.failures == 6 and counter.wait(NOW) == timedelta(seconds=2)
    refund(counter, reservation)
    assert counter.failures == 5 and counter.wait(NOW) == timedelta(0)


def test_a_refund_keeps_a_wait_a_later_attempt_set() -> None:
    counter = failed(5, POLICY.pair)
    mine = reserve(counter, NOW, POLICY.pair, POLICY.window)
    reserve(counter, NOW + timedelta(seconds=1), POLICY.pair, POLICY.window)  # a guess after it
    refund(counter, mine)
    assert counter.failures == 6
    assert counter.wait(NOW + timedelta(seconds=1)) == timedelta(seconds=4)


def test_keys_are_hashes_that_keep_no_email_or_address() -> None:
    pair, account = pair_key("ana@example.test", "203.0.113.7"), account_key("ana@example.test")
    assert "ana" not in pair + account and "203" not in pair
    assert pair != pair_key("ana@example.test", "203.0.113.8")
    assert len(pair) <= 48 and len(account) <= 48


def test_an_unknown_account_verifies_a_dummy_hash_like_a_wrong_password() -> None:
    calls: list[str] = []

    def recording(fn, *args):  # type: ignore[no-untyped-def]
        calls.append(fn.__name__)
        return fn(*args)

    passwords = Passwords(run=recording)
    real = passwords.hash("the right password 1")
    calls.clear()
    assert passwords.verify(None, "whatever it is") is False
    assert passwords.verify(real, "a wrong password 2") is False
    assert calls == ["verify", "verify"]  # the same argon2 work in both cases


def test_the_peer_is_the_client_unless_it_is_a_trusted_proxy() -> None:
    proxies = parse_proxies("127.0.0.1, 10.0.0.0/8")
    assert peer_address("ipv4:192.0.2.1:5000") == "192.0.2.1"
    assert peer_address("ipv6:[2001:db8::1]:5000") == "2001:db8::1"
    # Untrusted peer: its x-forwarded-for is ignored.
    assert client_address("ipv4:192.0.2.1:5000", ["203.0.113.7"], proxies) == "192.0.2.1"
    assert client_address("ipv4:192.0.2.1:5000", ["203.0.113.7"], ()) == "192.0.2.1"
    # Trusted: the right-most address that is not one of ours.
    forwarded = ["198.51.100.9, 203.0.113.7", "10.1.2.3"]
    assert client_address("ipv4:127.0.0.1:5000", forwarded, proxies) == "203.0.113.7"
    assert client_address("ipv4:127.0.0.1:5000", [], proxies) == "127.0.0.1"
    assert client_address("ipv4:127.0.0.1:5000", ["not-an-ip"], proxies) == "127.0.0.1"
