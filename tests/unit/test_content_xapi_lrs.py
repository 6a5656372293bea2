"""The LRS client without a network (httpx's MockTransport): headers, batches, which failures are
retried and which are not (the real HTTP exchange: tests/integration/test_content_lrs.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from services.content.adapters.lrs import (
    LrsClient,
    LrsRejected,
    LrsSettings,
    LrsUnavailable,
    Retry,
)

SETTINGS = LrsSettings("https://lrs.example.org/xapi/", "the-key", "the-secret")


def statements(n: int) -> list[dict[str, object]]:
    return [{"id": f"00000000-0000-4000-8000-{i:012d}"} for i in range(n)]


class Recorder:
    def __init__(self, answer: Callable[[httpx.Request, int], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self.pauses: list[float] = []
        self._answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer(request, len(self.requests))

    def client(self, **options: object) -> LrsClient:
        return LrsClient(
            SETTINGS,
            transport=httpx.MockTransport(self),
            sleep=self.pauses.append,
            **options,  # type: ignore[arg-type]
        )


def stored(request: httpx.Request, _: int) -> httpx.Response:
    return httpx.Response(200, json=[s["id"] for s in json.loads(request.content)])


def test_statements_are_posted_with_basic_auth_and_the_version_header() -> None:
    lrs = Recorder(stored)
    with lrs.client() as client:
        ids = client.send(statements(2))
    [request] = lrs.requests
    assert request.method == "POST"
    assert str(request.url) == "https://lrs.example.org/xapi/statements"
    assert request.headers["X-Experience-API-Version"] == "1.0.3"
    assert request.headers["Content-Type"] == "application/json"
    token = base64.b64encode(b"the-key:the-secret").decode()
    assert request.headers["Authorization"] == f"Basic {token}"
    assert json.loads(request.content) == statements(2)
    assert ids == [s["id"] for s in statements(2)]


def test_statements_go_in_batches() -> None:
    lrs = Recorder(stored)
    with lrs.client(batch_size=2) as client:
        ids = client.send(statements(5))
    assert [len(json.loads(r.content)) for r in lrs.requests] == [2, 2, 1]
    assert ids == [s["id"] for s in statements(5)]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_server_error_is_retried_with_growing_pauses(status: int) -> None:
    lrs = Recorder(lambda r, n: httpx.Response(status) if n < 3 else stored(r, n))
    with lrs.client(retry=Retry(attempts=4, first_delay=1.0, factor=2.0)) as client:
        assert client.send(statements(1)) == [statements(1)[0]["id"]]
    assert len(lrs.requests) == 3
    assert [r.content for r in lrs.requests] == [lrs.requests[0].content] * 3  # same ids
    first, second = lrs.pauses
    assert 0.5 <= first < 1.0 and 1.0 <= second < 2.0


def test_connection_errors_and_timeouts_are_retried_then_reported() -> None:
    def fail(request: httpx.Request, n: int) -> httpx.Response:
        if n % 2:
            raise httpx.ConnectError("refused", request=request)
        raise httpx.ReadTimeout("slow", request=request)

    lrs = Recorder(fail)
    with lrs.client(retry=Retry(attempts=3)) as client, pytest.raises(LrsUnavailable) as error:
        client.send(statements(1))
    assert len(lrs.requests) == 3
    assert len(lrs.pauses) == 2
    assert "after 3 tries" in str(error.value)


@pytest.mark.parametrize(
    ("status", "says"),
    [(400, "malformed"), (401, "key and secret"), (403, "key and secret"), (409, "same ids")],
)
def test_a_refusal_is_not_retried(status: int, says: str) -> None:
    lrs = Recorder(lambda r, n: httpx.Response(status, text="the-secret? no"))
    with lrs.client() as client, pytest.raises(LrsRejected) as error:
        client.send(statements(1))
    assert len(lrs.requests) == 1
    assert lrs.pauses == []
    assert error.value.status == status
    assert says in str(error.value)
    assert "the-secret" not in str(error.value)


def test_a_redirect_is_not_followed() -> None:
    lrs = Recorder(lambda r, n: httpx.Response(302, headers={"Location": "https://evil.example"}))
    with lrs.client() as client, pytest.raises(LrsRejected, match="redirected"):
        client.send(statements(1))
    assert len(lrs.requests) == 1


def test_a_failed_batch_stops_the_sending() -> None:
    lrs = Recorder(lambda r, n: stored(r, n) if n == 1 else httpx.Response(400))
    with lrs.client(batch_size=1) as client, pytest.raises(LrsRejected):
        client.send(statements(3))
    assert len(lrs.requests) == 2


def test_a_204_or_an_odd_body_counts_the_statements_own_ids() -> None:
    for response in (httpx.Response(204), httpx.Response(200, text="ok")):

        def answer(
            request: httpx.Request, n: int, given: httpx.Response = response
        ) -> httpx.Response:
            return given

        lrs = Recorder(answer)
        with lrs.client() as client:
            assert client.send(statements(2)) == [s["id"] for s in statements(2)]


def test_the_secret_never_shows_in_the_settings() -> None:
    assert "the-secret" not in repr(SETTINGS)


def test_settings_problems_name_the_field() -> None:
    assert SETTINGS.problems(production=True) == {}
    local = LrsSettings("http://127.0.0.1:8000/xapi/", "k", "s")
    assert local.problems(production=False) == {}
    assert set(local.problems(production=True)) == {"endpoint"}
    assert set(LrsSettings("https://lrs.org/x?a=1", "k", "s").problems(production=True)) == {
        "endpoint"
    }
    assert set(LrsSettings("https://u:p@lrs.org/x", "k", "s").problems(production=True)) == {
        "endpoint"
    }
    assert set(LrsSettings("https://lrs.org/x", "", "").problems(production=True)) == {
        "key",
        "secret",
    }
    assert set(LrsSettings("https://lrs.org/x", "a:b", "s").problems(production=True)) == {"key"}
