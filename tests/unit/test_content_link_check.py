"""The link checker's rules without a network (which addresses are refused:
tests/unit/test_kernel_safe_http.py): that the request goes to the address checked, redirects checked again, HEAD then GET, the size cap and the results
(httpx's MockTransport and a fake resolver; real HTTP: tests/integration/test_content_link_check.py).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from ipaddress import ip_address

import httpx
import pytest

from services.content.adapters.link_check import LinkChecker, LinkStatus
from services.kernel.clock import FixedClock
from services.kernel.runtime.safe_http import IPAddress, resolve

NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
PUBLIC = "93.184.216.34"

# ------------------------------------------------------------------ requests, without a network


class Web:
    """A fake resolver and transport: names map to addresses, (method, host, path) to answers."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []
        self.resolved: list[str] = []

    def resolver(self, host: str, port: int) -> list[IPAddress]:
        self.resolved.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip_address(a) for a in self.names[host]]

    def route(self, method: str, path: str, answer: httpx.Response | Callable[..., object]) -> None:
        self.routes[method, path] = answer if callable(answer) else (lambda r: answer)  # type: ignore[assignment]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        host = request.headers["Host"]
        for key in ((request.method, f"{host}{request.url.path}"), (request.method, "*")):
            if key in self.routes:
                return self.routes[key](request)
        return httpx.Response(404)

    def checker(self, **options: object) -> LinkChecker:
        return LinkChecker(
            clock=FixedClock(NOW),
            resolver=self.resolver,
            transport=httpx.MockTransport(self.handle),
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
def web() -> Web:
    return Web({"articles.example.org": [PUBLIC], "other.example.org": ["1.1.1.1"]})


def test_a_link_that_answers_is_ok(web: Web) -> None:
    web.route("HEAD", "articles.example.org/a", httpx.Response(200))
    result = web.checker().check("https://articles.example.org/a")
    assert result.status is LinkStatus.OK
    assert result.works
    assert result.http_status == 200
    assert result.final_url == "https://articles.example.org/a"
    assert result.checked_at == NOW
    assert [r.method for r in web.requests] == ["HEAD"]


def test_the_request_goes_to_the_checked_address_with_the_links_name(web: Web) -> None:
    web.route("HEAD", "articles.example.org/a", httpx.Response(200))
    web.checker().check("https://articles.example.org/a?x=1")
    [request] = web.requests
    assert request.url.host == PUBLIC  # no second resolution: no DNS rebinding
    assert request.url.port is None and request.url.scheme == "https"
    assert request.url.raw_path == b"/a?x=1"
    assert request.headers["Host"] == "articles.example.org"
    assert request.extensions["sni_hostname"] == "articles.example.org"
    assert web.resolved == ["articles.example.org"]


def test_plain_http_sends_no_server_name(web: Web) -> None:
    web.route("HEAD", "articles.example.org/a", httpx.Response(200))
    web.checker().check("http://articles.example.org/a")
    assert "sni_hostname" not in web.requests[0].extensions


def test_a_name_with_one_private_address_among_public_ones_is_refused(web: Web) -> None:
    web.names["mixed.example.org"] = [PUBLIC, "10.0.0.1"]
    result = web.checker().check("https://mixed.example.org/")
    assert result.status is LinkStatus.REFUSED_UNSAFE
    assert "10.0.0.1 is a private address" in result.detail
    assert not result.works
    assert web.requests == []


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/admin",
        "http://127.0.0.2/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://internal.example.org/",  # a name for a private address
    ],
)
def test_a_redirect_to_an_inside_address_is_refused_before_any_request(
    web: Web, target: str
) -> None:
    web.names["internal.example.org"] = ["192.168.0.10"]
    for literal in ("169.254.169.254", "10.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"):
        web.names[literal] = [literal]
    web.names["0.0.0.0"] = ["0.0.0.0"]
    web.route("HEAD", "articles.example.org/go", httpx.Response(302, headers={"Location": target}))
    result = web.checker().check("https://articles.example.org/go")
    assert result.status is LinkStatus.REFUSED_UNSAFE
    assert result.redirects == 1
    assert result.final_url == target
    assert len(web.requests) == 1  # the first hop only


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://articles.example.org/a", "only http and https"),
        ("gopher://articles.example.org/", "only http and https"),
        ("https://user:pass@articles.example.org/", "credentials"),
        ("https://articles.example.org:8443/", "ports 80 and 443"),
        ("http://articles.example.org:22/", "ports 80 and 443"),
    ],
)
def test_other_schemes_credentials_and_ports_are_refused(web: Web, url: str, why: str) -> None:
    result = web.checker().check(url)
    assert result.status is LinkStatus.REFUSED_UNSAFE
    assert why in result.detail
    assert web.requests == []


def test_port_443_on_http_and_80_on_https_are_web_ports(web: Web) -> None:
    web.route("HEAD", "*", httpx.Response(200))
    assert web.checker().check("http://articles.example.org:443/").status is LinkStatus.OK
    assert web.checker().check("https://articles.example.org:80/").status is LinkStatus.OK


