"""The kernel's rules for outgoing HTTP to typed URLs (runtime/safe_http.py): which addresses are
refused, which schemes, credentials and ports; the pinned request. Used by the link checker
(tests/unit/test_content_link_check.py) and the webhook deliverer (test_kernel_webhooks*.py)."""

from __future__ import annotations

from ipaddress import ip_address

import httpx
import pytest

from services.kernel.runtime.safe_http import (
    AddressPolicy,
    IPAddress,
    Unresolved,
    Unsafe,
    pinned_client,
    pinned_request,
    refusal,
)

PUBLIC = "93.184.216.34"

REFUSED = [
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "100.64.0.1",
    "127.0.0.1",
    "127.0.0.2",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.254",
    "192.0.0.1",
    "192.0.2.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.1",
    "203.0.113.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::127.0.0.1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",
    "64:ff9b::7f00:1",
    "64:ff9b:1::1",
    "100::1",
    "2001::1",
    "2001:db8::1",
    "2002:a00:1::1",
    "2002:7f00:1::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "3fff::1",
]
ALLOWED = [
    PUBLIC,
    "1.1.1.1",
    "8.8.8.8",
    "2606:4700:4700::1111",
    "2a00:1450:4007:80c::200e",
    "::ffff:8.8.8.8",
    "2002:808:808::1",
    "64:ff9b::808:808",
]


@pytest.mark.parametrize("address", REFUSED)
def test_addresses_that_are_not_public_unicast_are_refused(address: str) -> None:
    assert refusal(ip_address(address)) is not None


@pytest.mark.parametrize("address", ALLOWED)
def test_public_unicast_addresses_are_allowed(address: str) -> None:
    assert refusal(ip_address(address)) is None


def test_a_refusal_says_which_address_and_why() -> None:
    assert refusal(ip_address("169.254.169.254")) == "169.254.169.254 is a link-local address"
    why = refusal(ip_address("::ffff:10.0.0.1"))
    assert why is not None and why.startswith("::ffff:a00:1 leads to 10.0.0.1: ")


def resolver(names: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def answer(host: str, port: int) -> list[IPAddress]:
        return [ip_address(a) for a in names.get(host, [])]

    return answer


def test_an_https_only_policy_refuses_plain_http() -> None:
    policy = AddressPolicy(schemes={"https"}, resolver=resolver({}))
    with pytest.raises(Unsafe, match="only https URLs"):
        policy.target("http://hooks.example.org/in")
    assert policy.target("https://hooks.example.org/in").port == 443


def test_any_inside_address_among_the_names_addresses_refuses_it() -> None:
    policy = AddressPolicy(resolver=resolver({"hooks.example.org": [PUBLIC, "10.1.2.3"]}))
    with pytest.raises(Unsafe, match=r"10\.1\.2\.3 is a private address"):
        policy.address(policy.target("https://hooks.example.org/in"))


def test_a_name_without_addresses_is_unresolved() -> None:
    policy = AddressPolicy(resolver=resolver({}))
    with pytest.raises(Unresolved):
        policy.address(policy.target("https://nowhere.example.org/"))


def test_the_allow_list_lifts_the_address_and_port_rules_for_its_networks_only() -> None:
    names = {"a.test": ["127.0.0.1"], "b.test": ["127.0.0.2"]}
    policy = AddressPolicy(resolver=resolver(names), allow=["127.0.0.1/32"])
    assert policy.address(policy.target("http://a.test:8080/")) == ip_address("127.0.0.1")
    with pytest.raises(Unsafe, match="loopback"):
        policy.address(policy.target("http://b.test:8080/"))


def test_a_pinned_request_goes_to_the_address_with_the_urls_name() -> None:
    policy = AddressPolicy(resolver=resolver({"hooks.example.org": [PUBLIC]}))
    target = policy.target("https://hooks.example.org/in?x=1")
    with pinned_client(None) as client:
        request = pinned_request(
            client, "POST", target, policy.address(target), httpx.Timeout(1.0), content=b"{}"
        )
    assert str(request.url) == f"https://{PUBLIC}/in?x=1"
    assert request.headers["Host"] == "hooks.example.org"
    assert request.extensions["sni_hostname"] == "hooks.example.org"
    assert not client.follow_redirects and not client.trust_env
