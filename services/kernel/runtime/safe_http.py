"""Outgoing HTTP to a URL someone typed, without letting it reach inside (ADR 0016, ADR 0023).

A URL typed by a person (a library resource's link, a tenant's webhook receiver) and fetched by a
service is a server-side request forgery waiting to happen: a way to make ecoach's own network
answer (the cloud metadata service at 169.254.169.254, an admin page on 10.x, a database on
localhost). Every request to such a URL goes through an `AddressPolicy` and a pinned request:

1. `AddressPolicy.target(url)` accepts the policy's schemes only (http and https, or https only),
   without credentials;
2. `AddressPolicy.address(target)` resolves the host itself and refuses the URL if **any**
   address it resolves to is not a public unicast address (`refusal`): private, loopback,
   link-local, shared (CGNAT), multicast, reserved, unspecified, documentation and benchmark
   ranges, IPv6 unique-local and site-local, and IPv6 addresses that embed an IPv4 one (mapped,
   6to4, NAT64, Teredo) unless that IPv4 address is public; and refuses ports other than the
   web's (80 and 443: other ports are how a public host's private services are probed);
3. `pinned_request` connects to the address it checked, never resolving again (no DNS rebinding
   between the check and the connection): the request goes to the IP, with the `Host` header and
   the TLS server name (SNI, and the certificate's check) of the name in the URL;
4. `pinned_client` never follows redirects (a caller that follows one checks it again from 1) and
   takes no proxy from the environment (it would resolve the name again).

`allow` (networks whose addresses skip 2's address and port rules) exists for the tests, which
serve pages on 127.0.0.1: no setting reaches it, and no service passes it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import httpx

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Resolver = Callable[[str, int], list[IPAddress]]

WEB_PORTS = frozenset({80, 443})
WEB_SCHEMES = frozenset({"http", "https"})

# Besides what `ipaddress` flags (private, loopback, link-local, multicast, reserved,
# unspecified, not global), ranges that some Python versions count as global.
_REFUSED_NETWORKS: tuple[tuple[Network, str], ...] = tuple(
    (ip_network(net), why)
    for net, why in (
        ("0.0.0.0/8", "'this network'"),
        ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("198.18.0.0/15", "a benchmarking range"),
        ("::/96", "an IPv4-compatible IPv6 address"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "a discard-only range"),
        ("3fff::/20", "an IPv6 documentation range"),
        ("5f00::/16", "an SRv6 segment identifier"),
        ("fec0::/10", "site-local IPv6"),
    )
)
_NAT64 = ip_network("64:ff9b::/96")


def refusal(address: IPAddress) -> str | None:
    """Why a service may not connect to `address` (None: a public unicast address)."""
    if isinstance(address, IPv6Address):
        if address.teredo:
            return f"{address} is a Teredo tunnel address"
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = refusal(embedded)
            return f"{address} leads to {embedded}: {inner}" if inner else None
    for flagged, what in (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
    ):
        if flagged:
            return f"{address} is {what}"
    for network, why in _REFUSED_NETWORKS:
        if address.version == network.version and address in network:
            return f"{address} is in {why}"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the name resolves to (an IP literal gives itself)."""
    found: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ip_address(str(sockaddr[0]).split("%", 1)[0])  # no IPv6 zone
        if address not in found:
            found.append(address)
    return found


class Unsafe(Exception):
    """The URL is refused by the rules (the message says why, in English, for logs and owners)."""


class Unresolved(Exception):
    """The URL's name resolves to no address."""


@dataclass(frozen=True)
class Target:
    url: httpx.URL
    host: str  # ASCII (IDNA), without brackets
    port: int


class AddressPolicy:
    """Which URLs a service may ask, and at which address (steps 1 and 2 of the module's rules)."""

    def __init__(
        self,
        *,
        schemes: Iterable[str] = WEB_SCHEMES,
        resolver: Resolver = resolve,
        allow: Iterable[str | Network] = (),
    ) -> None:
        self.schemes = frozenset(schemes)
        self._resolver = resolver
        self._allow = tuple(ip_network(net) for net in allow)  # tests only (module docstring)

    def target(self, url: str) -> Target:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise Unsafe(f"not a valid URL: {error}") from None
        if parsed.scheme not in self.schemes or not parsed.raw_host:
            raise Unsafe(f"only {' and '.join(sorted(self.schemes))} URLs are accepted")
        if parsed.userinfo:
            raise Unsafe("a URL with credentials in it is refused")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        return Target(parsed, parsed.raw_host.decode("ascii"), port)

    def address(self, target: Target) -> IPAddress:
        """The checked address to connect to: every address the name resolves to must pass."""
        try:
            addresses = self._resolver(target.host, target.port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise Unresolved(f"{target.host} does not resolve")
        for address in addresses:
            if self._allowed(address):
                continue
            why = refusal(address)
            if why:
                raise Unsafe(f"{target.host}: {why}")
            if target.port not in WEB_PORTS:
                raise Unsafe("only ports 80 and 443 are accepted")
        return addresses[0]

    def _allowed(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self._allow)


def pinned_client(
    transport: httpx.BaseTransport | None, headers: Mapping[str, str] | None = None
) -> httpx.Client:
    """A client for one job. Not pooled across names: a connection opened for one name must not
    serve another name that resolves to the same address (its TLS server name would be the
    first's)."""
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        trust_env=False,  # no proxy from the environment: it would resolve the name again
        headers=dict(headers or {}),
    )


def pinned_request(
    client: httpx.Client,
    method: str,
    target: Target,
    address: IPAddress,
    timeout: httpx.Timeout,
    *,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Request:
    """A request to the checked address; `Host` and the TLS server name stay the URL's."""
    return client.build_request(
        method,
        target.url.copy_with(host=str(address)),
        headers={**(headers or {}), "Host": target.url.netloc.decode("ascii")},
        content=content,
        timeout=timeout,
        extensions=({"sni_hostname": target.host} if target.url.scheme == "https" else {}),
    )