def test_numeric_spellings_of_loopback_resolve_and_are_refused() -> None:
    checker = LinkChecker(transport=httpx.MockTransport(lambda r: pytest.fail("no request")))
    for url in ("http://2130706433/", "http://0x7f.1/", "http://017700000001/"):
        assert resolve(httpx.URL(url).host, 80) == [ip_address("127.0.0.1")]
        assert checker.check(url).status is LinkStatus.REFUSED_UNSAFE


def test_head_refused_then_get_decides(web: Web) -> None:
    web.route("HEAD", "articles.example.org/a", httpx.Response(405))
    web.route("GET", "articles.example.org/a", lambda r: httpx.Response(200, content=iter([b"<"])))
    result = web.checker().check("https://articles.example.org/a")
    assert result.status is LinkStatus.OK
    assert [r.method for r in web.requests] == ["HEAD", "GET"]
    assert {r.url.host for r in web.requests} == {PUBLIC}


def test_a_missing_page_is_broken_with_its_status(web: Web) -> None:
    result = web.checker().check("https://articles.example.org/gone")
    assert result.status is LinkStatus.BROKEN
    assert result.http_status == 404
    assert [r.method for r in web.requests] == ["HEAD", "GET"]


def test_redirects_are_followed_and_checked_up_to_five(web: Web) -> None:
    for n in range(1, 7):
        web.route(
            "HEAD",
            f"articles.example.org/r{n}",
            httpx.Response(301, headers={"Location": f"/r{n + 1}"}),
        )
    web.route("HEAD", "articles.example.org/r7", httpx.Response(200))
    five = web.checker().check("https://articles.example.org/r2")
    assert (five.status, five.redirects, five.final_url) == (
        LinkStatus.OK,
        5,
        "https://articles.example.org/r7",
    )
    six = web.checker().check("https://articles.example.org/r1")
    assert six.status is LinkStatus.BROKEN
    assert six.detail == "more than 5 redirects"
    assert six.http_status == 301


def test_a_redirect_to_another_host_resolves_and_checks_that_host(web: Web) -> None:
    web.route(
        "HEAD",
        "articles.example.org/a",
        httpx.Response(302, headers={"Location": "https://other.example.org/b"}),
    )
    web.route("HEAD", "other.example.org/b", httpx.Response(200))
    result = web.checker().check("https://articles.example.org/a")
    assert result.status is LinkStatus.OK
    assert web.resolved == ["articles.example.org", "other.example.org"]
    assert [r.url.host for r in web.requests] == [PUBLIC, "1.1.1.1"]
    assert web.requests[1].extensions["sni_hostname"] == "other.example.org"


def test_a_declared_size_over_the_cap_is_too_large_and_still_works(web: Web) -> None:
    big = httpx.Response(200, headers={"Content-Length": str(10**9)})
    web.route("HEAD", "articles.example.org/book.pdf", big)
    result = web.checker(max_bytes=1024).check("https://articles.example.org/book.pdf")
    assert result.status is LinkStatus.TOO_LARGE
    assert result.works


def test_a_body_is_read_up_to_the_cap_only(web: Web) -> None:
    sent: list[int] = []

    def endless() -> Iterator[bytes]:
        for n in range(10_000):
            sent.append(n)
            yield b"x" * 1024

    web.route("HEAD", "articles.example.org/stream", httpx.Response(405))
    web.route(
        "GET", "articles.example.org/stream", lambda r: httpx.Response(200, content=endless())
    )
    result = web.checker(max_bytes=8 * 1024).check("https://articles.example.org/stream")
    assert result.status is LinkStatus.TOO_LARGE
    assert len(sent) <= 10


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (httpx.ConnectTimeout, LinkStatus.TIMEOUT),
        (httpx.ReadTimeout, LinkStatus.TIMEOUT),
        (httpx.ConnectError, LinkStatus.UNREACHABLE),
        (httpx.RemoteProtocolError, LinkStatus.UNREACHABLE),
    ],
)
def test_transport_failures_are_timeouts_or_unreachable(
    web: Web, error: type[httpx.TransportError], status: LinkStatus
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error("failed", request=request)

    web.route("HEAD", "*", fail)
    assert web.checker().check("https://articles.example.org/").status is status


def test_a_name_that_does_not_resolve_is_unreachable(web: Web) -> None:
    result = web.checker().check("https://nowhere.example.org/")
    assert result.status is LinkStatus.UNREACHABLE
    assert "does not resolve" in result.detail


def test_the_allow_list_lifts_the_rules_for_its_networks_only(web: Web) -> None:
    web.names["localhost"] = ["127.0.0.1"]
    web.names["lan.example.org"] = ["10.0.0.1"]
    web.route("HEAD", "*", httpx.Response(200))
    allowed = web.checker(allow=["127.0.0.1/32"])
    assert allowed.check("http://localhost:8080/").status is LinkStatus.OK
    assert allowed.check("http://lan.example.org/").status is LinkStatus.REFUSED_UNSAFE
    assert web.checker().check("http://localhost:8080/").status is LinkStatus.REFUSED_UNSAFE


def test_a_redirect_to_an_invalid_url_ends_the_check(web: Web) -> None:
    bad = httpx.Response(302, headers={"Location": "http://articles.example.org:x/"})
    web.route("HEAD", "articles.example.org/a", bad)
    result = web.checker().check("https://articles.example.org/a")
    assert result.status is LinkStatus.UNREACHABLE
    assert "RemoteProtocolError" in result.detail
    assert len(web.requests) == 1
