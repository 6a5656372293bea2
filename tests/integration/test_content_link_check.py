"""The link checker over real HTTP, under eventlet as in the service, against pages served on
127.0.0.1, which only the tests' allow-list lets it reach: redirects, a missing page, HEAD refused,
the size cap, timeouts, and redirects from there to other inside addresses refused before any
connection (ADR 0016; the address rules themselves: tests/unit/test_content_link_check.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.content.adapters.link_check import LinkChecker, LinkStatus
from tests.support.loopback import LoopbackOnly, LoopbackServer


class Pages(LoopbackServer):
    """A few pages: /ok, /missing, /no-head, /hops/<n>, /redirect?to=<url>, /big, /slow, /drip."""

    def __init__(self) -> None:
        self.released = threading.Event()  # set at the end: slow pages stop waiting
        self.seen: list[tuple[str, str]] = []
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        return self.base_url

    def stopping(self) -> None:
        self.released.set()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        pages = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Transfer-Encoding" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                path = parts.path
                pages.seen.append((self.command, path))
                if path == "/ok":
                    self._send(200, {"Content-Type": "text/html"}, b"<html>ok</html>")
                elif path == "/no-head" and self.command == "HEAD":
                    self._send(405, {"Allow": "GET"})
                elif path == "/no-head":
                    self._send(200, {"Content-Type": "text/html"}, b"<html>get</html>")
                elif path.startswith("/hops/"):
                    left = int(path.rsplit("/", 1)[1])
                    if left == 0:
                        self._send(200, {}, b"arrived")
                    else:
                        self._send(302, {"Location": f"/hops/{left - 1}"})
                elif path == "/redirect":
                    self._send(302, {"Location": parse_qs(parts.query)["to"][0]})
                elif path == "/big" and self.command == "HEAD":
                    self._send(405, {})
                elif path == "/big":
                    self._chunked(chunks=4096, pause=0)  # 4 MiB, no declared length
                elif path == "/slow":
                    pages.released.wait(10)  # longer than the checker's read timeout
                    self._send(200, {}, b"late")
                elif path == "/drip" and self.command == "GET":
                    self._chunked(chunks=200, pause=0.05, size=1)  # ~10 s of single bytes
                elif path == "/drip":
                    self._send(405, {})
                else:
                    self._send(404, {}, b"no such page")

            def _chunked(self, chunks: int, pause: float, size: int = 1024) -> None:
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for _ in range(chunks):
                        if pause and pages.released.wait(pause):
                            break
                        self.wfile.write(b"%x\r\n%s\r\n" % (size, b"x" * size))
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the checker stopped reading, as it should

            def log_message(self, *_: object) -> None:
                pass

        return Handler


@pytest.fixture
def pages() -> Iterator[Pages]:
    with Pages() as served:
        yield served


def checker(**options: object) -> LinkChecker:
    settings: dict[str, object] = {
        "allow": ["127.0.0.1/32"],
        "transport": LoopbackOnly(),
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "total_timeout": 5.0,
        "max_bytes": 64 * 1024,
    }
    return LinkChecker(**(settings | options))  # type: ignore[arg-type]


def test_a_page_that_answers_is_ok(pages: Pages) -> None:
    result = checker().check(f"{pages.url}/ok")
    assert (result.status, result.http_status) == (LinkStatus.OK, 200)
    assert pages.seen == [("HEAD", "/ok")]


def test_a_missing_page_is_broken_with_its_status(pages: Pages) -> None:
    result = checker().check(f"{pages.url}/missing")
    assert (result.status, result.http_status) == (LinkStatus.BROKEN, 404)
    assert pages.seen == [("HEAD", "/missing"), ("GET", "/missing")]


def test_a_page_that_refuses_head_is_checked_with_get(pages: Pages) -> None:
    result = checker().check(f"{pages.url}/no-head")
    assert (result.status, result.http_status) == (LinkStatus.OK, 200)
    assert pages.seen == [("HEAD", "/no-head"), ("GET", "/no-head")]


def test_five_redirects_are_followed_and_a_sixth_is_not(pages: Pages) -> None:
    five = checker().check(f"{pages.url}/hops/5")
    assert (five.status, five.redirects, five.final_url) == (
        LinkStatus.OK,
        5,
        f"{pages.url}/hops/0",
    )
    pages.seen.clear()
    six = checker().check(f"{pages.url}/hops/6")
    assert (six.status, six.detail) == (LinkStatus.BROKEN, "more than 5 redirects")
    assert ("HEAD", "/hops/0") not in pages.seen


def test_a_large_body_is_read_up_to_the_cap_only(pages: Pages) -> None:
    result = checker(max_bytes=64 * 1024).check(f"{pages.url}/big")
    assert result.status is LinkStatus.TOO_LARGE
    assert result.works


def test_a_page_that_does_not_answer_times_out(pages: Pages) -> None:
    result = checker(read_timeout=0.3).check(f"{pages.url}/slow")
    assert result.status is LinkStatus.TIMEOUT


def test_a_page_that_answers_too_slowly_meets_the_total_time(pages: Pages) -> None:
    result = checker(read_timeout=1.0, total_timeout=0.5).check(f"{pages.url}/drip")
    assert result.status is LinkStatus.TIMEOUT
    assert "0.5 s" in result.detail


@pytest.mark.parametrize(
    "inside",
    [
        "http://127.0.0.2:{port}/ok",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/ok",
        "http://[::ffff:127.0.0.2]:{port}/ok",
        "http://0.0.0.0:{port}/ok",
    ],
)
def test_a_redirect_from_an_allowed_page_to_an_inside_address_is_refused(
    pages: Pages, inside: str
) -> None:
    target = inside.format(port=urlsplit(pages.url).port)
    result = checker().check(f"{pages.url}/redirect?{httpx.QueryParams(to=target)}")
    assert result.status is LinkStatus.REFUSED_UNSAFE
    assert result.final_url == target
    assert pages.seen == [("HEAD", "/redirect")]


def test_without_the_allow_list_the_local_pages_are_refused(pages: Pages) -> None:
    result = checker(allow=()).check(f"{pages.url}/ok")
    assert result.status is LinkStatus.REFUSED_UNSAFE
    assert pages.seen == []
