"""Checking a library resource's link, without letting a link reach inside (ADR 0016).

A resource's URL is typed by a coach, a tenant admin or an operator, and the content service
fetches it: without care, that is a server-side request forgery, a way to make ecoach's own
network answer (the cloud metadata service at 169.254.169.254, an admin page on 10.x, a
database on localhost). So `LinkChecker.check(url)`, at the first request and at every redirect:

1. accepts `http` and `https` URLs only, without credentials, on the web's ports only (80 and
   443: a link to an article needs no other, and other ports are how a public host's private
   services are probed);
2. resolves the host itself and refuses the link if **any** address it resolves to is not a
   public unicast address (the kernel's `runtime/safe_http.py` holds these rules, shared with
   webhooks: private, loopback, link-local, shared (CGNAT), multicast, reserved, unspecified,
   documentation and benchmark ranges, IPv6 unique-local and site-local, and IPv6 addresses that
   embed an IPv4 one unless that IPv4 address is public);
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

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import httpx

from services.kernel.clock import Clock, SystemClock
from services.kernel.runtime.safe_http import (
    AddressPolicy,
    IPAddress,
    Network,
    Resolver,
    Target,
    Unresolved,
    Unsafe,
    pinned_client,
    pinned_request,
    resolve,
)

MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "ecoach-link-checker/1.0"


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
        self._transport = transport
        self._policy = AddressPolicy(resolver=resolver, allow=allow)  # allow: tests only

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
        # A client per check (pinned_client says why).
        return pinned_client(
            self._transport, {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
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

    def _target(self, url: str) -> Target:
        try:
            return self._policy.target(url)
        except Unsafe as unsafe:
            raise _Stop(LinkStatus.REFUSED_UNSAFE, str(unsafe)) from None

    def _safe_address(self, target: Target) -> IPAddress:
        try:
            return self._policy.address(target)
        except Unresolved as unresolved:
            raise _Stop(LinkStatus.UNREACHABLE, str(unresolved)) from None
        except Unsafe as unsafe:
            raise _Stop(LinkStatus.REFUSED_UNSAFE, str(unsafe)) from None

    def _ask(
        self,
        client: httpx.Client,
        method: str,
        target: Target,
        address: IPAddress,
        deadline: float,
    ) -> tuple[int, str | None]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Stop(LinkStatus.TIMEOUT, f"no answer within {self._total_timeout:g} s")
        # The request goes to the checked address; Host and the TLS server name stay the link's.
        timeout = httpx.Timeout(
            min(self._read_timeout, left), connect=min(self._connect_timeout, left)
        )
        request = pinned_request(client, method, target, address, timeout)
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
