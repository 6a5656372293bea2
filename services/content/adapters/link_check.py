"""Checking a library resource's link, without letting a link reach inside (ADR 0016).

A resource's URL is typed by a coach, a tenant admin or an operator, and the content service
fetches it: without care, that is a server-side request forgery, a way to make ecoach's own
network answer (the cloud metadata service at 169.254.169.254, an admin page on 10.x, a
database on localhost). So `LinkChecker.check(url)`, at the first request and at every redirect:

1. accepts `http` and `https` URLs only, without credentials, on the web's ports only (80 and
   443: a link to an article needs no other, and other ports are how a public host's private
   services are probed);
2. resolves the host itself and refuses the link if **any** address it resolves to is not a
   public unicast address (`refusal`): private, loopback, link-local, shared (CGNAT), multicast,
   reserved, unspecified, documentation and benchmark ranges, IPv6 unique-local and site-local,
   and IPv6 addresses that embed an IPv4 one (mapped, 6to4, NAT64, Teredo) unless that IPv4
   address is public;
3. connects to the address it checked, never resolving again (no DNS rebinding between the check
   and the connection): the request goes to the IP, with the `Host` header and the TLS server name
   (SNI, and the certificate's check) of the name in the link;
4. follows at most 5 redirects, itself, each one checked again from step 1;
5. asks with HEAD first and with GET when HEAD fails (some servers refuse HEAD); a GET reads at
   most `max_bytes` of the body and stops;
6. bounds the time: connect and read timeouts for each request, and a total time for the whole
   check, redirects included.

The result (`LinkCheck`) says `ok`, `broken` (with the HTTP status), `unreachable` (no such
name, connection refused or reset, TLS failure), `refused_unsafe` (the rules above), `too_large`
(it answers, with more than `max_bytes`: not read further; the link works) or `timeout`, and
when it was checked.

`allow` (networks whose addresses skip steps 1's port rule and 2) exists for the tests, which
serve pages on 127.0.0.1: no setting reaches it, and the service never passes it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import httpx

from services.kernel.clock import Clock, SystemClock

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Resolver = Callable[[str, int], list[IPAddress]]

WEB_PORTS = frozenset({80, 443})
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "ecoach-link-checker/1.0"

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
    """Why the link checker may not connect to `address` (None: a public unicast address)."""
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


class LinkStatus(StrEnum):
    OK = "ok"
    BROKEN = "broken"
    UNREACHABLE = "unreachable"
    REFUSED_UNSAFE = "refused_unsafe"
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class LinkCheck:
    """One check of one link. `http_status` is the last answer's status (None when there was
    none); `final_url` the URL that answered, after redirects; `detail` says why, in English,
    for the owner and the logs."""

    url: str
    status: LinkStatus
    checked_at: datetime
    http_status: int | None = None
    final_url: str | None = None
    redirects: int = 0
    detail: str = ""

    @property
    def works(self) -> bool:
        return self.status in (LinkStatus.OK, LinkStatus.TOO_LARGE)


class _Stop(Exception):
    """The check ends with this status (raised inside, never out of `check`)."""

    def __init__(self, status: LinkStatus, detail: str, http_status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.http_status = http_status


@dataclass(frozen=True)
class _Target:
    url: httpx.URL
    host: str  # ASCII (IDNA), without brackets
    port: int


class LinkChecker:
    def __init__(
        self,
        *,
        clock: Clock | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        total_timeout: float = 20.0,
        max_bytes: int = 256 * 1024,
        resolver: Resolver = resolve,
        transport: httpx.BaseTransport | None = None,
        allow: Iterable[str | Network] = (),
    ) -> None:
        self._clock = clock or SystemClock()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._total_timeout = total_timeout
        self._max_bytes = max_bytes
        self._resolver = resolver
        self._transport = transport
        self._allow = tuple(ip_network(net) for net in allow)  # tests only (module docstring)

    def check(self, url: str) -> LinkCheck:
        checked_at = self._clock.now()
        deadline = time.monotonic() + self._total_timeout
        current, redirects = url, 0
        try:
            with self._client() as client:
                while True:
                    status, location = self._hop(client, current, deadline)
                    if location is None:
                        return LinkCheck(url, LinkStatus.OK, checked_at, status, current, redirects)
                    if redirects == MAX_REDIRECTS:
                        too_many = f"more than {MAX_REDIRECTS} redirects"
                        raise _Stop(LinkStatus.BROKEN, too_many, status)
                    redirects += 1
                    current = location
        except _Stop as stop:
            return LinkCheck(
                url, stop.status, checked_at, stop.http_status, current, redirects, stop.detail
            )

    # ------------------------------------------------------------------------------ a hop

    def _client(self) -> httpx.Client:
        # A client per check: a pooled connection opened for one name must not serve another
        # name that resolves to the same address (its TLS server name would be the first's).
        return httpx.Client(
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: it would resolve the name again
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        )

    def _hop(self, client: httpx.Client, url: str, deadline: float) -> tuple[int, str | None]:
        """Ask one URL: its status, and where it redirects (None when it does not)."""
        target = self._target(url)
        address = self._safe_address(target)
        status, location = self._ask(client, "HEAD", target, address, deadline)
        if status >= 400:  # some servers refuse HEAD, or answer it wrongly: GET decides
            status, location = self._ask(client, "GET", target, address, deadline)
        if location is None and not 200 <= status < 300:
            raise _Stop(LinkStatus.BROKEN, f"the server answered {status}", status)
        return status, location

    def _target(self, url: str) -> _Target:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise _Stop(LinkStatus.REFUSED_UNSAFE, f"not a valid URL: {error}") from None
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            raise _Stop(LinkStatus.REFUSED_UNSAFE, "only http and https links are checked")
        if parsed.userinfo:
            raise _Stop(LinkStatus.REFUSED_UNSAFE, "a link with credentials in it is refused")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        return _Target(parsed, parsed.raw_host.decode("ascii"), port)

    def _allowed(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self._allow)

    def _safe_address(self, target: _Target) -> IPAddress:
        try:
            addresses = self._resolver(target.host, target.port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise _Stop(LinkStatus.UNREACHABLE, f"{target.host} does not resolve")
        for address in addresses:
            if self._allowed(address):
                continue
            why = refusal(address)
            if why:
                raise _Stop(LinkStatus.REFUSED_UNSAFE, f"{target.host}: {why}")
            if target.port not in WEB_PORTS:
                raise _Stop(LinkStatus.REFUSED_UNSAFE, "only ports 80 and 443 are checked")
        return addresses[0]

    def _ask(
        self,
        client: httpx.Client,
        method: str,
        target: _Target,
        address: IPAddress,
        deadline: float,
    ) -> tuple[int, str | None]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Stop(LinkStatus.TIMEOUT, f"no answer within {self._total_timeout:g} s")
        # The request goes to the checked address; Host and the TLS server name stay the link's.
        request = client.build_request(
            method,
            target.url.copy_with(host=str(address)),
            headers={"Host": target.url.netloc.decode("ascii")},
            timeout=httpx.Timeout(
                min(self._read_timeout, left), connect=min(self._connect_timeout, left)
            ),
            extensions=({"sni_hostname": target.host} if target.url.scheme == "https" else {}),
        )
        try:
            response = client.send(request, stream=True)
            try:
                self._read(response, method, deadline)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise _Stop(LinkStatus.TIMEOUT, f"{method} timed out") from None
        except httpx.TransportError as error:
            raise _Stop(
                LinkStatus.UNREACHABLE, f"{method} failed ({type(error).__name__})"
            ) from None
        status = response.status_code
        if status not in REDIRECTS:
            return status, None
        location = response.headers.get("Location")
        if not location:
            raise _Stop(LinkStatus.BROKEN, f"a redirect ({status}) without a Location", status)
        return status, str(target.url.join(location))  # (httpx refuses an invalid one)

    def _read(self, response: httpx.Response, method: str, deadline: float) -> None:
        """Read at most `max_bytes` of a successful answer's body (none for HEAD)."""
        if not 200 <= response.status_code < 300:
            return
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise _Stop(LinkStatus.TOO_LARGE, self._too_large, response.status_code)
        if method == "HEAD":
            return
        seen = 0
        for chunk in response.iter_raw():
            seen += len(chunk)
            if seen > self._max_bytes:
                raise _Stop(LinkStatus.TOO_LARGE, self._too_large, response.status_code)
            if time.monotonic() > deadline:
                raise _Stop(LinkStatus.TIMEOUT, f"no full answer within {self._total_timeout:g} s")

    @property
    def _too_large(self) -> str:
        return f"it answers with more than {self._max_bytes // 1024} KiB: not read further"
