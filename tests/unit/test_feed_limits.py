"""The calendar feed's limits, and whose address the web gateway counts (ECOACH_TRUSTED_PROXIES).

The web app here talks to no gRPC gateway (a closed port): a request it lets through answers
503, one it throttles answers 429 before any call.
"""

from __future__ import annotations

import os

from flask.testing import FlaskClient

from gateway.api.feed_limits import FeedLimiter
from gateway.api.peers import parse_proxies
from gateway.web.app import create_app

FEED = "/calendar/" + "A" * 43 + ".ics"
PROXY, STRANGER = "10.0.0.1", "203.0.113.9"


def test_each_address_and_each_feed_has_its_own_window() -> None:
    limiter = FeedLimiter(per_feed_hour=3, per_address_hour=2)
    assert limiter.retry_after("feed-1", "198.51.100.1") is None
    assert limiter.retry_after("feed-1", "198.51.100.1") is None
    wait = limiter.retry_after("feed-2", "198.51.100.1")  # the address's third
    assert wait is not None and 1 <= wait <= 3600
    assert limiter.retry_after("feed-1", "198.51.100.2") is None  # the feed's third
    assert limiter.retry_after("feed-1", "198.51.100.3") is not None  # the feed's fourth


def client() -> FlaskClient:
    app = create_app(
        "127.0.0.1:1",
        os.urandom(32),
        feed_per_hour=100,
        feed_per_address_hour=2,
        trusted_proxies=parse_proxies(PROXY),
    )
    return app.test_client()


def status(web: FlaskClient, peer: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return web.get(FEED, headers=headers, environ_base={"REMOTE_ADDR": peer}).status_code


def test_behind_a_trusted_proxy_each_client_is_counted_apart() -> None:
    web = client()
    assert [status(web, PROXY, "198.51.100.1") for _ in range(2)] == [503, 503]
    assert status(web, PROXY, "198.51.100.1") == 429
    # Another client behind the same proxy is not throttled by the first one's requests.
    assert status(web, PROXY, "198.51.100.2") == 503
    # The proxy's own address is counted apart from them.
    assert status(web, PROXY) == 503


def test_a_client_cannot_escape_its_limit_with_a_forged_forwarded_for() -> None:
    web = client()
    assert status(web, STRANGER, "198.51.100.1") == 503
    assert status(web, STRANGER, "198.51.100.2") == 503
    response = web.get(
        FEED, headers={"X-Forwarded-For": "198.51.100.3"}, environ_base={"REMOTE_ADDR": STRANGER}
    )
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
